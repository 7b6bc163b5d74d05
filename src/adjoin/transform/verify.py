"""Verify mode in the generated code: fingerprint what the backward sweep reads, check it there.

Every adjoint statement reads primal values as they were just before its statement ran; TBR,
the snapshots and the callee contracts are what make that true without pushing everything.
With verify mode on, the forward sweep keeps a fingerprint of those values (``verify.keep``)
and the backward sweep checks them (``verify.same``) right before the adjoint that reads them:

* a simple statement: the names its adjoint reads (their shape only, where only that is read);
* a call: the values of the arguments its reversal reads, and, for a checkpointed call, the
  snapshot's arrays once restored (the callee's re-run must start from what the advance saw);
* a ``for`` loop reversed over its ``range``: the range, evaluated again.

Both calls carry the check's number, which names the statement in a failure's message; after
a failure the adjoint runs again watching the value that changed, to say where it changed.

The fingerprints go on a stack of their own (runtime/verify.py), in the order of the tape's
pushes and pops.  With verify mode off none of this is in the generated code.
"""
import ast
import copy
from dataclasses import dataclass, field

from ..runtime.verify import Point
from .code import call, const, name, source_line, statement_label
from .function import is_storage


class VerifyPoints:
    """The checks of one generated module, numbered, for the messages of runtime.verify.Point."""

    def __init__(self):
        self.points = []

    def add(self, point):
        self.points.append(point)
        return len(self.points) - 1


def checked_values(values, bindings):
    """(expressions to fingerprint, what each is) for value reads and binding (shape) reads."""
    exprs, labels = [], []
    for n in sorted(values):
        exprs.append(name(n))
        labels.append(repr(n))
    for n in sorted(set(bindings) - set(values)):
        exprs.append(call("np.shape", name(n)))
        labels.append(f"the shape of {n!r}")
    return exprs, labels


def keep(index, exprs):
    return ast.Expr(value=call("verify.keep", ast.Constant(value=index), *exprs))


def same(index, exprs):
    return ast.Expr(value=call("verify.same", ast.Constant(value=index), *exprs))


def suspects(pieces, line_of, n):
    """Text naming the statements of a function that may change ``n``'s value or memory."""
    lines = []
    for piece in pieces:
        effect = piece.effect
        if effect is None:
            continue
        written = effect.full_writes | effect.partial_writes | effect.alias_writes
        if effect.call is not None:
            written = written | {base for _, base, _ in effect.call.written_args}
        if n in written:
            lines.append(line_of(piece.stmt))
    lines = sorted(set(lines), key=lambda text: int(text.split(" ", 2)[1]))
    return ", ".join(lines[:4]) + (f" and {len(lines) - 4} more" if len(lines) > 4 else "")


@dataclass
class Marks:
    """The checks the backward sweep of one function placed, by what they check: the forward
    sweep, written after it, keeps the fingerprints there."""
    kept: dict = field(default_factory=dict)       # id(statement or loop) -> its verify point
    outputs: dict = field(default_factory=dict)    # id(call statement) -> the point of its advance's outputs


def verified(gen, stmt):
    """(expressions, labels) verify mode fingerprints for ``stmt``, or None (also when off)."""
    if not gen.pctx.verify:
        return None
    piece = gen.pieces[id(stmt)]
    exprs, labels = checked_values(piece.effect.value_reads, piece.effect.binding_reads)
    if piece.call is not None and not piece.call.passive and gen.pctx.checkpointed(piece.call.site):
        for arg in gen.snapshot(piece.call):
            exprs.append(copy.deepcopy(arg))
            labels.append(f"{ast.unparse(arg)!r} (as the snapshot restores it)")
    return (exprs, labels) if exprs else None


def statement_checks(gen, marks, stmt):
    """The backward line checking what ``stmt``'s adjoint reads (verify mode), or none."""
    checked = verified(gen, stmt)
    if not checked:
        return []
    exprs, labels = checked
    names = [ast.unparse(e) if not (isinstance(e, ast.Call)) else e.args[0].id for e in exprs]
    index = gen.pctx.verify_points.add(Point(
        gen.func.name, gen.func.path, stmt.lineno, source_line(stmt), tuple(labels),
        tuple(suspects(gen.pieces.values(), statement_label, n) for n in names)))
    marks.kept[id(stmt)] = index     # the forward sweep, emitted next, keeps them
    return [same(index, exprs)]


def advance_outputs(gen, piece):
    """(expressions, labels) of what a checkpointed call's advance leaves: the arrays it updates
    (None where an argument is no array of the caller's) and its results; the callee's joint
    adjoint checks at its turn that its re-run computed the same (verify mode)."""
    callee = gen.pctx.functions_gen[piece.callee]
    exprs, labels = [], []
    for param in callee.output_params():
        arg = piece.node.args[gen.pctx.summaries.params(piece.callee).index(param)]
        storage = is_storage(arg, gen.ctx.kinds)
        exprs.append(copy.deepcopy(arg) if storage else const(None))
        labels.append(f"{ast.unparse(arg)!r} after the call" if storage else "")
    if callee.func.result_names:
        targets = piece.targets or []
        exprs.append(name(targets[0]) if len(targets) == 1 else
                     ast.Tuple(elts=[name(t) for t in targets], ctx=ast.Load()) if targets else const(None))
        labels.append("its result")
    return exprs, labels


def expect_outputs(gen, marks, piece):
    """The backward line handing the callee's joint adjoint what its advance left (verify mode)."""
    exprs, labels = advance_outputs(gen, piece)
    index = gen.pctx.verify_points.add(Point(
        gen.func.name, gen.func.path, piece.stmt.lineno, source_line(piece.stmt), tuple(labels),
        ("",) * len(labels)))
    marks.outputs[id(piece.stmt)] = index
    return ast.Expr(value=call("verify.expect", const(index)))


def turn_check(gen):
    """At the turn of a joint adjoint: its re-run must have computed what the advance did."""
    values = [name(p) for p in gen.output_params()]
    results = gen.func.result_names
    if results:
        values.append(name(results[0]) if len(results) == 1 else
                      ast.Tuple(elts=[name(r) for r in results], ctx=ast.Load()))
    return ast.unparse(ast.Expr(value=call("verify.turn", *values)))


def finite_checks(gen, stmt, reverse):
    """Locating mode: a check that the adjoints ``reverse`` computes for ``stmt`` are finite."""
    if not gen.pctx.locate:
        return []
    adjoints = set(gen.ctx.adjoint_names.values())
    assigned = sorted({root.id for line in reverse for target in _targets(line)
                       for root in [_root(target)] if isinstance(root, ast.Name) and root.id in adjoints})
    if not assigned:
        return []
    index = gen.pctx.verify_points.add(Point(
        gen.func.name, gen.func.path, stmt.lineno, source_line(stmt),
        tuple(f"{a!r}" for a in assigned), ("",) * len(assigned)))
    return [ast.Expr(value=call("verify.finite", const(index), *(name(a) for a in assigned)))]


def _targets(line):
    if isinstance(line, ast.Assign):
        return [e for t in line.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
    if isinstance(line, ast.AugAssign):
        return [line.target]
    if isinstance(line, ast.If):
        return [t for inner in line.body + line.orelse for t in _targets(inner)]
    return []


def _root(target):
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return target
