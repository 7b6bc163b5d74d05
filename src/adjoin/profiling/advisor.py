"""Advising a placement: the fastest adjoint whose predicted peak tape fits a memory budget.

Every strategy searches placements with the simulator (model.py), one profile, no runs:

* ``ratio``  the paper's advice: turn sites off in decreasing ΔT/ΔPM order (free ones first)
             while the predicted peak stays within the budget;
* ``greedy`` re-simulates after each change: turn off the site that spares the most time per byte
             of peak it costs, until none fits;
* ``exact``  every placement (2^n), for up to ``EXACT_LIMIT`` sites;
* ``local``  greedy, then a local search (flip one site, or swap one off and one on) until no move
             improves: for hundreds of sites, where 2^n is out of reach;
* ``auto``   exact when there are at most ``EXACT_LIMIT`` sites, local otherwise.

Sites with no instance in the profiled run are left as profiled.
"""
import itertools
from dataclasses import dataclass

from ..errors import UsageError
from ..placement import Placement
from .model import Prediction

EXACT_LIMIT = 16
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
    def __init__(self, profile, budget):
        self.profile = profile
        self.budget = budget
        self.evaluations = 0
        self.ids = [row.id for row in profile.sites if row.instances > 0]
        self.frozen = {row.id for row in profile.sites if row.instances == 0} & profile.profiled_off

    def evaluate(self, off):
        self.evaluations += 1
        return self.profile.simulator.evaluate(frozenset(off) | self.frozen)

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


def advise(profile, memory_budget=None, strategy="auto"):
    """The advised placement for ``memory_budget`` bytes (None: unlimited)."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; choose among {', '.join(STRATEGIES)}")
    if memory_budget is not None and memory_budget < 0:
        raise UsageError("the memory budget must be a positive number of bytes")
    search = _Search(profile, memory_budget)
    if strategy == "auto":
        strategy = "exact" if len(search.ids) <= EXACT_LIMIT else "local"
    off = {"ratio": _ratio, "greedy": _greedy, "exact": _exact, "local": _local}[strategy](search)
    prediction = search.evaluate(off)
    return Advice(Placement(sorted(set(off) | search.frozen)), prediction, strategy, search.evaluations,
                  search.fits(prediction))


def _ratio(search):
    """The paper: sites by decreasing ΔT/ΔPM (ΔPM <= 0 first), each kept off if the budget holds."""
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
    return off


def _greedy(search, start=frozenset()):
    off = set(start)
    current = search.evaluate(off)
    while True:
        best, best_score, best_prediction = None, None, None
        for site in search.ids:
            if site in off:
                continue
            prediction = search.evaluate(off | {site})
            if not search.fits(prediction):
                continue
            gain = current.seconds - prediction.seconds
            if gain <= 0:
                continue
            cost = max(prediction.peak_tape_bytes - current.peak_tape_bytes, 0)
            score = gain / (cost + 1.0)
            if best_score is None or score > best_score:
                best, best_score, best_prediction = site, score, prediction
        if best is None:
            return off
        off.add(best)
        current = best_prediction


def _exact(search):
    if len(search.ids) > 24:
        raise UsageError(f"the exact strategy tries all 2^{len(search.ids)} placements; use 'local' or 'auto'")
    best_off, best = set(), None
    for mask in range(2 ** len(search.ids)):
        off = {s for k, s in enumerate(search.ids) if mask >> k & 1}
        prediction = search.evaluate(off)
        if search.better(prediction, best):
            best_off, best = off, prediction
    return best_off


def _local(search):
    off = _greedy(search)
    best = search.evaluate(off)
    improved = True
    while improved:
        improved = False
        moves = [{s} for s in search.ids]
        for s in search.ids:
            for t in search.ids:
                if s in off and t not in off:
                    moves.append({s, t})
        for move in moves:
            trial = off ^ move
            prediction = search.evaluate(trial)
            if search.better(prediction, best):
                off, best, improved = trial, prediction, True
                break
    return off


def pareto(profile, limit=None):
    """[(Prediction, Placement)] on the time/memory Pareto front: exact for few sites, else the
    front of every placement greedy and local search meet along a sweep of budgets."""
    search = _Search(profile, None)
    seen = {}

    def visit(off):
        key = frozenset(off)
        if key not in seen:
            seen[key] = search.evaluate(off)
    if len(search.ids) <= EXACT_LIMIT:
        for bits in itertools.product((False, True), repeat=len(search.ids)):
            visit({s for s, b in zip(search.ids, bits) if b})
    else:
        low = search.evaluate(set()).peak_tape_bytes
        high = search.evaluate(set(search.ids)).peak_tape_bytes
        steps = limit or 12
        for k in range(steps + 1):
            search.budget = low + (high - low) * k / steps
            visit(_local(search))
        search.budget = None
        visit(set())
        visit(set(search.ids))
    front = []
    for off, prediction in sorted(seen.items(), key=lambda kv: (kv[1].peak_tape_bytes, kv[1].seconds)):
        if not front or prediction.seconds < front[-1][0].seconds:
            front.append((prediction, Placement(sorted(off | search.frozen))))
    return front
