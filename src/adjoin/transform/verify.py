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

from .code import call, name


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
