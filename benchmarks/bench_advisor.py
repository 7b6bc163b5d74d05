"""Advice against measurement (issue 6).

1. On the ocean example: one profile, then for memory budgets of 1, 1.5, 2 and 4 times the default
   placement's peak and unlimited, the default (every site checkpointed), the paper's ΔT/ΔPM advice
   and adjoin's advice: predicted and measured time (median of --runs, the distinct placements
   run in turn) and peak tape.
2. On small models (at most --max-sites sites): every one of the 2^n placements is measured (in
   turn, as many runs as fit 0.2 s, at least --runs); the advised placement's measured time is
   compared with the best measured one under each budget.

    .venv/bin/python benchmarks/bench_advisor.py [--size 0.2] [--runs 5] [--json out.json]

Timings are medians of several runs on a shared 2-core machine: read ratios, not absolutes.
"""
import argparse
import copy
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import adjoin  # noqa: E402
from adjoin.case import load_case  # noqa: E402
from adjoin.profiling.advisor import advise  # noqa: E402
from adjoin.report.terminal import human_bytes, human_seconds  # noqa: E402


def measure_interleaved(head, wrt, inputs, placements, runs):
    """{placement: (median seconds, peak bytes)}, the placements run in turn ``runs`` times (round
    robin), so that a slow spell of the machine falls on all of them alike."""
    adjoints = {}
    for placement in placements:
        adj = adjoin.adjoint(head, wrt=wrt, placement=placement)
        adj(**copy.deepcopy(inputs))                 # generation and first run excluded
        adjoints[placement] = adj
    results = {placement: [] for placement in placements}
    for _ in range(runs):
        for placement, adj in adjoints.items():
            results[placement].append(adj.measure(**copy.deepcopy(inputs)))
    out = {}
    for placement, runs_of in results.items():
        times = sorted(r.seconds for r in runs_of)
        out[placement] = (times[len(times) // 2], runs_of[0].peak_tape_bytes)
    return out


def ocean(size, runs, out):
    case = load_case(ROOT / "examples/ocean/case.toml", [f"size={size}"])
    inputs = case.build_inputs()
    start = time.perf_counter()
    profile = adjoin.adjoint(case.head, wrt=case.wrt).profile(**copy.deepcopy(inputs))
    print(f"ocean size {size}: profiled in {time.perf_counter() - start:.1f} s, "
          f"{len(profile.sites)} sites, peak {human_bytes(profile.peak_tape_bytes)}", flush=True)
    base = profile.predict(adjoin.Placement()).peak_tape_bytes
    plan = []
    for label, factor in (("1x", 1.0), ("1.5x", 1.5), ("2x", 2.0), ("4x", 4.0), ("unlimited", None)):
        budget = None if factor is None else int(base * factor)
        for name, placement, predicted in (
                ("default", adjoin.Placement(), profile.predict(adjoin.Placement())),
                *((n, a.placement, a.predicted) for n, a in
                  (("paper", advise(profile, budget, "ratio")), ("adjoin", advise(profile, budget, "auto"))))):
            plan.append((label, budget, name, adjoin.Placement(sorted(placement.nocheckpoint)), predicted))
    distinct = list(dict.fromkeys(p for _, _, _, p, _ in plan))
    print(f"  measuring {len(distinct)} distinct placements, {runs} runs each in turn", flush=True)
    measured = measure_interleaved(case.head, case.wrt, inputs, distinct, runs)
    rows = []
    for label, budget, name, placement, predicted in plan:
        seconds, peak = measured[placement]
        row = dict(budget=label, budget_bytes=budget, placement=name, sites_off=len(placement.nocheckpoint),
                   predicted_seconds=predicted.seconds, measured_seconds=seconds,
                   predicted_peak=predicted.peak_tape_bytes, measured_peak=peak,
                   time_error=(predicted.seconds - seconds) / seconds,
                   fits=budget is None or peak <= budget)
        rows.append(row)
        print(f"  budget {label:>9} {name:>7}: {row['sites_off']:2d} off, predicted "
              f"{human_seconds(predicted.seconds)} / {human_bytes(predicted.peak_tape_bytes)}, measured "
              f"{human_seconds(seconds)} / {human_bytes(peak)} (time error {row['time_error']:+.1%}"
              f"{'' if peak == predicted.peak_tape_bytes else ', PEAK DIFFERS'}"
              f"{'' if row['fits'] else ', OVER BUDGET'})", flush=True)
    out["ocean"] = dict(size=size, runs=runs, rows=rows)


def small_models(runs, max_sites, out):
    programs = [("burgers", ROOT / "examples/burgers/case.toml", ["size=0.5"])]
    conformance = ROOT.parent / "shared" / "conformance" / "programs"
    for name in ("p22_heat_model", "p17_inplace_subroutines", "p23_snapshot_needed"):
        programs.append((name, conformance / f"{name}.py", None))
    out["exhaustive"] = []
    for name, path, overrides in programs:
        if overrides is not None:
            case = load_case(path, overrides)
            head, wrt, inputs = case.head, case.wrt, case.build_inputs()
        else:
            if not path.exists():
                continue
            import importlib.util
            sys.path.insert(0, str(path.parent))
            spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            head, wrt, inputs = module.HEAD, module.WRT, module.inputs(np.random.default_rng(0))
        ids = [s.id for s in adjoin.checkpoint_sites(head, example=inputs)]
        if len(ids) > max_sites:
            continue
        profile = adjoin.adjoint(head, wrt=wrt).profile(**copy.deepcopy(inputs))
        placements = [adjoin.Placement(frozenset(i for i, b in zip(ids, bits) if b))
                      for bits in itertools.product((False, True), repeat=len(ids))]
        # short adjoints are run more often: at least 0.2 s per placement, at most 400 runs
        one = adjoin.adjoint(head, wrt=wrt).measure(**copy.deepcopy(inputs)).seconds
        repeats = max(runs, min(400, int(0.2 / max(one, 1e-6))))
        measured = {p.nocheckpoint: v for p, v in
                    measure_interleaved(head, wrt, inputs, placements, repeats).items()}
        peaks = sorted({p for _, p in measured.values()})
        budgets = [None] + peaks[:: max(1, len(peaks) // 4)]
        for budget in budgets:
            feasible = {off: v for off, v in measured.items() if budget is None or v[1] <= budget}
            best_off, (best_time, _) = min(feasible.items(), key=lambda kv: kv[1][0])
            advice = advise(profile, budget, "auto")
            advised_time, advised_peak = measured[frozenset(advice.placement.nocheckpoint) & frozenset(ids)]
            row = dict(model=name, sites=len(ids), budget=budget, best_seconds=best_time,
                       advised_seconds=advised_time, advised_peak=advised_peak,
                       predicted_peak=advice.predicted.peak_tape_bytes,
                       gap=(advised_time - best_time) / best_time)
            out["exhaustive"].append(row)
            print(f"{name} ({len(ids)} sites, 2^{len(ids)} placements measured {repeats} times in turn) budget "
                  f"{human_bytes(budget) if budget is not None else 'unlimited'}: advised "
                  f"{human_seconds(advised_time)} vs best {human_seconds(best_time)} ({row['gap']:+.1%}); "
                  f"peak {advised_peak} predicted {advice.predicted.peak_tape_bytes}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=0.2, help="ocean size (default 0.2)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--max-sites", type=int, default=10, help="exhaustive comparison up to this many sites")
    parser.add_argument("--skip-ocean", action="store_true")
    parser.add_argument("--json", type=Path, help="write the results here")
    options = parser.parse_args()
    out = {}
    if not options.skip_ocean:
        ocean(options.size, options.runs, out)
    small_models(options.runs, options.max_sites, out)
    if options.json:
        options.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
