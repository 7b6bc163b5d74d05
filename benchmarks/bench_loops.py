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
- (c) ``fits x1``: the binomial schedule with the most snapshots whose peak stays within the
  peak of (a) at factor 1. Its snapshot count is found from two measured peaks at factor 1
  (one and two snapshots: the peak grows by one loop state per snapshot, whatever the number of
  steps), not by the advisor, which does not choose loop schedules yet.

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


def warmed(snapshots, size):
    """The adjoint of a configuration, generated and compiled by a two-step run."""
    import binomial
    adj = adjoin.adjoint(binomial.cost, wrt=WRT, placement=placement(snapshots))
    warm = inputs_for(size, 1)
    warm["nsteps"], warm["n_avg"] = 2, 1
    adj.measure(**warm)
    return adj


def primal_seconds(inputs):
    import binomial
    start = time.perf_counter()
    binomial.cost(**inputs)
    return time.perf_counter() - start


def fitting_snapshots(size, budget):
    """Most snapshots whose peak fits ``budget``, from the peaks of one and two at factor 1."""
    inputs = inputs_for(size, 1)
    one = warmed(1, size).measure(**inputs).peak_tape_bytes
    two = warmed(2, size).measure(**inputs).peak_tape_bytes
    state = two - one
    return max(1, 1 + (budget - one) // state) if budget >= one else None, one, state


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
        rows.append(dict(factor=factor, nsteps=inputs["nsteps"], config=label, snapshots=snapshots,
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
    budget = warmed(None, options.size).measure(**inputs_for(options.size, 1)).peak_tape_bytes
    fits, one, state = fitting_snapshots(options.size, budget)
    print(f"ocean size {options.size}: peak of (a) at x1 {budget:,} B; a loop state {state:,} B; "
          f"(c) keeps {fits} snapshots", flush=True)
    configs = [("default", None), (f"binomial {options.snapshots}", options.snapshots)]
    if fits is not None:
        configs.append((f"fits x1 ({fits})", fits))
    rows = []
    print(f"{'steps':>6} {'config':<18} {'peak tape':>14} {'adjoint s':>10} {'/primal':>8} {'/(a)':>6} "
          f"{'grad err':>9}", flush=True)
    for factor in factors:
        found = run_factor(options.size, factor, configs, options.runs)
        base = found[0]["seconds"]
        for row in found:
            peak = ",".join(f"{p:,}" for p in row["peak"])
            print(f"{row['nsteps']:>6} {row['config']:<18} {peak:>14} {row['seconds']:>10.2f} "
                  f"{row['seconds'] / row['primal']:>8.1f} {row['seconds'] / base:>6.2f} "
                  f"{row['gradient_error']:>9.1e}", flush=True)
        rows.extend(found)
    if options.json:
        options.json.write_text(json.dumps({"environment": environment(), "options": vars(options) | {"json": None},
                                            "budget": budget, "state_bytes": state, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
