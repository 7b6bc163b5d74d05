"""The tape: the stack the forward sweep pushes and the backward sweep pops.

Its size in bytes is adjoin's measure of memory.  Accounting (docs/how-it-works.md, "The tape"):

* an ndarray pushed costs its ``nbytes`` (the tape always stores a copy, so later in-place
  writes to the array cannot change what was saved);
* a float, int, bool, NumPy scalar or ``None`` costs :data:`SCALAR_BYTES` (8);
* a control value (a branch taken, a trip count) is an int and costs 8 as well; the iterations
  of a loop left by ``break`` are saved as a ``range`` and cost 24 (start, stop, step);
* a tuple or a list costs the sum of its items (and its arrays are copied too).

The tape has a limit (docs/files-and-status.md, "The tape's limit"): ``max_bytes``, else the
environment variable ADJOIN_MAX_TAPE, else 80 % of the memory available when adjoin first made a
tape.  A push that would take the tape past it raises :class:`TapeMemoryError` before copying
anything, naming where the adjoint was; so does :meth:`Tape.exhausted` for a MemoryError NumPy
raised during the run.  The check costs one comparison per push.
"""
import functools
import math
import os
import re
import sys
import sysconfig
import traceback
from pathlib import Path

import numpy as np

from ..errors import TapeError, TapeMemoryError, UsageError

SCALAR_BYTES = 8
MAX_TAPE_ENV = "ADJOIN_MAX_TAPE"
AVAILABLE_FRACTION = 0.8        # the default limit: this fraction of the memory available at start
UNLIMITED = ("unlimited", "none", "off")
NO_LIMIT = 2 ** 63 - 1          # the limit of an unlimited tape: an int, so that the check stays cheap


def size_of(value):
    """Bytes that ``value`` occupies on the tape."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(size_of(item) for item in value)
    if isinstance(value, range):
        return 3 * SCALAR_BYTES
    return SCALAR_BYTES


def stored(value):
    """What the tape keeps for ``value``: a private copy of arrays, the value itself otherwise."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(stored(item) for item in value)
    return value


class Tape:
    """A stack of saved values with exact byte accounting (current size and peak) and a limit.

    ``max_bytes``: the most bytes it may hold (a number, ``math.inf`` for no limit); None takes
    :func:`max_tape_bytes`'s default (ADJOIN_MAX_TAPE, else 80 % of the available memory)."""

    __slots__ = ("_values", "_sizes", "bytes", "peak_bytes", "pushes", "max_bytes", "disk_bytes", "disk_peak_bytes",
                 "disk_seconds")

    def __init__(self, max_bytes=None):
        self._values = []
        self._sizes = []
        self.bytes = 0
        self.peak_bytes = 0
        self.pushes = 0
        self.max_bytes = max_tape_bytes(max_bytes)
        # loop sites' disk snapshots (runtime/loops.py), which are not on the tape: bytes written
        # in all, the most on disk at once, seconds writing and reading them
        self.disk_bytes = 0
        self.disk_peak_bytes = 0
        self.disk_seconds = 0.0

    def push(self, value):
        """Saves ``value`` (arrays are copied); raises TapeMemoryError, saving nothing, when the
        tape would pass ``max_bytes``."""
        kind = type(value)
        if kind is float or kind is int or kind is bool or kind is np.float64 or value is None:
            size = SCALAR_BYTES
            total = self.bytes + SCALAR_BYTES
            self._values.append(value)
        elif kind is np.ndarray:
            size = value.nbytes
            total = self.bytes + size
            if total > self.max_bytes:                  # before the copy: it may not fit
                self._refuse(value, size)
            self._values.append(value.copy())
        else:
            size = size_of(value)
            total = self.bytes + size
            if total > self.max_bytes:
                self._refuse(value, size)
            self._values.append(stored(value))
        self._sizes.append(size)
        self.bytes = total
        self.pushes += 1
        if total > self.peak_bytes:
            # a scalar is checked here, on a new peak only: the peak never passes the limit
            if total > self.max_bytes:
                self.bytes -= size
                self._sizes.pop()
                self._values.pop()
                self._refuse(value, size)
            self.peak_bytes = total

    def move(self, value):
        """Pushes the value of a name that dies right after (a local at the end of a split forward
        sweep): an array that no other reference reaches (not a view, held by that name alone) is
        kept itself instead of copied, since nothing can change it any more; anything else is
        pushed as :meth:`push` pushes it.  Same bytes, same limit."""
        if (type(value) is np.ndarray and value.base is None
                and sys.getrefcount(value) <= _SOLE_REFERENCES):      # as counted by _references
            size = value.nbytes
            total = self.bytes + size
            if total > self.max_bytes:
                self._refuse(value, size)
            self._values.append(value)
            self._sizes.append(size)
            self.bytes = total
            self.pushes += 1
            if total > self.peak_bytes:
                self.peak_bytes = total
            return
        self.push(value)

    def _references(self, value):
        """sys.getrefcount(value) as :meth:`move` sees it (the same call shape)."""
        return sys.getrefcount(value)

    def pop(self):
        """Returns the last value pushed and removes it."""
        if not self._values:
            raise TapeError("the backward sweep popped an empty tape (an adjoin bug: please report it)")
        self.bytes -= self._sizes.pop()
        return self._values.pop()

    def peek(self):
        """The last value pushed, left on the tape (a loop snapshot restored more than once)."""
        if not self._values:
            raise TapeError("the backward sweep read an empty tape (an adjoin bug: please report it)")
        return self._values[-1]

    def __len__(self):
        return len(self._values)

    def check_empty(self):
        """Raises TapeError unless every push was popped."""
        if self._values:
            raise TapeError(f"the tape still holds {len(self._values)} values ({self.bytes} bytes) "
                            "after the adjoint run (an adjoin bug: please report it)")

    # -- running out of memory ----------------------------------------------------------------
    def _refuse(self, value, size):
        where = pushed_where(sys._getframe(2))
        what = f"{human(size)} more ({value_text(value)})"
        error = TapeMemoryError(
            f"the tape would pass its limit of {human(self.max_bytes)}: it holds "
            f"{human(self.bytes)} in {len(self._values)} values, and the adjoint is pushing {what}"
            f"{where}; {ADVICE.format(limit=size_text(self.max_bytes))}")
        self.release()
        raise error

    def exhausted(self, error):
        """The TapeMemoryError for a MemoryError raised while the adjoint ran with this tape
        (NumPy could not allocate): where, the tape's bytes, what to do.  Frees the tape."""
        frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
        where = pushed_where(frames[-1]) if frames else ""
        detail = str(error) or "out of memory"
        limit = "no limit" if self.max_bytes >= NO_LIMIT else f"its limit is {human(self.max_bytes)}"
        asked = getattr(error, "_total_size", None)      # numpy's _ArrayMemoryError says how much
        if asked is not None and asked > self.bytes:
            advice = ("the tape is not what fills the memory: that one array does not fit; run a "
                      "smaller problem (e.g. --set size=... in a case), or on a machine with more "
                      "memory")
        else:
            advice = ADVICE.format(limit=size_text(self.bytes) if self.bytes else "SIZE")
        failure = TapeMemoryError(f"out of memory: NumPy could not allocate ({detail}){where}; the "
                                  f"tape held {human(self.bytes)} ({limit}); {advice}")
        error.__traceback__ = None      # its frames hold the run's arrays
        self.release()
        return failure

    def release(self):
        """Drops what the tape holds (after a failed run: nothing will pop it)."""
        self._values.clear()
        self._sizes.clear()


def _sole_references():
    """The reference count :meth:`Tape.move` sees for an array held by one local variable of the
    calling function; 0 (never move) unless a second variable visibly adds one (the count is an
    implementation detail of the interpreter: measured, not assumed)."""
    tape = Tape(max_bytes=NO_LIMIT)

    def one_name():
        array = np.zeros(1)
        return tape._references(array)

    def two_names():
        array = np.zeros(1)
        other = array
        count = tape._references(array)
        del other
        return count

    sole, shared = one_name(), two_names()
    return sole if shared == sole + 1 else 0


ADVICE = ("to make the adjoint fit, let adjoin choose what to checkpoint for the memory you have: "
          "'adjoin profile CASE.toml -o profile.json' (on a smaller run, e.g. --set size=..., if "
          "this one does not fit), then 'adjoin advise profile.json --memory-budget {limit} -o "
          "placement.toml' and run with --placement placement.toml; or checkpoint more calls "
          "(fewer --nocheckpoint names or # $AD NOCHECKPOINT directives); or, if the machine has "
          "the memory, raise the limit with --max-tape SIZE (API: max_tape_bytes=, environment: "
          "ADJOIN_MAX_TAPE; default: 80% of the memory available when adjoin started)")


# -- the limit ------------------------------------------------------------------------------------
def max_tape_bytes(max_bytes=None):
    """The tape's limit in bytes (NO_LIMIT for none): ``max_bytes`` when given, else the
    environment variable ADJOIN_MAX_TAPE (a size such as 8GiB, a percentage of the available
    memory such as 50%, or 'unlimited'), else 80 % of the memory available when first asked."""
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, float)) \
                or math.isnan(max_bytes) or max_bytes < 1:
            raise UsageError(f"max_tape_bytes must be a number of bytes, at least 1 (or math.inf "
                             f"for no limit), not {max_bytes!r}")
        return NO_LIMIT if max_bytes >= NO_LIMIT else int(max_bytes)
    text = os.environ.get(MAX_TAPE_ENV)
    if text:
        return parse_limit(text, f"${MAX_TAPE_ENV}")
    return default_max_bytes()


@functools.lru_cache(maxsize=16)
def parse_limit(text, what="--max-tape"):
    """A tape limit as written on the command line or in ADJOIN_MAX_TAPE: a size (``1GiB``,
    ``8e9``), a percentage of the available memory (``50%``) or ``unlimited`` (NO_LIMIT)."""
    from ..sizes import parse_size
    stripped = text.strip()
    if stripped.lower() in UNLIMITED:
        return NO_LIMIT
    if stripped.endswith("%"):
        try:
            percent = float(stripped[:-1])
        except ValueError:
            percent = math.nan
        if not 0 < percent <= 100:
            raise UsageError(f"{what} {text!r}: a percentage of the available memory must be "
                             "above 0 and at most 100, e.g. 50%")
        available = available_memory()
        if available is None:
            raise UsageError(f"{what} {text!r}: this system does not say how much memory is "
                             "available; give a size such as 8GiB")
        return max(1, int(available * percent / 100))
    return parse_size(stripped, what)


@functools.lru_cache(maxsize=1)
def default_max_bytes():
    """80 % of the memory available when first asked (NO_LIMIT when the system does not say)."""
    available = available_memory()
    return NO_LIMIT if available is None else int(AVAILABLE_FRACTION * available)


@functools.lru_cache(maxsize=1)
def available_memory():
    """Bytes of memory available to a new allocation without swapping, read once: MemAvailable
    in /proc/meminfo (Linux), else the physical memory; None when neither can be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


# -- saying where the adjoint was -----------------------------------------------------------------
_GENERATED = "<adjoint of "
_LINE_COMMENT = re.compile(r"# line (\d+)\b")
_DOCSTRING = re.compile(r"(Adjoint|Forward sweep|Backward sweep) of (\w+) \(([^)]*?):(\d+)\)")
_PART = {"Adjoint": "the adjoint of", "Forward sweep": "the forward sweep (split mode) of",
         "Backward sweep": "the backward sweep (split mode) of"}


def pushed_where(frame):
    """``' at model.py:15, in the forward sweep (split mode) of step, called from cost'``: where
    the adjoint running ``frame`` (the innermost frame of the failure) was, in the user's source;
    ``''`` when unknown.  Only runs when the tape refuses a push: it may take its time."""
    try:
        chain = []
        user_line = None
        while frame is not None:
            code = frame.f_code
            if code.co_filename.startswith(_GENERATED):
                chain.append(_generated_place(frame))
            elif not chain and user_line is None and _is_user_code(code.co_filename):
                user_line = f"{_shown(code.co_filename)}:{frame.f_lineno} ({code.co_name})"
            frame = frame.f_back
    except Exception:          # a description is a courtesy: never fail the failure
        return ""
    if not chain:
        return ""
    line, part, function = chain[0]
    pieces = [f"at {user_line}"] if user_line else []
    if function:
        pieces.append(f"{'run by' if user_line else 'in'} {part} {function}".replace("  ", " ")
                      + (f" at {line}" if line and user_line else ""))
    if line and not user_line:
        pieces.insert(0, f"at {line}")
    pieces += [f"called from {f}" for _, _, f in chain[1:] if f]
    return " " + ", ".join(pieces) if pieces else ""


def _generated_place(frame):
    """(source 'file:line' or None, which part of the adjoint, the user function's name)."""
    code = frame.f_code
    doc = code.co_consts[0] if code.co_consts and isinstance(code.co_consts[0], str) else ""
    found = _DOCSTRING.match(doc)
    part, function, file = (_PART[found[1]], found[2], found[3]) if found else ("", code.co_name, None)
    user = frame.f_globals.get(function)
    if user is not None and hasattr(user, "__code__"):
        file = _shown(user.__code__.co_filename)
    number = _source_line(frame.f_globals.get("__adjoint_source__"), code, frame.f_lineno)
    line = f"{file}:{number}" if file and number else None
    return line, part, function


def _source_line(source, code, lineno):
    """The user's line number that generated line ``lineno`` of ``code`` comes from: the nearest
    '# line N' comment at or above it in the generated ``source`` (None when unknown)."""
    if not source:
        return None
    lines = source.splitlines()
    for text in reversed(lines[max(code.co_firstlineno - 1, 0):lineno]):
        found = _LINE_COMMENT.search(text)
        if found:
            return int(found[1])
    return None


def _is_user_code(filename):
    """True for a file of the user's (not NumPy's, adjoin's, the standard library's or another
    installed package's)."""
    path = Path(filename)
    if path.suffix != ".py":
        return False
    skip = {Path(__file__).resolve().parents[1]} | {Path(sysconfig.get_paths()[key]).resolve()
                                                    for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return not skip & set(path.resolve().parents)


def _shown(filename):
    from ..fileio import shown
    return shown(filename)


def human(n):
    from ..sizes import human_bytes
    return "no limit" if n >= NO_LIMIT else human_bytes(n)


def size_text(n):
    """A size as the user would type it for --memory-budget: 512MiB."""
    if n >= NO_LIMIT:
        return "SIZE"
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:.0f}{unit}" if n % factor == 0 else f"{n / factor:.1f}{unit}"
    return f"{n}B"


def value_text(value):
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} values"
    return f"a {type(value).__name__}"


_SOLE_REFERENCES = _sole_references()
