#!/usr/bin/env python3
"""Loop sites on the ocean (issue 17): peak tape and adjoint time as the run gets longer.

    .venv/bin/python benchmarks/bench_loops.py                       # size 0.3, nsteps x1, x4, x16
    .venv/bin/python benchmarks/bench_loops.py --size 0.2 --factors 1,4 --runs 3 --json out.json

The model is examples/ocean/binomial.py (ocean.py with its time loop a loop site) at ``--size``,
its number of steps (and of averaged steps) multiplied by each factor. For each factor:

- (a) ``default``: the default call-tree placement (every call site checkpointed), the loop
  site placed nocheckpoint: every time step taped, one snapshot per step of the step call;
- (b) ``binomial 8``: the same call tree, the loop site driven by a binomial schedule with
  ``--snapshots`` (8) snapshots in memory;
- (c) ``advised``: the advisor's choice for a budget of (a)'s peak at factor 1, from one
  profile of the default placement at that factor (taken with every step taped), searched over
  the call sites and the loop site's schedule together; its predicted time and peak are printed
  next to the measured ones.

Each configuration's adjoint is built and warmed on a two-step run (same kinds, so the runs
timed reuse its generated code), then run ``--runs`` times in turn with the primal (medians).
Every gradient is compared with (a)'s at the same factor. Times are wall-clock on a shared
machine: read the ratios.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "examples" / "ocean"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import adjoin  # noqa: E402
from common import environment  # noqa: E402

LOOP = "the_main_loop/loop#1"
WRT = ("T0", "kappa", "tau0")


def inputs_for(size, factor):
    import ocean
    inputs = ocean.make_inputs(size=size, seed=0)
    inputs["nsteps"] *= factor
    inputs["n_avg"] *= factor
    return inputs


def placement(snapshots):
    return adjoin.Placement([LOOP]) if snapshots is None else adjoin.Placement(loops={LOOP: (snapshots, 0)})


def warmed(chosen, size):
    """The adjoint of a configuration (a Placement), generated and compiled by a two-step run."""
    import binomial
    adj = adjoin.adjoint(binomial.cost, wrt=WRT, placement=chosen)
    warm = inputs_for(size, 1)
    warm["nsteps"], warm["n_avg"] = 2, 1
    adj.measure(**warm)
    return adj


def primal_seconds(inputs):
    import binomial
    start = time.perf_counter()
    binomial.cost(**inputs)
    return time.perf_counter() - start


def advice_for(size, factor, budget):
    """The advisor's placement for ``budget``, from one profile of the default placement."""
    import binomial
    start = time.perf_counter()
    profile = adjoin.adjoint(binomial.cost, wrt=WRT).profile(**inputs_for(size, factor), keep_events=False)
    advice = profile.advise(memory_budget=budget)
    return advice, time.perf_counter() - start


def describe(chosen):
    """The loop site's schedule and the number of call sites off in a placement."""
    off = len(chosen.nocheckpoint - {LOOP})
    if not chosen.checkpointed(LOOP):
        return f"every step taped, {off} calls off"
    snapshots, disk = chosen.schedule(LOOP, (8, 0))
    return f"{snapshots} in memory + {disk} on disk, {off} calls off"


def run_factor(size, factor, configs, runs):
    inputs = inputs_for(size, factor)
    adjoints = {label: warmed(s, size) for label, s in configs}
    times = {label: [] for label in adjoints} | {"primal": []}
    peaks, grads = {}, {}
    for _ in range(runs):
        times["primal"].append(primal_seconds(inputs))
        for label, adj in adjoints.items():
            run = adj.measure(**inputs)
            times[label].append(run.seconds)
            peaks.setdefault(label, set()).add(run.peak_tape_bytes)
            grads[label] = run.grads
    reference = grads[configs[0][0]]
    rows = []
    for label, snapshots in configs:
        error = max(float(np.max(np.abs(np.asarray(g) - np.asarray(r))) / max(float(np.max(np.abs(r))), 1e-300))
                    for g, r in zip(grads[label], reference))
        rows.append(dict(factor=factor, nsteps=inputs["nsteps"], config=label, placement=describe(snapshots),
                         seconds=statistics.median(times[label]), primal=statistics.median(times["primal"]),
                         peak=sorted(peaks[label]), gradient_error=error))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=0.3)
    parser.add_argument("--factors", default="1,4,16")
    parser.add_argument("--snapshots", type=int, default=8)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    factors = [int(f) for f in options.factors.split(",")]
    budget = warmed(placement(None), options.size).measure(**inputs_for(options.size, 1)).peak_tape_bytes
    print(f"ocean size {options.size}: peak of (a) at x1 {budget:,} B, the budget of (c)", flush=True)
    rows = []
    print(f"{'steps':>6} {'config':<12} {'placement':<34} {'peak tape':>11} {'predicted':>11} {'adjoint s':>10} "
          f"{'predicted':>9} {'/primal':>8} {'/(a)':>6} {'grad err':>9}", flush=True)
    for factor in factors:
        advice, advice_seconds = advice_for(options.size, factor, budget)
        configs = [("(a) default", placement(None)), (f"(b) binomial {options.snapshots}", placement(options.snapshots)),
                   ("(c) advised", advice.placement)]
        found = run_factor(options.size, factor, configs, options.runs)
        found[-1].update(predicted_seconds=advice.predicted.seconds, predicted_peak=advice.predicted.peak_tape_bytes,
                         profile_and_advice_seconds=advice_seconds, feasible=advice.feasible)
        base = found[0]["seconds"]
        for row in found:
            peak = ",".join(f"{p:,}" for p in row["peak"])
            predicted = (f"{row['predicted_peak']:>11,} {row['seconds']:>10.2f} {row['predicted_seconds']:>9.2f}"
                         if "predicted_peak" in row else f"{'':>11} {row['seconds']:>10.2f} {'':>9}")
            print(f"{row['nsteps']:>6} {row['config']:<12} {row['placement']:<34} {peak:>11} {predicted} "
                  f"{row['seconds'] / row['primal']:>8.1f} {row['seconds'] / base:>6.2f} "
                  f"{row['gradient_error']:>9.1e}", flush=True)
        rows.extend(found)
    if options.json:
        options.json.write_text(json.dumps({"environment": environment(), "options": vars(options) | {"json": None},
                                            "budget": budget, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
