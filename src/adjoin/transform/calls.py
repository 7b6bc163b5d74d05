"""Call sites of user functions in both sweeps: joint mode (checkpointed) or split mode.

Forward sweep: a checkpointed call pushes its snapshot and runs the user's own function (the
advance); a call that is not checkpointed runs the callee's forward sweep ``f_fwd``; a call that
carries no derivative runs the user's function, after pushing what it overwrites.  Backward
sweep: a checkpointed call restores its snapshot and runs the callee's joint adjoint ``f_b``,
the other runs ``f_bwd``; the adjoints they return flow into the arguments' adjoints.
Profiling builds record the site's events around both (runtime/profiler.py).
"""
import ast
import copy

from ..analysis.activity import storage_name
from ..runtime.profiler import (BEGIN_ADVANCE, BEGIN_REVERSE, BEGIN_SPLIT_REVERSE, SNAPSHOT_READ,
                                SNAPSHOT_WRITE)
from . import verify
from .adjoint import guarded
from .code import assign, const, everything, inline_event, name, store_copy, tape_pop, tape_push
from .expression import ExprAdjoint, ctx_dense
from .function import is_storage


# -- forward sweep --------------------------------------------------------------------------------
def forward_call(sweep, lines, piece, full, partial, indent):
    """A call site in the forward sweep (``sweep``: the ForwardSweep); ``full``: the names its
    targets rebind that are pushed first, ``partial``: the arrays it overwrites that are pushed."""
    gen = sweep.gen
    stmt = piece.stmt
    node = copy.deepcopy(piece.node)
    checkpointed = gen.pctx.checkpointed(piece.site)
    if piece.passive or checkpointed:
        node = primal_call(gen, piece)
    else:
        node.func = name(gen.pctx.generated_name(piece.callee, "fwd"))
        node.args = [name("tape")] + node.args + gen.run_arguments()
    comment = f"line {stmt.lineno}"
    _before_call(gen, lines, piece, partial, indent)
    end_hook = None
    if gen.pctx.hooks and not piece.passive:
        end_hook = (f"prof.end_advance({piece.site.id!r}, tape)" if checkpointed else
                    f"prof.end_split({piece.site.id!r}, tape)")
    if full:
        temp = gen.namer.fresh(f"{piece.callee}_result")
        lines.stmt(indent, assign(temp, node), comment)
        if end_hook:
            lines.add(indent, end_hook)
        for n in full:
            lines.stmt(indent, sweep.save(stmt, n))
        lines.stmt(indent, ast.Assign(targets=[copy.deepcopy(stmt.targets[0])], value=name(temp)))
    else:
        if piece.targets:
            lines.stmt(indent, ast.Assign(targets=[copy.deepcopy(stmt.targets[0])], value=node), comment)
        else:
            lines.stmt(indent, ast.Expr(value=node), comment)
        if end_hook:
            lines.add(indent, end_hook)
    if id(stmt) in sweep.marks.outputs:
        lines.stmt(indent, verify.keep(sweep.marks.outputs[id(stmt)], verify.advance_outputs(gen, piece)[0]))


def _before_call(gen, lines, piece, partial, indent):
    """What precedes the call: the arrays a passive call overwrites pushed; a checkpointed call's
    snapshot (and its profiling events); for a split call, the snapshot it would save measured."""
    hooks = gen.pctx.hooks
    if piece.passive:
        for arg in piece.written:
            if storage_name(arg[2]) in partial:
                lines.stmt(indent, tape_push(copy.deepcopy(arg[2])))
    elif gen.pctx.checkpointed(piece.site):
        snapshot = gen.snapshot(piece)
        if hooks and snapshot:       # an empty snapshot has no snapshot events (W = R = 0)
            lines.add(indent, inline_event(SNAPSHOT_WRITE, piece.site.id))
        for arg in snapshot:
            lines.stmt(indent, tape_push(copy.deepcopy(arg)), "snapshot")
        if hooks:
            lines.add(indent, inline_event(BEGIN_ADVANCE, piece.site.id))
    elif hooks:
        snapshot = gen.snapshot(piece)
        if restorable(gen, snapshot):
            _sampled(gen, lines, piece, snapshot, indent)
        # the snapshot this call would save if checkpointed: measured, not pushed
        lines.add(indent, f"prof.begin_split({piece.site.id!r}, tape, {_values(snapshot)})")


def _values(args):
    """``(a, b[1:-1],)``: a tuple of the values of ``args`` in generated code."""
    text = ", ".join(ast.unparse(a) for a in args)
    return f"({text}{',' if text else ''})"


def primal_call(gen, piece):
    """The call of the user's own function at a call site (a checkpointed call's advance)."""
    node = copy.deepcopy(piece.node)
    node.func = name(gen.pctx.primal_name(piece.callee))
    _keyword_only(node, gen.pctx.program.functions[piece.callee])
    return node


def restorable(gen, snapshot):
    """Whether a split call's snapshot can be set back in place after its primal ran, as a
    checkpointed call's reversal sets it back: arrays, or regions of arrays (an empty snapshot:
    the call changes nothing its re-run reads)."""
    kinds = gen.ctx.kinds
    for arg in snapshot:
        base = arg if isinstance(arg, ast.Name) else getattr(arg, "value", None)
        kind = kinds.get(base) if isinstance(base, ast.Name) else None
        if kind is None or not kind.array:
            return False
    return True


def _sampled(gen, lines, piece, snapshot, indent):
    """Profiling a split call: its first instances (runtime/profiler.py, CALL_SAMPLES) run the
    primal a checkpointed call would advance, timed, from its snapshot copied aside and set
    back in place after (arrays and regions of arrays: the values begin_sample was given); then
    its forward sweep runs as usual."""
    site = piece.site.id
    lines.add(indent, f"if {site!r} not in prof.sampled_sites:  # profiled: the primal timed, then undone")
    lines.add(indent + 1, f"prof.begin_sample({site!r}, tape, {_values(snapshot)})")
    lines.stmt(indent + 1, ast.Expr(value=primal_call(gen, piece)), "its advance, were it checkpointed")
    lines.add(indent + 1, f"prof.end_sample({site!r}, tape)  # the snapshot set back in place")


def snapshot_targets(snapshot):
    """Where a checkpointed call's snapshot is set back: ``x[...]`` for a whole array, the region
    itself for a region (``x[1:-1]``)."""
    return [everything(arg.id) if isinstance(arg, ast.Name) else store_copy(arg) for arg in snapshot]


def _keyword_only(call, callee):
    """A call of the user's function passes its keyword-only parameters (after ``*args``) by name."""
    count = len(callee.node.args.kwonlyargs)
    if count:
        names = callee.user_params[-count:]
        call.keywords = [ast.keyword(arg=n, value=a) for n, a in zip(names, call.args[-count:])]
        call.args = call.args[:-count]


# -- backward sweep -------------------------------------------------------------------------------
def backward_call(sweep, lines, piece, full, partial, indent, alias_restores=(), checks=()):
    """A call site in the backward sweep (``sweep``: the BackwardSweep): the names its forward
    sweep pushed restored, then the callee's adjoint, then its arguments' adjoints updated.
    ``checks``: verify mode's check of what the reversal reads."""
    gen = sweep.gen
    for n in full:
        sweep.dense_scope.discard(n)
    for _, _, arg in piece.written:
        base = storage_name(arg)
        if base is not None:
            sweep.dense_scope.discard(base)
    for n in reversed(full):
        lines.stmt(indent, sweep.restore(piece.stmt, n))
    if piece.passive:
        _restore_passive(sweep, lines, piece, partial, indent, alias_restores)
        return
    checkpointed = gen.pctx.checkpointed(piece.site)
    pre, extra = _adjoints_passed(gen, piece)
    for line in pre:
        lines.stmt(indent, line)
        sweep.note_assignment(line)
    func = _start_reversal(sweep, lines, piece, checkpointed, indent, checks)
    returned = _run_callee_adjoint(gen, lines, piece, func, extra, indent)
    if gen.pctx.hooks:
        lines.add(indent, f"prof.end_reverse({piece.site.id!r}, tape)" if checkpointed else
                  f"prof.end_split_reverse({piece.site.id!r}, tape)")
    for line in list(checks if not checkpointed else ()) + list(alias_restores):
        lines.stmt(indent, line)
    _accumulate_returned(sweep, lines, piece, returned, indent)


def _restore_passive(sweep, lines, piece, partial, indent, alias_restores):
    """The reversal of a call that carries no derivative: it only restores what the call overwrote."""
    for k, param, arg in reversed(piece.written):
        base = storage_name(arg)
        if base in partial:
            target = everything(base) if isinstance(arg, ast.Name) else store_copy(arg)
            lines.stmt(indent, ast.Assign(targets=[target], value=tape_pop()))
    for line in alias_restores + reset_targets(sweep.gen, piece):
        lines.stmt(indent, line)
        sweep.note_assignment(line)


def reset_targets(gen, piece):
    """A name rebound to a call's result that carries no derivative: the adjoint it had belonged
    to its old value, which this statement does not read."""
    return [assign(gen.ctx.adj(t), const(0.0)) for t in piece.targets or () if t in gen.ctx.active]


def _adjoints_passed(gen, piece):
    """(lines before the call, the adjoints passed to the callee's adjoint): its result's (the
    targets' adjoints, taken aside and reset), then those of the arrays it updates in place."""
    ctx = gen.ctx
    callee = gen.pctx.functions_gen[piece.callee]
    pre, extra = [], []
    if callee.result_active():
        extra.append(_result_adjoint(gen, piece, pre))
    else:
        pre.extend(reset_targets(gen, piece))
    callee_params = gen.pctx.summaries.params(piece.callee)
    for param in callee.adjoint_inputs():
        arg = piece.node.args[callee_params.index(param)]
        base = storage_name(arg)
        if base is not None and base in ctx.active and is_storage(arg, ctx.kinds):
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
    return pre, extra


def _result_adjoint(gen, piece, pre):
    """The adjoint of the call's result, appending to ``pre`` the lines that take the targets'
    adjoints aside and reset them (0.0 for a result assigned to nothing)."""
    ctx = gen.ctx
    if not piece.targets:
        n = len(gen.pctx.program.functions[piece.callee].result_names)
        return const(0.0) if n == 1 else ast.Tuple(elts=[const(0.0)] * n, ctx=ast.Load())
    temps = []
    for t in piece.targets:
        if t in ctx.active:
            temp = gen.namer.fresh("tmp_b")
            pre.append(assign(temp, name(ctx.adj(t))))
            temps.append(name(temp))
        else:
            temps.append(const(0.0))
    for t in piece.targets:
        if t in ctx.active:
            pre.append(assign(ctx.adj(t), const(0.0)))
    return temps[0] if len(temps) == 1 else ast.Tuple(elts=temps, ctx=ast.Load())


def _start_reversal(sweep, lines, piece, checkpointed, indent, checks):
    """What precedes the callee's adjoint: a checkpointed call's snapshot restored, the profiling
    event, verify mode's checks; returns the name of the adjoint to run (``f_b`` or ``f_bwd``)."""
    gen = sweep.gen
    hooks = gen.pctx.hooks
    if checkpointed:
        if hooks and gen.snapshot(piece):
            lines.add(indent, inline_event(SNAPSHOT_READ, piece.site.id))
        for target in reversed(snapshot_targets(gen.snapshot(piece))):
            lines.stmt(indent, ast.Assign(targets=[target], value=tape_pop()), "restore the snapshot")
        func = gen.pctx.generated_name(piece.callee, "b")
        if hooks:
            lines.add(indent, inline_event(BEGIN_REVERSE, piece.site.id))
    else:
        func = gen.pctx.generated_name(piece.callee, "bwd")
        if hooks:
            lines.add(indent, inline_event(BEGIN_SPLIT_REVERSE, piece.site.id))
    # joint: the callee's adjoint pushes and checks its own fingerprints after this check;
    # split: its forward sweep kept them after the caller's, so it checks them first
    if checkpointed and gen.pctx.verify:
        lines.stmt(indent, verify.expect_outputs(gen, sweep.marks, piece))
    for line in checks if checkpointed else ():
        lines.stmt(indent, line)
    return func


def _run_callee_adjoint(gen, lines, piece, func, extra, indent):
    """The call of the callee's adjoint; returns [(parameter, temp)]: the adjoints it returns."""
    args = [name("tape")] + [copy.deepcopy(a) for a in piece.node.args] + extra + gen.run_arguments()
    invocation = ast.Call(func=name(func), args=args, keywords=[])
    outs = gen.pctx.functions_gen[piece.callee].active_params
    if not outs:
        lines.stmt(indent, ast.Expr(value=invocation))
        return []
    temps = [gen.namer.fresh("tmp_b") for _ in outs]
    target = name(temps[0], True) if len(temps) == 1 else ast.Tuple(
        elts=[name(t, True) for t in temps], ctx=ast.Store())
    lines.stmt(indent, ast.Assign(targets=[target], value=invocation))
    return list(zip(outs, temps))


def _accumulate_returned(sweep, lines, piece, returned, indent):
    """The adjoints the callee's adjoint returned, given to its arguments: an array it updates in
    place gets its new adjoint, any other active argument's adjoint flows back through it."""
    gen = sweep.gen
    ctx = gen.ctx
    callee_params = gen.pctx.summaries.params(piece.callee)
    writes = gen.pctx.summaries.writes(piece.callee)
    accumulate = []
    ex = ExprAdjoint(ctx, accumulate)
    for param, temp in returned:
        arg = piece.node.args[callee_params.index(param)]
        if param in writes and is_storage(arg, ctx.kinds):
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
                accumulate.append(guarded(ctx, ex, arg, temp))
            else:
                ex.propagate(arg, name(temp), True)
    for line in accumulate:
        if sweep.redundant_dense(line):
            continue
        lines.stmt(indent, line)
        sweep.note_assignment(line)
    for line in verify.finite_checks(gen, piece.stmt, accumulate):
        lines.stmt(indent, line)
