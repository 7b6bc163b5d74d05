"""Builds the checkpoint tree in a helper process while the adjoint runs.

Building the tree costs about a microsecond of Python per event.  In the profiled process that
would be paid by the run itself; in a helper process it runs on another core, and the profiled run
only pays for its hooks and for handing over batches of raw events (marshal through a pipe).
``TreeProcess`` is a Recorder's sink, like ``TreeBuilder``; ``serve`` is the helper's loop.
"""
import marshal
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

from ..errors import AdjoinError

_END = "end"
_READY = b"r"                          # the helper's first byte out: it has imported what it needs
_LENGTH = struct.Struct("<Q")          # each message: its length, then marshal's bytes


def cores():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not on Linux
        return os.cpu_count() or 1


class TreeProcess:
    """A Recorder's sink that sends the events to a helper process building the tree there."""

    def __init__(self):
        src = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {src!r}); from adjoin.profiling.worker import serve; serve()"
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._ready = False
        _widen(self.process.stdin)

    def ready(self):
        """Waits until the helper has started (imported adjoin): the plain run a profile is
        fitted to must not share the machine with that import (on one core it doubled a short
        adjoint's time)."""
        if not self._ready:
            try:
                byte = self.process.stdout.read(1)
            except OSError:
                byte = b""
            if byte != _READY:
                self._failed()
            self._ready = True

    def feed(self, events, header):
        self._send((header, events))

    def _send(self, message):
        data = marshal.dumps(message)
        try:
            self.process.stdin.write(_LENGTH.pack(len(data)))
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._failed()

    def finish(self, end):
        """The finished tree: (root, primal ratio)."""
        self._send((_END, end))
        self.ready()
        try:
            self.process.stdin.close()
            result = pickle.load(self.process.stdout)
        except (BrokenPipeError, OSError, EOFError, pickle.UnpicklingError):
            self._failed()
        return result           # the helper exits on its own; close() waits for it

    def close(self):
        """Stops the helper (when the run failed or is over)."""
        if self.process.poll() is None:
            if self.process.stdin.closed:       # it sent the tree and is exiting
                try:
                    self.process.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            else:                               # the run failed: nothing more to build
                self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:         # what was buffered for a helper that is gone
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _failed(self):
        self.process.kill()
        self.process.wait()
        message = self.process.stderr.read().decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {self.process.returncode}"
        raise AdjoinError(f"the profiler's helper process failed ({detail}); rerun with "
                          f"background=False (API) or --no-background (CLI) to build the "
                          f"checkpoint tree in this process, and report the problem")


PIPE_BYTES = 1 << 20      # the pipe to the helper holds this much (Linux; 64 KiB by default)


def _widen(stream):
    """Makes the pipe hold PIPE_BYTES where the system allows it.  A batch of events is about
    60 KiB: with the default 64 KiB pipe, handing one over waited for the helper to finish building
    the previous one (1.8 ms a batch on the ocean, most of what handing over cost)."""
    try:
        import fcntl
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        pass


def serve(stdin=None, stdout=None):
    """The helper's loop: batches in, the finished tree out."""
    from .tree import TreeBuilder
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    builder = TreeBuilder()
    stdout.write(_READY)
    stdout.flush()
    while True:
        size, = _LENGTH.unpack(stdin.read(_LENGTH.size))
        first, second = marshal.loads(stdin.read(size))
        if first == _END:
            pickle.dump(builder.finish(second), stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
            return
        builder.feed(second, first)
