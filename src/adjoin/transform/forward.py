"""The forward sweep of one function: the primal statements with the pushes TBR asks for.

Before a statement overwrites what the backward sweep needs, the old value is pushed (or only its
shape, or the region the statement updates in place); call sites are written by calls.py.
Control flow pushes what its reversal needs: the branch taken, a ``while`` loop's trip count, the
iterations of a ``for`` loop left by ``break``.  The backward sweep is written first: it says
which compound statements are reversed at all and where verify mode checks, which the forward
sweep must match.
"""
import ast
import copy

from . import loopsite, verify
from .calls import forward_call
from .code import Lines, assign, call, const, name, tape_push
from .expression import quicker
from .function import if_chain, region


class ForwardSweep:
    """Writes one function's forward sweep (one text serves ``f_b`` and ``f_fwd``)."""

    def __init__(self, gen, backward_of, marks):
        self.gen = gen
        self.backward_of = backward_of    # id(compound statement) -> whether the backward sweep reverses it
        self.marks = marks                # the verify points the backward sweep placed
        self.pending_flags = []           # flags of the branches a break leaves, outermost first
        self.counted = {}                 # id(loop) -> what counts its iterations

    def block(self, lines, stmts, indent):
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                self.conditional(lines, stmt, indent)
            elif isinstance(stmt, ast.For):
                self.for_loop(lines, stmt, indent)
            elif isinstance(stmt, ast.While):
                self.while_loop(lines, stmt, indent)
            elif isinstance(stmt, ast.Return):
                continue
            elif isinstance(stmt, ast.Break):
                # the branches this break leaves would push their flags at their ends: push them now,
                # innermost first, as falling through would have
                for flag in reversed(self.pending_flags):
                    lines.stmt(indent, tape_push(const(flag)))
                lines.stmt(indent, stmt)
            elif isinstance(stmt, ast.Pass):
                lines.stmt(indent, stmt)
            else:
                self.statement(lines, stmt, indent)

    def statement(self, lines, stmt, indent):
        gen = self.gen
        piece = gen.pieces[id(stmt)]
        full = sorted(gen.tbr.full_pushes.get(id(stmt), ()))
        partial = sorted(gen.tbr.partial_pushes.get(id(stmt), ()))
        line_comment = f"line {stmt.lineno}"
        if id(stmt) in self.marks.kept:
            lines.stmt(indent, verify.keep(self.marks.kept[id(stmt)], verify.verified(gen, stmt)[0]))
        for n in sorted(gen.tbr.alias_pushes.get(id(stmt), ())):
            lines.stmt(indent, tape_push(name(n)), f"{n} shares memory with what line {stmt.lineno} updates")
        if piece.call is not None:
            forward_call(self, lines, piece.call, full, partial, indent)
            return
        for n in partial:
            lines.stmt(indent, tape_push(region(stmt, n)))
        for n in full:
            lines.stmt(indent, self.save(stmt, n))
        lines.stmt(indent, quicker(stmt, gen.func.callees), line_comment)

    def save(self, stmt, n):
        """The push saving ``n`` before ``stmt`` rebinds it: its value, or only its shape when the
        backward sweep needs no more (``ad.sum_to``/``ad.dense`` and the arrays passed to calls)."""
        if (id(stmt), n) in self.gen.tbr.shape_only:
            return tape_push(call("np.shape", name(n)))
        return tape_push(name(n))

    def conditional(self, lines, stmt, indent):
        branches = if_chain(stmt)
        needs_flag = self.backward_of.get(id(stmt), False)
        first = True
        for k, (test, body) in enumerate(branches):
            if test is not None:
                keyword = "if" if first else "elif"
                lines.add(indent, f"{keyword} {ast.unparse(test)}:")
            else:
                lines.add(indent, "else:")
            first = False
            inner = Lines()
            flag = k if len(branches) > 2 else (k == 0)
            if needs_flag:
                self.pending_flags.append(flag)
            self.block(inner, body, indent + 1)
            if needs_flag:
                self.pending_flags.pop()
            ends_in_break = bool(body) and isinstance(body[-1], ast.Break)
            if needs_flag and not ends_in_break:
                inner.stmt(indent + 1, tape_push(const(flag)))
            if not inner.lines:
                if test is None:
                    lines.lines.pop()     # an empty else
                    continue
                inner.add(indent + 1, "pass")
            lines.extend(inner)

    def for_loop(self, lines, loop, indent):
        gen = self.gen
        reversed_needed = self.backward_of.get(id(loop), False)
        for n in sorted(gen.tbr.loop_pushes.get(id(loop), ())):
            if reversed_needed:
                lines.stmt(indent, tape_push(name(n)))
        site = gen.loop_sites.get(id(loop))
        if site is not None and reversed_needed:
            loopsite.emit_forward(gen, lines, loop, site, indent, self.iteration(loop))
            return
        counted = reversed_needed and id(loop) in gen.counted_loops
        target = loop.target.id
        if counted:
            rng = gen.namer.fresh("iterations")
            count = gen.namer.fresh("count")
            lines.stmt(indent, assign(rng, copy.deepcopy(loop.iter)))
            lines.stmt(indent, assign(count, const(0)))
            lines.add(indent, f"for {target} in {rng}:  # line {loop.lineno}")
            lines.add(indent + 1, f"{count} += 1")
            self.counted[id(loop)] = (rng, count)
        else:
            lines.add(indent, f"for {target} in {ast.unparse(loop.iter)}:  # line {loop.lineno}")
        inner = Lines()
        saved, self.pending_flags = self.pending_flags, []
        self.block(inner, loop.body, indent + 1)
        self.pending_flags = saved
        if not inner.lines and not counted:
            inner.add(indent + 1, "pass")
        lines.extend(inner)
        if counted:
            rng, count = self.counted[id(loop)]
            lines.add(indent, f"tape.push({rng}[:{count}])")
        elif reversed_needed and gen.pctx.verify:
            # the reversal evaluates the range again (its bounds are not written in the body)
            lines.stmt(indent, verify.keep(self.marks.kept[id(loop)], [copy.deepcopy(loop.iter)]))

    def iteration(self, loop):
        """A function of the indent giving the forward sweep of one iteration of ``loop``."""
        def lines_at(indent):
            inner = Lines()
            saved, self.pending_flags = self.pending_flags, []
            self.block(inner, loop.body, indent)
            self.pending_flags = saved
            if not inner.lines:
                inner.add(indent, "pass")
            return inner
        return lines_at

    def while_loop(self, lines, loop, indent):
        reversed_needed = self.backward_of.get(id(loop), False)
        if reversed_needed:
            count = self.gen.namer.fresh("count")
            self.counted[id(loop)] = count
            lines.add(indent, f"{count} = 0")
        lines.add(indent, f"while {ast.unparse(loop.test)}:  # line {loop.lineno}")
        inner = Lines()
        if reversed_needed:
            inner.add(indent + 1, f"{self.counted[id(loop)]} += 1")
        saved, self.pending_flags = self.pending_flags, []
        self.block(inner, loop.body, indent + 1)
        self.pending_flags = saved
        if not inner.lines:
            inner.add(indent + 1, "pass")
        lines.extend(inner)
        if reversed_needed:
            lines.add(indent, f"tape.push({self.counted[id(loop)]})")
