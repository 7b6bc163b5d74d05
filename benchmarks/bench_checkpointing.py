#!/usr/bin/env python3
"""What checkpointing costs and saves on every example model: peak tape bytes and adjoint time
of three kinds of placement.

    .venv/bin/python benchmarks/bench_checkpointing.py                    # everything, default sizes
    .venv/bin/python benchmarks/bench_checkpointing.py --only burgers,p22_heat_model
    .venv/bin/python benchmarks/bench_checkpointing.py --size ocean=0.5 --per-site ocean
    .venv/bin/python benchmarks/bench_checkpointing.py --no-per-site --repeat 3 --json out.json

Models: the four examples (examples/*/case.toml, at their case's size unless ``--size``) and the
conformance programs p22_heat_model and p30_mini_ocean (``inputs(np.random.default_rng(0))``).

For each model and each placement:

- ``all``: every site checkpointed (``Placement()``, joint mode everywhere: least memory);
- ``none``: no site checkpointed (``Placement(nocheckpoint=<every id>)``, split mode everywhere);
- ``off <id>``: every site checkpointed but that one (``--per-site``; on by default for models
  with at most 20 sites, so off for the ocean's 63).

The adjoint of each placement is built with ``adjoin.adjoint(head, wrt, placement=...)`` and run
once to warm up (that run specializes, generates and compiles the adjoint; its time is reported
as "first run"). Then ``--repeat`` rounds (default 5) run the primal (the head on a fresh copy
of the inputs; the copy is not timed) and every placement's adjoint once each (``.measure(...)``,
whose ``seconds`` cover the forward and backward sweeps and the private copies of the
arguments), so that all of them see the same state of a shared machine. The table shows each one's median, the peak tape
bytes (deterministic: the table says "varies" if two runs disagree), the ratio adjoint / primal,
and the largest relative difference of the gradient from the ``all`` placement's (every
placement must give the same gradient, DESIGN.md invariant 2).

Times are wall-clock and depend on the machine's load; nothing is asserted. ``--json PATH``
writes the environment, the options and every run.
"""
import argparse
import copy
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import adjoin  # noqa: E402
from common import environment, human_bytes, load_conformance, load_example, relative_difference  # noqa: E402

MODELS = {
    "burgers": ("example", "burgers"),
    "lorenz96": ("example", "lorenz96"),
    "shallow_water": ("example", "shallow_water"),
    "ocean": ("example", "ocean"),
    "competition": ("example", "competition"),
    "p22_heat_model": ("conformance", "p22_heat_model"),
    "p30_mini_ocean": ("conformance", "p30_mini_ocean"),
}
PER_SITE_LIMIT = 20      # per-site placements by default only for models with at most this many sites


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=None,
                        help=f"comma-separated models among {', '.join(MODELS)} (default: all)")
    parser.add_argument("--size", action="append", default=[], metavar="MODEL=SIZE",
                        help="size of an example model (its case's 'size'); repeatable")
    parser.add_argument("--per-site", nargs="?", const="*", default=None, metavar="MODELS",
                        help="also measure each single site off: for every model (no value) or for the "
                             f"comma-separated MODELS, in addition to models with <= {PER_SITE_LIMIT} sites")
    parser.add_argument("--no-per-site", action="store_true", help="never measure single sites off")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per placement (default 5)")
    parser.add_argument("--json", default=None, metavar="PATH", help="write every result as JSON")
    args = parser.parse_args(argv)
    args.models = list(MODELS) if args.only is None else [m.strip() for m in args.only.split(",") if m.strip()]
    for m in args.models:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}; choose among {', '.join(MODELS)}")
    args.sizes = {}
    for item in args.size:
        model, _, value = item.partition("=")
        if model not in MODELS or MODELS[model][0] != "example" or not value:
            parser.error(f"--size takes EXAMPLE=SIZE with EXAMPLE among "
                         f"{', '.join(m for m, (k, _) in MODELS.items() if k == 'example')}; got {item!r}")
        args.sizes[model] = float(value)
    if args.per_site in (None, "*"):
        args.per_site_models = set(MODELS) if args.per_site == "*" else set()
    else:
        args.per_site_models = {m.strip() for m in args.per_site.split(",") if m.strip()}
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def load(model, size):
    kind, name = MODELS[model]
    if kind == "example":
        head, wrt, inputs, used = load_example(name, size)
        return head, wrt, inputs, f"size={used}"
    head, wrt, inputs = load_conformance(name)
    return head, wrt, inputs, "rng 0"


def warm_up(head, wrt, inputs, placement):
    """The adjoint of one placement and its first run (specialization, generation, compilation)."""
    adj = adjoin.adjoint(head, wrt, placement=placement)
    start = time.perf_counter()
    first = adj.measure(**inputs)
    return adj, first, time.perf_counter() - start


def run_model(model, args, console):
    head, wrt, inputs, size = load(model, args.sizes.get(model))
    sites = adjoin.checkpoint_sites(head, example=inputs)      # the functions the inputs pass
    ids = [s.id for s in sites]
    per_site = not args.no_per_site and (len(sites) <= PER_SITE_LIMIT or model in args.per_site_models)
    console.print(f"[bold]{model}[/bold] ({size}): {len(sites)} checkpoint sites, "
                  f"per-site placements {'on' if per_site else 'off'}")
    placements = [("all", adjoin.Placement(), None), ("none", adjoin.Placement(nocheckpoint=ids), None)]
    if per_site:
        placements += [(f"off {s.id}", adjoin.Placement(nocheckpoint=[s.id]), s) for s in sites]
    rows, live = [], []
    progress = Progress(console=console, transient=True, disable=not console.is_terminal)
    progress.start()
    task = progress.add_task(f"{model}: warm-up", total=len(placements) * (1 + args.repeat))
    for label, placement, site in placements:
        progress.advance(task)
        row = {"placement": label, "nocheckpoint": sorted(placement.nocheckpoint),
               "site_line": site.line if site is not None else None, "seconds": []}
        try:
            adj, first, first_seconds = warm_up(head, wrt, inputs, placement)
        except Exception as error:       # a benchmark reports errors; it does not stop on them
            row["error"] = f"{type(error).__name__}: {error}"
            row["traceback"] = traceback.format_exc()
            console.print(f"  [red]{label}: {row['error']}[/red]")
        else:
            row.update(first_seconds=first_seconds, peak_tape_bytes=first.peak_tape_bytes,
                       peak_tape_bytes_varies=False, value=first.value, grads=first.grads)
            live.append((row, adj))
        rows.append(row)
    # the timed runs go round the placements (and the primal), so that all of them see the same
    # state of a shared machine; a placement's median is over its own runs
    head(**copy.deepcopy(inputs))
    primal_runs = []
    progress.update(task, description=f"{model}: timed runs")
    for _ in range(args.repeat):
        fresh = copy.deepcopy(inputs)
        start = time.perf_counter()
        primal_value = float(head(**fresh))
        primal_runs.append(time.perf_counter() - start)
        for row, adj in live:
            progress.advance(task)
            if "error" in row:
                continue
            try:
                run = adj.measure(**inputs)
            except Exception as error:
                row["error"] = f"{type(error).__name__}: {error}"
                row["traceback"] = traceback.format_exc()
                continue
            row["seconds"].append(run.seconds)
            row["peak_tape_bytes_varies"] |= run.peak_tape_bytes != row["peak_tape_bytes"]
    progress.stop()
    primal = statistics.median(primal_runs)
    reference = next((row for row in rows if row["placement"] == "all" and "error" not in row), None)
    for row in rows:
        if "error" in row:
            continue
        row["median_seconds"] = statistics.median(row["seconds"])
        row["ratio"] = row["median_seconds"] / primal if primal > 0 else None
        row["value_relative_error"] = abs(row["value"] - primal_value) / max(abs(primal_value), 1e-300)
        row["grad_difference"] = relative_difference(row["grads"], reference["grads"]) if reference else None
        console.print(f"  {row['placement']:<44} peak {row['peak_tape_bytes']:>14,d} B  adjoint "
                      f"{row['median_seconds']:9.4f} s", highlight=False, style="dim")
    for row in rows:
        row.pop("grads", None)
    return {"model": model, "size": size, "wrt": list(wrt), "sites": len(sites),
            "site_ids": ids, "per_site": per_site, "primal_median_seconds": primal,
            "primal_seconds": primal_runs, "primal_value": primal_value, "placements": rows}


def model_table(result):
    primal = result["primal_median_seconds"]
    table = Table(title=f"{result['model']} ({result['size']}): {result['sites']} sites, "
                        f"primal {primal:.4g} s (median of {len(result['primal_seconds'])})",
                  title_justify="left")
    table.add_column("placement")
    table.add_column("line", justify="right")
    table.add_column("peak tape (bytes)", justify="right")
    table.add_column("peak tape", justify="right")
    table.add_column("vs all", justify="right")
    table.add_column("adjoint (s)", justify="right")
    table.add_column("adjoint / primal", justify="right")
    table.add_column("first run (s)", justify="right")
    table.add_column("grad diff", justify="right")
    base = next((r for r in result["placements"] if r["placement"] == "all" and "error" not in r), None)
    for row in result["placements"]:
        if "error" in row:
            table.add_row(row["placement"], str(row["site_line"] or ""), "[red]error[/red]", "", "", "", "", "",
                          row["error"][:60])
            continue
        peak = row["peak_tape_bytes"]
        delta = "" if base is None or row is base else f"{peak - base['peak_tape_bytes']:+,d}"
        table.add_row(row["placement"], str(row["site_line"] or ""),
                      f"{peak:,d}" + (" (varies)" if row["peak_tape_bytes_varies"] else ""),
                      human_bytes(peak), delta, f"{row['median_seconds']:.4g}",
                      f"{row['ratio']:.2f}" if row["ratio"] is not None else "",
                      f"{row['first_seconds']:.3g}",
                      f"{row['grad_difference']:.1e}" if row["grad_difference"] is not None else "")
    return table


def summary_table(results):
    table = Table(title="Summary: every site checkpointed (all) against none", title_justify="left")
    for column in ("model", "size", "sites", "primal (s)", "adjoint all (s)", "adjoint none (s)",
                   "all / primal", "none / primal", "peak all (bytes)", "peak none (bytes)", "none / all"):
        table.add_column(column, justify="left" if column in ("model", "size") else "right",
                         no_wrap=column in ("model", "size"))
    for result in results:
        by = {r["placement"]: r for r in result["placements"] if "error" not in r}
        a, n = by.get("all"), by.get("none")
        cells = [result["model"], result["size"], str(result["sites"]), f"{result['primal_median_seconds']:.4g}"]
        cells += [f"{a['median_seconds']:.4g}" if a else "error", f"{n['median_seconds']:.4g}" if n else "error"]
        cells += [f"{a['ratio']:.1f}" if a else "", f"{n['ratio']:.1f}" if n else ""]
        cells += [f"{a['peak_tape_bytes']:,d}" if a else "", f"{n['peak_tape_bytes']:,d}" if n else ""]
        cells += [f"{n['peak_tape_bytes'] / a['peak_tape_bytes']:.2f}" if a and n and a["peak_tape_bytes"] else ""]
        table.add_row(*cells)
    return table


def main(argv=None):
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    env = environment()
    console.print(f"adjoin {env['adjoin']} at {env['commit'] and env['commit'][:10]}"
                  f"{' (src modified)' if env['src_modified'] else ''}; Python {env['python']}, "
                  f"NumPy {env['numpy']}, {env['cpus']} CPUs, load {env['load_average']}; "
                  f"medians of {args.repeat} runs")
    started = time.perf_counter()
    results = []
    for model in args.models:
        result = run_model(model, args, console)
        results.append(result)
        console.print(model_table(result))
    console.print(summary_table(results))
    elapsed = time.perf_counter() - started
    console.print(f"total {elapsed:.0f} s")
    if args.json:
        out = {"environment": env, "options": {"models": args.models, "sizes": args.sizes,
                                               "per_site": sorted(args.per_site_models),
                                               "no_per_site": args.no_per_site, "repeat": args.repeat},
               "elapsed_seconds": elapsed, "results": results}
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
