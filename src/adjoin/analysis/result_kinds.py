"""The kinds of primitives' results: one function per value of the table's ``result`` property
(rules.KIND_RULES says what each means), given the kinds of a call's arguments.
"""
import ast

import numpy as np

from .kind_lattice import BOOL, FLOAT, INT, UNKNOWN, Kind, array, broadcast, join, matmul_kind


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return _MISSING_LITERAL


_MISSING_LITERAL = object()


def _shape_rank(node, kind):
    """Rank of an array built from shape argument ``node`` of kind ``kind``."""
    if kind is None:
        return None
    if kind.cat in ("int", "bool"):
        return 1
    if kind.cat in ("tuple", "list"):
        return len(kind.items)
    return None


def _bound_arg(rule, node, name, args, keywords, offset=0):
    """(ast node, kind) of parameter ``name`` of a rule call, or (None, None)."""
    if rule is None or name not in rule.params:
        return None, None
    position = rule.params.index(name)
    if name in keywords:
        for kw in node.keywords:
            if kw.arg == name:
                return kw.value, keywords[name]
    if position < len(args):
        nodes = ([node.func.value] if offset else []) + list(node.args)
        return (nodes[position] if position < len(nodes) else None), args[position]
    return None, None


def rule_kind(key, rule, node, args, keywords, func):
    """Kind of the result of a primitive of the table: its ``result`` property says how it follows
    from the arguments' kinds (analysis never matches a primitive's name); a ``dtype`` argument,
    when given, sets an array's dtype."""
    if rule is None:
        return UNKNOWN
    call = _Call(rule, node, args, keywords, 1 if key.startswith("method.") else 0)
    kind = _RESULTS.get(rule.result, _inactive)(call)
    if not kind.array:
        return kind
    dtype_node, _ = call.bound("dtype")
    if dtype_node is not None and not (isinstance(dtype_node, ast.Constant) and dtype_node.value is None):
        return array(kind.rank, _dtype_of(dtype_node, func))
    return kind


class _Call:
    """A call of a primitive, as the result rules see it: the arguments' kinds and nodes."""

    def __init__(self, rule, node, args, keywords, offset):
        self.rule, self.node, self.args, self.keywords, self.offset = rule, node, args, keywords, offset
        self.first = args[0] if args else UNKNOWN

    def bound(self, name):
        return _bound_arg(self.rule, self.node, name, self.args, self.keywords, self.offset)

    def literal(self, name, default=None):
        node, _ = self.bound(name)
        if node is None:
            return self.rule.defaults.get(name, default)
        value = _literal(node)
        return _MISSING_LITERAL if value is _MISSING_LITERAL else value

    def dtype(self):
        return self.first.dtype if self.first.array else "f"


def _dtype_of(node, func):
    """'f', 'i' or 'b' for a dtype argument (float, np.int64, "int32", bool, ...), None if unknown:
    an int array truncates the floats stored into it, so its dtype decides what is active."""
    from ..frontend.source import MISSING, resolve
    value = node.value if isinstance(node, ast.Constant) else resolve(node, func.user.globals)
    if value is MISSING:
        return None
    try:
        code = np.dtype(value).kind
    except TypeError:
        return None
    return {"f": "f", "i": "i", "u": "i", "b": "b"}.get(code)


def _elementwise(c):
    relevant = [k for p, k in zip(c.rule.params, c.args) if p in c.rule.adjoints or p == "condition"] or c.args
    return broadcast(relevant) if relevant else UNKNOWN


def _reduce(c):
    if c.literal("keepdims", False) is True:
        return c.first if c.first.array else FLOAT
    axis = c.literal("axis")
    if axis is None:
        return FLOAT if c.first.dtype != "i" else INT
    count = len(axis) if isinstance(axis, tuple) else 1 if axis is not _MISSING_LITERAL or \
        c.bound("axis")[1] == INT else None
    if not c.first.array or c.first.rank is None or count is None:
        return array(None)
    rank = c.first.rank - count
    return array(rank) if rank > 0 else FLOAT


def _like(c):
    if c.first.array:
        return array(c.first.rank, c.first.dtype)
    return array(0) if c.first.scalar else array(None)


def _join(c):
    out = None
    for k in c.args:
        out = join(out, k)
    return out or UNKNOWN


def _item(c):
    first = c.first
    if first.cat == "tuple":
        return _join(_Call(c.rule, c.node, list(first.items), {}, 0))
    if first.array and first.rank is not None:
        return array(first.rank - 1, first.dtype) if first.rank > 1 else (INT if first.dtype == "i" else FLOAT)
    return UNKNOWN


def _from_shape(c):
    node, kind = c.bound("shape")
    return array(_shape_rank(node, kind))


def _reshape(c):
    node, kind = c.bound("shape")
    if c.rule.varargs:                      # x.reshape(3, 4) or x.reshape((3, 4))
        dims = c.args[1:]
        if len(dims) == 1:
            return array(_shape_rank(None, dims[0]), c.dtype())
        return array(len(dims), c.dtype())
    return array(_shape_rank(node, kind), c.dtype())


def _display(c):
    obj = c.node.args[0] if c.node.args else None
    if isinstance(obj, (ast.List, ast.Tuple)):
        depth, inner = 0, obj
        while isinstance(inner, (ast.List, ast.Tuple)):
            depth += 1
            inner = inner.elts[0] if inner.elts else None
        item = c.first.items[0] if c.first.items else FLOAT
        extra = item.rank if item.array and item.rank is not None else 0
        return array(depth + extra if item.cat != "unknown" else None,
                     "f" if item.cat in ("float", "array") else ("i" if item.cat == "int" else None))
    return c.first if c.first.array else array(None)


def _ranks_joined(c):
    seq = c.first
    return [k.rank for k in seq.items if k.array and k.rank is not None] if seq.cat == "tuple" else []


def _stack(c):
    items = [k for k in c.first.items if k.array] if c.first.cat == "tuple" else []
    if items and all(k.rank is not None for k in items):
        return array(items[0].rank + 1)
    return array(None)


def _concatenate(c):
    known = _ranks_joined(c)                # NumPy joins arrays of one rank: any known one tells it
    return array(known[0]) if known else array(None)


def _vstack(c):
    known = _ranks_joined(c)
    return array(max(known[0], 2)) if known else array(None)


def _expand(c):
    axis = c.literal("axis")
    if not c.first.array or c.first.rank is None or axis is _MISSING_LITERAL:
        return array(None)
    return array(c.first.rank + (len(axis) if isinstance(axis, tuple) else 1), c.first.dtype)


def _broadcast(c):
    node, kind = c.bound("shape")
    return array(_shape_rank(node, kind), c.dtype())


def _tile(c):
    node, kind = c.bound("reps")
    reps = _shape_rank(node, kind)
    rank = c.first.rank if c.first.array else 0
    return array(max(rank, reps) if reps is not None and rank is not None else None, c.dtype())


def _flat_unless_axis(c):
    return array(1, c.dtype()) if c.literal("axis") is None else _like(c)


def _arange(c):
    return array(1, "i" if all(k.cat in ("int", "bool") for k in c.args) else "f")


def _arg(c):
    return INT if c.literal("axis") is None else array(None, "i")


def _where(c):
    return UNKNOWN if len(c.node.args) + len(c.node.keywords) == 1 else _elementwise(c)


def _diag(c):
    if c.first.array and c.first.rank in (1, 2):
        return array(3 - c.first.rank, c.first.dtype)
    return array(None)


def _diagonal(c):
    if c.first.array and c.first.rank is not None and c.first.rank >= 2:
        return array(c.first.rank - 1, c.first.dtype)
    return array(None)


def _einsum(c):
    spec = c.node.args[0] if c.node.args else None
    if isinstance(spec, ast.Constant) and isinstance(spec.value, str) and "->" in spec.value:
        out = spec.value.split("->")[1].strip()
        return array(len(out)) if out else FLOAT
    return UNKNOWN


def _gradient(c):
    if c.first.array and (c.first.rank == 1 or c.literal("axis") is not None):
        return array(c.first.rank, "f")
    return UNKNOWN


def _meshgrid(c):
    count = len(c.node.args)
    return Kind("tuple", items=(array(count),) * count)


def _inactive(c):
    return UNKNOWN


_RESULTS = {
    "elementwise": _elementwise, "reduce": _reduce, "scalar": lambda c: FLOAT, "int": lambda c: INT,
    "bool": lambda c: BOOL, "same": lambda c: c.first, "like": _like,
    "array": lambda c: array(None), "matmul": lambda c: matmul_kind(c.first, c.args[1] if len(c.args) > 1 else UNKNOWN),
    "item": _item, "join": _join, "from_shape": _from_shape, "reshape": _reshape,
    "flat": lambda c: array(1, c.dtype()), "arange": _arange, "flat_or_like": _flat_unless_axis,
    "display": _display, "stack": _stack, "concatenate": _concatenate, "vstack": _vstack,
    "matrix": lambda c: array(2), "expand": _expand, "broadcast": _broadcast, "tile": _tile,
    "repeat": _flat_unless_axis, "arg": _arg, "where": _where, "diag": _diag, "diagonal": _diagonal, "einsum": _einsum,
    "gradient": _gradient, "meshgrid": _meshgrid, "inactive": _inactive,
}
