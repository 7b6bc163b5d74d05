#!/usr/bin/env python3
"""Cost of the tangent (forward mode) against the primal, and of the dot-product check against
the finite-difference check (issue 18's figures).

    taskset -c 0 python benchmarks/bench_tangent.py                 # every workload, 5 runs of each
    taskset -c 0 python benchmarks/bench_tangent.py --only ocean --repeat 3
    python benchmarks/bench_tangent.py --small --no-check            # a quick smoke run

Workloads: bench_core's three shapes (scalar loop, vectorized PDE, element loops) and the four
example models at their cases' default sizes. For each, the primal and ``adjoin.jvp(...)`` along
random tangents of every ``wrt`` parameter, run alternately in one process after a warm-up call
(so generating and compiling the tangent are not timed); medians of ``--repeat`` runs and their
ratio (goal: at most 2, the usual cost of forward mode). The tangent's value must equal the
primal's.

Then ``adjoin check`` on the ocean at size 0.5 (``--check-size``), ``--check-repeat`` times: the
seconds its finite differences take against its dot-product test (the tangent runs, one per
parameter), from the check's own timings (``--json``), with the adjoint's run they share and the
whole command's. The script never fails on a goal; tests never assert times (STYLE.md).
"""
import argparse
import copy
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_core import cases as core_cases  # noqa: E402
from common import ROOT, environment, load_example  # noqa: E402

EXAMPLES = ("burgers", "lorenz96", "shallow_water", "ocean")
GOAL = 2.0


def workloads(small):
    """(name, what, head, wrt, args) of every workload."""
    out = [(c.name, f"{c.shape}, {c.size}", c.fn, tuple(c.wrt), c.args) for c in core_cases(small)]
    for name in EXAMPLES:
        head, wrt, args, size = load_example(name, 0.2 if small else None)
        out.append((name, f"example, size {size}", head, wrt, args))
    return out


def directions(wrt, args, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(float(rng.normal()) if np.ndim(args[n]) == 0 else rng.normal(size=np.shape(args[n]))
                 for n in wrt)


def timed(thunk):
    start = time.perf_counter()
    out = thunk()
    return time.perf_counter() - start, out


def measure(head, wrt, args, repeat):
    """Medians of the primal's and the tangent's run times, taken alternately."""
    import adjoin
    jvp = adjoin.jvp(head, wrt=wrt)
    tangents = directions(wrt, args)
    first, (value, _) = timed(lambda: jvp(**copy.deepcopy(args), tangents=tangents))   # generates, compiles
    expected = float(head(**copy.deepcopy(args)))
    if not math.isclose(float(value), expected, rel_tol=1e-12):
        raise RuntimeError(f"the tangent's value {float(value)!r} differs from the primal's {expected!r}")
    primal, tangent = [], []
    for _ in range(repeat):
        given = copy.deepcopy(args)
        primal.append(timed(lambda: head(**given))[0])
        given = copy.deepcopy(args)
        tangent.append(timed(lambda: jvp(**given, tangents=tangents))[0])
    return {"primal_s": primal, "tangent_s": tangent, "first_call_s": first,
            "primal": statistics.median(primal), "tangent": statistics.median(tangent),
            "ratio": statistics.median(tangent) / statistics.median(primal)}


def check_times(size, repeat):
    """adjoin check on the ocean at ``size``: finite differences against the dot-product test."""
    case = str(ROOT / "examples" / "ocean" / "case.toml")
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "adjoin", "check", case, "--set", f"size={size}", "--json",
                               "-q"], capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if done.returncode not in (0, 4):         # 4: some finite differences too noisy to judge
            raise RuntimeError(f"adjoin check failed ({done.returncode}): {done.stderr[-2000:]}")
        result = json.loads(done.stdout)
        runs.append({"wall_s": wall, "status": result["status"], "dot_error": result["dot"]["relative_error"],
                     **{k: result["seconds"][k] for k in ("primal", "prepare", "adjoint", "finite_differences",
                                                           "tangent")}})
    median = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "adjoint", "finite_differences",
                                                                 "tangent")}
    return {"size": size, "runs": runs, "median": median,
            "fd_over_dot": median["finite_differences"] / median["tangent"]}


def print_table(results, repeat):
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"adjoin tangent benchmark: medians of {repeat} alternate runs")
    for header in ("workload", "what", "primal", "tangent", "ratio", f"goal <= {GOAL:g}", "first call"):
        table.add_column(header, justify="left" if header in ("workload", "what") else "right", no_wrap=True)
    for name, what, r in results:
        if "error" in r:
            table.add_row(name, what, "-", "-", "-", "error", "-")
            continue
        table.add_row(name, what, seconds(r["primal"]), seconds(r["tangent"]), f"{r['ratio']:.2f}",
                      "ok" if r["ratio"] <= GOAL else "above", seconds(r["first_call_s"]))
    console = Console()
    console.width = max(console.width, 140)   # a pipe gets 80 columns: too narrow
    console.print(table)
    for name, _, r in results:
        if "error" in r:
            print(f"{name}: {r['error']}")


def seconds(s):
    return f"{s:.2f} s" if s >= 1.0 else f"{s * 1e3:.1f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="alternate runs of each (default 5)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="only this workload (scalar, vectorized, elements, or an example); repeatable")
    parser.add_argument("--small", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--no-check", dest="check", action="store_false",
                        help="skip the timing of adjoin check on the ocean")
    parser.add_argument("--check-size", type=float, default=0.5, help="the ocean's size for the check (0.5)")
    parser.add_argument("--check-repeat", type=int, default=3, help="runs of adjoin check (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    options = parser.parse_args(argv)
    if options.repeat < 1 or options.check_repeat < 1:
        parser.error("--repeat and --check-repeat must be at least 1")
    started = environment()          # the commit measured: taken before anything runs
    results = []
    for name, what, head, wrt, args in workloads(options.small):
        if options.only and name not in options.only:
            continue
        print(f"running {name} ({what})...", file=sys.stderr, flush=True)
        try:
            results.append((name, what, measure(head, wrt, args, options.repeat)))
        except Exception as error:   # noqa: BLE001 - reported in the table, the others still run
            results.append((name, what, {"error": f"{type(error).__name__}: {error}"}))
    print_table(results, options.repeat)
    check = None
    if options.check:
        print(f"timing adjoin check on the ocean at size {options.check_size}...", file=sys.stderr, flush=True)
        check = check_times(options.check_size, options.check_repeat)
        m = check["median"]
        print(f"adjoin check, ocean size {options.check_size} (medians of {options.check_repeat}): finite "
              f"differences {m['finite_differences']:.2f} s, dot-product test {m['tangent']:.2f} s "
              f"({check['fd_over_dot']:.1f}x faster), the adjoint {m['adjoint']:.2f} s, whole command "
              f"{m['wall_s']:.1f} s; dot errors {[r['dot_error'] for r in check['runs']]}")
    if options.json:
        data = {"environment": started, "repeat": options.repeat, "small": options.small,
                "results": [{"name": n, "what": w, **r} for n, w, r in results], "check": check}
        Path(options.json).write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {options.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
