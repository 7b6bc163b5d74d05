"""The backward sweep of one function: the statements in reverse, each popping what was pushed
before it, then running its adjoint (adjoint.py; calls.py for call sites).

Control flow is reversed with what the forward sweep pushed: the branch taken, a ``while``
loop's trip count, a ``for`` loop's iterations when ``break`` may leave it.  The sweep also
tracks which adjoints are dense arrays already (``dense_scope``), so that an ``x_b =
ad.dense(x_b, x)`` is written only where x_b may still be the 0.0 it began as, and hoisted out
of loops when the body does not change it.
"""
import ast
import copy

from ..analysis.activity import storage_name
from ..runtime.verify import Point
from . import loopsite, verify
from .calls import backward_call
from .forward import ForwardSweep
from .code import Lines, assign, call, everything, name, source_line, store_copy, tape_pop
from .function import if_chain, region


class BackwardSweep:
    """Writes one function's backward sweep (one text serves ``f_b`` and ``f_bwd``)."""

    def __init__(self, gen, backward_of, marks):
        self.gen = gen
        self.backward_of = backward_of    # filled in: id(compound statement) -> whether it is reversed
        self.marks = marks                # the verify points placed, for the forward sweep
        self.dense_scope = set(gen.ctx.dense_names)   # primal names whose adjoint is dense here

    def block(self, stmts, indent):
        """Backward lines for a block; records in ``backward_of`` which compound statements have any."""
        lines = Lines()
        for stmt in reversed(stmts):
            if isinstance(stmt, ast.If):
                self.conditional(lines, stmt, indent)
            elif isinstance(stmt, ast.For):
                self.for_loop(lines, stmt, indent)
            elif isinstance(stmt, ast.While):
                self.while_loop(lines, stmt, indent)
            elif isinstance(stmt, (ast.Break, ast.Pass, ast.Return)):
                continue
            else:
                self.statement(lines, stmt, indent)
        return lines

    def statement(self, lines, stmt, indent):
        gen = self.gen
        piece = gen.pieces[id(stmt)]
        full = sorted(gen.tbr.full_pushes.get(id(stmt), ()))
        partial = sorted(gen.tbr.partial_pushes.get(id(stmt), ()))
        body = Lines()
        checks = verify.statement_checks(gen, self.marks, stmt)
        if piece.call is not None:
            backward_call(self, body, piece.call, full, partial, indent, self.alias_restores(stmt), checks)
        else:
            for n in reversed(full):
                body.stmt(indent, self.restore(stmt, n))
            for n in reversed(partial):
                updated = region(stmt, n)
                if isinstance(updated, ast.Name):
                    body.stmt(indent, ast.Assign(targets=[everything(n)], value=tape_pop()))
                else:
                    body.stmt(indent, ast.Assign(targets=[store_copy(updated)], value=tape_pop()))
            for line in self.alias_restores(stmt) + checks:
                body.stmt(indent, line)
            for line in piece.reverse:
                if self.redundant_dense(line):
                    continue
                body.stmt(indent, line)
                self.note_assignment(line)
            for line in verify.finite_checks(gen, stmt, piece.reverse):
                body.stmt(indent, line)
        if body.lines:
            lines.add(indent, f"# line {stmt.lineno}: {source_line(stmt)}")
            lines.extend(body)

    def restore(self, stmt, n):
        """The pop giving back what ``save`` pushed before ``stmt`` rebound ``n``."""
        if (id(stmt), n) in self.gen.tbr.shape_only:
            return assign(n, call("ad.shaped", tape_pop()))
        return assign(n, tape_pop())

    def alias_restores(self, stmt):
        """Backward lines giving back the names pushed because ``stmt`` writes memory they share."""
        return [assign(n, call("ad.restore", name(n), tape_pop()))
                for n in sorted(self.gen.tbr.alias_pushes.get(id(stmt), ()), reverse=True)]

    # -- which adjoints are dense ------------------------------------------------------------------
    def dense_lines(self, stmts):
        """(names densified, names whose adjoint or binding changes) in the backward code of stmts."""
        gen = self.gen
        densified, changed = set(), set()
        for stmt in stmts:
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                inner = stmt.body + getattr(stmt, "orelse", [])
                d, c = self.dense_lines(inner)
                densified |= d
                changed |= c
                if isinstance(stmt, ast.For):
                    changed.add(stmt.target.id)
                continue
            piece = gen.pieces.get(id(stmt))
            if piece is None:
                continue
            for n in gen.tbr.full_pushes.get(id(stmt), ()):
                changed.add(n)
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if not isinstance(target, ast.Subscript):
                        changed |= {x.id for x in ast.walk(target) if isinstance(x, ast.Name)}
            lines = list(piece.reverse)
            if piece.call is not None:
                changed |= set(piece.call.targets)
                changed |= {storage_name(arg) for _, _, arg in piece.call.written if storage_name(arg)}
            for line in ast.walk(ast.Module(body=lines, type_ignores=[])):
                if isinstance(line, ast.Assign) and isinstance(line.targets[0], ast.Name):
                    target = line.targets[0].id
                    primal = self.primal_of_adjoint(target)
                    if primal is None:
                        continue
                    value = line.value
                    if isinstance(value, ast.Call) and ast.unparse(value.func) == "ad.dense":
                        densified.add(primal)
                    else:
                        changed.add(primal)
        return densified, changed

    def primal_of_adjoint(self, adjoint_name):
        for primal, adj in self.gen.ctx.adjoint_names.items():
            if adj == adjoint_name:
                return primal
        return None

    def redundant_dense(self, line):
        """Is ``line`` an ``x_b = ad.dense(x_b, x)`` already done (x_b dense since, x not rebound)?"""
        if isinstance(line, ast.Assign) and isinstance(line.targets[0], ast.Name) and \
                isinstance(line.value, ast.Call) and ast.unparse(line.value.func) == "ad.dense":
            primal = self.primal_of_adjoint(line.targets[0].id)
            if primal in self.dense_scope:
                return True
            self.dense_scope.add(primal)
        return False

    def note_assignment(self, line):
        if isinstance(line, ast.Assign):
            for target in line.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        primal = self.primal_of_adjoint(sub.id)
                        if primal is not None and not (isinstance(line.value, ast.Call) and
                                                       ast.unparse(line.value.func) == "ad.dense"):
                            self.dense_scope.discard(primal)
                        self.dense_scope.discard(sub.id)

    # -- control flow ------------------------------------------------------------------------------
    def conditional(self, lines, stmt, indent):
        branches = if_chain(stmt)
        saved = set(self.dense_scope)
        bodies = []
        for _, body in branches:
            self.dense_scope = set(saved)
            bodies.append(self.block(body, indent + 1))
        _, changed = self.dense_lines([stmt])
        self.dense_scope = saved - changed
        if not any(b.lines for b in bodies):
            self.backward_of[id(stmt)] = False
            return
        self.backward_of[id(stmt)] = True
        lines.add(indent, f"# line {stmt.lineno}: the branch taken")
        if len(branches) <= 2:
            lines.add(indent, "if tape.pop():")
            lines.extend(bodies[0]) if bodies[0].lines else lines.add(indent + 1, "pass")
            if len(branches) == 2 and bodies[1].lines:
                lines.add(indent, "else:")
                lines.extend(bodies[1])
            return
        branch = self.gen.namer.fresh("branch")
        lines.add(indent, f"{branch} = tape.pop()")
        first = True
        for k, body in enumerate(bodies):
            if not body.lines:
                continue
            lines.add(indent, f"{'if' if first else 'elif'} {branch} == {k}:")
            lines.extend(body)
            first = False

    def for_loop(self, lines, loop, indent):
        gen = self.gen
        densified, changed = self.dense_lines(loop.body)
        hoisted = sorted(n for n in densified - changed if n not in self.dense_scope)
        saved = set(self.dense_scope)
        # the body runs again after its own end: an adjoint it resets is not dense at its start
        self.dense_scope = (self.dense_scope - changed) | set(hoisted)
        site = gen.loop_sites.get(id(loop))
        body = self.block(loop.body, indent + (2 if site and site.checkpointed else 1))
        self.dense_scope = (saved - changed) | set(hoisted)
        if not body.lines:
            self.backward_of[id(loop)] = False
            return
        self.backward_of[id(loop)] = True
        for n in hoisted:
            adj = gen.ctx.adj(n)
            lines.add(indent, f"{adj} = ad.dense({adj}, {n})")
        target = loop.target.id
        if site is not None:
            self.loop_site(lines, loop, site, indent, body)
        elif id(loop) in gen.counted_loops:
            lines.add(indent, f"for {target} in reversed(tape.pop()):  # line {loop.lineno}")
        else:
            if gen.pctx.verify:
                index = gen.pctx.verify_points.add(Point(
                    gen.func.name, gen.func.path, loop.lineno, f"for {target} in {ast.unparse(loop.iter)}",
                    (f"the range {ast.unparse(loop.iter)}",), ("",)))
                self.marks.kept[id(loop)] = index
                lines.stmt(indent, verify.same(index, [copy.deepcopy(loop.iter)]))
            lines.add(indent, f"for {target} in reversed({ast.unparse(loop.iter)}):  # line {loop.lineno}")
        if site is None:
            self.recompute_indices(lines, loop, indent + 1)
            lines.extend(body)
        for n in sorted(gen.tbr.loop_pushes.get(id(loop), ()), reverse=True):
            lines.stmt(indent, assign(n, tape_pop()))

    def loop_site(self, lines, loop, site, indent, body):
        """A loop site's reversal, driven by its schedule (loopsite.py): its iterations' backward
        sweeps, and the forward sweeps that tape them again."""
        reverse = Lines()
        self.recompute_indices(reverse, loop, indent + (2 if site.checkpointed else 1))
        reverse.extend(body)
        iteration = ForwardSweep(self.gen, self.backward_of, self.marks).iteration(loop)
        loopsite.emit_backward(self.gen, lines, loop, site, indent, iteration, reverse)

    def recompute_indices(self, lines, loop, indent):
        """The indices this iteration used, computed again rather than popped (analysis/indices.py)."""
        prefix = self.gen.recomputed.get(id(loop))
        if prefix is None:
            return
        lines.add(indent, f"# the indices of this iteration, computed again: {', '.join(sorted(prefix.names))}")
        for stmt in prefix.statements:
            lines.stmt(indent, stmt)

    def while_loop(self, lines, loop, indent):
        saved = set(self.dense_scope)
        _, changed = self.dense_lines(loop.body)
        self.dense_scope -= changed
        body = self.block(loop.body, indent + 1)
        self.dense_scope = saved - changed
        if not body.lines:
            self.backward_of[id(loop)] = False
            return
        self.backward_of[id(loop)] = True
        lines.add(indent, f"for _ in range(tape.pop()):  # line {loop.lineno}: while")
        lines.extend(body)
