#!/usr/bin/env python3
"""Regenerates the adjoint code and the numbers shown in docs/checkpointing.md and
docs/how-it-works.md.

    .venv/bin/python docs/examples/generate.py            # rewrite generated/ and the docs' code blocks
    .venv/bin/python docs/examples/generate.py --check    # only say what is out of date (exit 1 if any)

Each small program here (tiny.py, control.py, pushes.py, directives.py, heat_region.py, aliasing.py,
loops.py) and the
conformance program p22_heat_model are differentiated with ``adjoin.adjoint(...)`` and run once;
the generated modules are written to ``generated/`` (the absolute paths in their docstrings are
made relative; nothing else is changed). In the docs, a code block preceded by a marker

    <!-- generated: generated/tiny_checkpointed.py f_b g_b -->

holds those functions of that file, verbatim, and is rewritten from it; ``name[a:b]`` takes only
lines a to b-1 of a function (line 0 is its ``def``, always shown; ``[a:b,c:d]`` takes two ranges;
"..." marks what is left out). The script also prints the peak tape bytes the docs quote: the
tiny program under every placement, and p22_heat_model and heat_region with every site
checkpointed, none, and each single site off.
"""
import argparse
import ast
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DOCS = [ROOT / "docs" / "checkpointing.md", ROOT / "docs" / "how-it-works.md"]
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "programs"
sys.path.insert(0, str(HERE))

import adjoin  # noqa: E402


def adjoint_source(fn, wrt, args, placement=None, verify=False):
    """The generated module of ``fn`` after one run on ``args`` (its kinds specialize it), and the run."""
    adj = adjoin.adjoint(fn, wrt, placement=placement, verify=verify)
    run = adj.measure(*args) if isinstance(args, tuple) else adj.measure(**args)
    return adj.source.replace(str(ROOT) + "/", "").replace(str(ROOT.parent) + "/", ""), run


def p22():
    """The conformance program p22_heat_model."""
    sys.path.insert(0, str(CONFORMANCE))
    import p22_heat_model
    return p22_heat_model


def programs():
    """{file name in generated/: (source, run)}."""
    import aliasing
    import control
    import directives
    import heat_region
    import loops
    import pushes
    import tiny
    x = np.linspace(0.1, 1.0, 1000)
    off = [s.id for s in adjoin.checkpoint_sites(tiny.f)]
    out = {
        "tiny_checkpointed.py": adjoint_source(tiny.f, ("x", "w"), (x, 0.3), adjoin.Placement()),
        "tiny_split.py": adjoint_source(tiny.f, ("x", "w"), (x, 0.3), adjoin.Placement(nocheckpoint=off)),
        "control_cost.py": adjoint_source(control.cost, ("u0", "c"), (np.linspace(0.5, 2.0, 8), 0.3, 40)),
        "control_early.py": adjoint_source(control.early, ("x",), (np.linspace(0.0, 1.0, 5), 7)),
        "pushes.py": adjoint_source(pushes.cost, ("x", "w"), (np.linspace(0.0, 1.0, 5), 0.5)),
        "pushes_shapes.py": adjoint_source(pushes.shapes, ("x", "w"), (np.linspace(0.0, 1.0, 5), 0.5)),
        "directives.py": adjoint_source(directives.cost, ("u0", "k"), (np.linspace(0.0, 1.0, 6), 0.1, 3)),
        "aliasing.py": adjoint_source(aliasing.second_name, ("a", "b"), (np.linspace(1.0, 2.0, 3), np.ones(3))),
        "loops.py": adjoint_source(loops.cost, ("u0", "k"), (np.linspace(0.0, 1.0, 8), 0.1, 10)),
        "aliasing_verify.py": adjoint_source(aliasing.column, ("T0",), (np.linspace(9.0, 12.0, 8).reshape(4, 2),
                                                                        np.linspace(0.0, 1.0, 4)), verify=True),
    }
    for module, stem in ((p22(), "p22"), (heat_region, "heat_region")):
        args = module.inputs(np.random.default_rng(0))
        off = [s.id for s in adjoin.checkpoint_sites(module.HEAD)]
        out[f"{stem}_checkpointed.py"] = adjoint_source(module.HEAD, module.WRT, args, adjoin.Placement())
        out[f"{stem}_split.py"] = adjoint_source(module.HEAD, module.WRT, args, adjoin.Placement(off))
    return out


def functions(text):
    """{name: source text} of the top-level functions of a module's text."""
    lines = text.splitlines()
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = "\n".join(lines[node.lineno - 1:node.end_lineno])
    return found


MARKER = re.compile(r"<!-- generated: (\S+) ([^>]+?) -->\n```python\n(.*?)```", re.S)


def refresh(doc_text, generated):
    """The doc's text with every marked block rewritten from ``generated`` ({file: text})."""
    def replace(match):
        path, names = match.group(1), match.group(2).split()
        name = Path(path).name
        if name not in generated:
            raise SystemExit(f"unknown generated file {path!r} in a marker")
        table = functions(generated[name])
        parts = []
        for item in names:
            found = re.fullmatch(r"(\w+)(?:\[([\d:,]+)\])?", item)
            if found is None or found.group(1) not in table:
                raise SystemExit(f"{path} has no function {item!r}")
            lines = table[found.group(1)].splitlines()
            if found.group(2) is None:
                parts.append("\n".join(lines))
                continue
            excerpt, end = [lines[0]], 1
            for piece in found.group(2).split(","):
                start, _, stop = piece.partition(":")
                start, stop = int(start or 0), int(stop) if stop else len(lines)
                if start > end:
                    excerpt.append("    ...")
                excerpt.extend(lines[max(start, end):stop])
                end = max(end, stop)
            if end < len(lines):
                excerpt.append("    ...")
            parts.append("\n".join(excerpt))
        body = "\n\n\n".join(parts)
        return f"<!-- generated: {path} {' '.join(names)} -->\n```python\n{body}\n```"
    return MARKER.sub(replace, doc_text)


def peaks():
    """Peak tape bytes of the tiny program, p22_heat_model and heat_region, per placement."""
    import heat_region
    import tiny
    x = np.linspace(0.1, 1.0, 1000)
    rows = []
    ids = [s.id for s in adjoin.checkpoint_sites(tiny.f)]
    for off in ([], [ids[0]], [ids[1]], ids):
        run = adjoin.adjoint(tiny.f, ("x", "w"), placement=adjoin.Placement(off)).measure(x, 0.3)
        rows.append(("tiny", ", ".join(off) or "(all checkpointed)", run.peak_tape_bytes,
                     f"{run.peak_tape_bytes / x.nbytes:g} arrays of {x.size}"))
    for name, module in (("p22_heat_model", p22()), ("heat_region", heat_region)):
        args = module.inputs(np.random.default_rng(0))
        ids = [s.id for s in adjoin.checkpoint_sites(module.HEAD)]
        for off in [[], ids] + [[i] for i in ids]:
            label = "(none checkpointed)" if off == ids else ", ".join(off) or "(all checkpointed)"
            run = adjoin.adjoint(module.HEAD, module.WRT, placement=adjoin.Placement(off)).measure(**args)
            rows.append((name, label, run.peak_tape_bytes, ""))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is out of date")
    args = parser.parse_args()
    generated = {name: source for name, (source, _) in programs().items()}
    stale = []
    out_dir = HERE / "generated"
    for name, text in generated.items():
        path = out_dir / name
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not args.check:
                out_dir.mkdir(exist_ok=True)
                path.write_text(text)
    for doc in DOCS:
        if not doc.exists():
            continue
        text = doc.read_text()
        new = refresh(text, generated)
        if new != text:
            stale.append(doc)
            if not args.check:
                doc.write_text(new)
    for program, placement, peak, note in peaks():
        print(f"{program:<16} off: {placement:<40} peak {peak:>8,d} B  {note}")
    for path in stale:
        print(f"{'out of date' if args.check else 'rewrote'}: {path.relative_to(ROOT)}")
    if args.check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
