"""Simulator speed (issue 6): predicted placements per second on a profile of the ocean example.

    .venv/bin/python benchmarks/bench_simulator.py [--size 0.3] [--profile saved.json]

Random placements (each site off with probability 1/2) defeat the cache that searches rely on;
one-site flips around a placement (what greedy and local search evaluate) reuse it.
"""
import argparse
import copy
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import adjoin  # noqa: E402
from adjoin.case import load_case  # noqa: E402
from adjoin.profiling.advisor import advise  # noqa: E402
from adjoin.profiling.model import Simulator  # noqa: E402
from adjoin.profiling.profile import Profile  # noqa: E402


def rate(profile, placements):
    simulator = Simulator(profile.tree)        # a fresh cache
    start = time.perf_counter()
    for off in placements:
        simulator.evaluate(off)
    return len(placements) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=0.3)
    parser.add_argument("--profile", type=Path, help="a saved profile instead of profiling the ocean")
    options = parser.parse_args()
    if options.profile:
        profile = Profile.load(options.profile)
    else:
        case = load_case(ROOT / "examples/ocean/case.toml", [f"size={options.size}"])
        profile = adjoin.adjoint(case.head, wrt=case.wrt).profile(**copy.deepcopy(case.build_inputs()))
    ids = [s.id for s in profile.sites]
    rng = random.Random(0)
    randoms = [frozenset(i for i in ids if rng.random() < 0.5) for _ in range(2000)]
    base = frozenset(i for i in ids if rng.random() < 0.3)
    flips = [base ^ {i} for i in ids] * 20
    def count(node):
        return 1 + sum(count(c.node) for c in node.children)
    print(f"profile: {len(ids)} sites, {count(profile.tree)} nodes in the merged checkpoint tree")
    print(f"random placements: {rate(profile, randoms):,.0f} per second")
    print(f"one-site flips around a placement: {rate(profile, flips):,.0f} per second")
    budget = int(1.5 * profile.predict(adjoin.Placement()).peak_tape_bytes)
    for strategy in ("ratio", "greedy", "local"):
        start = time.perf_counter()
        advice = advise(profile, budget, strategy)
        print(f"{strategy:>6} for 1.5x the default peak: {advice.evaluations} placements in "
              f"{time.perf_counter() - start:.2f} s, predicted {advice.predicted.seconds:.3f} s, "
              f"peak {advice.predicted.peak_tape_bytes} bytes, {len(advice.placement.nocheckpoint)} sites off")


if __name__ == "__main__":
    main()
