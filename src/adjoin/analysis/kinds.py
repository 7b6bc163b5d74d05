"""Kinds: what sort of value each name and expression holds (float, int, array of rank r, ...).

The adjoint needs them where Python's meaning depends on the value: ``x += e`` updates an array in
place but rebinds a float; ``a[i]`` is a number on a 1-D array and a view on a 2-D one.  Kinds
are inferred from the kinds of the head's actual arguments, through every statement, and through
calls (a callee's parameter kinds join its call sites' argument kinds).
"""
import ast
import types
from dataclasses import dataclass

import numpy as np

from .flow import Forward


@dataclass(frozen=True)
class Kind:
    """A value's sort: cat in float int bool str none array tuple module unknown."""
    cat: str
    rank: int | None = None       # arrays
    dtype: str | None = None      # arrays: "f", "i", "b" or None (unknown)
    items: tuple = ()             # tuples

    def __str__(self):
        if self.cat == "array":
            return f"array(rank {self.rank if self.rank is not None else '?'})"
        if self.cat == "tuple":
            return "tuple(" + ", ".join(str(i) for i in self.items) + ")"
        return self.cat

    @property
    def scalar(self):
        return self.cat in ("float", "int", "bool")

    @property
    def array(self):
        return self.cat == "array"

    @property
    def maybe_array(self):
        return self.cat in ("array", "unknown")

    @property
    def numeric(self):
        """Could carry a derivative (a float, or an array of floats, or unknown)."""
        if self.cat == "array":
            return self.dtype in ("f", None)
        return self.cat in ("float", "unknown")


FLOAT = Kind("float")
INT = Kind("int")
BOOL = Kind("bool")
STR = Kind("str")
NONE = Kind("none")
UNKNOWN = Kind("unknown")
MODULE = Kind("module")
FUNCTION = Kind("function")
BOTTOM = Kind("bottom")     # not known yet (a callee's result before its first analysis)


def array(rank=None, dtype="f"):
    return Kind("array", rank, dtype)


def of_value(value):
    """The kind of a run-time value."""
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    if isinstance(value, str):
        return STR
    if value is None:
        return NONE
    if isinstance(value, np.ndarray):
        code = value.dtype.kind
        return array(value.ndim, "f" if code == "f" else "i" if code in "iu" else "b" if code == "b" else None)
    if isinstance(value, tuple):
        return Kind("tuple", items=tuple(of_value(v) for v in value))
    if isinstance(value, types.ModuleType):
        return MODULE
    if isinstance(value, types.FunctionType):
        return FUNCTION           # a scheme passed as a value: the calls are specialized on it
    return UNKNOWN


def join(a, b):
    """Least upper bound of two kinds."""
    if a is None or a == BOTTOM:
        return b
    if b is None or b == BOTTOM or a == b:
        return a
    if a.scalar and b.scalar:
        if "float" in (a.cat, b.cat):
            return FLOAT
        return INT
    if a.array and b.array:
        return array(a.rank if a.rank == b.rank else None, a.dtype if a.dtype == b.dtype else None)
    if a.cat == "tuple" and b.cat == "tuple" and len(a.items) == len(b.items):
        return Kind("tuple", items=tuple(join(x, y) for x, y in zip(a.items, b.items)))
    return UNKNOWN


def broadcast(kinds):
    """Kind of an element-wise operation on values of these kinds."""
    if any(k == BOTTOM for k in kinds):
        return BOTTOM
    arrays = [k for k in kinds if k.maybe_array]
    if not arrays:
        if all(k.cat in ("int", "bool") for k in kinds):
            return INT
        return FLOAT
    if any(k.cat == "unknown" for k in arrays):
        if len(arrays) == len([k for k in kinds if not k.scalar]) and all(k.cat == "unknown" for k in arrays):
            return UNKNOWN
    ranks = [k.rank for k in arrays if k.array]
    if any(k.cat == "unknown" for k in arrays) or any(r is None for r in ranks):
        rank = None
    else:
        rank = max(ranks)
    dtypes = {k.dtype for k in arrays if k.array}
    scalars_float = any(k.cat == "float" for k in kinds)
    dtype = "f" if ("f" in dtypes or scalars_float or None in dtypes) else ("i" if dtypes <= {"i", "b"} else None)
    if any(k.cat == "unknown" for k in arrays) and all(not k.array for k in arrays):
        return UNKNOWN
    return array(rank, dtype)


class KindContext:
    """What kind inference needs to know about the program."""

    def __init__(self, program, rules):
        self.program = program
        self.rules = rules
        self.param_kinds = {}     # function key -> {param: Kind}
        self.result_kinds = {}    # function key -> Kind or None
        self.expr_kinds = {}      # function key -> {node: Kind} (the node, not its id: a node made and freed
                                  # while generating code must not leave its kind to a later one)
        self.env_before = {}      # function key -> {id(stmt): env}


def infer_kinds(program, rules, head_kinds):
    """Infers kinds for every function; ``head_kinds`` maps the head's parameters to kinds."""
    ctx = KindContext(program, rules)
    order = program.order()
    ctx.param_kinds[program.head] = dict(head_kinds)
    for _ in range(12):
        before = (repr(ctx.param_kinds), repr(ctx.result_kinds))
        site_kinds = {}
        for key in order:
            func = program.functions[key]
            if key == program.head:
                params = ctx.param_kinds[key]
            elif key in site_kinds:
                # callers come first: this function's call sites are all known by now
                args = site_kinds[key]
                params = {p: (args[k] if k < len(args) and args[k] else UNKNOWN) for k, p in enumerate(func.params)}
                ctx.param_kinds[key] = params
            else:
                continue
            analysis = KindAnalysis(ctx, func)
            env = {p: params.get(p, UNKNOWN) for p in func.params}
            end = analysis.run(func.node.body, env)
            ctx.expr_kinds[key] = analysis.kinds
            ctx.env_before[key] = analysis.envs
            ret = func.node.body[-1] if func.result_names else None
            result = None
            if ret is not None and end is not None:
                kinds = [end.get(n, UNKNOWN) for n in func.result_names]
                result = kinds[0] if len(kinds) == 1 else Kind("tuple", items=tuple(kinds))
            ctx.result_kinds[key] = result
            for callee_key, args in analysis.calls:
                current = site_kinds.setdefault(callee_key, [None] * len(args))
                for k, kind in enumerate(args):
                    if k < len(current):
                        current[k] = join(current[k], kind)
        if (repr(ctx.param_kinds), repr(ctx.result_kinds)) == before:
            break
    for table in ctx.expr_kinds.values():
        for node_id, kind in table.items():
            if kind == BOTTOM:
                table[node_id] = UNKNOWN
    return ctx


class KindAnalysis(Forward):
    """Flow-sensitive kinds of one function's names; records each expression's kind."""

    def __init__(self, ctx, func):
        self.ctx = ctx
        self.func = func
        self.kinds = {}
        self.envs = {}
        self.calls = []

    def join(self, a, b):
        out = dict(a)
        for name, kind in b.items():
            out[name] = join(out.get(name), kind)
        return out

    def loop_entry(self, loop, state):
        if isinstance(loop, ast.For):
            state = dict(state)
            state[loop.target.id] = INT
            for arg in loop.iter.args:
                self.expr(arg, state)
        else:
            self.expr(loop.test, state)
        return state

    def before_if(self, stmt, state):
        self.expr(stmt.test, state)
        return state

    def transfer(self, stmt, env):
        self.envs[id(stmt)] = env
        env = dict(env)
        if isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value, env)
            for target in stmt.targets:
                self.assign(target, stmt.value, value, env)
        elif isinstance(stmt, ast.AugAssign):
            value = self.expr(stmt.value, env)
            if isinstance(stmt.target, ast.Name):
                old = env.get(stmt.target.id, UNKNOWN)
                self.kinds[stmt.target] = old
                env[stmt.target.id] = self.binop(stmt.op, old, value)
            else:
                self.expr(stmt.target, env)
        elif isinstance(stmt, ast.Expr):
            self.expr(stmt.value, env)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.expr(stmt.value, env)
        elif isinstance(stmt, ast.Assert):
            self.expr(stmt.test, env)
        return env

    def assign(self, target, value_node, kind, env):
        if isinstance(target, ast.Name):
            env[target.id] = kind
            self.kinds[target] = kind
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value_node, (ast.Tuple, ast.List)) and len(value_node.elts) == len(target.elts):
                items = [self.kinds.get(e, UNKNOWN) for e in value_node.elts]
            elif kind.cat == "tuple" and len(kind.items) == len(target.elts):
                items = list(kind.items)
            elif kind == BOTTOM:
                items = [BOTTOM] * len(target.elts)
            else:
                items = [UNKNOWN] * len(target.elts)
            for elt, item in zip(target.elts, items):
                self.assign(elt, None, item, env)
        elif isinstance(target, ast.Subscript):
            self.expr(target, env)

    # -- expressions ------------------------------------------------------------------------------
    def expr(self, node, env):
        kind = self._expr(node, env)
        operands = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            operands.append(node.func.value)         # w.copy(): the receiver is an operand too
        if kind != BOTTOM and any(self.kinds.get(c) == BOTTOM for c in operands) and not isinstance(node, ast.IfExp):
            kind = BOTTOM
        if node in self.kinds:
            kind = join(self.kinds[node], kind) if self.kinds[node] != kind else kind
        self.kinds[node] = kind
        return kind

    def _expr(self, node, env):
        if isinstance(node, ast.Constant):
            return of_value(node.value)
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in self.func.locals:
                return UNKNOWN
            value = self.func.user.globals.get(node.id)
            return of_value(value)
        if isinstance(node, ast.BinOp):
            a = self.expr(node.left, env)
            b = self.expr(node.right, env)
            return self.binop(node.op, a, b)
        if isinstance(node, ast.UnaryOp):
            a = self.expr(node.operand, env)
            if isinstance(node.op, ast.Not):
                return BOOL
            return a if a.cat != "bool" else INT
        if isinstance(node, ast.BoolOp):
            kinds = [self.expr(v, env) for v in node.values]
            out = None
            for k in kinds:
                out = join(out, k)
            return out
        if isinstance(node, ast.Compare):
            kinds = [self.expr(node.left, env)] + [self.expr(c, env) for c in node.comparators]
            if any(k.maybe_array for k in kinds):
                b = broadcast(kinds)
                return array(b.rank, "b") if b.array else UNKNOWN
            return BOOL
        if isinstance(node, ast.IfExp):
            self.expr(node.test, env)
            return join(self.expr(node.body, env), self.expr(node.orelse, env))
        if isinstance(node, ast.Tuple):
            return Kind("tuple", items=tuple(self.expr(e, env) for e in node.elts))
        if isinstance(node, ast.List):
            # a list of values is a tuple to the analyses: its items are never assigned (effects.py
            # refuses that), so only indexing and unpacking remain, which both share
            return Kind("tuple", items=tuple(self.expr(e, env) for e in node.elts))
        if isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self.expr(part, env)
            return Kind("slice")
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            return STR
        return UNKNOWN

    def binop(self, op, a, b):
        if BOTTOM in (a, b):
            return BOTTOM
        if isinstance(op, ast.MatMult):
            return matmul_kind(a, b)
        if a.cat == "str" or b.cat == "str":
            return STR
        if a.cat == "tuple" or b.cat == "tuple":
            return UNKNOWN
        kind = broadcast([a, b])
        if kind.cat == "int" and isinstance(op, ast.Div):
            return FLOAT
        if kind.array and isinstance(op, ast.Div):
            return array(kind.rank, "f")
        return kind

    def attribute(self, node, env):
        base = node.value
        from ..frontend.source import MISSING, resolve
        if not _local_root(base, self.func.locals):
            value = resolve(node, self.func.user.globals)
            if value is not MISSING:
                return of_value(value) if not callable(value) else UNKNOWN
        kind = self.expr(base, env)
        if node.attr == "T":
            return kind
        if node.attr in ("size", "ndim"):
            return INT
        if node.attr == "shape":
            if kind.array and kind.rank is not None:
                return Kind("tuple", items=(INT,) * kind.rank)
            return Kind("tuple", items=())
        if node.attr in ("real", "imag"):
            return kind
        return UNKNOWN

    def subscript(self, node, env):
        base = self.expr(node.value, env)
        index = node.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        kinds = [self.expr(p, env) for p in parts]
        if base.cat == "tuple":
            if isinstance(index, ast.Constant) and isinstance(index.value, int) and base.items:
                try:
                    return base.items[index.value]
                except IndexError:
                    return UNKNOWN
            if base.items and all(i == INT for i in base.items):
                return INT if not isinstance(index, ast.Slice) else base
            if base.items and not isinstance(index, ast.Slice):
                out = None               # an item, at an index known only when the code runs
                for item in base.items:
                    out = join(out, item)
                return out
            return UNKNOWN
        if not base.maybe_array:
            return UNKNOWN
        advanced = any(k.maybe_array or k.cat in ("list", "tuple", "unknown") for k in kinds)
        if advanced:
            return array(_advanced_rank(base, parts, kinds, self.func), base.dtype if base.array else None)
        rank = base.rank if base.array else None
        ints = sum(1 for k in kinds if k.cat in ("int", "bool"))
        nones = sum(1 for p in parts if isinstance(p, ast.Constant) and p.value is None
                    or _is_newaxis(p, self.func))
        ellipsis = any(isinstance(p, ast.Constant) and p.value is Ellipsis for p in parts)
        if rank is None or ellipsis:
            if ints == 0 or nones:
                return array(None, base.dtype if base.array else None)
            return UNKNOWN
        new_rank = rank - ints + nones
        if new_rank == 0:
            return {"i": INT, "b": BOOL}.get(base.dtype, FLOAT)
        return array(max(new_rank, 0), base.dtype)

    def call(self, node, env):
        callee = self.func.callees.get(id(node))
        args = [self.expr(a, env) for a in node.args]
        keywords = {kw.arg: self.expr(kw.value, env) for kw in node.keywords}
        if callee is None:
            return UNKNOWN
        if callee.kind == "user":
            self.calls.append((callee.key, args))
            if callee.key not in self.ctx.result_kinds:
                return BOTTOM
            result = self.ctx.result_kinds.get(callee.key)
            return result if result is not None else NONE
        if callee.kind == "print":
            return NONE
        if callee.kind != "rule":
            return UNKNOWN
        key = callee.key
        if key.startswith("method."):
            base = self.expr(node.func.value, env)
            args = [base] + args
        return rule_kind(key, self.ctx.rules.get(key), node, args, keywords, self.func)


def _advanced_rank(base, parts, kinds, func):
    """Rank of ``base[parts]`` with index arrays (NumPy's rule: the index arrays broadcast together
    give their dimensions once, slices keep theirs, ints drop theirs, a bool mask of rank b stands
    for b dimensions), or None when a part's kind or rank is unknown."""
    if not base.array or base.rank is None:
        return None
    consumed, kept, nones, advanced = 0, 0, 0, []
    for part, kind in zip(parts, kinds):
        if isinstance(part, ast.Constant) and part.value is None or _is_newaxis(part, func):
            nones += 1
        elif isinstance(part, ast.Slice):
            consumed, kept = consumed + 1, kept + 1
        elif kind.cat in ("int", "bool"):
            consumed += 1
        elif kind.array and kind.rank is not None and kind.dtype == "b":
            consumed += kind.rank
            advanced.append(1)
        elif kind.array and kind.rank is not None and kind.dtype == "i":
            consumed += 1
            advanced.append(kind.rank)
        else:
            return None
    if consumed > base.rank:
        return None
    return kept + (base.rank - consumed) + nones + (max(advanced) if advanced else 0)


def _is_newaxis(node, func):
    from ..frontend.source import resolve
    return isinstance(node, ast.Attribute) and node.attr == "newaxis" and resolve(node, func.user.globals) is None


def _local_root(expr, local_names):
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return not isinstance(expr, ast.Name) or expr.id in local_names


def matmul_kind(a, b):
    if a.array and b.array and a.rank is not None and b.rank is not None:
        if a.rank == 1 and b.rank == 1:
            return FLOAT
        if a.rank == 1:
            return array(b.rank - 1)
        if b.rank == 1:
            return array(a.rank - 1)
        return array(max(a.rank, b.rank))
    if a.scalar or b.scalar:
        return broadcast([a, b])
    return UNKNOWN


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
