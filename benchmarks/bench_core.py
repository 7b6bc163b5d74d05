#!/usr/bin/env python3
"""Cost of adjoin's adjoint against its primal on three shapes of code (issue 2's figure).

    python benchmarks/bench_core.py                  # the full table, 5 runs of each
    python benchmarks/bench_core.py --primal-only    # primal times only (no adjoint needed)
    python benchmarks/bench_core.py --json out.json --repeat 7 --only vectorized
    python benchmarks/bench_core.py --small          # a quick smoke run on small sizes

For each program: the primal's run time, the adjoint's run time (``adjoin.value_and_grad(...)``
called after one warm-up call, so generating and compiling the adjoint are not timed), both as
the median of ``--repeat`` runs taken alternately in the same process, their ratio, the time to
generate the adjoint's source (``adjoin.generate_source``), and the peak tape bytes of one run.

The targets (adjoint/primal <= 4 for vectorized code, <= 6 for scalar loops) are printed next to
the ratios; the script never fails on them. Tests never assert times (STYLE.md).
"""
import argparse
import copy
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


# -- the programs (adjoin's input language) -----------------------------------------------------

def damped_pendulum(theta0, k, nsteps):
    """(a) A scalar recurrence: a damped, forced pendulum stepped explicitly, with a running cost."""
    theta = theta0
    omega = 0.0
    dt = 0.001
    cost = 0.0
    for i in range(nsteps):
        forcing = 0.3 * math.cos(0.002 * i)
        accel = -k * math.sin(theta) - 0.2 * omega + forcing
        omega = omega + dt * accel
        theta = theta + dt * omega
        cost = cost + dt * (theta * theta + 0.1 * math.tanh(omega) ** 2) * math.exp(-0.0001 * i)
    return cost


def advection_reaction(c0, vel, kappa, nsteps):
    """(b) Vectorized array code: a 1-D advection-diffusion-reaction step on a periodic grid,
    with np.roll for the fluxes and slices for the interior update."""
    c = c0.copy()
    lam = 0.2            # dt / dx
    for n in range(nsteps):
        right = np.roll(c, -1)
        flux = vel * 0.5 * (c + right) - kappa * (right - c)
        c[1:-1] -= lam * (flux[1:-1] - flux[:-2])
        c = c + 0.01 * c * (1.0 - c * c)
    return 0.5 * np.sum(c * c) / c.size


def heat_elements(T0, kappa, nsteps):
    """(c) Element loops on a 2-D array: Fortran-style nested loops over the inner points."""
    nx, ny = T0.shape
    T = T0.copy()
    for it in range(nsteps):
        Tn = T.copy()
        for i in range(1, nx - 1):
            for j in range(1, ny - 1):
                T[i, j] = Tn[i, j] + kappa * (Tn[i + 1, j] + Tn[i - 1, j] + Tn[i, j + 1]
                                              + Tn[i, j - 1] - 4.0 * Tn[i, j]) - 0.01 * Tn[i, j] ** 3
    return np.sum(T * T)


@dataclass
class Case:
    name: str
    shape: str            # what kind of code it is
    fn: object
    args: dict
    wrt: tuple
    target: float         # the adjoint/primal ratio aimed at
    size: str


def cases(small=False):
    rng = np.random.default_rng(2024)
    points, steps = (10_000, 50) if small else (100_000, 200)
    nx, ny, heat_steps = (12, 10, 2) if small else (40, 40, 5)
    scalar_steps = 2_000 if small else 20_000
    return [
        Case("scalar", "scalar loop, math.* calls", damped_pendulum,
             dict(theta0=0.8, k=2.5, nsteps=scalar_steps), ("theta0", "k"), 6.0,
             f"{scalar_steps} iterations"),
        Case("vectorized", "1-D PDE, slices + np.roll", advection_reaction,
             dict(c0=rng.uniform(0.0, 1.0, points), vel=0.7, kappa=0.05, nsteps=steps),
             ("c0", "vel", "kappa"), 4.0, f"{points} points x {steps} steps"),
        Case("elements", "2-D element loops", heat_elements,
             dict(T0=rng.normal(size=(nx, ny)), kappa=0.1, nsteps=heat_steps), ("T0", "kappa"), 6.0,
             f"{nx}x{ny} grid x {heat_steps} steps"),
    ]


# -- measuring ----------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    shape: str
    size: str
    target: float
    primal_s: list = field(default_factory=list)
    adjoint_s: list = field(default_factory=list)
    generate_s: float | None = None
    first_call_s: float | None = None
    peak_tape_bytes: int | None = None
    error: str | None = None

    @property
    def primal(self):
        return statistics.median(self.primal_s) if self.primal_s else None

    @property
    def adjoint(self):
        return statistics.median(self.adjoint_s) if self.adjoint_s else None

    @property
    def ratio(self):
        if self.primal and self.adjoint:
            return self.adjoint / self.primal
        return None


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def measure(case, repeat, primal_only):
    """Primal and adjoint times of one case, run alternately so that both see the same machine."""
    import adjoin

    result = Result(case.name, case.shape, case.size, case.target)
    args = copy.deepcopy(case.args)
    timed(case.fn, **args)    # warm-up of the primal as well (caches, first allocations)
    grad = None
    if not primal_only:
        try:
            result.generate_s, _ = timed(adjoin.generate_source, case.fn, wrt=case.wrt, example=args)
            grad = adjoin.value_and_grad(case.fn, wrt=case.wrt)
            result.first_call_s, (value, _) = timed(grad, **args)     # generation + compilation + a run
            expected = case.fn(**copy.deepcopy(args))
            if not math.isclose(float(value), float(expected), rel_tol=1e-12):
                result.error = f"adjoint value {float(value)!r} differs from the primal's {float(expected)!r}"
            try:
                result.peak_tape_bytes = adjoin.adjoint(case.fn, wrt=case.wrt).measure(**args).peak_tape_bytes
            except Exception as error:   # a measurement nicety: the times stand without it
                result.peak_tape_bytes = None
                print(f"  ({case.name}: no peak tape bytes: {type(error).__name__}: {error})", file=sys.stderr)
        except Exception as error:
            result.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            grad = None
    for _ in range(repeat):
        seconds, _ = timed(case.fn, **args)
        result.primal_s.append(seconds)
        if grad is not None:
            seconds, _ = timed(grad, **args)
            result.adjoint_s.append(seconds)
    return result


# -- reporting ----------------------------------------------------------------------------------

def fmt_seconds(s):
    if s is None:
        return "-"
    if s >= 1.0:
        return f"{s:.2f} s"
    return f"{s * 1e3:.1f} ms"


def fmt_bytes(b):
    if b is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if b < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024


def verdict(result):
    if result.error:
        return "error"
    if result.ratio is None:
        return "-"
    return "ok" if result.ratio <= result.target else "above"


def print_table(results, repeat, primal_only):
    headers = ["case", "size", "primal", "adjoint", "ratio", "target", "", "generate",
               "first call", "peak tape"]
    rows = []
    for r in results:
        rows.append([r.name, r.size, fmt_seconds(r.primal), fmt_seconds(r.adjoint),
                     f"{r.ratio:.2f}" if r.ratio else "-", f"<= {r.target:g}", verdict(r),
                     fmt_seconds(r.generate_s), fmt_seconds(r.first_call_s), fmt_bytes(r.peak_tape_bytes)])
    title = f"adjoin core benchmark: medians of {repeat} runs" + (" (primal only)" if primal_only else "")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
        for row in [headers] + rows:
            print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    else:
        table = Table(title=title)
        for h in headers:
            table.add_column(h, justify="right" if h not in ("case", "size", "") else "left", no_wrap=True)
        for row in rows:
            table.add_row(*row)
        console = Console()
        console.width = max(console.width, 120)   # a pipe gets 80 columns: too narrow for the table
        console.print(table)
        print("code: " + "; ".join(f"{r.name} = {r.shape}" for r in results))
    for r in results:
        if r.error:
            print(f"{r.name}: {r.error}")


def environment():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    try:
        import adjoin
        version = adjoin.__version__
    except ImportError:
        version = None
    return dict(python=platform.python_version(), numpy=np.__version__, adjoin=version, commit=commit,
                machine=platform.machine(), processor=platform.processor() or None, cpus=os.cpu_count(),
                system=platform.platform(), date=time.strftime("%Y-%m-%d %H:%M:%S %z"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (the median is reported); default 5")
    parser.add_argument("--only", action="append", metavar="CASE",
                        help="run only this case (scalar, vectorized, elements); may be repeated")
    parser.add_argument("--primal-only", action="store_true", help="time the primals only")
    parser.add_argument("--small", action="store_true", help="small sizes, for a quick smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    options = parser.parse_args(argv)
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")

    chosen = [c for c in cases(options.small) if not options.only or c.name in options.only]
    if not chosen:
        parser.error(f"no case named {options.only}; the cases are scalar, vectorized, elements")
    results = []
    for case in chosen:
        print(f"running {case.name} ({case.size})...", file=sys.stderr, flush=True)
        results.append(measure(case, options.repeat, options.primal_only))
    print_table(results, options.repeat, options.primal_only)
    if options.json:
        data = dict(environment=environment(), repeat=options.repeat, primal_only=options.primal_only,
                    small=options.small,
                    results=[dict(asdict(r), primal_median_s=r.primal, adjoint_median_s=r.adjoint,
                                  ratio=r.ratio, meets_target=None if r.ratio is None else r.ratio <= r.target)
                             for r in results])
        Path(options.json).write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {options.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
