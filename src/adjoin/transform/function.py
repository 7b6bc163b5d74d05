"""The plan of one user function's adjoint: its statements prepared, their effects, TBR.

``FunctionGen`` prepares every simple statement once (a ``Piece``: its adjoint lines from
adjoint.py, or for a user call a ``CallPiece``), gives TBR (analysis/tbr.py) their effects, and
answers what the sweeps ask: what a checkpointed call snapshots, what a split forward sweep
pushes at its end, which adjoints the function takes and returns.  The sweeps are written from
this plan by forward.py and backward.py (calls.py for call sites), and assembled into ``f_b``,
``f_fwd`` and ``f_bwd`` by variants.py.
"""
import ast
import copy

from ..analysis.activity import storage_name
from ..analysis.entry_access import _whole as _whole_index, constant_region
from ..analysis.points_to import _basic_index
from ..analysis.bound import definitely_bound, maybe_bound
from ..analysis.indices import recomputed_prefix
from ..analysis.tbr import CallEffect, StatementEffect, run_tbr
from . import loopsite
from .adjoint import primal_reads, reverse_assign, reverse_augassign
from .code import name
from .expression import FunctionContext


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
    """The plan of one function's adjoint: its prepared statements (``pieces``), their TBR
    result (``tbr``), and what the sweeps and variants ask of it."""

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
        self.loop_sites = {}            # id(loop) -> LoopSite: loops a binomial schedule reverses
        self.advanced_calls = set()     # callees their advances call as primal
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
                        from ..analysis.kind_lattice import join
                        found = join(found, kind)
        if n in self.func.params:
            param_kind = self.pctx.kinds.param_kinds.get(self.key, {}).get(n)
            if param_kind is not None:
                from ..analysis.kind_lattice import join
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
        site = self.pctx.loop_site(self.key, loop.lineno)
        if site is not None:
            self._prepare_loop_site(loop, site)
            return
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

    def _prepare_loop_site(self, loop, site):
        """A loop site's re-run iterations read what its body reads (loopsite.py) and call its
        callees as primal; its range is kept by its schedule."""
        self.loop_sites[id(loop)] = site
        for node in ast.walk(ast.Module(body=loop.body, type_ignores=[])):
            callee = self.func.callees.get(id(node)) if isinstance(node, ast.Call) else None
            if callee is not None and callee.kind == "user":
                self.advanced_calls.add(callee.key)
        prefix = recomputed_prefix(loop, self.func.node.body, set(self.func.params), self._inactive_scalar)
        if prefix is not None:
            self.recomputed[id(loop)] = prefix
        self.loop_reads[id(loop)] = frozenset(loopsite.invariant_reads(self, loop) & set(self.func.locals))

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
                if (param in summary.rewrites or param in needed_in) and is_storage(arg, self.ctx.kinds)]

    def _call_effect(self, piece):
        summary = self.pctx.summaries.by_key[piece.callee]
        regions = dict(summary.write_regions)
        values, bindings, partial = set(), set(), set()
        written_args = []
        locals_ = self.func.locals
        for k, param in enumerate(summary.params):
            arg = piece.node.args[k]
            names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)} & locals_
            if param in summary.writes and is_storage(arg, self.ctx.kinds):
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

    # -- what the sweeps and the variants ask ------------------------------------------------------
    def output_params(self):
        """The parameters whose arrays this function updates and also reads, in order (verify
        mode's turn check): their snapshot gives a re-run the whole array to start from, so the
        whole array must come out as the advance left it. An array the function only writes into
        is not restored, and what it does not write of it may have changed since the advance."""
        writes, reads = self.pctx.summaries.writes(self.key), self.pctx.summaries.reads(self.key)
        return [p for p in self.func.params if p in writes and p in reads]

    def run_arguments(self):
        """What every generated function passes on after its adjoints: the profiler, the verifier."""
        return ([name("prof")] if self.pctx.hooks else []) + ([name("verify")] if self.pctx.verify else [])


def region(stmt, base):
    """The region of ``base`` a statement updates in place (for pushing and restoring)."""
    target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
    if isinstance(target, ast.Subscript):
        region = copy.deepcopy(target)
        region.ctx = ast.Load()
        return region
    return name(base)


def _breaks(stmts):
    """Whether a loop with this body may be left by ``break`` (in it or in its branches, not in inner loops)."""
    for stmt in stmts:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def if_chain(stmt):
    """``if/elif/else`` as [(test, body)], the ``else`` last with test None (its body maybe empty)."""
    branches = [(stmt.test, stmt.body)]
    orelse = stmt.orelse
    while len(orelse) == 1 and isinstance(orelse[0], ast.If):
        branches.append((orelse[0].test, orelse[0].body))
        orelse = orelse[0].orelse
    branches.append((None, orelse))
    if not orelse:
        branches[-1] = (None, [])
    return branches


def is_storage(arg, kinds):
    """An argument that designates an existing array (x, x[1:-1], x[:, k]) rather than a new value."""
    if isinstance(arg, ast.Name):
        kind = kinds.get(arg)
        return kind is None or kind.maybe_array
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
        kind = kinds.get(arg)
        return (kind is None or kind.maybe_array) and _basic_index(arg.slice, kinds)
    return False
