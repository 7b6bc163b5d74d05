#!/usr/bin/env python3
"""What verify mode costs: the adjoint with and without it, timed interleaved on one model.

    taskset -c 0 .venv/bin/python benchmarks/bench_verify.py                      # ocean at size 0.5
    taskset -c 0 .venv/bin/python benchmarks/bench_verify.py --model burgers --repeat 9
    .venv/bin/python benchmarks/bench_verify.py --size 0.3 --placement none --json verify.json

The model is an example (examples/<model>/case.toml) at ``--size``. Two adjoints are built,
``verify=False`` and ``verify=True``, with the same placement (``--placement all``: every site
checkpointed, the default; ``none``: every site off). Each runs once to warm up (generation and
compile are not timed), then ``--repeat`` rounds run both, in alternating order, with
``.measure(...)``. The table gives each one's median seconds, the ratio of the medians, the
median of the per-round ratios, the number of checks verify mode made in one run, the peak tape
bytes of both (they must be equal: fingerprints do not go on the tape) and whether the gradients
are identical (they must be: verify mode only reads values).

With verify mode off nothing of it is in the generated code (tests/test_generated.py checks the
text), so its cost when off is zero by construction; this benchmark measures the cost when on.
"""
import argparse
import copy
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import environment, human_bytes, load_example, relative_difference  # noqa: E402

import adjoin  # noqa: E402
from adjoin.runtime.tape import Tape  # noqa: E402


def build(head, wrt, inputs, placement, verify):
    adj = adjoin.adjoint(head, wrt=wrt, placement=placement, verify=verify)
    adj.measure(**copy.deepcopy(inputs))        # specializes, generates, compiles: not timed
    return adj


def checks_of_one_run(adj, inputs):
    """How many checks verify mode makes in one run (from a run with a counting verifier)."""
    from adjoin.runtime.verify import Verifier
    source, entry, wrt, pctx = adj._last
    verifier = Verifier(pctx.verify_points.points)
    head = pctx.program.functions[pctx.program.head]
    gen = pctx.functions_gen[pctx.program.head]
    private = adj._bind((), copy.deepcopy(inputs))      # defaults filled in
    extra = [1.0] * gen.result_active() + [0.0] * len(gen.adjoint_inputs())
    entry(Tape(), *[private[p] for p in head.params], *extra, verifier)
    return verifier.checks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ocean")
    parser.add_argument("--size", type=float, default=0.5)
    parser.add_argument("--placement", choices=("all", "none"), default="all")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    head, wrt, inputs, size = load_example(options.model, options.size)
    placement = None
    if options.placement == "none":
        placement = adjoin.Placement([s.id for s in adjoin.checkpoint_sites(head, example=inputs)])
    plain = build(head, wrt, inputs, placement, verify=False)
    checked = build(head, wrt, inputs, placement, verify=True)
    runs = {"off": [], "on": []}
    ratios = []
    for k in range(options.repeat):
        order = ("off", "on") if k % 2 == 0 else ("on", "off")
        measured = {}
        for which in order:
            adj = plain if which == "off" else checked
            measured[which] = adj.measure(**copy.deepcopy(inputs))
            runs[which].append(measured[which])
        ratios.append(measured["on"].seconds / measured["off"].seconds)
        print(f"round {k + 1}/{options.repeat}: off {measured['off'].seconds:.3f} s, "
              f"on {measured['on'].seconds:.3f} s", file=sys.stderr, flush=True)
    off = statistics.median(r.seconds for r in runs["off"])
    on = statistics.median(r.seconds for r in runs["on"])
    peaks = {w: {r.peak_tape_bytes for r in rs} for w, rs in runs.items()}
    same_gradient = relative_difference(runs["off"][0].grads, runs["on"][0].grads) == 0.0
    checks = checks_of_one_run(checked, inputs)
    print(f"\n{options.model} at size {size}, placement '{options.placement}', {options.repeat} interleaved rounds")
    print(f"  verify off   {off:8.3f} s   peak tape {human_bytes(peaks['off'].pop())}")
    print(f"  verify on    {on:8.3f} s   peak tape {human_bytes(peaks['on'].pop())}   {checks:,} checks per run")
    print(f"  ratio of medians {on / off:.2f}x, median of per-round ratios {statistics.median(ratios):.2f}x")
    print(f"  gradients identical: {same_gradient}")
    if options.json:
        options.json.write_text(json.dumps({
            "environment": environment(), "options": {k: str(v) for k, v in vars(options).items()},
            "seconds": {w: [r.seconds for r in rs] for w, rs in runs.items()}, "ratios": ratios,
            "checks_per_run": checks, "same_gradient": same_gradient}, indent=2))


if __name__ == "__main__":
    main()
