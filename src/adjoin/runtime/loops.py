"""Checkpointing of time loops: a loop site's adjoint driven by a binomial schedule.

A loop site (``# $AD BINOMIAL-CKP`` before ``for n in range(...)``) does not keep the tape of
every iteration.  Its forward sweep advances most steps plainly, storing the loop state (what an
iteration reads that an earlier one wrote) at a few steps; its backward sweep restores a stored
state, advances to the step it reverses next, tapes that step and reverses it.  Which steps to
store, advance and tape comes from the ``checkpoint_schedules`` library (Griewank and Walther's
binomial schedule, and Stumm and Walther's multistage one when some snapshots go to disk); this
module only turns its actions into the few kinds the generated code acts on::

    loop1 = ad.LoopSchedule(tape, range(nsteps), snapshots=8)
    for action, n in loop1.forward():
        if action is ad.STORE:
            loop1.store(u, t)
        elif action is ad.ADVANCE:
            ...the iteration's primal...
        else:                         # ad.TAPE
            ...the iteration's forward sweep...

and in the backward sweep ``loop1.backward()`` adds ``ad.RESTORE`` (``u[...], t = loop1.restore()``)
and ``ad.REVERSE`` (the iteration's backward sweep).  Snapshots in memory are pushed on the tape,
so their bytes count towards its peak; snapshots on disk are NumPy ``.npz`` files in a temporary
directory, removed when the backward sweep ends, fails or is interrupted (and, should the
backward sweep never run, when the schedule is freed or the interpreter exits).
"""
import os
import shutil
import tempfile
import time
import weakref

import numpy as np
from checkpoint_schedules import (Copy, EndForward, EndReverse, Forward, Move, MultistageCheckpointSchedule,
                                  Reverse, StorageType)

from ..errors import TapeError

# What the generated code does next (compared with ``is``).
STORE = "store"          # save the loop state: loop.store(...)
RESTORE = "restore"      # set the loop state back: ... = loop.restore()
ADVANCE = "advance"      # run the iteration's primal
TAPE = "tape"            # run the iteration's forward sweep (it pushes what its backward sweep needs)
REVERSE = "reverse"      # run the iteration's backward sweep

SNAPSHOT_DIR_ENV = "ADJOIN_SNAPSHOT_DIR"    # where disk snapshots go (default: the system's temp dir)
DEFAULT_SNAPSHOTS = 8                       # snapshots in memory of a loop site that names none
# ``snapshots=0, disk=0``: no checkpointing at all, every iteration taped (a loop site placed
# nocheckpoint); the iterations' code is the same as under any schedule, so are their tape bytes


def iteration_id(site_id):
    """The profiling name of one iteration of a loop site (a node of the checkpoint tree)."""
    return f"{site_id}/iteration"


class LoopSchedule:
    """The schedule of one run of a loop site over ``steps`` (a range): what to store, advance,
    tape, restore and reverse, with counts of what it did."""

    def __init__(self, tape, steps, snapshots=DEFAULT_SNAPSHOTS, disk=0, samples=0):
        """``samples`` (profiling, with no snapshot at all): as many iterations, spread over the
        loop, are first advanced from a copy of their state, which is then set back, so that the
        profile has their primal times (runtime/profiler.py, begin_sample)."""
        self.tape = tape
        self.steps = steps
        self.snapshots = snapshots
        self.disk = disk
        self.samples = samples
        self.advances = 0           # iterations run as primal only
        self.taped = 0              # iterations run as forward sweep (each reversed once)
        self.disk_bytes = 0         # bytes written to disk over the run
        self.disk_peak = 0          # most bytes on disk at once
        self.io_seconds = 0.0       # time spent writing and reading disk snapshots
        self._actions = self._schedule()
        self._where = None          # the storage of the state that store() saves next
        self._memory = []           # tape lengths after each snapshot in memory, last on top
        self._files = []            # disk snapshots, last on top: (path, kinds, bytes)
        self._restore_from = None   # (storage, keep) of the state that restore() returns next
        self._directory = None
        self._cleanup = None
        self._reported = False      # the disk figures added to the tape's (_report)

    def _schedule(self):
        n = len(self.steps)
        if n == 0:
            return iter(())
        if self.snapshots == 0 and self.disk == 0:
            return iter(_every_iteration_taped(n, self.samples))
        return iter(MultistageCheckpointSchedule(n, self.snapshots, self.disk))

    # -- the two sweeps ---------------------------------------------------------------------------
    def forward(self):
        """(action, n) pairs up to the turn: stores, advances, and the last iteration taped."""
        for action in self._actions:
            if isinstance(action, EndForward):
                return
            yield from self._act(action)

    def backward(self):
        """(action, n) pairs after the turn; removes the disk snapshots however it ends."""
        try:
            for action in self._actions:
                if isinstance(action, EndReverse):
                    break
                yield from self._act(action)
        finally:
            self.close()
            self._report()

    def _act(self, action):
        if isinstance(action, Forward):
            yield from self._advance(action)
        elif isinstance(action, Reverse):
            for k in reversed(range(action.n0, action.n1)):
                yield REVERSE, self.steps[k]
        elif isinstance(action, (Copy, Move)):
            self._restore_from = (action.from_storage, isinstance(action, Copy))
            yield RESTORE, self.steps[action.n]
        else:
            raise TapeError(f"unexpected checkpointing action {action!r} (an adjoin bug: please report it)")

    def _advance(self, action):
        if action.write_ics:
            self._where = action.storage
            yield STORE, self.steps[action.n0]
        kind = TAPE if action.write_adj_deps else ADVANCE
        for k in range(action.n0, action.n1):
            if kind is TAPE:
                self.taped += 1
            else:
                self.advances += 1
            yield kind, self.steps[k]

    # -- the loop state ---------------------------------------------------------------------------
    def store(self, *state):
        """Saves the loop state (arrays are copied) where the schedule said."""
        if self._where == StorageType.DISK:
            self._save(state)
        else:
            self.tape.push(state)
            self._memory.append(len(self.tape))

    def restore(self):
        """The loop state saved last (a tuple, or the one value of a one-name state): a private
        copy when the schedule keeps the snapshot for a later restore, else the snapshot itself."""
        storage, keep = self._restore_from
        if storage == StorageType.DISK:
            state = self._load(keep)
        else:
            state = self._from_memory(keep)
        return state if len(state) != 1 else state[0]

    def _from_memory(self, keep):
        if not self._memory or self._memory[-1] != len(self.tape):
            raise TapeError("a loop snapshot is not on top of the tape (an adjoin bug: please report it)")
        if keep:
            return tuple(v.copy() if isinstance(v, np.ndarray) else v for v in self.tape.peek())
        self._memory.pop()
        return self.tape.pop()

    def _save(self, state):
        start = time.perf_counter()
        if self._directory is None:
            self._directory = tempfile.mkdtemp(prefix="adjoin-snapshots-", dir=os.environ.get(SNAPSHOT_DIR_ENV))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._directory, True)
        path = os.path.join(self._directory, f"snapshot{len(self._files)}.npz")
        kinds, flat = _flattened(state)
        np.savez(path, *flat)
        size = os.path.getsize(path)
        self._files.append((path, kinds, size))
        self.disk_bytes += size
        self.disk_peak = max(self.disk_peak, sum(f[2] for f in self._files))
        self.io_seconds += time.perf_counter() - start

    def _load(self, keep):
        start = time.perf_counter()
        path, kinds, _ = self._files[-1]
        with np.load(path, allow_pickle=False) as saved:
            state = _rebuilt(kinds, [saved[f"arr_{k}"] for k in range(len(saved.files))])
        if not keep:
            self._files.pop()
            os.remove(path)
        self.io_seconds += time.perf_counter() - start
        return state

    def _report(self):
        """Adds this run's disk snapshots to its tape's figures (once)."""
        if self.disk_bytes and not self._reported and hasattr(self.tape, "disk_bytes"):
            self._reported = True
            self.tape.disk_bytes += self.disk_bytes
            self.tape.disk_peak_bytes = max(self.tape.disk_peak_bytes, self.disk_peak)
            self.tape.disk_seconds += self.io_seconds

    def close(self):
        """Removes the disk snapshots (done when the backward sweep ends, however it ends)."""
        if self._cleanup is not None:
            self._cleanup()
            self._files.clear()


def time_disk_snapshot(state, rounds=3):
    """(write, read) seconds of ``state`` (a tuple) saved to a disk snapshot and loaded back, as a
    schedule does, the fastest of ``rounds`` each; the files are removed."""
    times = []
    for _ in range(rounds):
        schedule = LoopSchedule(None, range(0), 1, 1)
        try:
            start = time.perf_counter()
            schedule._save(state)
            written = time.perf_counter()
            schedule._load(keep=False)
            times.append((written - start, time.perf_counter() - written))
        finally:
            schedule.close()
    return min(t[0] for t in times), min(t[1] for t in times)


def _every_iteration_taped(n, samples=0):
    """The actions of a loop site placed not checkpointed (no snapshot at all): every iteration
    taped in the forward sweep, then reversed last first, as an ordinary loop's adjoint does;
    ``samples`` iterations spread over the loop advanced first (profiling)."""
    sampled = sorted({round(j * (n - 1) / max(samples - 1, 1)) for j in range(samples)} if n else ())
    forward, start = [], 0
    for k in sampled:
        if k > start:
            forward.append(Forward(start, k, False, True, StorageType.WORK))
        forward += [Forward(k, k + 1, False, False, StorageType.WORK), Forward(k, k + 1, False, True, StorageType.WORK)]
        start = k + 1
    if start < n:
        forward.append(Forward(start, n, False, True, StorageType.WORK))
    return forward + [EndForward(), Reverse(n, 0, True), EndReverse()]


def _flattened(state):
    """(kinds, arrays) for np.savez: a tuple or list of the state is saved item by item, a name not
    set yet (None) as a placeholder."""
    kinds, flat = [], []
    for value in state:
        if isinstance(value, (tuple, list)):
            kinds.append((type(value), [type(v) for v in value]))
            flat.extend(np.asarray(v) for v in value)
        else:
            kinds.append(type(value))
            flat.append(np.asarray(0.0 if value is None else value))
    return kinds, flat


def _rebuilt(kinds, arrays):
    """The state _flattened saved, from the arrays np.load gives back."""
    arrays = iter(arrays)
    def one(kind, array):
        if kind is np.ndarray:
            return array
        return None if kind is type(None) else kind(array[()])
    state = []
    for kind in kinds:
        if isinstance(kind, tuple):
            container, items = kind
            state.append(container(one(k, next(arrays)) for k in items))
        else:
            state.append(one(kind, next(arrays)))
    return tuple(state)
