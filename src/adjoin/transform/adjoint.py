"""Adjoints of statements (the backward sweep, statement by statement).

For a simple statement the generator writes the code that propagates adjoints from what the
statement defines to what it reads, through its expressions (expression.py) with the derivative
table for every primitive.  The code
reads primal values as they were just before the statement: the tape restores the overwritten
ones first (see tbr.py), so the generator reports which primal names its code reads — their
values, or only their binding (shape), for ``ad.sum_to``/``ad.dense``.
"""
import ast
import copy

from ..analysis.points_to import _basic_index
from .code import assign, call, const, name
from .expression import ExprAdjoint, boolean_index, ctx_dense
from .templates import substitute

ZERO = 0.0


def _update_in_one(lines, adj, temp, scalar=False):
    """``t = y_b; y_b = 0.0; ...; y_b += E(t)`` as ``...; y_b = E(y_b)`` (Tapenade's ``yb = 3*yb``)
    when E makes a new value (an operator, or sum_to / np.sum of one) and nothing else reads t or
    y_b; for a scalar ``y = y + e``, ``t = y_b; y_b = 0.0; y_b += t; e_b += E(t)`` as
    ``e_b += E(y_b)``; the lines unchanged otherwise."""
    if scalar:
        kept = _kept_accumulator(lines, adj, temp)
        if kept is not None:
            return kept
    *middle, last = lines[2:] or [None]
    if not (isinstance(last, ast.AugAssign) and isinstance(last.target, ast.Name) and last.target.id == adj
            and isinstance(last.op, ast.Add) and _fresh(last.value)):
        return lines
    if any(_mentions(line, {adj, temp}) for line in middle) or _mentions(last.value, {adj}):
        return lines
    return middle + [assign(adj, substitute(last.value, {temp: name(adj)}))]


def _kept_accumulator(lines, adj, temp):
    """The lines after ``t = y_b; y_b = 0.0`` without ``y_b += t``, reading y_b for t, when y_b is a
    float that no other line mentions (its adjoint passes through unchanged); else None."""
    rest = lines[2:]
    passing = [k for k, line in enumerate(rest) if isinstance(line, ast.AugAssign) and isinstance(line.op, ast.Add)
               and isinstance(line.target, ast.Name) and line.target.id == adj
               and isinstance(line.value, ast.Name) and line.value.id == temp]
    if len(passing) != 1:
        return None
    others = rest[:passing[0]] + rest[passing[0] + 1:]
    if any(_mentions(line, {adj}) for line in others):
        return None
    return [substitute(line, {temp: name(adj)}) for line in others]


def _fresh(node):
    if isinstance(node, ast.BinOp):
        return True
    return (isinstance(node, ast.Call) and ast.unparse(node.func) in ("ad.sum_to", "np.sum") and node.args
            and isinstance(node.args[0], ast.BinOp))


def _mentions(node, names):
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def reverse_assign(ctx, stmt, maybe_bound_before):
    """Backward code of ``target = value`` (target: name, tuple of names, or subscript)."""
    lines = []
    target = stmt.targets[0]
    ex = ExprAdjoint(ctx, lines)
    if isinstance(target, ast.Name):
        _reverse_to_name(ctx, ex, target, stmt.value, maybe_bound_before)
    elif isinstance(target, (ast.Tuple, ast.List)):
        _reverse_to_names(ctx, ex, target, stmt.value)
    elif isinstance(target, ast.Subscript):
        _reverse_to_subscript(ctx, ex, target, stmt.value)
    return lines


def guarded(ctx, ex, node, temp):
    """``if ad.nonzero(t): <propagate t through node>``: an adjoint still 0.0 (nothing flowed into
    it) has no shape for the rules that need one."""
    body = []
    ExprAdjoint(ctx, body, ex).propagate(node, name(temp), True)
    return ast.If(test=call("ad.nonzero", name(temp)), body=body or [ast.Pass()], orelse=[])


def _reverse_to_name(ctx, ex, target, value, maybe_bound_before):
    """``x = value``: x's adjoint flows into value's, then x's is reset (it belonged to the old x)."""
    lines = ex.lines
    if target.id not in ctx.active:
        return
    adj = ctx.adj(target.id)
    reads_self = any(isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(value))
    if not ex.active(value):
        if target.id in maybe_bound_before:
            lines.append(assign(adj, const(ZERO)))
        return
    ex.mark_needed(value)
    target_kind = ctx.kind(target)
    guard = (target_kind is None or not target_kind.scalar) and ex.shape_rules(value)
    if reads_self or guard:
        temp = ctx.namer.fresh("tmp_b")
        lines.append(assign(temp, name(adj)))
        lines.append(assign(adj, const(ZERO)))
        if guard:
            lines.append(guarded(ctx, ex, value, temp))
        else:
            start = len(lines)
            ex.propagate(value, name(temp), True)
            scalar = target_kind is not None and target_kind.scalar
            lines[start - 2:] = _update_in_one(lines[start - 2:], adj, temp, scalar)
    else:
        ex.propagate(value, name(adj), True)
        lines.append(assign(adj, const(ZERO)))


def _reverse_to_names(ctx, ex, target, value):
    """``a, b = value``: the targets' adjoints are taken aside and reset, then flow into value's
    (item by item when value is a tuple display of the same length)."""
    lines = ex.lines
    names_ = [e.id for e in target.elts]
    if not any(n in ctx.active for n in names_):
        return
    temps = []
    for n in names_:
        if n in ctx.active:
            temp = ctx.namer.fresh("tmp_b")
            lines.append(assign(temp, name(ctx.adj(n))))
            temps.append(temp)
        else:
            temps.append(None)
    for n in names_:
        if n in ctx.active:
            lines.append(assign(ctx.adj(n), const(ZERO)))
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names_):
        for elt, temp in zip(value.elts, temps):
            if temp is not None:
                ex.mark_needed(elt)
        for elt, temp, target_elt in zip(value.elts, temps, target.elts):
            if temp is None:
                continue
            kind = ctx.kind(target_elt)
            if (kind is None or not kind.scalar) and ex.shape_rules(elt):
                lines.append(guarded(ctx, ex, elt, temp))
            else:
                ex.propagate(elt, name(temp), True)
    elif ex.active(value):
        ex.mark_needed(value)
        g = ast.Tuple(elts=[name(t) if t else const(ZERO) for t in temps], ctx=ast.Load())
        ex.propagate(value, g, True)


def _reverse_to_subscript(ctx, ex, target, value):
    """``x[i] = value``: the adjoint of the region written flows into value's, and is reset."""
    lines = ex.lines
    base = target.value.id
    if base not in ctx.active:
        return
    adj = ctx.adj(base)
    reads_self = any(isinstance(n, ast.Name) and n.id == base for n in ast.walk(value))
    lines.extend(ctx_dense(ctx, base))
    index = ex.value_index(target.slice)
    region = surviving(ctx, target, ast.Subscript(value=name(adj), slice=index, ctx=ast.Load()), index)
    zero = assign(ast.Subscript(value=name(adj), slice=copy.deepcopy(index), ctx=ast.Store()), const(ZERO))
    if not ex.active(value):
        lines.append(zero)
        return
    ex.mark_needed(value)
    temp = ctx.namer.fresh("tmp_b")
    scalar_region = ctx.is_scalar(target)
    if reads_self and not scalar_region:
        lines.append(assign(temp, ast.Call(func=ast.Attribute(value=region, attr="copy", ctx=ast.Load()),
                                            args=[], keywords=[])))
        lines.append(zero)
        ex.propagate(value, name(temp), exact=scalar_region)
    elif reads_self or scalar_region:
        lines.append(assign(temp, region))
        lines.append(zero)
        ex.propagate(value, name(temp), exact=scalar_region and ctx.is_scalar(value))
    else:
        lines.append(assign(temp, region))
        ex.propagate(value, name(temp), exact=False)
        lines.append(zero)


def surviving(ctx, target, region, index):
    """The adjoint of what a store into ``target`` wrote: ``region``, or, for an index array that
    may name an element twice (``y[[0, 1, 1]] = v``: NumPy keeps the last write), only the part
    whose write survived (``ad.kept``)."""
    if _basic_index(target.slice, ctx.kinds) or boolean_index(target.slice, ctx):
        return region
    return ast.BinOp(left=region, op=ast.Mult(), right=call("ad.kept", name(target.value.id), copy.deepcopy(index)))


def reverse_augassign(ctx, stmt, maybe_bound_before):
    """Backward code of ``target op= value``."""
    target = stmt.target
    op = stmt.op
    base = target.id if isinstance(target, ast.Name) else target.value.id
    if base not in ctx.active:
        return []
    lines = []
    ex = ExprAdjoint(ctx, lines)
    linear = isinstance(op, (ast.Add, ast.Sub))
    target_kind = ctx.kind(target) if isinstance(target, ast.Name) else None
    value_kind = ctx.kind(stmt.value)
    widening = target_kind is not None and target_kind.scalar and value_kind is not None and value_kind.maybe_array
    if linear and not widening:
        if not ex.active(stmt.value):
            return lines
        ex.mark_needed(stmt.value)
        if isinstance(target, ast.Name):
            g = name(ctx.adj(base))
            exact = ctx.is_scalar(stmt.value) and ctx.is_scalar(target)
        else:
            adj = ctx.adj(base)
            lines.extend(ctx_dense(ctx, base))
            index = ex.value_index(target.slice)
            g = surviving(ctx, target, ast.Subscript(value=name(adj), slice=index, ctx=ast.Load()), index)
            exact = ctx.is_scalar(target) and ctx.is_scalar(stmt.value)
        if isinstance(op, ast.Sub):
            g = ast.UnaryOp(op=ast.USub(), operand=g)
        ex.propagate(stmt.value, g, exact)
        return lines
    # general case: target = target op value
    load_target = copy.deepcopy(target)
    for sub in ast.walk(load_target):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    expr = ast.BinOp(left=load_target, op=op, right=stmt.value)
    _copy_kinds(ctx, target, load_target)
    ctx.kinds[expr] = ctx.kinds.get(target) if not widening else value_kind
    if isinstance(target, ast.Name):
        fake = ast.Assign(targets=[name(base, True)], value=expr)
    else:
        fake = ast.Assign(targets=[target], value=expr)
    return reverse_assign(ctx, fake, maybe_bound_before | {base})


def _copy_kinds(ctx, source, dest):
    for a, b in zip(ast.walk(source), ast.walk(dest)):
        if a in ctx.kinds:
            ctx.kinds[b] = ctx.kinds[a]


# names read by generated code -------------------------------------------------------------------

_BINDING_CALLS = {("ad", "sum_to"): 1, ("ad", "dense"): 1, ("ad", "kept"): 0, ("np", "shape"): 0,
                  ("np", "zeros_like"): 0,
                  ("np", "ndim"): 0, ("np", "size"): 0}


def primal_reads(lines, primal_names):
    """(value reads, binding reads) of primal names by generated statements."""
    values, bindings = set(), set()

    def visit(node, binding=False):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id in primal_names:
                (bindings if binding else values).add(node.id)
            return
        if isinstance(node, ast.Attribute) and node.attr in ("shape", "size", "ndim"):
            visit(node.value, True)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name):
            position = _BINDING_CALLS.get((node.func.value.id, node.func.attr))
            if position is not None:
                for k, arg in enumerate(node.args):
                    visit(arg, binding or k == position)
                return
        if isinstance(node, ast.Subscript) and binding:
            visit(node.value, True)
            visit(node.slice, False)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, binding)
    for line in lines:
        visit(line)
    return values, bindings - values
