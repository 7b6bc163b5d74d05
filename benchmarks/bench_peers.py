#!/usr/bin/env python3
"""adjoin against PyTorch (eager autograd) and JAX (jit of grad) on the same workloads.

    /work/peers-venv/bin/python benchmarks/bench_peers.py                 # everything, 5 rounds
    taskset -c 0 /work/peers-venv/bin/python benchmarks/bench_peers.py --json out.json
    /work/peers-venv/bin/python benchmarks/bench_peers.py --only burgers,scalar --repeat 3
    /work/peers-venv/bin/python benchmarks/bench_peers.py --small --repeat 1   # a smoke run

Needs the ``peers`` extra (``pip install -e .[peers]``: torch and jax); without them it says so
and stops.  Workloads: burgers, lorenz96 and shallow_water at their cases' sizes, the ocean at
``--ocean-size`` (default 0.3), and bench_core.py's three shapes (scalar, vectorized,
elements).  The PyTorch and JAX versions are hand ports in benchmarks/peers/, the same
arithmetic as the NumPy code.

Per workload, before anything is timed: adjoin's gradient with the default placement (every
site checkpointed); the advised placement, from one profile (``adjoint(...).profile``) and
``Profile.advise(memory_budget=<the default's peak tape>)``, as ``adjoin advise`` does; every
placement's gradient must equal the default's, and each port's value and gradient must agree
with adjoin's to ``--rtol`` (default 1e-8, max |a - b| / max |a| per parameter), or that port is
reported as disagreeing and not timed.  JAX's first call (trace, compile, one run) is timed on
its own.  Then ``--repeat`` rounds (default 5), each of: the NumPy primal, adjoin with every site
off, the default placement, the advised placement (each distinct placement once), PyTorch (from
NumPy arrays to NumPy gradients: forward and ``backward()``), PyTorch on the model's element
loops where the model has them, and the compiled JAX function.  Every time is divided by the
primal of its own round; the table gives the medians of those ratios, and of PyTorch's time over
adjoin's in each round.  Nothing is asserted.
"""
import argparse
import copy
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import adjoin  # noqa: E402
from common import environment, human_bytes, load_example, relative_difference  # noqa: E402

WORKLOADS = ("burgers", "lorenz96", "shallow_water", "ocean", "scalar", "vectorized", "elements")


# -- the workloads: (head, wrt, inputs, size) and their ports ------------------------------------

def workload(name, options):
    """(head, wrt, inputs, size text, ports, constant arrays): ports maps a label to (backend
    name, cost function)."""
    from peers import burgers, core, lorenz96, ocean, shallow_water
    if name in ("scalar", "vectorized", "elements"):
        import bench_core
        case = next(c for c in bench_core.cases(options.small) if c.name == name)
        head, wrt, inputs, size = case.fn, tuple(case.wrt), copy.deepcopy(case.args), case.size
        port = {"scalar": core.damped_pendulum, "vectorized": core.advection_reaction,
                "elements": core.heat_elements}[name]
        ports = {"torch": ("torch", port), "jax": ("jax", port)}
        if name == "elements":
            ports["torch, loops"] = ("torch", core.heat_elements_torch_loops)
        return head, wrt, inputs, size, ports, ()
    size = options.ocean_size if name == "ocean" else (0.3 if options.small else None)
    if name == "ocean" and options.small:
        size = 0.2
    head, wrt, inputs, used = load_example(name, size)
    module = {"burgers": burgers, "lorenz96": lorenz96, "shallow_water": shallow_water, "ocean": ocean}[name]
    ports = {"torch": ("torch", module.cost), "jax": ("jax", module.cost)}
    if hasattr(module, "cost_torch_loops"):
        ports["torch, loops"] = ("torch", module.cost_torch_loops)
    return head, wrt, inputs, f"size={used}", ports, getattr(module, "CONSTANT_ARRAYS", ())


def split_inputs(inputs, wrt, constant_arrays):
    """params (the wrt), data (other arrays: arguments of the compiled JAX function), static
    (numbers and the constant arrays: closed over)."""
    params = {k: inputs[k] for k in wrt}
    data = {k: v for k, v in inputs.items()
            if k not in wrt and isinstance(v, np.ndarray) and k not in constant_arrays}
    static = {k: v for k, v in inputs.items() if k not in wrt and k not in data}
    return params, data, static


def backends():
    from peers.backend import JaxOps, TorchOps
    return {"torch": TorchOps(), "jax": JaxOps()}


def grad_error(grads, reference, wrt):
    """Largest over the parameters of max |g - ref| / max |ref| (common.relative_difference)."""
    return max(relative_difference([np.asarray(grads[k])], [np.asarray(reference[k])]) for k in wrt)


# -- one workload -----------------------------------------------------------------------------

def run_workload(name, options, ops, log):
    head, wrt, inputs, size, ports, constant_arrays = workload(name, options)
    result = {"workload": name, "size": size, "wrt": list(wrt)}
    sites = adjoin.checkpoint_sites(head, example=inputs)
    ids = [s.id for s in sites]
    result["sites"] = len(ids)
    log(f"{name} ({size}): {len(ids)} checkpoint sites")

    # adjoin: the default placement first (the reference gradient and the budget)
    default = adjoin.adjoint(head, wrt, placement=adjoin.Placement())
    start = time.perf_counter()
    ref = default.measure(**inputs)
    result["adjoin_first_run_seconds"] = time.perf_counter() - start
    reference = dict(zip(wrt, ref.grads)) if len(wrt) > 1 else {wrt[0]: ref.grads}
    ref_value = float(ref.value)
    placements = {"default": (adjoin.Placement(), default, ref.peak_tape_bytes)}
    if ids:
        log("  profiling the default placement for the advice")
        start = time.perf_counter()
        profile = adjoin.adjoint(head, wrt).profile(**inputs)
        advice = profile.advise(memory_budget=ref.peak_tape_bytes)
        result["advice"] = {"seconds_to_profile_and_advise": time.perf_counter() - start,
                            "budget_bytes": ref.peak_tape_bytes, "strategy": advice.strategy,
                            "feasible": advice.feasible, "nocheckpoint": sorted(advice.placement.nocheckpoint),
                            "predicted_seconds": advice.predicted.seconds,
                            "predicted_peak_tape_bytes": advice.predicted.peak_tape_bytes}
        wanted = {"none": adjoin.Placement(nocheckpoint=ids), "advised": advice.placement}
    else:
        wanted = {}
    # placements with the same sites off are one placement: measured once, reported under each name
    same = {"none": "default", "advised": "default"} if not ids else {}
    for label, placement in wanted.items():
        twin = next((other for other, (p, _, _) in placements.items()
                     if set(p.nocheckpoint) == set(placement.nocheckpoint)), None)
        if twin is not None:
            same[label] = twin
            continue
        adj = adjoin.adjoint(head, wrt, placement=placement)
        run = adj.measure(**inputs)
        grads = dict(zip(wrt, run.grads)) if len(wrt) > 1 else {wrt[0]: run.grads}
        diff = grad_error(grads, reference, wrt)
        if diff > 1e-12:
            log(f"  [adjoin {label}: gradient differs from the default's by {diff:.1e}]")
        placements[label] = (placement, adj, run.peak_tape_bytes)
    result["same_placement"] = same
    result["peak_tape_bytes"] = {label: placements[same.get(label, label)][2]
                                 for label in ("none", "default", "advised")}

    # the ports: value and gradient against adjoin's before any timing
    params, data, static = split_inputs(inputs, wrt, constant_arrays)
    runners, result["ports"] = {}, {}
    for label, (backend, fn) in ports.items():
        entry = {"backend": backend}
        result["ports"][label] = entry
        if label == "torch, loops" and options.no_loops:
            entry["skipped"] = "--no-loops"
            continue
        runner = ops[backend].value_and_grad(fn, wrt)
        try:
            start = time.perf_counter()
            value, grads = runner(params, data, static)
            entry["first_call_seconds"] = time.perf_counter() - start
        except Exception as error:         # a benchmark reports errors; it does not stop on them
            entry["error"] = f"{type(error).__name__}: {error}"
            entry["traceback"] = traceback.format_exc()
            log(f"  {label}: {entry['error']}")
            continue
        entry["value_relative_error"] = abs(value - ref_value) / max(abs(ref_value), 1e-300)
        entry["grad_relative_error"] = grad_error(grads, reference, wrt)
        entry["agrees"] = entry["grad_relative_error"] <= options.rtol and entry["value_relative_error"] <= options.rtol
        log(f"  {label}: value {entry['value_relative_error']:.1e}, gradient {entry['grad_relative_error']:.1e} "
            f"from adjoin's{'' if entry['agrees'] else '  DISAGREES: not timed'}"
            f"; first call {entry['first_call_seconds']:.3g} s")
        if entry["agrees"]:
            runners[label] = runner

    # the rounds
    head(**copy.deepcopy(inputs))
    times = {"primal": []}
    for label in placements:
        times[f"adjoin {label}"] = []
    for label in runners:
        times[label] = []
    for r in range(options.repeat):
        fresh = copy.deepcopy(inputs)
        start = time.perf_counter()
        head(**fresh)
        times["primal"].append(time.perf_counter() - start)
        for label, (_, adj, _) in placements.items():
            times[f"adjoin {label}"].append(adj.measure(**inputs).seconds)
        for label, runner in runners.items():
            start = time.perf_counter()
            runner(params, data, static)
            times[label].append(time.perf_counter() - start)
        log(f"  round {r + 1}/{options.repeat}: " + ", ".join(f"{k} {v[-1]:.3g} s" for k, v in times.items()))
    for label in ("none", "advised"):
        if label in same:
            times[f"adjoin {label}"] = times[f"adjoin {same[label]}"]
    result["seconds"] = times
    primal = times["primal"]
    result["median_seconds"] = {k: statistics.median(v) for k, v in times.items()}
    result["ratio_to_primal"] = {k: statistics.median(t / p for t, p in zip(v, primal))
                                 for k, v in times.items() if k != "primal"}
    # PyTorch over adjoin, per round; "torch best" is the faster torch port of each round
    torch_labels = [k for k in runners if ports[k][0] == "torch"]
    if torch_labels:
        best = [min(times[k][i] for k in torch_labels) for i in range(options.repeat)]
        times_best = {"torch best": best}
        result["torch_over_adjoin"] = {}
        for tl, tv in [(k, times[k]) for k in torch_labels] + list(times_best.items()):
            for label in ("none", "default", "advised"):
                av = times[f"adjoin {label}"]
                result["torch_over_adjoin"][f"{tl} / adjoin {label}"] = statistics.median(
                    t / a for t, a in zip(tv, av))
    if "jax" in runners:
        run_s = result["median_seconds"]["jax"]
        first = result["ports"]["jax"]["first_call_seconds"]
        result["jax"] = {"run_seconds": run_s, "first_call_seconds": first,
                         "compile_seconds": first - run_s,
                         "first_call_ratio_to_primal": first / result["median_seconds"]["primal"],
                         "adjoin_advised_over_jax_run": statistics.median(
                             a / j for a, j in zip(times["adjoin advised"], times["jax"])),
                         "first_call_over_adjoin_advised": first / result["median_seconds"]["adjoin advised"]}
    return result


# -- reporting --------------------------------------------------------------------------------

def fmt_s(s):
    return "-" if s is None else (f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.1f} ms")


def fmt_x(x):
    return "-" if x is None else f"{x:.2f}"


def markdown_tables(results):
    lines = ["Times as multiples of the NumPy primal of the same round (median of the rounds):", "",
             "| workload | size | sites | primal | adjoin none | adjoin default | adjoin advised | torch | torch, loops | jax (run) | jax first call |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['workload']} | error: {r['error'][:80]} |||||||||")
            continue
        q = r["ratio_to_primal"]

        def cell(key):
            port = r["ports"].get(key)
            if port is not None and port.get("agrees") is False:
                return f"disagrees ({port['grad_relative_error']:.0e})"
            if port is not None and "error" in port:
                return "error"
            return fmt_x(q.get(key))
        jax_first = fmt_x(r["jax"]["first_call_ratio_to_primal"]) if "jax" in r else cell("jax")
        lines.append(f"| {r['workload']} | {r['size']} | {r['sites']} | {fmt_s(r['median_seconds']['primal'])} | "
                     f"{fmt_x(q['adjoin none'])} | {fmt_x(q['adjoin default'])} | {fmt_x(q['adjoin advised'])} | "
                     f"{cell('torch')} | {cell('torch, loops') if 'torch, loops' in r['ports'] else ''} | "
                     f"{cell('jax')} | {jax_first} |")
    lines += ["", "PyTorch's time over adjoin's (median of the rounds' quotients; > 1: adjoin is faster). "
              "'same shape': the port written like the NumPy code (element loops kept where the model "
              "has them); 'fastest': the faster PyTorch port of each round (the vectorized one). "
              "Issue 15's goals: torch / none >= 1.5 and torch / advised > 1:", "",
              "| workload | same shape / none | same shape / advised | fastest / none | fastest / advised "
              "| goals, same shape (none, advised) | goals, fastest (none, advised) |",
              "|---|---|---|---|---|---|---|"]

    def met(none, advised):
        return f"{'met' if none >= 1.5 else 'not met'}, {'met' if advised > 1 else 'not met'}"
    for r in results:
        f = r.get("torch_over_adjoin")
        if not f:
            continue
        shape = "torch, loops" if f"torch, loops / adjoin none" in f else "torch"
        s_none, s_adv = f[f"{shape} / adjoin none"], f[f"{shape} / adjoin advised"]
        b_none, b_adv = f["torch best / adjoin none"], f["torch best / adjoin advised"]
        lines.append(f"| {r['workload']}{' (loops)' if shape != 'torch' else ''} | {fmt_x(s_none)} | "
                     f"{fmt_x(s_adv)} | {fmt_x(b_none)} | {fmt_x(b_adv)} | {met(s_none, s_adv)} | "
                     f"{met(b_none, b_adv)} |")
    lines += ["", "JAX (jit): compile time and where it stands against adjoin's advised placement:", "",
              "| workload | jax run | compile (first call - run) | first call | adjoin advised / jax run | jax first call / adjoin advised |",
              "|---|---|---|---|---|---|"]
    for r in results:
        j = r.get("jax")
        if j:
            lines.append(f"| {r['workload']} | {fmt_s(j['run_seconds'])} | {fmt_s(j['compile_seconds'])} | "
                         f"{fmt_s(j['first_call_seconds'])} | {fmt_x(j['adjoin_advised_over_jax_run'])} | "
                         f"{fmt_x(j['first_call_over_adjoin_advised'])} |")
    lines += ["", "Peak tape of adjoin's placements (the advised one's budget is the default's peak):", "",
              "| workload | none | default | advised | sites off in the advice |", "|---|---|---|---|---|"]
    for r in results:
        if "peak_tape_bytes" not in r:
            continue
        p = r["peak_tape_bytes"]
        off = r.get("advice", {}).get("nocheckpoint", [])
        off_text = "(no sites)" if not r["sites"] else (f"{len(off)} of {r['sites']}" + (
            f": {', '.join(off)}" if 0 < len(off) <= 4 else ""))
        lines.append(f"| {r['workload']} | {human_bytes(p['none'])} | {human_bytes(p['default'])} | "
                     f"{human_bytes(p['advised'])} | {off_text} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=None, help=f"comma-separated among {', '.join(WORKLOADS)}")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--ocean-size", type=float, default=0.3, help="the ocean's case size (default 0.3)")
    parser.add_argument("--rtol", type=float, default=1e-8, help="agreement wanted of the ports (default 1e-8)")
    parser.add_argument("--no-loops", action="store_true", help="skip the PyTorch ports on element loops")
    parser.add_argument("--small", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write every run as JSON")
    options = parser.parse_args(argv)
    names = list(WORKLOADS) if options.only is None else [n.strip() for n in options.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or options.repeat < 1:
        parser.error(f"unknown workload {unknown}; choose among {', '.join(WORKLOADS)}" if unknown
                     else "--repeat must be at least 1")
    try:
        ops = backends()
    except ImportError as error:
        print(f"bench_peers needs torch and jax (pip install -e '.[peers]'): {error}", file=sys.stderr)
        return 2
    import jax
    import torch
    env = environment()
    env.update(torch=torch.__version__, jax=jax.__version__, torch_threads=torch.get_num_threads())
    log = (lambda text: print(text, file=sys.stderr, flush=True))
    log(f"adjoin {env['adjoin']} at {env['commit'] and env['commit'][:10]}, NumPy {env['numpy']}, "
        f"torch {env['torch']} ({env['torch_threads']} thread), jax {env['jax']}, {env['cpus']} CPUs, "
        f"load {env['load_average']}; {options.repeat} rounds")
    started = time.perf_counter()
    results = []
    for name in names:
        try:
            results.append(run_workload(name, options, ops, log))
        except Exception as error:
            log(traceback.format_exc())
            results.append({"workload": name, "error": f"{type(error).__name__}: {error}"})
    print(markdown_tables(results))
    elapsed = time.perf_counter() - started
    print(f"\ncommit {env['commit'] and env['commit'][:7]}, {options.repeat} rounds, total {elapsed:.0f} s")
    if options.json:
        Path(options.json).write_text(json.dumps({"environment": env, "options": vars(options),
                                                  "elapsed_seconds": elapsed, "results": results},
                                                 indent=1, default=str) + "\n")
        log(f"wrote {options.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
