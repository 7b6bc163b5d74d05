"""What tape traffic costs on this machine: the time model's term for a tape that grows.

A profile's times are measured under one placement.  Another placement pushes other bytes, and
above all keeps more of them on the tape at once: a forward sweep that pushes 300 MB before its
turn writes them to memory the caches no longer hold, and its backward sweep reads them back from
there, where a checkpointed time step pushes a few hundred KB and pops them while they are still
in the cache.  The bytes pushed may be the same; their cost is not.  On shallow water, every site
off pushes a 324 MB tape against the default's 66 MB, and ran 17 % slower than a model that
scaled the profiled run's times predicted.

The term: every joint instance (the root, each checkpointed instance) is a stack **episode**: its
forward sweep pushes ``Tape(n)`` bytes (its own, its split descendants', its checkpointed
children's snapshots) and its backward sweep pops them in reverse order, so a byte pushed at
height h above the episode's base has ``Tape(n) - h`` distinct bytes pushed over it before it is
read back.  Pushing ``D`` bytes that way and popping them costs ``D * c(D)`` seconds, where
``c(D)`` is the cost per byte of a stack of depth D.  The model charges each episode
``Tape(n) * x(Tape(n))``, ``x(D) = c(D) - c(HOT_DEPTH)``: what a deep stack costs over one that
stays in the cache, the shallow cost being in the measured sweep times already.

``calibrate`` measures ``c`` in the profiling process, at profile time: with the tape's own
``push`` (a fresh copy of an array of the size that carries most of the profiled tape's bytes),
to depths from HOT_DEPTH up to the deepest episode any placement can have (every site off), each
popped value read once as a backward sweep reads it.
"""
import math
import time
from dataclasses import dataclass

import numpy as np

from ..runtime.tape import NO_LIMIT, Tape, available_memory

HOT_DEPTH = 256 << 10        # a stack this deep stays in the core's cache: the baseline
SHALLOW = 4 << 20            # no episode deeper than this: nothing to calibrate (they all stay cached)
FACTOR = 4                   # depths calibrated: HOT_DEPTH times powers of FACTOR
MAX_DEPTH = 512 << 10 << 10  # deeper stacks cost as much per byte (main memory): not calibrated
MEMORY_FRACTION = 0.25       # calibration never takes more than this share of the available memory
WORK = 4 << 20               # bytes pushed at least per timed measurement (small depths repeat)
ROUNDS = 2                   # measurements per depth, the fastest kept, taken round robin
SHALLOW_ROUNDS = 8           # up to this many for depths whose measurement pushes little,
SHALLOW_WORK = 64 << 20      # as long as they push less than this in all
SMALLEST_VALUE = 8           # a float: pushed as such, not as an array
LARGEST_VALUE = 8 << 20


@dataclass(frozen=True)
class TrafficCost:
    """Extra seconds per byte of a stack episode ``depth`` bytes deep, over a shallow one.

    ``depths`` (bytes, increasing) and ``extra`` (seconds per byte, non-decreasing) are the
    calibrated points; between them ``per_byte`` interpolates linearly in log(depth), below the
    first it is 0 and beyond the last it stays at the last.  ``value_bytes`` is the size of the
    values calibrated with, ``seconds`` what the calibration took.  No points: no cost (a profile
    whose deepest tape stays in the cache, or one written before version 5)."""
    value_bytes: int = 0
    depths: tuple = ()
    extra: tuple = ()
    seconds: float = 0.0
    scale: float = 1.0          # fitted to a run of another placement (fit_scale); 1: as calibrated

    def per_byte(self, depth):
        """Extra seconds per byte of an episode ``depth`` bytes deep."""
        depths = self.depths
        if not depths or depth <= depths[0]:
            return 0.0
        if depth >= depths[-1]:
            return self.extra[-1]
        k = 1
        while depths[k] < depth:
            k += 1
        low, high = math.log(depths[k - 1]), math.log(depths[k])
        w = (math.log(depth) - low) / (high - low)
        return self.extra[k - 1] + w * (self.extra[k] - self.extra[k - 1])

    def __call__(self, depth):
        """Extra seconds of one episode whose forward sweep pushes ``depth`` bytes."""
        return self.scale * depth * self.per_byte(depth) if self.depths else 0.0

    def to_json(self):
        return {"value_bytes": self.value_bytes, "depths": list(self.depths),
                "extra": list(self.extra), "seconds": self.seconds, "scale": self.scale}

    @classmethod
    def from_json(cls, data):
        return cls(data["value_bytes"], tuple(data["depths"]), tuple(data["extra"]), data["seconds"],
                   data.get("scale", 1.0))


NONE = TrafficCost()


def depths_to_calibrate(max_depth, memory=None):
    """HOT_DEPTH, then FACTOR times more up to ``max_depth`` (itself the last), bounded by
    MAX_DEPTH and a share of ``memory`` (bytes available); () when nothing is deeper than
    SHALLOW (every episode stays in the cache)."""
    limit = min(max_depth, MAX_DEPTH)
    if memory is not None:
        limit = min(limit, int(memory * MEMORY_FRACTION))
    if limit < SHALLOW:
        return ()
    depths = [HOT_DEPTH]
    while depths[-1] * FACTOR < limit:
        depths.append(depths[-1] * FACTOR)
    depths.append(limit)
    return tuple(depths)


def _value(value_bytes):
    """What the calibration pushes: a float, or a float64 array of about ``value_bytes``."""
    if value_bytes <= SMALLEST_VALUE:
        return 1.0, SMALLEST_VALUE
    count = max(1, min(value_bytes, LARGEST_VALUE) // 8)
    return np.ones(count), 8 * count


def _stack_seconds(value, count, repeats, clock):
    """Seconds to push ``count`` copies of ``value`` on a tape and pop them back, reading each
    popped array once (as a backward sweep reads it), ``repeats`` times."""
    tape = Tape(max_bytes=NO_LIMIT)
    push, pop = tape.push, tape.pop
    array = type(value) is np.ndarray
    start = clock()
    for _ in range(repeats):
        for _ in range(count):
            push(value)
        if array:
            for _ in range(count):
                pop().sum()
        else:
            for _ in range(count):
                pop()
    return clock() - start


def calibrate(max_depth, value_bytes, clock=time.perf_counter, rounds=ROUNDS, progress=None):
    """The TrafficCost of this process and machine for episodes up to ``max_depth`` bytes deep,
    values of ``value_bytes`` (see the module's docstring); ``progress`` is told when it starts."""
    depths = depths_to_calibrate(max_depth, available_memory())
    if not depths:
        return TrafficCost(int(value_bytes))
    if progress is not None:
        progress("calibrating what tape traffic costs")
    started = clock()
    value, size = _value(value_bytes)
    plans = []
    for depth in depths:
        count = max(1, depth // size)
        plans.append((count, max(1, -(-WORK // (count * size)))))
    _stack_seconds(value, plans[-1][0], 1, clock)        # the deepest once, untimed: memory touched
    # shallow depths are cheap to time: more rounds there (a slow one would set the baseline)
    rounds_of = [max(rounds, min(SHALLOW_ROUNDS, SHALLOW_WORK // (count * repeats * size)))
                 for count, repeats in plans]
    best = [math.inf] * len(depths)
    for r in range(max(rounds_of)):
        for k, (count, repeats) in enumerate(plans):
            if r < rounds_of[k]:
                seconds = _stack_seconds(value, count, repeats, clock)
                best[k] = min(best[k], seconds / (count * repeats * size))
    # a shallower stack never costs more than a deeper one: a depth slower than every deeper one
    # was interrupted, and counts at the deeper ones' cost (from the deepest, so that one slow
    # shallow round cannot raise every depth below it)
    extra = [max(cost - best[0], 0.0) for cost in best]
    for k in range(len(extra) - 2, -1, -1):
        extra[k] = min(extra[k], extra[k + 1])
    extra[0] = 0.0
    return TrafficCost(size, depths, tuple(extra), clock() - started)


def deepest_episode(root):
    """Bytes of the deepest stack episode any placement of the tree ``root`` makes: the root's
    forward sweep with every site off (every other episode is part of one of its sweeps)."""
    from .model import Simulator
    simulator = Simulator(root)
    return simulator.tape(root, True, set(simulator.bit))


def calibrate_for(root, value_bytes, clock=time.perf_counter, progress=None):
    """The TrafficCost for every placement of the checkpoint tree ``root`` (calibrate)."""
    return calibrate(deepest_episode(root), value_bytes, clock, progress=progress)


# the scale fitted to a run of another placement stays within these bounds
SCALE_RANGE = (0.0, 4.0)
MIN_DIFFERENCE = 0.01       # the other placement's traffic must differ by this share of its time


def other_extreme(simulator, profiled_off, sites):
    """The placement (sites off) whose stack episodes differ most from the profiled one's: every
    site off, or every site checkpointed (the one a fit of the scale learns the most from)."""
    candidates = [frozenset(), frozenset(sites)]
    return max(candidates, key=lambda off: abs(simulator.traffic_seconds(off) - simulator.profiled_traffic))


def pair_noise(profiled_times, other_times):
    """The relative noise of paired runs (the profiled placement's and the other's, each pair run
    in turn): half the range of the ratios other / profiled, over their median; 0 with fewer than
    two pairs (unknown).  A drift that slows both runs of a pair alike cancels in its ratio."""
    ratios = sorted(o / p for p, o in zip(profiled_times, other_times) if p > 0)
    if len(ratios) < 2:
        return 0.0
    middle = ratios[len(ratios) // 2] if len(ratios) % 2 else (ratios[len(ratios) // 2 - 1]
                                                               + ratios[len(ratios) // 2]) / 2
    return (ratios[-1] - ratios[0]) / (2 * middle)


def fit_scale(traffic, simulator, other_off, other_seconds, noise=0.0):
    """``traffic`` with its scale fitted so that the model predicts ``other_seconds`` (a plain
    run of the placement ``other_off``, timed in turn with the profiled one's) for that
    placement, within SCALE_RANGE; unchanged when the placements' traffic differs by less than
    MIN_DIFFERENCE of that time, or than ``noise`` of it (the relative noise of the runs timed:
    pair_noise), as then the fit would learn the noise and not the traffic.  ``simulator``: the
    tree's, with ``traffic`` at scale 1 and the profiled placement."""
    from dataclasses import replace
    difference = simulator.traffic_seconds(other_off) - simulator.profiled_traffic
    if not traffic.depths or abs(difference) < max(MIN_DIFFERENCE, noise) * other_seconds:
        return traffic
    without = simulator.evaluate(other_off).seconds - difference      # the model with no traffic
    scale = (other_seconds - without) / difference
    return replace(traffic, scale=min(max(scale, SCALE_RANGE[0]), SCALE_RANGE[1]))
