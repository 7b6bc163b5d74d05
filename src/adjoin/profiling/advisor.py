"""Advising a placement: the fastest adjoint whose predicted peak tape fits a memory budget.

Every strategy searches placements with the simulator (model.py), one profile, no runs:

* ``ratio``  the paper's advice: turn sites off in decreasing ΔT/ΔPM order (free ones first)
             while the predicted peak stays within the budget;
* ``greedy`` re-simulates after each change: turn off the site that spares the most time per byte
             of peak it costs, until none fits;
* ``exact``  every placement (2^n), for up to ``EXACT_LIMIT`` sites;
* ``local``  greedy, then a local search (flip one site, or swap one off and one on) until no move
             improves: for hundreds of sites, where 2^n is out of reach;
* ``auto``   exact when there are at most ``EXACT_COMBINATIONS`` placements (2^16: 16 call sites),
             local otherwise.

A loop site (``# $AD BINOMIAL-CKP``) is searched together with the call sites: not checkpointed,
or one of ``candidate_schedules`` (snapshots in memory, and some on disk); the paper's ``ratio``
keeps it at the profile's default schedule.  Sites with no instance in the profiled run are left
as profiled.
"""
import itertools
from dataclasses import dataclass

from ..errors import UsageError
from ..placement import Placement
from .model import Prediction

EXACT_LIMIT = 16
EXACT_COMBINATIONS = 2 ** EXACT_LIMIT      # auto is exact up to this many placements
STRATEGIES = ("auto", "ratio", "greedy", "exact", "local")


@dataclass(frozen=True)
class Advice:
    """An advised placement, what the model predicts for it, and how it was found."""
    placement: Placement
    predicted: Prediction
    strategy: str
    evaluations: int
    feasible: bool


class _Search:
    """A search over placements: call sites off (a set) and, per loop site, a choice among
    ``schedules`` (None: not checkpointed)."""

    def __init__(self, profile, budget):
        self.profile = profile
        self.budget = budget
        self.evaluations = 0
        loops = profile.loops
        self.ids = [row.id for row in profile.sites if row.instances > 0 and row.id not in loops]
        self.loops = [row.id for row in profile.sites if row.instances > 0 and row.id in loops]
        self.frozen = {row.id for row in profile.sites if row.instances == 0} & profile.profiled_off
        self.schedules = {k: candidate_schedules(profile.simulator.iterations(k)) for k in self.loops}
        self.default = tuple(loops[k] for k in self.loops)       # every loop site checkpointed

    def _decided(self, off, choices):
        """(every site off, {loop site: schedule}) of call sites ``off`` and loop ``choices``."""
        choices = self.default if choices is None else choices
        loops_off = {k for k, c in zip(self.loops, choices) if c is None}
        return (frozenset(off) | self.frozen | loops_off,
                {k: c for k, c in zip(self.loops, choices) if c is not None})

    def evaluate(self, off, choices=None):
        """The prediction for call sites ``off`` and loop ``choices`` (default: the profile's)."""
        self.evaluations += 1
        return self.profile.simulator.evaluate(*self._decided(off, choices))

    def placement(self, off, choices=None):
        every_off, schedules = self._decided(off, choices)
        return Placement(sorted(every_off), schedules)

    def loop_moves(self, choices):
        """Every placement of the loop sites that differs from ``choices`` at one loop site."""
        for k, loop in enumerate(self.loops):
            for option in [None] + self.schedules[loop]:
                if option != choices[k]:
                    yield choices[:k] + (option,) + choices[k + 1:]

    def fits(self, prediction):
        return self.budget is None or prediction.peak_tape_bytes <= self.budget

    def better(self, a, b):
        """Is prediction a better than b (feasible first, then faster, then smaller)?"""
        if b is None:
            return True
        fa, fb = self.fits(a), self.fits(b)
        if fa != fb:
            return fa
        if not fa:
            return a.peak_tape_bytes < b.peak_tape_bytes
        return (a.seconds, a.peak_tape_bytes) < (b.seconds, b.peak_tape_bytes)


# the snapshot counts in memory a loop site's search tries (those below its iteration count), and
# the disk snapshots tried with the smaller ones
SNAPSHOT_CHOICES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
DISK_CHOICES = ((0, 4), (0, 16), (0, 64), (1, 4), (2, 16), (4, 64), (8, 64))


def candidate_schedules(n):
    """(snapshots, disk) schedules worth trying for a loop site of ``n`` iterations."""
    out = [(s, 0) for s in SNAPSHOT_CHOICES if s < n]
    out += [(s, d) for s, d in DISK_CHOICES if s + d < n and d]
    return out


def advise(profile, memory_budget=None, strategy="auto"):
    """The advised placement for ``memory_budget`` bytes (None: unlimited)."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; choose among {', '.join(STRATEGIES)}")
    if memory_budget is not None and memory_budget < 0:
        raise UsageError("the memory budget must be a positive number of bytes")
    search = _Search(profile, memory_budget)
    if strategy == "auto":
        strategy = "exact" if _combinations(search) <= EXACT_COMBINATIONS else "local"
    off, choices = {"ratio": _ratio, "greedy": _greedy, "exact": _exact, "local": _local}[strategy](search)
    prediction = search.evaluate(off, choices)
    return Advice(search.placement(off, choices), prediction, strategy, search.evaluations,
                  search.fits(prediction))


def _combinations(search):
    count = 2 ** len(search.ids)
    for loop in search.loops:
        count *= 1 + len(search.schedules[loop])
    return count


def _ratio(search):
    """The paper: sites by decreasing ΔT/ΔPM (ΔPM <= 0 first), each kept off if the budget holds;
    loop sites keep their schedules."""
    rows = [r for r in search.profile.sites if r.id in search.ids and r.delta_t > 0]

    def key(row):
        if row.delta_pm <= 0:
            return (0, -row.delta_t)
        return (1, -row.delta_t / row.delta_pm)
    off = set()
    for row in sorted(rows, key=key):
        trial = off | {row.id}
        if search.fits(search.evaluate(trial)):
            off = trial
    return off, search.default


def _greedy(search):
    """From the profile's default, the move that spares the most time per byte of peak it costs
    (a site turned off, a loop site's schedule changed), until none spares time within the budget."""
    off, choices = set(), search.default
    current = search.evaluate(off, choices)
    while True:
        best, best_score, best_prediction = None, None, None
        moves = [(off | {site}, choices) for site in search.ids if site not in off]
        moves += [(off, other) for other in search.loop_moves(choices)]
        for trial in moves:
            prediction = search.evaluate(*trial)
            gain = current.seconds - prediction.seconds
            if not search.fits(prediction) or gain <= 0:
                continue
            score = gain / (max(prediction.peak_tape_bytes - current.peak_tape_bytes, 0) + 1.0)
            if best_score is None or score > best_score:
                best, best_score, best_prediction = trial, score, prediction
        if best is None:
            return off, choices
        (off, choices), current = best, best_prediction


def _everything(search):
    """Every placement: (off, choices)."""
    options = [[None] + search.schedules[loop] for loop in search.loops]
    for mask in range(2 ** len(search.ids)):
        off = {s for k, s in enumerate(search.ids) if mask >> k & 1}
        for choices in itertools.product(*options):
            yield off, choices


def _exact(search):
    if _combinations(search) > 2 ** 24:
        raise UsageError(f"the exact strategy would try {_combinations(search)} placements; use 'local' or 'auto'")
    best_placement, best = (set(), search.default), None
    for off, choices in _everything(search):
        prediction = search.evaluate(off, choices)
        if search.better(prediction, best):
            best_placement, best = (off, choices), prediction
    return best_placement


def _local(search):
    """Greedy, then the first move that improves (one site flipped, one off and one on swapped,
    one loop site's schedule changed), until none does."""
    off, choices = _greedy(search)
    best = search.evaluate(off, choices)
    improved = True
    while improved:
        improved = False
        moves = [(off ^ {s}, choices) for s in search.ids]
        moves += [(off ^ {s, t}, choices) for s in search.ids for t in search.ids if s in off and t not in off]
        moves += [(off, other) for other in search.loop_moves(choices)]
        for trial in moves:
            prediction = search.evaluate(*trial)
            if search.better(prediction, best):
                (off, choices), best, improved = trial, prediction, True
                break
    return off, choices


def pareto(profile, limit=None):
    """[(Prediction, Placement)] on the time/memory Pareto front: exact for few sites, else the
    front of every placement greedy and local search meet along a sweep of budgets."""
    search = _Search(profile, None)
    seen = {}

    def visit(off, choices):
        key = (frozenset(off), choices)
        if key not in seen:
            seen[key] = search.evaluate(off, choices)
    if _combinations(search) <= EXACT_COMBINATIONS:
        for off, choices in _everything(search):
            visit(off, choices)
    else:
        low = search.evaluate(set()).peak_tape_bytes
        high = search.evaluate(set(search.ids)).peak_tape_bytes
        steps = limit or 12
        for k in range(steps + 1):
            search.budget = low + (high - low) * k / steps
            visit(*_local(search))
        search.budget = None
        visit(set(), search.default)
        visit(set(search.ids), search.default)
    front = []
    for (off, choices), prediction in sorted(seen.items(), key=lambda kv: (kv[1].peak_tape_bytes, kv[1].seconds)):
        if not front or prediction.seconds < front[-1][0].seconds:
            front.append((prediction, search.placement(off, choices)))
    return front
