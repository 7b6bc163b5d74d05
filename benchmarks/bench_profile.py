"""Profiling against measurement (issue 5), on the ocean example.

1. Overhead: the adjoint with the profiling hooks (and the tree built as it runs, as
   `adjoin profile` does) against the adjoint without them (same placement, every site
   checkpointed), median of --runs each, measured in alternation; the tree built in a helper
   process (the default on two cores or more) and in the profiled process.
2. ΔT: for every site whose ΔT is more than 5 % of the adjoint's time, the measured time saved by
   not checkpointing it (median of --runs, all-checkpointed and site-off measured in alternation)
   against the profile's ΔT.

    .venv/bin/python benchmarks/bench_profile.py [--size 0.3] [--runs 5] [--json out.json]
"""
import argparse
import contextlib
import copy
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import adjoin  # noqa: E402
from adjoin.case import load_case  # noqa: E402
from adjoin.profiling.tree import TreeBuilder  # noqa: E402
from adjoin.profiling.worker import TreeProcess  # noqa: E402


def timed(thunk):
    """Wall seconds of ``thunk()``; its process's CPU seconds go to CPU (a helper's are not)."""
    start, cpu = time.perf_counter(), time.process_time()
    thunk()
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


CPU = []


def profiled_seconds(adj, inputs, background):
    """Seconds of one adjoint run as `adjoin profile` makes it: hooks on, the tree built and
    finished.  The helper process is started before the clock, as `profile` starts it before its
    warm-up run."""
    arguments = copy.deepcopy(inputs)
    with TreeProcess() if background else contextlib.nullcontext(TreeBuilder()) as sink:
        if background:
            time.sleep(1.0)         # the helper imports adjoin (about 0.3 s)
        return timed(lambda: adj._profiled_run((), arguments, sink, keep_events=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default=str(ROOT / "examples/ocean/case.toml"))
    parser.add_argument("--size", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--overhead-only", action="store_true", help="measure the hooks' overhead only")
    options = parser.parse_args()
    case = load_case(options.case, [f"size={options.size}"])
    inputs = case.build_inputs()
    out = {"case": options.case, "size": options.size, "runs": options.runs}

    plain = adjoin.adjoint(case.head, wrt=case.wrt)
    hooked = adjoin.adjoint(case.head, wrt=case.wrt)
    plain(**copy.deepcopy(inputs))
    hooked.record(**copy.deepcopy(inputs))
    without, inline, background = [], [], []
    cpu = {"plain": [], "inline": [], "background": []}
    for _ in range(options.runs):
        arguments = copy.deepcopy(inputs)
        without.append(timed(lambda: plain(**arguments)))
        cpu["plain"].append(CPU[-1])
        inline.append(profiled_seconds(hooked, inputs, background=False))
        cpu["inline"].append(CPU[-1])
        background.append(profiled_seconds(hooked, inputs, background=True))
        cpu["background"].append(CPU[-1])
    t0, t1, t2 = (statistics.median(x) for x in (without, inline, background))
    c0, c1, c2 = (statistics.median(cpu[k]) for k in ("plain", "inline", "background"))
    out["overhead"] = {"adjoint_seconds": t0, "profiled_seconds_inline": t1,
                       "profiled_seconds_background": t2, "overhead_inline": (t1 - t0) / t0,
                       "overhead_background": (t2 - t0) / t0,
                       "cpu_seconds": {"plain": c0, "inline": c1, "background": c2}}
    print(f"adjoint {t0:.3f} s; profiled, tree built in a helper process {t2:.3f} s: overhead "
          f"{(t2 - t0) / t0:+.1%}; tree built in this process {t1:.3f} s: {(t1 - t0) / t0:+.1%} "
          f"(wall, median of {options.runs}, alternated)", flush=True)
    print(f"CPU time of the profiled process: adjoint {c0:.3f} s; helper process {c2:.3f} s "
          f"({(c2 - c0) / c0:+.1%}); in this process {c1:.3f} s ({(c1 - c0) / c0:+.1%})", flush=True)

    if options.overhead_only:
        if options.json:
            options.json.write_text(json.dumps(out, indent=1))
        return
    profile = plain.profile(**copy.deepcopy(inputs))
    print(f"profile: {len(profile.sites)} sites, adjoint {profile.seconds:.3f} s", flush=True)
    rows = []
    for row in sorted(profile.sites, key=lambda r: -r.delta_t):
        if row.delta_t <= 0.05 * t0:
            continue
        off = adjoin.adjoint(case.head, wrt=case.wrt, placement=adjoin.Placement([row.id]))
        off(**copy.deepcopy(inputs))
        base_times, off_times = [], []
        for _ in range(options.runs):
            base_times.append(timed(lambda: plain(**copy.deepcopy(inputs))))
            off_times.append(timed(lambda: off(**copy.deepcopy(inputs))))
        measured = statistics.median(base_times) - statistics.median(off_times)
        error = (row.delta_t - measured) / measured if measured else float("inf")
        rows.append({"site": row.id, "instances": row.instances, "delta_t": row.delta_t,
                     "measured": measured, "relative_error": error})
        print(f"  {row.id:40s} ΔT {row.delta_t:.3f} s, measured {measured:.3f} s ({error:+.1%})", flush=True)
    out["delta_t"] = rows
    if options.json:
        options.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
