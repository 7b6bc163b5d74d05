"""Advice against a measured search (issues 6 and 16).

For each model, one profile of the default placement; for memory budgets of 1, 1.5 and 4 times
the default's peak: adjoin's advice (``auto``), the paper's ranking (``ratio``: sites by ΔT/ΔPM,
each turned off while the budget holds) and a measured search: on models with at most
--max-sites sites every one of the 2^n placements, else --random random placements that fit the
budget (their peak is predicted exactly; each site off with a probability drawn per placement,
seeded; the draws for the largest budget that fit a smaller one count for it too).  Every distinct placement is generated, run once unmeasured, then all are run in turn
(round robin) at least --runs times, short adjoints more (--min-seconds each); the time of a
placement is its median.  Per budget: the fastest measured placement whose measured peak fits,
and how far the advice, the paper's ranking and the best random placement are from it.

    taskset -c 1 .venv/bin/python benchmarks/bench_advisor.py [--models ocean,burgers,...]
        [--size ocean=0.1 --size shallow_water=0.5] [--runs 5] [--random 64] [--json out.json]

Timings are medians of several runs: read ratios, not absolutes.
"""
import argparse
import copy
import itertools
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))
sys.path.insert(0, str(ROOT))

import adjoin  # noqa: E402
from adjoin.profiling.advisor import advise  # noqa: E402
from common import environment, load_conformance, load_example  # noqa: E402

MODELS = ("ocean", "burgers", "competition", "lorenz96", "shallow_water", "p22_heat_model")
SIZES = {"ocean": 0.1, "shallow_water": 0.5}
BUDGETS = (("1x", 1.0), ("1.5x", 1.5), ("4x", 4.0))


def load(name, sizes):
    if name.startswith("p") and name[1:3].isdigit():
        head, wrt, inputs = load_conformance(name)
        return head, wrt, inputs, name.split("_")[0]
    head, wrt, inputs, size = load_example(name, sizes.get(name))
    return head, wrt, inputs, f"{name} (size {size})"


def random_fitting(profile, ids, budget, count, rng, drawn=(), tries=20000):
    """``count`` distinct random placements (frozensets of sites off) predicted to fit ``budget``
    (fewer if ``tries`` draws do not find them): those of ``drawn`` (placements drawn for a larger
    budget: a draw that fits the larger budget and this one is a draw that fits this one), then
    new draws."""
    found = [off for off in drawn if profile.predict(adjoin.Placement(off)).peak_tape_bytes <= budget]
    found = found[:count]
    seen = set(found)
    for _ in range(tries):
        if len(found) >= count:
            break
        q = rng.random()
        off = frozenset(i for i in ids if rng.random() < q)
        if off not in seen and profile.predict(adjoin.Placement(off)).peak_tape_bytes <= budget:
            seen.add(off)
            found.append(off)
    return found


def measure_in_turn(head, wrt, inputs, offs, runs, min_seconds):
    """{off: (median seconds, peak bytes)}: every placement generated and run once unmeasured,
    then all in turn, at least ``runs`` times and until each has had ``min_seconds``."""
    adjoints, first = {}, {}
    for off in offs:
        adj = adjoin.adjoint(head, wrt=wrt, placement=adjoin.Placement(off))
        adj(**copy.deepcopy(inputs))
        adjoints[off] = adj
        first[off] = adj.measure(**copy.deepcopy(inputs)).seconds
    rounds = max(runs, min(200, math.ceil(min_seconds / max(min(first.values()), 1e-6))))
    times = {off: [] for off in offs}
    peaks = {}
    for _ in range(rounds):
        for off, adj in adjoints.items():
            run = adj.measure(**copy.deepcopy(inputs))
            times[off].append(run.seconds)
            peaks[off] = run.peak_tape_bytes
    return {off: (statistics.median(times[off]), peaks[off]) for off in offs}, rounds


def model(name, options, rng):
    head, wrt, inputs, label = load(name, options.sizes)
    ids = [s.id for s in adjoin.checkpoint_sites(head, example=inputs)]
    start = time.perf_counter()
    profile = adjoin.adjoint(head, wrt=wrt).profile(**copy.deepcopy(inputs), keep_events=False)
    base = profile.predict(adjoin.Placement()).peak_tape_bytes
    exhaustive = len(ids) <= options.max_sites
    plan = {}
    everything = ([frozenset(i for i, b in zip(ids, bits) if b)
                   for bits in itertools.product((False, True), repeat=len(ids))] if exhaustive else [])
    drawn = []
    for label_b, factor in sorted(BUDGETS, key=lambda b: -b[1]):     # the largest first: its draws
        budget = int(base * factor)                                    # that fit serve the others
        entry = {"budget": budget}
        for strategy, key in (("auto", "advice"), ("ratio", "paper")):
            advice = advise(profile, budget, strategy)
            entry[key] = (frozenset(advice.placement.nocheckpoint) & frozenset(ids), advice.predicted)
        entry["search"] = everything or random_fitting(profile, ids, budget, options.random, rng, drawn)
        drawn += [off for off in entry["search"] if off not in drawn]
        plan[label_b] = entry
    plan = {label_b: plan[label_b] for label_b, _ in BUDGETS}
    offs = list(dict.fromkeys([frozenset()] + [p for e in plan.values()
                                               for p in [e["advice"][0], e["paper"][0], *e["search"]]]))
    print(f"{label}: {len(ids)} sites, profiled in {time.perf_counter() - start:.1f} s; measuring "
          f"{len(offs)} distinct placements ({'every placement' if exhaustive else 'random ones'})",
          flush=True)
    measured, rounds = measure_in_turn(head, wrt, inputs, offs, options.runs, options.min_seconds)
    rows = []
    for label_b, entry in plan.items():
        budget = entry["budget"]
        fitting = {off: v for off, v in measured.items() if v[1] <= budget}
        best_off, (best, _) = min(fitting.items(), key=lambda kv: kv[1][0])
        searched = [off for off in entry["search"] if measured[off][1] <= budget]
        best_random = min(measured[off][0] for off in searched) if searched else math.nan
        row = {"model": label, "sites": len(ids), "budget": label_b, "budget_bytes": budget,
               "measured_placements": len(fitting), "searched": len(searched),
               "exhaustive": exhaustive, "runs": rounds, "best_seconds": best,
               "best_sites_off": len(best_off), "best_random_seconds": best_random}
        for key in ("advice", "paper"):
            off, predicted = entry[key]
            seconds, peak = measured[off]
            row[key] = {"sites_off": len(off), "measured_seconds": seconds, "measured_peak": peak,
                        "predicted_seconds": predicted.seconds, "predicted_peak": predicted.peak_tape_bytes,
                        "gap_to_best": (seconds - best) / best,
                        "gap_to_best_random": (seconds - best_random) / best_random,
                        "fits": peak <= budget}
        rows.append(row)
        a, p = row["advice"], row["paper"]
        print(f"  budget {label_b:>4}: best measured {best * 1e3:.2f} ms ({len(best_off)} off, of "
              f"{len(fitting)} fitting); advice {a['measured_seconds'] * 1e3:.2f} ms ({a['gap_to_best']:+.1%}, "
              f"vs best random {a['gap_to_best_random']:+.1%}, predicted {a['predicted_seconds'] * 1e3:.2f} ms"
              f"{'' if a['predicted_peak'] == a['measured_peak'] else ', PEAK DIFFERS'}"
              f"{'' if a['fits'] else ', OVER BUDGET'}); paper {p['measured_seconds'] * 1e3:.2f} ms "
              f"({p['gap_to_best']:+.1%}); best of {len(searched)} {'placements' if exhaustive else 'random'} "
              f"{best_random * 1e3:.2f} ms", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--size", action="append", default=[], metavar="MODEL=SIZE",
                        help=f"a model's size (default {', '.join(f'{k}={v}' for k, v in SIZES.items())})")
    parser.add_argument("--runs", type=int, default=5, help="runs per placement at least (median)")
    parser.add_argument("--min-seconds", type=float, default=0.3,
                        help="short adjoints run until each placement had this long")
    parser.add_argument("--random", type=int, default=64, help="random placements per budget")
    parser.add_argument("--max-sites", type=int, default=10, help="every placement up to this many sites")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the results here")
    options = parser.parse_args()
    options.sizes = dict(SIZES)
    for item in options.size:
        key, _, value = item.partition("=")
        options.sizes[key] = float(value)
    rng = random.Random(options.seed)
    out = {"environment": environment(), "options": {k: v for k, v in vars(options).items() if k != "json"},
           "rows": []}
    for name in options.models.split(","):
        out["rows"] += model(name.strip(), options, rng)
        if options.json:
            options.json.write_text(json.dumps(out, indent=1, default=str))
    print("| model | budget | placements measured | advice vs best | paper vs best | best random vs best | advice vs best random |")
    print("|---|---|---|---|---|---|---|")
    for r in out["rows"]:
        gap_random = (r["best_random_seconds"] - r["best_seconds"]) / r["best_seconds"]
        print(f"| {r['model']} | {r['budget']} | {r['measured_placements']} "
              f"({'all' if r['exhaustive'] else str(r['searched']) + ' random'}) | "
              f"{r['advice']['gap_to_best']:+.1%} | {r['paper']['gap_to_best']:+.1%} | {gap_random:+.1%} | "
              f"{r['advice']['gap_to_best_random']:+.1%} |")


if __name__ == "__main__":
    main()
