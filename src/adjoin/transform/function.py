"""The adjoint of one user function: joint ``f_b``, split ``f_fwd`` / ``f_bwd``.

The forward sweep is the primal code with pushes (tbr.py decides them) and, at each call site, a
snapshot and a plain call (checkpointed) or the callee's forward sweep (not checkpointed).  The
backward sweep walks the statements in reverse: it pops what was pushed, then runs the
statement's adjoint (adjoint.py).  Control flow is reversed with the tape: branches push the
branch taken, ``while`` loops their trip count, ``for`` loops left by ``break`` their iterations.
"""
import ast
import copy

from ..analysis.activity import storage_name
from ..analysis.effects import _basic_index, _whole as _whole_index, constant_region
from ..analysis.bound import definitely_bound, maybe_bound
from ..analysis.indices import recomputed_prefix
from ..analysis.tbr import CallEffect, StatementEffect, run_tbr
from ..runtime.profiler import (BEGIN_ADVANCE, BEGIN_REVERSE, BEGIN_SPLIT_REVERSE, INLINE_STATEMENT,
                                SNAPSHOT_READ, SNAPSHOT_WRITE, SPLIT_TURN, TURN)
from ..runtime.verify import Point
from . import verify
from .adjoint import (FunctionContext, ExprAdjoint, assign, call, const, ctx_dense, name, primal_reads,
                      reverse_assign, reverse_augassign, store_copy)


class Lines:
    """Indented source lines."""

    def __init__(self):
        self.lines = []

    def add(self, indent, text):
        if not text:
            self.lines.append("")
        for line in text.splitlines():
            self.lines.append("    " * indent + line)

    def stmt(self, indent, node, comment=None):
        text = ast.unparse(ast.fix_missing_locations(node))
        if comment:
            first, *rest = text.splitlines()
            text = "\n".join([f"{first}  # {comment}"] + rest)
        self.add(indent, text)

    def extend(self, other):
        self.lines.extend(other.lines)


def tape_push(expr):
    return ast.Expr(value=ast.Call(func=ast.Attribute(value=name("tape"), attr="push", ctx=ast.Load()),
                                   args=[expr], keywords=[]))


def tape_pop():
    return ast.Call(func=ast.Attribute(value=name("tape"), attr="pop", ctx=ast.Load()), args=[], keywords=[])


def everything(target):
    """``x[...]``: the whole array as a region, for in-place restores."""
    return ast.Subscript(value=name(target), slice=ast.Constant(value=Ellipsis), ctx=ast.Store())


class Piece:
    """One simple statement's parts of the adjoint."""

    def __init__(self, stmt):
        self.stmt = stmt
        self.reverse = []           # backward lines (without pops)
        self.effect = None
        self.call = None            # CallPiece for user calls


class CallPiece:
    """A call site's data."""

    def __init__(self, node, callee, site, targets):
        self.node = node
        self.callee = callee        # function key
        self.site = site            # Site
        self.targets = targets      # list of target names ([] for a call statement)
        self.passive = False
        self.written = []           # (k, param, arg) written by the callee


class FunctionGen:
    """Generates the adjoint parts of one function."""

    def __init__(self, pctx, key):
        self.pctx = pctx
        self.key = key
        self.func = pctx.program.functions[key]
        from ..frontend.names import Namer as _Namer
        taken = set(self.func.locals) | pctx.global_names | {"tape", "ad", "np", "math"}
        self.namer = _Namer(taken)
        self.ctx = FunctionContext(self.func, dict(pctx.kinds.expr_kinds.get(key, {})),
                                   pctx.activity.active.get(key, set()), pctx.rules, self.namer)
        self.pieces = {}
        self.loop_reads = {}
        self.recomputed = {}            # id(loop) -> Recomputed: indices its reverse computes again
        self.counted_loops = set()
        self.tbr = None
        self.bound_before, self.bound_end = definitely_bound(self.func)
        self.maybe_before = maybe_bound(self.func)
        self.rebound = self._rebound_names()
        self.ctx.dense_names = self._stable_arrays()

    # -- preparation ------------------------------------------------------------------------------
    @property
    def active_params(self):
        return [p for p in self.func.params if p in self.pctx.activity.active_params[self.key]
                or p in self.ctx.active and p in self.pctx.summaries.writes(self.key)]

    def adjoint_inputs(self):
        """Active params whose adjoint the caller passes in (updated in place by this function)."""
        writes = self.pctx.summaries.writes(self.key)
        return [p for p in self.active_params if p in writes]

    def result_active(self):
        return bool(self.func.result_names) and self.pctx.activity.result_active[self.key]

    def _rebound_names(self):
        """Names bound to a new object somewhere (in-place updates of arrays do not count)."""
        out = set()
        for node in ast.walk(self.func.node):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if not isinstance(target, ast.Subscript):
                        out |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                kind = self.ctx.kind(node.target)
                if kind is None or not kind.array:
                    out.add(node.target.id)
            elif isinstance(node, ast.For):
                out.add(node.target.id)
        return out

    def _stable_arrays(self):
        """Active float array parameters never rebound: bound to one array for the whole backward
        sweep (also in a split backward sweep), so their adjoint is made dense once, at the turn."""
        stable = set()
        for n in self.ctx.active:
            if n not in self.func.params or n in self.rebound:
                continue
            kind = self._kind_of_name(n)
            if kind is not None and kind.array and kind.dtype in ("f", None):
                stable.add(n)
        return frozenset(stable)

    def _kind_of_name(self, n):
        found = None
        for node in ast.walk(self.func.node):
            if isinstance(node, ast.Name) and node.id == n:
                kind = self.ctx.kinds.get(node)
                if kind is not None:
                    if found is None:
                        found = kind
                    elif found != kind:
                        from ..analysis.kinds import join
                        found = join(found, kind)
        if n in self.func.params:
            param_kind = self.pctx.kinds.param_kinds.get(self.key, {}).get(n)
            if param_kind is not None:
                from ..analysis.kinds import join
                found = join(found, param_kind) if found is not None else param_kind
        return found

    def prepare(self):
        self._prepare_block(self.func.node.body)

    def _prepare_block(self, stmts):
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                self._prepare_block(stmt.body)
                self._prepare_block(stmt.orelse)
            elif isinstance(stmt, ast.For):
                self._prepare_block(stmt.body)
                self._prepare_loop(stmt)
            elif isinstance(stmt, ast.While):
                self._prepare_block(stmt.body)
                self.counted_loops.add(id(stmt))
            elif isinstance(stmt, (ast.Break, ast.Pass, ast.Return)):
                continue
            else:
                self.pieces[id(stmt)] = self._prepare_simple(stmt)

    def _prepare_loop(self, loop):
        has_break = _breaks(loop.body)
        written = set()
        for node in ast.walk(ast.Module(body=loop.body, type_ignores=[])):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                written.add(node.id)
        bounds = {n.id for n in ast.walk(loop.iter) if isinstance(n, ast.Name)}
        if has_break or bounds & written:
            self.counted_loops.add(id(loop))
            return
        reads = bounds
        prefix = recomputed_prefix(loop, self.func.node.body, set(self.func.params), self._inactive_scalar)
        if prefix is not None:
            self.recomputed[id(loop)] = prefix
            reads = reads | (prefix.reads - {loop.target.id})   # the reversed loop gives its index
        self.loop_reads[id(loop)] = frozenset(reads & set(self.func.locals))

    def _inactive_scalar(self, node):
        kind = self.ctx.kind(node)
        return kind is not None and kind.scalar and node.id not in self.ctx.active

    def _prepare_simple(self, stmt):
        piece = Piece(stmt)
        value = getattr(stmt, "value", None)
        callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
        if callee is not None and callee.kind == "user":
            piece.call = self._prepare_call(stmt, value, callee)
            piece.effect = self._call_effect(piece.call)
            return piece
        maybe = self.maybe_before.get(id(stmt), frozenset())
        if isinstance(stmt, ast.Assign):
            piece.reverse = reverse_assign(self.ctx, stmt, maybe)
        elif isinstance(stmt, ast.AugAssign):
            piece.reverse = reverse_augassign(self.ctx, stmt, maybe)
        values, bindings = primal_reads(piece.reverse, self.func.locals)
        full, partial, whole = set(), set(), set()
        regions = {}
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            if isinstance(target, ast.Subscript):
                partial.add(target.value.id)
                regions[target.value.id] = constant_region(target.slice)
                if _whole_index(target.slice):
                    whole.add(target.value.id)
                values |= {n.id for n in ast.walk(target.slice) if isinstance(n, ast.Name)} & self.func.locals
            else:
                full |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(stmt, ast.AugAssign):
            target = stmt.target
            if isinstance(target, ast.Subscript):
                partial.add(target.value.id)
                regions[target.value.id] = constant_region(target.slice)
                values |= {n.id for n in ast.walk(target.slice) if isinstance(n, ast.Name)} & self.func.locals
            else:
                kind = self.ctx.kind(target)
                if kind is not None and kind.array:
                    partial.add(target.id)
                    whole.add(target.id)
                else:
                    full.add(target.id)
        piece.effect = StatementEffect(frozenset(values), frozenset(bindings - values), frozenset(full),
                                       frozenset(partial), whole_writes=frozenset(whole),
                                       write_regions=tuple(sorted((k, v) for k, v in regions.items()
                                                                  if v is not None)),
                                       alias_writes=self.write_aliases(stmt))
        return piece

    def write_aliases(self, stmt):
        """Names that may share memory with what ``stmt`` updates in place (effects.py)."""
        return self.pctx.summaries.write_aliases.get(self.key, {}).get(id(stmt), frozenset())

    # -- calls ------------------------------------------------------------------------------------
    def _prepare_call(self, stmt, node, callee):
        targets = []
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            targets = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)] if not isinstance(
                target, ast.Subscript) else None
            if targets is None:
                raise AssertionError("call results are assigned to names (normalization)")
        site = self.pctx.site_of_call[id(node)]
        piece = CallPiece(node, callee.key, site, targets)
        piece.stmt = stmt
        summary = self.pctx.summaries.by_key[callee.key]
        callee_active = self.pctx.activity.active_params[callee.key] or self.pctx.activity.result_active[callee.key]
        piece.passive = not callee_active
        for k, param in enumerate(summary.params):
            arg = node.args[k]
            if param in summary.writes:
                piece.written.append((k, param, arg))
        return piece

    def snapshot(self, piece):
        """Arguments a checkpointed call saves: the arrays it updates in place that it reads, or
        whose old values its caller still needs (its re-run must start from them to restore them)."""
        summary = self.pctx.summaries.by_key[piece.callee]
        needed_in = self.pctx.needed_in.get(piece.callee, set())
        return [arg for k, param, arg in piece.written
                if (param in summary.rewrites or param in needed_in) and _is_storage(arg, self.ctx.kinds)]

    def _call_effect(self, piece):
        summary = self.pctx.summaries.by_key[piece.callee]
        regions = dict(summary.write_regions)
        values, bindings, partial = set(), set(), set()
        written_args = []
        locals_ = self.func.locals
        for k, param in enumerate(summary.params):
            arg = piece.node.args[k]
            names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)} & locals_
            if param in summary.writes and _is_storage(arg, self.ctx.kinds):
                base = storage_name(arg)
                index_names = names - {base}
                values |= index_names
                region = regions.get(param) if isinstance(arg, ast.Name) else None
                if piece.passive:
                    partial.add(base)
                else:
                    bindings.add(base)
                    written_args.append((param, base, region))
            elif piece.passive and param not in summary.reads:
                continue
            else:
                values |= names
        after, kept = set(), []
        if not piece.passive:
            exit_needs = self.pctx.needed_at_exit.get(piece.callee, set())
            for param, base, region in written_args:
                if param in exit_needs:
                    after.add(base)          # after-call values its split reverse reads
                elif param in summary.reads and param not in summary.rewrites:
                    # entry values it reads and leaves alone: keep them, outside what it rewrites
                    kept.append((base, region))
        full = set(piece.targets)
        if piece.passive:
            values = set()  # the reverse of a passive call reads nothing: it only restores
            after = set()
            kept = []
        return StatementEffect(frozenset(values), frozenset(bindings - values), frozenset(full),
                               frozenset(partial), CallEffect(piece.callee, tuple(written_args)),
                               frozenset(after), kept_except=tuple(kept),
                               alias_writes=self.write_aliases(piece.stmt))

    # -- TBR --------------------------------------------------------------------------------------
    def analyze(self):
        effects = {k: p.effect for k, p in self.pieces.items()}
        needed_in = self.pctx.needed_in.get(self.key, set())
        given = {loop: prefix.names for loop, prefix in self.recomputed.items()}
        self.tbr = run_tbr(self.func.node.body, effects, self.loop_reads, needed_in, given)
        end = self.tbr.needed_at_end
        writes = self.pctx.summaries.writes(self.key)
        # the caller keeps the parameters this function only reads; the ones it updates in place
        # are saved at the end of its split forward sweep (turn_locals), not by every caller
        exit_needs = {p for p in self.func.params if end.get(p) == "v" and p not in self.rebound
                      and p not in writes}
        return exit_needs, self.tbr.callee_needed_in

    def turn_locals(self):
        """Names the backward sweep reads that a split forward sweep must push at its end: locals,
        and the arrays of parameters it updates in place whose final values it reads."""
        end = self.tbr.needed_at_end
        writes = self.pctx.summaries.writes(self.key)
        out = []
        for n in sorted(end):
            if n in self.func.params and n not in self.rebound:
                if n in writes and end[n] == "v":
                    out.append(n)
                continue
            out.append(n)
        return out

    def restore_turn_local(self, n):
        """How f_bwd gets back a value its f_fwd pushed at the end: parameters' arrays in place."""
        writes = self.pctx.summaries.writes(self.key)
        if n in self.func.params and n not in self.rebound and n in writes:
            return f"{n}[...] = tape.pop()"
        return f"{n} = tape.pop()"

    # -- emission: forward sweep ------------------------------------------------------------------
    def forward(self, lines, stmts, indent, backward_of):
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                self.forward_if(lines, stmt, indent, backward_of)
            elif isinstance(stmt, ast.For):
                self.forward_for(lines, stmt, indent, backward_of)
            elif isinstance(stmt, ast.While):
                self.forward_while(lines, stmt, indent, backward_of)
            elif isinstance(stmt, ast.Return):
                continue
            elif isinstance(stmt, ast.Break):
                # the branches this break leaves would push their flags at their ends: push them now,
                # innermost first, as falling through would have
                for flag in reversed(self._pending_flags):
                    lines.stmt(indent, tape_push(const(flag)))
                lines.stmt(indent, stmt)
            elif isinstance(stmt, ast.Pass):
                lines.stmt(indent, stmt)
            else:
                self.forward_simple(lines, stmt, indent)

    def forward_simple(self, lines, stmt, indent):
        piece = self.pieces[id(stmt)]
        full = sorted(self.tbr.full_pushes.get(id(stmt), ()))
        partial = sorted(self.tbr.partial_pushes.get(id(stmt), ()))
        line_comment = f"line {stmt.lineno}"
        if id(stmt) in self._verify_index:
            lines.stmt(indent, verify.keep(self._verify_index[id(stmt)], self.verified(stmt)[0]))
        for n in sorted(self.tbr.alias_pushes.get(id(stmt), ())):
            lines.stmt(indent, tape_push(name(n)), f"{n} shares memory with what line {stmt.lineno} updates")
        if piece.call is not None:
            self.forward_call(lines, piece.call, full, partial, indent)
            return
        for n in partial:
            lines.stmt(indent, tape_push(self.region(stmt, n)))
        for n in full:
            lines.stmt(indent, self.save(stmt, n))
        lines.stmt(indent, stmt, line_comment)

    def save(self, stmt, n):
        """The push saving ``n`` before ``stmt`` rebinds it: its value, or only its shape when the
        backward sweep needs no more (``ad.sum_to``/``ad.dense`` and the arrays passed to calls)."""
        if (id(stmt), n) in self.tbr.shape_only:
            return tape_push(call("np.shape", name(n)))
        return tape_push(name(n))

    def restore(self, stmt, n):
        if (id(stmt), n) in self.tbr.shape_only:
            return assign(n, call("ad.shaped", tape_pop()))
        return assign(n, tape_pop())

    def region(self, stmt, base):
        """The region of ``base`` a statement updates in place (for pushing and restoring)."""
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        if isinstance(target, ast.Subscript):
            region = copy.deepcopy(target)
            region.ctx = ast.Load()
            return region
        return name(base)

    def forward_call(self, lines, piece, full, partial, indent):
        stmt = piece_stmt = self._stmt_of(piece)
        node = copy.deepcopy(piece.node)
        checkpointed = self.pctx.checkpointed(piece.site)
        if piece.passive or checkpointed:
            node.func = name(self.pctx.primal_name(piece.callee))
            _keyword_only(node, self.pctx.program.functions[piece.callee])   # the user's own function
        else:
            node.func = name(self.pctx.generated_name(piece.callee, "fwd"))
            node.args = [name("tape")] + node.args + self.run_arguments()
        comment = f"line {piece_stmt.lineno}"
        hooks = self.pctx.hooks
        if piece.passive:
            for arg in piece.written:
                if storage_name(arg[2]) in partial:
                    lines.stmt(indent, tape_push(copy.deepcopy(arg[2])))
        elif checkpointed:
            snapshot = self.snapshot(piece)
            if hooks and snapshot:       # an empty snapshot has no snapshot events (W = R = 0)
                lines.add(indent, inline_event(SNAPSHOT_WRITE, piece.site.id))
            for arg in snapshot:
                lines.stmt(indent, tape_push(copy.deepcopy(arg)), "snapshot")
            if hooks:
                lines.add(indent, inline_event(BEGIN_ADVANCE, piece.site.id))
        elif hooks:
            # the snapshot this call would save if checkpointed: measured, not pushed
            snapshot = ", ".join(ast.unparse(a) for a in self.snapshot(piece))
            lines.add(indent, f"prof.begin_split({piece.site.id!r}, tape, ({snapshot}{',' if snapshot else ''}))")
        end_hook = None
        if hooks and not piece.passive:
            end_hook = (f"prof.end_advance({piece.site.id!r}, tape)" if checkpointed else
                        f"prof.end_split({piece.site.id!r}, tape)")
        if full:
            temp = self.namer.fresh(f"{piece.callee}_result")
            lines.stmt(indent, assign(temp, node), comment)
            if end_hook:
                lines.add(indent, end_hook)
            for n in full:
                lines.stmt(indent, self.save(stmt, n))
            lines.stmt(indent, ast.Assign(targets=[copy.deepcopy(stmt.targets[0])], value=name(temp)))
        else:
            if piece.targets:
                lines.stmt(indent, ast.Assign(targets=[copy.deepcopy(stmt.targets[0])], value=node), comment)
            else:
                lines.stmt(indent, ast.Expr(value=node), comment)
            if end_hook:
                lines.add(indent, end_hook)
        if id(stmt) in self._verify_outputs:
            lines.stmt(indent, verify.keep(self._verify_outputs[id(stmt)], self.advance_outputs(piece)[0]))

    def _stmt_of(self, piece):
        return piece.stmt

    def forward_if(self, lines, stmt, indent, backward_of):
        branches = _if_chain(stmt)
        needs_flag = backward_of.get(id(stmt), False)
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
                self._pending_flags.append(flag)
            self.forward(inner, body, indent + 1, backward_of)
            if needs_flag:
                self._pending_flags.pop()
            ends_in_break = bool(body) and isinstance(body[-1], ast.Break)
            if needs_flag and not ends_in_break:
                inner.stmt(indent + 1, tape_push(const(flag)))
            if not inner.lines:
                if test is None:
                    lines.lines.pop()     # an empty else
                    continue
                inner.add(indent + 1, "pass")
            lines.extend(inner)

    def forward_for(self, lines, loop, indent, backward_of):
        reversed_needed = backward_of.get(id(loop), False)
        for n in sorted(self.tbr.loop_pushes.get(id(loop), ())):
            if reversed_needed:
                lines.stmt(indent, tape_push(name(n)))
        counted = reversed_needed and id(loop) in self.counted_loops
        target = loop.target.id
        if counted:
            rng = self.namer.fresh("iterations")
            count = self.namer.fresh("count")
            lines.stmt(indent, assign(rng, copy.deepcopy(loop.iter)))
            lines.stmt(indent, assign(count, const(0)))
            lines.add(indent, f"for {target} in {rng}:  # line {loop.lineno}")
            lines.add(indent + 1, f"{count} += 1")
            self._counted[id(loop)] = (rng, count)
        else:
            lines.add(indent, f"for {target} in {ast.unparse(loop.iter)}:  # line {loop.lineno}")
        inner = Lines()
        saved, self._pending_flags = self._pending_flags, []
        self.forward(inner, loop.body, indent + 1, backward_of)
        self._pending_flags = saved
        if not inner.lines and not counted:
            inner.add(indent + 1, "pass")
        lines.extend(inner)
        if counted:
            rng, count = self._counted[id(loop)]
            lines.add(indent, f"tape.push({rng}[:{count}])")
        elif reversed_needed and self.pctx.verify:
            # the reversal evaluates the range again (its bounds are not written in the body)
            lines.stmt(indent, verify.keep(self._verify_index[id(loop)], [copy.deepcopy(loop.iter)]))

    def forward_while(self, lines, loop, indent, backward_of):
        reversed_needed = backward_of.get(id(loop), False)
        if reversed_needed:
            count = self.namer.fresh("count")
            self._counted[id(loop)] = count
            lines.add(indent, f"{count} = 0")
        lines.add(indent, f"while {ast.unparse(loop.test)}:  # line {loop.lineno}")
        inner = Lines()
        if reversed_needed:
            inner.add(indent + 1, f"{self._counted[id(loop)]} += 1")
        saved, self._pending_flags = self._pending_flags, []
        self.forward(inner, loop.body, indent + 1, backward_of)
        self._pending_flags = saved
        if not inner.lines:
            inner.add(indent + 1, "pass")
        lines.extend(inner)
        if reversed_needed:
            lines.add(indent, f"tape.push({self._counted[id(loop)]})")

    # -- emission: backward sweep -----------------------------------------------------------------
    def backward(self, stmts, indent, backward_of):
        """Backward lines for a block; records in ``backward_of`` which compound statements have any."""
        lines = Lines()
        for stmt in reversed(stmts):
            if isinstance(stmt, ast.If):
                self.backward_if(lines, stmt, indent, backward_of)
            elif isinstance(stmt, ast.For):
                self.backward_for(lines, stmt, indent, backward_of)
            elif isinstance(stmt, ast.While):
                self.backward_while(lines, stmt, indent, backward_of)
            elif isinstance(stmt, (ast.Break, ast.Pass, ast.Return)):
                continue
            else:
                self.backward_simple(lines, stmt, indent)
        return lines

    def _dense_lines(self, stmts):
        """(names densified, names whose adjoint or binding changes) in the backward code of stmts."""
        densified, changed = set(), set()
        for stmt in stmts:
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                inner = stmt.body + getattr(stmt, "orelse", [])
                d, c = self._dense_lines(inner)
                densified |= d
                changed |= c
                if isinstance(stmt, ast.For):
                    changed.add(stmt.target.id)
                continue
            piece = self.pieces.get(id(stmt))
            if piece is None:
                continue
            for n in self.tbr.full_pushes.get(id(stmt), ()):
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
                    primal = self._primal_of_adjoint(target)
                    if primal is None:
                        continue
                    value = line.value
                    if isinstance(value, ast.Call) and ast.unparse(value.func) == "ad.dense":
                        densified.add(primal)
                    else:
                        changed.add(primal)
        return densified, changed

    def _primal_of_adjoint(self, adjoint_name):
        for primal, adj in self.ctx.adjoint_names.items():
            if adj == adjoint_name:
                return primal
        return None

    def backward_simple(self, lines, stmt, indent):
        piece = self.pieces[id(stmt)]
        full = sorted(self.tbr.full_pushes.get(id(stmt), ()))
        partial = sorted(self.tbr.partial_pushes.get(id(stmt), ()))
        body = Lines()
        checks = self.verify_checks(stmt)
        if piece.call is not None:
            self.backward_call(body, piece.call, full, partial, indent, self.alias_restores(stmt), checks)
        else:
            for n in reversed(full):
                body.stmt(indent, self.restore(stmt, n))
            for n in reversed(partial):
                region = self.region(stmt, n)
                if isinstance(region, ast.Name):
                    body.stmt(indent, ast.Assign(targets=[everything(n)], value=tape_pop()))
                else:
                    body.stmt(indent, ast.Assign(targets=[store_copy(region)], value=tape_pop()))
            for line in self.alias_restores(stmt) + checks:
                body.stmt(indent, line)
            for line in piece.reverse:
                if self._redundant_dense(line):
                    continue
                body.stmt(indent, line)
                self._note_assignment(line)
            for line in self.finite_checks(stmt, piece.reverse):
                body.stmt(indent, line)
        if body.lines:
            lines.add(indent, f"# line {stmt.lineno}: {_source_line(stmt)}")
            lines.extend(body)

    # -- verify mode (transform/verify.py) --------------------------------------------------------
    def verified(self, stmt):
        """(expressions, labels) verify mode fingerprints for ``stmt``, or None (also when off)."""
        if not self.pctx.verify:
            return None
        piece = self.pieces[id(stmt)]
        exprs, labels = verify.checked_values(piece.effect.value_reads, piece.effect.binding_reads)
        if piece.call is not None and not piece.call.passive and self.pctx.checkpointed(piece.call.site):
            for arg in self.snapshot(piece.call):
                exprs.append(copy.deepcopy(arg))
                labels.append(f"{ast.unparse(arg)!r} (as the snapshot restores it)")
        return (exprs, labels) if exprs else None

    def verify_checks(self, stmt):
        """The backward line checking what ``stmt``'s adjoint reads (verify mode), or none."""
        checked = self.verified(stmt)
        if not checked:
            return []
        exprs, labels = checked
        names = [ast.unparse(e) if not (isinstance(e, ast.Call)) else e.args[0].id for e in exprs]
        index = self.pctx.verify_points.add(Point(
            self.func.name, self.func.path, stmt.lineno, _source_line(stmt), tuple(labels),
            tuple(verify.suspects(self.pieces.values(), _statement_label, n) for n in names)))
        self._verify_index[id(stmt)] = index     # the forward sweep, emitted next, keeps them
        return [verify.same(index, exprs)]

    def advance_outputs(self, piece):
        """(expressions, labels) of what a checkpointed call's advance leaves: the arrays it updates
        (None where an argument is no array of the caller's) and its results; the callee's joint
        adjoint checks at its turn that its re-run computed the same (verify mode)."""
        callee = self.pctx.functions_gen[piece.callee]
        exprs, labels = [], []
        for param in callee.output_params():
            arg = piece.node.args[self.pctx.summaries.params(piece.callee).index(param)]
            storage = _is_storage(arg, self.ctx.kinds)
            exprs.append(copy.deepcopy(arg) if storage else const(None))
            labels.append(f"{ast.unparse(arg)!r} after the call" if storage else "")
        if callee.func.result_names:
            targets = piece.targets or []
            exprs.append(name(targets[0]) if len(targets) == 1 else
                         ast.Tuple(elts=[name(t) for t in targets], ctx=ast.Load()) if targets else const(None))
            labels.append("its result")
        return exprs, labels

    def expect_outputs(self, piece):
        """The backward line handing the callee's joint adjoint what its advance left (verify mode)."""
        exprs, labels = self.advance_outputs(piece)
        index = self.pctx.verify_points.add(Point(
            self.func.name, self.func.path, piece.stmt.lineno, _source_line(piece.stmt), tuple(labels),
            ("",) * len(labels)))
        self._verify_outputs[id(piece.stmt)] = index
        return ast.Expr(value=call("verify.expect", const(index)))

    def output_params(self):
        """The parameters whose arrays this function updates and also reads, in order (verify
        mode's turn check): their snapshot gives a re-run the whole array to start from, so the
        whole array must come out as the advance left it. An array the function only writes into
        is not restored, and what it does not write of it may have changed since the advance."""
        writes, reads = self.pctx.summaries.writes(self.key), self.pctx.summaries.reads(self.key)
        return [p for p in self.func.params if p in writes and p in reads]

    def turn_check(self):
        """At the turn of a joint adjoint: its re-run must have computed what the advance did."""
        values = [name(p) for p in self.output_params()]
        results = self.func.result_names
        if results:
            values.append(name(results[0]) if len(results) == 1 else
                          ast.Tuple(elts=[name(r) for r in results], ctx=ast.Load()))
        return ast.unparse(ast.Expr(value=call("verify.turn", *values)))

    def finite_checks(self, stmt, reverse):
        """Locating mode: a check that the adjoints ``reverse`` computes for ``stmt`` are finite."""
        if not self.pctx.locate:
            return []
        adjoints = set(self.ctx.adjoint_names.values())
        assigned = sorted({root.id for line in reverse for target in _targets(line)
                           for root in [_root(target)] if isinstance(root, ast.Name) and root.id in adjoints})
        if not assigned:
            return []
        index = self.pctx.verify_points.add(Point(
            self.func.name, self.func.path, stmt.lineno, _source_line(stmt),
            tuple(f"{a!r}" for a in assigned), ("",) * len(assigned)))
        return [ast.Expr(value=call("verify.finite", const(index), *(name(a) for a in assigned)))]

    def reset_targets(self, piece):
        """A name rebound to a call's result that carries no derivative: the adjoint it had belonged
        to its old value, which this statement does not read."""
        return [assign(self.ctx.adj(t), const(0.0)) for t in piece.targets or () if t in self.ctx.active]

    def alias_restores(self, stmt):
        """Backward lines giving back the names pushed because ``stmt`` writes memory they share."""
        return [assign(n, call("ad.restore", name(n), tape_pop()))
                for n in sorted(self.tbr.alias_pushes.get(id(stmt), ()), reverse=True)]

    def _redundant_dense(self, line):
        """Is ``line`` an ``x_b = ad.dense(x_b, x)`` already done (x_b dense since, x not rebound)?"""
        if isinstance(line, ast.Assign) and isinstance(line.targets[0], ast.Name) and \
                isinstance(line.value, ast.Call) and ast.unparse(line.value.func) == "ad.dense":
            primal = self._primal_of_adjoint(line.targets[0].id)
            if primal in self._dense_scope:
                return True
            self._dense_scope.add(primal)
        return False

    def _note_assignment(self, line):
        if isinstance(line, ast.Assign):
            for target in line.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        primal = self._primal_of_adjoint(sub.id)
                        if primal is not None and not (isinstance(line.value, ast.Call) and
                                                       ast.unparse(line.value.func) == "ad.dense"):
                            self._dense_scope.discard(primal)
                        self._dense_scope.discard(sub.id)

    def backward_call(self, lines, piece, full, partial, indent, alias_restores=(), checks=()):
        stmt = self._stmt_of(piece)
        for n in full:
            self._dense_scope.discard(n)
        for _, _, arg in piece.written:
            base = storage_name(arg)
            if base is not None:
                self._dense_scope.discard(base)
        for n in reversed(full):
            lines.stmt(indent, self.restore(stmt, n))
        if piece.passive:
            for k, param, arg in reversed(piece.written):
                base = storage_name(arg)
                if base in partial:
                    target = everything(base) if isinstance(arg, ast.Name) else store_copy(arg)
                    lines.stmt(indent, ast.Assign(targets=[target], value=tape_pop()))
            for line in alias_restores + self.reset_targets(piece):
                lines.stmt(indent, line)
                self._note_assignment(line)
            return
        ctx = self.ctx
        gen = self.pctx.functions_gen[piece.callee]
        hooks = self.pctx.hooks
        checkpointed = self.pctx.checkpointed(piece.site)
        extra = []
        pre = []
        if gen.result_active():
            if piece.targets:
                temps = []
                for t in piece.targets:
                    if t in ctx.active:
                        temp = self.namer.fresh("tmp_b")
                        pre.append(assign(temp, name(ctx.adj(t))))
                        temps.append(name(temp))
                    else:
                        temps.append(const(0.0))
                for t in piece.targets:
                    if t in ctx.active:
                        pre.append(assign(ctx.adj(t), const(0.0)))
                extra.append(temps[0] if len(temps) == 1 else ast.Tuple(elts=temps, ctx=ast.Load()))
            else:
                n = len(self.pctx.program.functions[piece.callee].result_names)
                extra.append(const(0.0) if n == 1 else ast.Tuple(elts=[const(0.0)] * n, ctx=ast.Load()))
        else:
            pre.extend(self.reset_targets(piece))
        callee_params = self.pctx.summaries.params(piece.callee)
        for param in gen.adjoint_inputs():
            arg = piece.node.args[callee_params.index(param)]
            base = storage_name(arg)
            if base is not None and base in ctx.active and _is_storage(arg, ctx.kinds):
                adj = ctx.adj(base)
                if isinstance(arg, ast.Name):
                    extra.append(name(adj))
                else:
                    pre.extend(ctx_dense(ctx, base))
                    region = copy.deepcopy(arg)
                    region.value = name(adj)
                    extra.append(region)
            else:
                extra.append(const(0.0))
        for line in pre:
            lines.stmt(indent, line)
            self._note_assignment(line)
        if checkpointed:
            if hooks and self.snapshot(piece):
                lines.add(indent, inline_event(SNAPSHOT_READ, piece.site.id))
            for arg in reversed(self.snapshot(piece)):
                target = everything(arg.id) if isinstance(arg, ast.Name) else store_copy(arg)
                lines.stmt(indent, ast.Assign(targets=[target], value=tape_pop()), "restore the snapshot")
            func = self.pctx.generated_name(piece.callee, "b")
            if hooks:
                lines.add(indent, inline_event(BEGIN_REVERSE, piece.site.id))
        else:
            func = self.pctx.generated_name(piece.callee, "bwd")
            if hooks:
                lines.add(indent, inline_event(BEGIN_SPLIT_REVERSE, piece.site.id))
        # joint: the callee's adjoint pushes and checks its own fingerprints after this check;
        # split: its forward sweep kept them after the caller's, so it checks them first
        if checkpointed and self.pctx.verify:
            lines.stmt(indent, self.expect_outputs(piece))
        for line in checks if checkpointed else ():
            lines.stmt(indent, line)
        args = [name("tape")] + [copy.deepcopy(a) for a in piece.node.args] + extra + self.run_arguments()
        invocation = ast.Call(func=name(func), args=args, keywords=[])
        outs = gen.active_params
        if not outs:
            lines.stmt(indent, ast.Expr(value=invocation))
        else:
            temps = [self.namer.fresh("tmp_b") for _ in outs]
            target = name(temps[0], True) if len(temps) == 1 else ast.Tuple(
                elts=[name(t, True) for t in temps], ctx=ast.Store())
            lines.stmt(indent, ast.Assign(targets=[target], value=invocation))
        if hooks:
            lines.add(indent, f"prof.end_reverse({piece.site.id!r}, tape)" if checkpointed else
                      f"prof.end_split_reverse({piece.site.id!r}, tape)")
        for line in list(checks if not checkpointed else ()) + list(alias_restores):
            lines.stmt(indent, line)
        writes = self.pctx.summaries.writes(piece.callee)
        accumulate = []
        ex = ExprAdjoint(ctx, accumulate)
        for param, temp in zip(outs, temps if outs else []):
            arg = piece.node.args[callee_params.index(param)]
            if param in writes and _is_storage(arg, ctx.kinds):
                base = storage_name(arg)
                if base in ctx.active:
                    if isinstance(arg, ast.Name):
                        accumulate.append(assign(ctx.adj(base), name(temp)))
                    else:
                        region = copy.deepcopy(arg)
                        region.value = name(ctx.adj(base))
                        accumulate.append(ast.Assign(targets=[store_copy(region)], value=name(temp)))
                continue
            if ex.active(arg):
                ex.mark_needed(arg)
                if ex.shape_rules(arg):
                    # the callee's adjoint may still be the 0.0 it began as: no shape for these rules
                    body = []
                    ExprAdjoint(ctx, body, ex).propagate(arg, name(temp), True)
                    accumulate.append(ast.If(test=call("ad.nonzero", name(temp)), body=body or [ast.Pass()],
                                             orelse=[]))
                else:
                    ex.propagate(arg, name(temp), True)
        for line in accumulate:
            if self._redundant_dense(line):
                continue
            lines.stmt(indent, line)
            self._note_assignment(line)
        for line in self.finite_checks(stmt, accumulate):
            lines.stmt(indent, line)

    def backward_if(self, lines, stmt, indent, backward_of):
        branches = _if_chain(stmt)
        saved = set(self._dense_scope)
        bodies = []
        for _, body in branches:
            self._dense_scope = set(saved)
            bodies.append(self.backward(body, indent + 1, backward_of))
        _, changed = self._dense_lines([stmt])
        self._dense_scope = saved - changed
        if not any(b.lines for b in bodies):
            backward_of[id(stmt)] = False
            return
        backward_of[id(stmt)] = True
        lines.add(indent, f"# line {stmt.lineno}: the branch taken")
        if len(branches) <= 2:
            lines.add(indent, "if tape.pop():")
            lines.extend(bodies[0]) if bodies[0].lines else lines.add(indent + 1, "pass")
            if len(branches) == 2 and bodies[1].lines:
                lines.add(indent, "else:")
                lines.extend(bodies[1])
            return
        branch = self.namer.fresh("branch")
        lines.add(indent, f"{branch} = tape.pop()")
        first = True
        for k, body in enumerate(bodies):
            if not body.lines:
                continue
            lines.add(indent, f"{'if' if first else 'elif'} {branch} == {k}:")
            lines.extend(body)
            first = False

    def backward_for(self, lines, loop, indent, backward_of):
        densified, changed = self._dense_lines(loop.body)
        hoisted = sorted(n for n in densified - changed if n not in self._dense_scope)
        saved = set(self._dense_scope)
        # the body runs again after its own end: an adjoint it resets is not dense at its start
        self._dense_scope = (self._dense_scope - changed) | set(hoisted)
        body = self.backward(loop.body, indent + 1, backward_of)
        self._dense_scope = (saved - changed) | set(hoisted)
        if not body.lines:
            backward_of[id(loop)] = False
            return
        backward_of[id(loop)] = True
        for n in hoisted:
            adj = self.ctx.adj(n)
            lines.add(indent, f"{adj} = ad.dense({adj}, {n})")
        target = loop.target.id
        if id(loop) in self.counted_loops:
            lines.add(indent, f"for {target} in reversed(tape.pop()):  # line {loop.lineno}")
        else:
            if self.pctx.verify:
                index = self.pctx.verify_points.add(Point(
                    self.func.name, self.func.path, loop.lineno, f"for {target} in {ast.unparse(loop.iter)}",
                    (f"the range {ast.unparse(loop.iter)}",), ("",)))
                self._verify_index[id(loop)] = index
                lines.stmt(indent, verify.same(index, [copy.deepcopy(loop.iter)]))
            lines.add(indent, f"for {target} in reversed({ast.unparse(loop.iter)}):  # line {loop.lineno}")
        self.recompute_indices(lines, loop, indent + 1)
        lines.extend(body)
        for n in sorted(self.tbr.loop_pushes.get(id(loop), ()), reverse=True):
            lines.stmt(indent, assign(n, tape_pop()))

    def recompute_indices(self, lines, loop, indent):
        """The indices this iteration used, computed again rather than popped (analysis/indices.py)."""
        prefix = self.recomputed.get(id(loop))
        if prefix is None:
            return
        lines.add(indent, f"# the indices of this iteration, computed again: {', '.join(sorted(prefix.names))}")
        for stmt in prefix.statements:
            lines.stmt(indent, stmt)

    def backward_while(self, lines, loop, indent, backward_of):
        saved = set(self._dense_scope)
        _, changed = self._dense_lines(loop.body)
        self._dense_scope -= changed
        body = self.backward(loop.body, indent + 1, backward_of)
        self._dense_scope = saved - changed
        if not body.lines:
            backward_of[id(loop)] = False
            return
        backward_of[id(loop)] = True
        lines.add(indent, f"for _ in range(tape.pop()):  # line {loop.lineno}: while")
        lines.extend(body)

    # -- whole functions --------------------------------------------------------------------------
    def sweeps(self):
        """(forward Lines, backward Lines) of the body, at indent 1."""
        self._counted = {}
        self._pending_flags = []
        self._verify_index = {}       # id(stmt or loop) -> its verify point
        self._verify_outputs = {}     # id(call stmt) -> the point of its advance's outputs
        self._dense_scope = set(self.ctx.dense_names)
        backward_of = {}
        backward = self.backward(self.func.node.body, 1, backward_of)
        forward = Lines()
        self.forward(forward, self.func.node.body, 1, backward_of)
        return forward, backward

    def pre_init(self, turn_pushes):
        """Names pushed while possibly unbound get None first (so the push is defined)."""
        names = set()
        for stmt_id, pushed in self.tbr.full_pushes.items():
            names |= {n for n in pushed if n not in self.bound_before.get(stmt_id, frozenset())}
        for stmt_id, pushed in self.tbr.alias_pushes.items():
            names |= {n for n in pushed if n not in self.bound_before.get(stmt_id, frozenset())}
        for loop_id, pushed in self.tbr.loop_pushes.items():
            names |= {n for n in pushed if n not in self.bound_before.get(loop_id, frozenset())}
        names |= {n for n in turn_pushes if n not in self.bound_end}
        return sorted(names)

    def adjoint_init(self):
        """Lines at the turn: adjoints start at zero, except the ones passed in."""
        given = set(self.adjoint_inputs())
        results = list(self.func.result_names) if self.result_active() else []
        zeros = sorted(n for n in self.ctx.active if n not in given and n not in results
                       and n in self.func.locals)
        lines = []
        if len(results) > 1:
            lines.append(", ".join(self.ctx.adj(r) for r in results) + f" = ad.items(result_b, {len(results)})")
        dense = self.ctx.dense_names
        for n in zeros:
            if n in dense:
                lines.append(f"{self.ctx.adj(n)} = np.zeros_like({n}, dtype=float)")
            else:
                lines.append(f"{self.ctx.adj(n)} = 0.0")
        for n in sorted(given & dense):
            lines.append(f"{self.ctx.adj(n)} = ad.dense({self.ctx.adj(n)}, {n})")
        return lines

    def signature(self, mode):
        params = list(self.func.params)
        head = ["tape"] + params
        if mode == "fwd":
            return head + [a.id for a in self.run_arguments()]
        extra = []
        if self.result_active():
            extra.append("result_b" if len(self.func.result_names) > 1 else self.ctx.adj(self.func.result_names[0]))
        extra += [self.ctx.adj(p) for p in self.adjoint_inputs()]
        return head + extra + [a.id for a in self.run_arguments()]

    def run_arguments(self):
        """What every generated function passes on after its adjoints: the profiler, the verifier."""
        return ([name("prof")] if self.pctx.hooks else []) + ([name("verify")] if self.pctx.verify else [])

    def returns(self):
        outs = [self.ctx.adj(p) for p in self.active_params]
        if not outs:
            return None
        return outs[0] if len(outs) == 1 else ", ".join(outs)

    def emit(self, modes, head=False):
        """Source text of the requested variants ('b', 'fwd', 'bwd')."""
        forward, backward = self.sweeps()      # one text of each sweep serves every variant
        turn_pushes = self.turn_locals()
        out = Lines()
        label = f"{self.func.name} ({_short(self.func.path)}:{self.func.user.node.lineno})"
        results = ", ".join(self.func.result_names)
        init = self.pre_init(turn_pushes if "fwd" in modes else [])
        if "b" in modes:
            sig = ", ".join(self.signature("b"))
            out.add(0, f"def {self.pctx.generated_name(self.key, 'b')}({sig}):")
            what = "the head" if head else "joint mode, run when a checkpointed call is reversed"
            out.add(1, f'"""Adjoint of {label}, {what}: forward sweep, turn, backward sweep."""')
            for n in init:
                out.add(1, f"{n} = None")
            out.extend(forward)
            out.add(1, "# turn")
            if self.pctx.verify and not head:
                out.add(1, self.turn_check())
            if self.pctx.hooks:
                out.add(1, self._turn_hook("turn", TURN, turn_pushes))
            if head:
                out.add(1, f"value = {results}")
            for line in self.adjoint_init():
                out.add(1, line)
            out.extend(backward)
            ret = self.returns()
            if head:
                out.add(1, f"return value, ({ret}{',' if ret and ',' not in ret else ''})" if ret else
                        "return value, ()")
            elif ret:
                out.add(1, f"return {ret}")
            out.add(0, "")
            out.add(0, "")
        if "fwd" in modes:
            sig = ", ".join(self.signature("fwd"))
            out.add(0, f"def {self.pctx.generated_name(self.key, 'fwd')}({sig}):")
            out.add(1, f'"""Forward sweep of {label}, split mode (its backward sweep is '
                       f'{self.pctx.generated_name(self.key, "bwd")})."""')
            for n in init:
                out.add(1, f"{n} = None")
            out.extend(forward)
            if self.pctx.hooks:
                out.add(1, self._turn_hook("split_turn", SPLIT_TURN, turn_pushes))
            if turn_pushes:
                out.add(1, "# what the backward sweep reads that dies or changes when this function returns")
            dying = set(self.func.locals) - set(self.func.params) - set(self.func.result_names)
            for n in turn_pushes:
                # a local dies here: an array that only it holds goes onto the tape uncopied
                out.add(1, f"tape.move({n})" if n in dying else f"tape.push({n})")
            if results:
                out.add(1, f"return {results}")
            out.add(0, "")
            out.add(0, "")
        if "bwd" in modes:
            sig = ", ".join(self.signature("bwd"))
            out.add(0, f"def {self.pctx.generated_name(self.key, 'bwd')}({sig}):")
            out.add(1, f'"""Backward sweep of {label}, split mode (after '
                       f'{self.pctx.generated_name(self.key, "fwd")})."""')
            for n in reversed(turn_pushes):
                out.add(1, self.restore_turn_local(n))
            for line in self.adjoint_init():
                out.add(1, line)
            out.extend(backward)
            ret = self.returns()
            if ret:
                out.add(1, f"return {ret}")
            elif not backward.lines and not turn_pushes and not self.adjoint_init():
                out.add(1, "pass")
            out.add(0, "")
            out.add(0, "")
        return "\n".join(out.lines)

    def _turn_hook(self, hook, kind, turn_pushes):
        """The profiling event at a turn, given the locals a split forward sweep pushes there: a
        hook that measures them, or, with none, an inline event."""
        if not turn_pushes:
            return inline_event(kind, self.key)
        return f"prof.{hook}({self.key!r}, tape, ({', '.join(turn_pushes)},))"


def inline_event(kind, site):
    """A profiling event recorded without a call (runtime/profiler.py, INLINE)."""
    return INLINE_STATEMENT.format(kind=kind, site=site)


def _short(path):
    from pathlib import Path
    return Path(path).name


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


def _keyword_only(call, callee):
    """A call of the user's function passes its keyword-only parameters (after ``*args``) by name."""
    count = len(callee.node.args.kwonlyargs)
    if count:
        names = callee.user_params[-count:]
        call.keywords = [ast.keyword(arg=n, value=a) for n, a in zip(names, call.args[-count:])]
        call.args = call.args[:-count]


def _statement_label(stmt):
    return f"line {stmt.lineno} ({_source_line(stmt)})"


def _source_line(stmt):
    text = ast.unparse(stmt).splitlines()[0]
    return text if len(text) <= 70 else text[:67] + "..."


def _breaks(stmts):
    for stmt in stmts:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def _if_chain(stmt):
    branches = [(stmt.test, stmt.body)]
    orelse = stmt.orelse
    while len(orelse) == 1 and isinstance(orelse[0], ast.If):
        branches.append((orelse[0].test, orelse[0].body))
        orelse = orelse[0].orelse
    branches.append((None, orelse))
    if not orelse:
        branches[-1] = (None, [])
    return branches


def _is_storage(arg, kinds):
    """An argument that designates an existing array (x, x[1:-1], x[:, k]) rather than a new value."""
    if isinstance(arg, ast.Name):
        kind = kinds.get(arg)
        return kind is None or kind.maybe_array
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
        kind = kinds.get(arg)
        return (kind is None or kind.maybe_array) and _basic_index(arg.slice, kinds)
    return False
