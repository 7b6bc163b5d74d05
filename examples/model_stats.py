#!/usr/bin/env python3
"""Size, shape and primal time of every example, for the table in examples/README.md.

    .venv/bin/python examples/model_stats.py            # all examples
    .venv/bin/python examples/model_stats.py ocean -v   # one, with its call tree

Lines of code count the non-blank, non-comment lines of the functions reached from the head
(the code adjoin differentiates). Routines are those functions; call sites are the calls from
one of them to another, one per call expression (a call inside a loop counts once). Depth is
the longest chain of calls from the head. The primal time is the median of 5 runs of the head
at the case's default size (inputs built once, not timed).
"""
import argparse
import ast
import copy
import statistics
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import adjoin  # noqa: E402
from conftest import make_case  # noqa: E402  (the examples' own case loader)

EXAMPLES = ("ocean", "shallow_water", "burgers", "lorenz96", "competition")


def call_graph(path, head, inputs):
    """{function: [callee per call site]} for the functions reached from ``head``, and their nodes.
    The calls are adjoin's checkpoint sites at the case's inputs, so a function passed as an
    argument (competition's ``scheme``) is followed to the one the case passes."""
    tree = ast.parse(path.read_text())
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    graph = {head.__name__: []}
    for site in adjoin.checkpoint_sites(head, example=inputs):
        graph.setdefault(site.caller, []).append(site.callee)
        graph.setdefault(site.callee, [])
    return graph, functions


def depth(graph, name, memo=None):
    """Length of the longest call chain from ``name`` (0 for a leaf)."""
    memo = {} if memo is None else memo
    if name not in memo:
        memo[name] = 1 + max((depth(graph, c, memo) for c in graph[name]), default=-1)
    return memo[name]


def code_lines(node, source_lines):
    """Non-blank, non-comment lines of a function, docstring excluded."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        skip = set(range(body[0].lineno, body[0].end_lineno + 1))
    else:
        skip = set()
    count = 0
    for number in range(node.lineno, node.end_lineno + 1):
        text = source_lines[number - 1].strip()
        if number not in skip and text and not text.startswith("#"):
            count += 1
    return count


def print_tree(graph, name, indent=0, sites=1, seen=None):
    """The call tree, each callee once per caller with its number of sites; subtrees once."""
    seen = set() if seen is None else seen
    label = name + (f"  x{sites}" if sites > 1 else "")
    if name in seen and graph[name]:
        print("  " * indent + label + "  (expanded above)")
        return
    print("  " * indent + label)
    seen.add(name)
    counts = {}
    for callee in graph[name]:
        counts[callee] = counts.get(callee, 0) + 1
    for callee, k in counts.items():
        print_tree(graph, callee, indent + 1, k, seen)


def stats(name, verbose=False, repeats=5):
    config = tomllib.loads((HERE / name / "case.toml").read_text())
    path = HERE / name / config["module"]
    case = make_case(name)
    graph, functions = call_graph(path, case.head, case.inputs)
    source_lines = path.read_text().splitlines()
    times = []
    for _ in range(repeats):
        args = copy.deepcopy(case.inputs)
        start = time.perf_counter()
        case.head(**args)
        times.append(time.perf_counter() - start)
    if verbose:
        print_tree(graph, config["head"])
    return dict(name=name,
                lines=sum(code_lines(functions[f], source_lines) for f in graph),
                routines=len(graph),
                sites=sum(len(c) for c in graph.values()),
                depth=depth(graph, config["head"]),
                steps=case.inputs.get("nsteps"),
                primal=statistics.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=EXAMPLES)
    parser.add_argument("-v", action="store_true", help="print each call tree")
    options = parser.parse_args()
    print(f"{'example':<14} {'lines':>5} {'routines':>8} {'sites':>5} {'depth':>5} {'steps':>5} "
          f"{'primal (s)':>10}")
    for name in options.names:
        s = stats(name, options.v)
        steps = "-" if s["steps"] is None else s["steps"]      # a case may count its steps otherwise
        print(f"{s['name']:<14} {s['lines']:>5} {s['routines']:>8} {s['sites']:>5} "
              f"{s['depth']:>5} {steps:>5} {s['primal']:>10.3f}")


if __name__ == "__main__":
    main()
