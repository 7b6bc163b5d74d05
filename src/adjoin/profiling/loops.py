"""The model of a loop site under a schedule: what its actions cost, step by step.

A loop site run of ``n`` iterations under a schedule of ``snapshots`` in memory and ``disk`` on
disk (runtime/loops.py) tapes every iteration once and reverses it once, as an ordinary loop
does, and besides: advances some iterations as plain primal, stores the loop state (on the tape
when in memory), and restores it.  Which iteration does what comes from the same library the
generated code asks (``checkpoint_schedules``), so the counts are those of the run, not a formula.

:func:`plan` walks the schedule once per ``(n, snapshots, disk)`` and returns per iteration how
often it is advanced, stored and restored, and which stored states are on the tape (in memory)
while it is taped: the model's peak for a loop site is the most, over its taped iterations, of the
snapshots in memory then plus the iteration's own peak.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from checkpoint_schedules import (Copy, EndForward, EndReverse, Forward, Move, MultistageCheckpointSchedule,
                                  Reverse, StorageType)

from ..runtime.loops import iteration_id, time_disk_snapshot
from .tree import distinct_nodes


@dataclass(frozen=True)
class Plan:
    """What a schedule does with each iteration k of a loop site run (tuples indexed by k)."""
    n: int
    advances: tuple          # times k runs as plain primal
    ram_stores: tuple        # times the state at the start of k is stored in memory (on the tape)
    disk_stores: tuple       # ... on disk
    ram_restores: tuple      # times it is restored from memory: (moved, copied)
    disk_restores: tuple     # ... from disk: (moved, copied)
    in_memory: tuple         # the iterations whose stored states are on the tape while k is taped
    after_forward: tuple     # those on the tape when the forward sweep ends (k = n - 1 is taped)


def every_iteration_taped(n):
    """The plan of a loop site placed not checkpointed: nothing stored, nothing advanced."""
    zeros = (0,) * n
    return Plan(n, zeros, zeros, zeros, ((0, 0),) * n, ((0, 0),) * n, ((),) * n, ())


@lru_cache(maxsize=256)
def plan(n, snapshots, disk):
    """The Plan of a binomial (multistage) schedule; ``snapshots = disk = 0``: no checkpointing."""
    if n == 0 or (snapshots == 0 and disk == 0):
        return every_iteration_taped(n)
    walk = _Walk(n)
    for action in MultistageCheckpointSchedule(n, snapshots, disk):
        if isinstance(action, EndForward):
            walk.after_forward = tuple(walk.memory)
        elif isinstance(action, EndReverse):
            break
        else:
            walk.act(action)
    return walk.plan()


class _Walk:
    """Follows a schedule's actions, counting per iteration."""

    def __init__(self, n):
        self.n = n
        self.advances = [0] * n
        self.ram_stores = [0] * n
        self.disk_stores = [0] * n
        self.ram_restores = [[0, 0] for _ in range(n)]
        self.disk_restores = [[0, 0] for _ in range(n)]
        self.in_memory = [()] * n
        self.memory = []             # iterations whose states are on the tape, last on top
        self.after_forward = ()

    def act(self, action):
        if isinstance(action, Forward):
            if action.write_ics:
                in_ram = action.storage != StorageType.DISK
                (self.ram_stores if in_ram else self.disk_stores)[action.n0] += 1
                if in_ram:
                    self.memory.append(action.n0)
            for k in range(action.n0, action.n1):
                if action.write_adj_deps:
                    self.in_memory[k] = tuple(self.memory)
                else:
                    self.advances[k] += 1
        elif isinstance(action, (Copy, Move)):
            moved = isinstance(action, Move)
            in_ram = action.from_storage != StorageType.DISK
            counts = (self.ram_restores if in_ram else self.disk_restores)[action.n]
            counts[0 if moved else 1] += 1
            if moved and in_ram:
                self.memory.pop()
        elif not isinstance(action, Reverse):
            raise ValueError(f"unexpected checkpointing action {action!r}")

    def plan(self):
        return Plan(self.n, tuple(self.advances), tuple(self.ram_stores), tuple(self.disk_stores),
                    tuple(map(tuple, self.ram_restores)), tuple(map(tuple, self.disk_restores)),
                    tuple(self.in_memory), self.after_forward)


@dataclass(frozen=True)
class DiskCost:
    """Seconds to write and to read one state of ``nbytes`` to disk (measured when profiling);
    a state of other size costs in proportion."""
    write: float = 0.0
    read: float = 0.0
    nbytes: int = 0

    def seconds(self, nbytes):
        """(write, read) seconds of a state of ``nbytes``."""
        if self.nbytes <= 0:
            return 0.0, 0.0
        scale = nbytes / self.nbytes
        return self.write * scale, self.read * scale


@dataclass(frozen=True)
class FixedCosts:
    """What a loop site run costs under a schedule whatever the placement inside its iterations."""
    seconds: float           # advances, stores and restores
    in_memory: tuple         # per run of identical iterations: the most state bytes on the tape
                             # while one of them is taped
    after_forward: int       # state bytes on the tape when the forward sweep ends


def fixed_costs(run, the_plan, disk):
    """FixedCosts of a loop site ``run`` (a tree node whose children are its iterations, each with
    the state's bytes ``S``, its primal time ``P``, the state's copy times ``W``/``R``)."""
    steps = [child.node for child in run.children for _ in range(child.count)]
    seconds = 0.0
    for k, node in enumerate(steps):
        write, read = disk.seconds(node.S)
        moved, copied = the_plan.ram_restores[k]
        disk_moved, disk_copied = the_plan.disk_restores[k]
        seconds += (the_plan.advances[k] * node.P + the_plan.ram_stores[k] * node.W
                    + moved * node.R + copied * 2 * node.R + the_plan.disk_stores[k] * write
                    + (disk_moved + disk_copied) * read)
    in_memory, k = [], 0
    for child in run.children:
        in_memory.append(max(sum(steps[j].S for j in the_plan.in_memory[i]) for i in range(k, k + child.count)))
        k += child.count
    return FixedCosts(seconds, tuple(in_memory), sum(steps[j].S for j in the_plan.after_forward))


def state_bytes(root, loop_id):
    """The loop state's bytes at the first iteration of ``loop_id`` in the tree (0 if none ran)."""
    wanted = iteration_id(loop_id)
    return next((node.S for node in distinct_nodes(root) if node.site == wanted), 0)


def measure_disk(root, loops, measured=None, progress=None, rounds=3):
    """{loop site id: DiskCost}: what the profiled run measured on its first state (``measured``:
    iteration name -> (write, read) seconds, the Recorder's ``disk_seconds``), else a state of
    its bytes in one array written and read back as the schedule does, the fastest of ``rounds``."""
    out = {}
    for loop_id in loops:
        nbytes = state_bytes(root, loop_id)
        if nbytes <= 0:
            continue
        found = (measured or {}).get(iteration_id(loop_id))
        if found is None:
            if progress is not None:
                progress(f"timing disk snapshots of {loop_id}")
            found = time_disk_snapshot((np.random.default_rng(0).random(max(nbytes // 8, 1)),), rounds)
        out[loop_id] = DiskCost(found[0], found[1], nbytes)
    return out
