"""Shapes of the user's code that the checker and the normalizer both recognize."""
import ast
import builtins

from .source import resolve


def assigned_names(node):
    """The names stored anywhere in ``node``."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


def is_local_root(expr, local_names):
    """Is ``expr`` (``x``, ``x.T``) rooted at a local name, or at an expression (``(a + b).T``)."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return isinstance(expr, ast.Name) and expr.id in local_names or not isinstance(expr, (ast.Name, ast.Attribute))


def storage_root(arg):
    """The name of the array an argument passes as storage (``y``, ``y[1:, k]``), or None."""
    while isinstance(arg, ast.Subscript):
        arg = arg.value
    return arg.id if isinstance(arg, ast.Name) else None


def names_expr(names):
    """``a`` or ``(a, b)``: the expression that loads ``names``."""
    if len(names) == 1:
        return ast.Name(id=names[0], ctx=ast.Load())
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in names], ctx=ast.Load())


def is_range(expr, fn_globals):
    """``range(...)`` with one to three positional arguments, ``range`` being the builtin."""
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "range"
            and resolve(expr.func, fn_globals) is builtins.range and not expr.keywords
            and 1 <= len(expr.args) <= 3)


def names_only(target):
    """A name, or a tuple or list of names and such tuples (``i, (a, b)``)."""
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(names_only(e) for e in target.elts)


def reversed_range(expr, fn_globals):
    """The range of ``reversed(range(...))``, else None."""
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and len(expr.args) == 1
            and not expr.keywords and resolve(expr.func, fn_globals) is reversed
            and is_range(expr.args[0], fn_globals)):
        return expr.args[0]
    return None


def loop_sequences(expr, fn_globals):
    """("enumerate", [seq, start?]), ("zip", [seqs]), ("reversed", [seq]) or ("items", [expr])
    for a loop's iterable."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        target = resolve(expr.func, fn_globals)
        if target is reversed and len(expr.args) == 1 and not expr.keywords:
            return "reversed", list(expr.args)
        if target is enumerate and 1 <= len(expr.args) <= 2 and not expr.keywords:
            return "enumerate", list(expr.args)
        if target is enumerate and len(expr.args) == 1 and [k.arg for k in expr.keywords] == ["start"]:
            return "enumerate", [expr.args[0], expr.keywords[0].value]
        if target is zip:
            return "zip", list(expr.args)
    return "items", [expr]


def parallel_store(target, value):
    """``a, b = c, d`` with as many values as targets (so each target gets one value)."""
    return isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
        and len(target.elts) == len(value.elts) and not any(isinstance(e, ast.Starred) for e in target.elts)


def fills(call):
    """``x.fill(v)`` on a name: one value, no keyword (``a[k].fill(v)`` writes a view when ``k`` is
    basic and a copy when it is an index array: refused, not guessed)."""
    return (isinstance(call.func, ast.Attribute) and call.func.attr == "fill" and isinstance(call.func.value, ast.Name)
            and len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred))


def plain_copy(call):
    """``np.copyto(dst, src)`` into a name: two arguments, no keyword (``where=``, ``casting=`` are
    refused, and so is a subscript ``dst``, as for ``.fill``)."""
    return (len(call.args) == 2 and not call.keywords and isinstance(call.args[0], ast.Name)
            and not isinstance(call.args[1], ast.Starred))


def exposed_reads(stmts):
    """Names a block may read before it sets them (so their values from before the block):
    over-approximated, a name counts as set only by an assignment of the block itself, not one in
    a branch or a nested loop; an in-place target (x[i] = ..., x += ...) counts as read."""
    exposed, defined = set(), set()
    for stmt in stmts:
        exposed |= _reads_of(stmt) - defined
        if isinstance(stmt, ast.Assign):
            defined |= {n.id for t in stmt.targets if not isinstance(t, ast.Subscript) for n in ast.walk(t)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return exposed


def _reads_of(stmt):
    names = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for node in ast.walk(stmt):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            names.add(node.value.id)
    return names
