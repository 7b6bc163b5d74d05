"""Profiling against measurement (issue 5), on the ocean example.

1. Overhead: the adjoint with the profiling hooks (and the tree built as it runs, as
   `adjoin profile` does) against the adjoint without them (same placement, every site
   checkpointed), median of --runs each, measured in alternation; the tree built in a helper
   process (the default on two cores or more) and in the profiled process.
2. ΔT: for every site whose ΔT is more than 5 % of the adjoint's time, the measured time saved by
   not checkpointing it against the profile's ΔT: the median over --pairs pairs of runs (every
   site checkpointed, this site not) timed back to back, the order swapped from pair to pair,
   with a distribution-free 95 % interval of that median.

    .venv/bin/python benchmarks/bench_profile.py [--size 0.3] [--runs 5] [--pairs 16] [--json out.json]
"""
import argparse
import contextlib
import copy
import json
import os
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


def median_interval(values):
    """A distribution-free 95 % confidence interval of the median of ``values`` (order statistics
    of the binomial(n, 1/2); exact for any continuous distribution): (low, high)."""
    from math import comb
    x = sorted(values)
    n = len(x)
    k = 0                    # the widest k with P(Binomial(n, 1/2) < k+1) <= 2.5 %
    while sum(comb(n, i) for i in range(k + 1)) / 2 ** n <= 0.025:
        k += 1
    if k == 0:               # too few values for a 95 % interval
        return x[0], x[-1]
    return x[k - 1], x[n - k]


HELPER_CPU = None            # --helper-cpu: the CPU the helper process is moved to
SPENT = []                   # per profiled run: seconds handing batches over, measuring in hooks, events


def profiled_seconds(adj, inputs, background):
    """Seconds of one adjoint run as `adjoin profile` makes it: hooks on, the tree built and
    finished.  The helper process is started before the clock, as `profile` starts it before its
    warm-up run, and waited for until it has imported adjoin, as `profile` waits before its plain
    run.  (The traffic calibration `profile` makes after the run is not part of it.)"""
    arguments = copy.deepcopy(inputs)
    with TreeProcess() if background else contextlib.nullcontext(TreeBuilder()) as sink:
        if background:
            if HELPER_CPU is not None:
                os.sched_setaffinity(sink.process.pid, {HELPER_CPU})
            sink.ready()
        parts = []

        def run():          # adj._profiled_run, its parts timed
            from adjoin.runtime.profiler import Recorder
            from adjoin.runtime.tape import Tape
            start = time.perf_counter()
            recorder = Recorder(sink=sink, keep=False)
            adj._run((), arguments, Tape(), prof=recorder)
            ran = time.perf_counter()
            seconds = recorder.elapsed()
            recorder.flush()
            sink.finish(seconds)
            parts.extend([recorder, ran - start, time.perf_counter() - ran])
        seconds = timed(run)
        recorder, _, finishing = parts
        SPENT.append((recorder.flush_seconds, recorder.measure_seconds, recorder.count, finishing))
        return seconds


def hooks_only_seconds(adj, inputs):
    """Seconds of one hooked run whose events go nowhere (no tree): what the hooks alone cost."""
    from adjoin.runtime.profiler import Recorder
    from adjoin.runtime.tape import Tape
    arguments = copy.deepcopy(inputs)
    return timed(lambda: adj._run((), arguments, Tape(), prof=Recorder(keep=False)))


def delta_t(case, inputs, plain, options):
    """ΔT against the measured time saved, for every site whose ΔT exceeds 5 % of the adjoint."""
    profile = plain.profile(**copy.deepcopy(inputs), repeat=options.repeat)
    print(f"profile: {len(profile.sites)} sites, adjoint {profile.seconds:.3f} s (plain run timed "
          f"{options.repeat} time(s))", flush=True)
    rows = []
    for row in sorted(profile.sites, key=lambda r: -r.delta_t):
        if row.delta_t <= 0.05 * profile.seconds:
            continue
        off = adjoin.adjoint(case.head, wrt=case.wrt, placement=adjoin.Placement([row.id]))
        off(**copy.deepcopy(inputs))
        differences = []
        for k in range(options.pairs):
            # one pair: the default and the site off back to back, in turns first, so that a slow
            # spell of the machine and the order within a pair fall on both alike
            first, second = (plain, off) if k % 2 == 0 else (off, plain)
            a = timed(lambda: first(**copy.deepcopy(inputs)))
            b = timed(lambda: second(**copy.deepcopy(inputs)))
            differences.append(a - b if first is plain else b - a)
        measured = statistics.median(differences)
        low, high = median_interval(differences)
        error = (row.delta_t - measured) / measured if measured else float("inf")
        rows.append({"site": row.id, "instances": row.instances, "delta_t": row.delta_t,
                     "measured": measured, "measured_95": [low, high], "relative_error": error,
                     "differences": differences})
        print(f"  {row.id:40s} ΔT {row.delta_t:.3f} s, measured {measured:.3f} s "
              f"[95 %: {low:.3f}, {high:.3f}] ({error:+.1%})", flush=True)
    return rows


def overhead(plain, hooked, inputs, options):
    """The profiled run (tree built in the helper process, in this process) and the hooks alone
    (no tree) against the plain run, alternated, --runs times."""
    without, inline, background, hooks = [], [], [], []
    cpu = {"plain": [], "inline": [], "background": [], "hooks": []}
    for _ in range(options.runs):
        arguments = copy.deepcopy(inputs)
        without.append(timed(lambda: plain(**arguments)))
        cpu["plain"].append(CPU[-1])
        background.append(profiled_seconds(hooked, inputs, background=True))
        cpu["background"].append(CPU[-1])
        hooks.append(hooks_only_seconds(hooked, inputs))
        cpu["hooks"].append(CPU[-1])
        inline.append(profiled_seconds(hooked, inputs, background=False))
        cpu["inline"].append(CPU[-1])
    t0, t1, t2 = (statistics.median(x) for x in (without, inline, background))
    spent = SPENT[0::2]          # the background runs (each round: background, then inline)
    print(f"helper process: {spent[0][2]:,d} events; handing batches over took "
          f"{statistics.median(s[0] for s in spent):.3f} s, measuring in hooks "
          f"{statistics.median(s[1] for s in spent):.3f} s, finishing the tree after the run "
          f"{statistics.median(s[3] for s in spent):.3f} s (medians)", flush=True)
    th = statistics.median(hooks)
    print(f"hooks alone (events recorded, no tree): {th:.3f} s, {(th - t0) / t0:+.1%}; paired "
          f"{statistics.median([h / p - 1 for h, p in zip(hooks, without)]):+.1%}", flush=True)
    # each run against the plain run just before it: a slow spell of the machine falls on both
    paired = {name: [t / p - 1 for t, p in zip(runs, without)] for name, runs in
              (("inline", inline), ("background", background))}
    c0, c1, c2 = (statistics.median(cpu[k]) for k in ("plain", "inline", "background"))
    result = {"adjoint_seconds": t0, "profiled_seconds_inline": t1,
                       "profiled_seconds_background": t2, "overhead_inline": (t1 - t0) / t0,
                       "overhead_background": (t2 - t0) / t0,
                       "cpu_seconds": {"plain": c0, "inline": c1, "background": c2},
                       "runs": {"plain": without, "inline": inline, "background": background},
                       "paired_overhead": {name: {"median": statistics.median(v), "95": median_interval(v)}
                                           for name, v in paired.items()}}
    print(f"adjoint {t0:.3f} s; profiled, tree built in a helper process {t2:.3f} s: overhead "
          f"{(t2 - t0) / t0:+.1%}; tree built in this process {t1:.3f} s: {(t1 - t0) / t0:+.1%} "
          f"(wall, median of {options.runs}, alternated)", flush=True)
    for name, values in paired.items():
        low, high = median_interval(values)
        print(f"paired with the plain run before it, tree built {name}: median overhead "
              f"{statistics.median(values):+.1%} [95 %: {low:+.1%}, {high:+.1%}]", flush=True)
    print(f"CPU time of the profiled process: adjoint {c0:.3f} s; helper process {c2:.3f} s "
          f"({(c2 - c0) / c0:+.1%}); in this process {c1:.3f} s ({(c1 - c0) / c0:+.1%})", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default=str(ROOT / "examples/ocean/case.toml"))
    parser.add_argument("--size", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=16,
                        help="ΔT: pairs (default, site off) timed per site (default 16)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="the profile times the plain adjoint this many times (default 1)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--overhead-only", action="store_true", help="measure the hooks' overhead only")
    parser.add_argument("--helper-cpu", type=int, help="move the helper process to this CPU (pinned runs)")
    options = parser.parse_args()
    global HELPER_CPU
    HELPER_CPU = options.helper_cpu
    case = load_case(options.case, [f"size={options.size}"])
    inputs = case.build_inputs()
    out = {"case": options.case, "size": options.size, "runs": options.runs}

    plain = adjoin.adjoint(case.head, wrt=case.wrt)
    hooked = adjoin.adjoint(case.head, wrt=case.wrt)
    plain(**copy.deepcopy(inputs))
    hooked.record(**copy.deepcopy(inputs))
    out["overhead"] = overhead(plain, hooked, inputs, options)

    if options.overhead_only:
        if options.json:
            options.json.write_text(json.dumps(out, indent=1))
        return
    out["delta_t"] = delta_t(case, inputs, plain, options)
    if options.json:
        options.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
