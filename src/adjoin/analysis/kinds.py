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


# Rules whose result shape needs more than KIND_RULES' words (constructors and reshapes).
_SHAPE_FROM_ARG = {"np.zeros", "np.ones", "np.empty", "np.full"}
_LIKE_FIRST = {"np.zeros_like", "np.ones_like", "np.empty_like", "np.full_like", "np.copy", "method.copy",
               "np.asarray", "np.roll", "np.pad", "np.diff", "np.clip", "method.clip", "method.astype",
               "np.cumsum", "np.flip", "np.sort"}
_RANK_ONE = {"np.ravel", "method.ravel", "method.flatten", "np.hstack_1d", "np.arange", "np.linspace",
             "np.nonzero_1"}


class KindContext:
    """What kind inference needs to know about the program."""

    def __init__(self, program, rules):
        self.program = program
        self.rules = rules
        self.param_kinds = {}     # function key -> {param: Kind}
        self.result_kinds = {}    # function key -> Kind or None
        self.expr_kinds = {}      # function key -> {id(node): Kind}
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
                self.kinds[id(stmt.target)] = old
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
            self.kinds[id(target)] = kind
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value_node, (ast.Tuple, ast.List)) and len(value_node.elts) == len(target.elts):
                items = [self.kinds.get(id(e), UNKNOWN) for e in value_node.elts]
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
        if kind != BOTTOM and any(self.kinds.get(id(c)) == BOTTOM for c in ast.iter_child_nodes(node)
                                  if isinstance(c, ast.expr)) and not isinstance(node, (ast.IfExp,)):
            kind = BOTTOM
        if id(node) in self.kinds:
            kind = join(self.kinds[id(node)], kind) if self.kinds[id(node)] != kind else kind
        self.kinds[id(node)] = kind
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
            return array(None, base.dtype if base.array else None)
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
    """Kind of the result of a derivative-table primitive (its dtype from a ``dtype`` argument)."""
    kind = _rule_kind(key, rule, node, args, keywords, func)
    if not kind.array:
        return kind
    dtype_node, _ = _bound_arg(rule, node, "dtype", args, keywords, 1 if key.startswith("method.") else 0)
    if dtype_node is not None and not (isinstance(dtype_node, ast.Constant) and dtype_node.value is None):
        return array(kind.rank, _dtype_of(dtype_node, func))
    if key == "np.arange":
        return array(1, "i" if all(k.cat in ("int", "bool") for k in args) else "f")
    return kind


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


def _rule_kind(key, rule, node, args, keywords, func):
    first = args[0] if args else UNKNOWN
    offset = 1 if key.startswith("method.") else 0
    name = key.split(".", 1)[1]
    if key in ("builtins.len", "attr.size", "attr.ndim", "builtins.int", "builtins.round"):
        return INT
    if key == "builtins.float":
        return FLOAT
    if key == "builtins.bool":
        return BOOL
    if key in ("builtins.abs",):
        return first if first.cat != "bool" else INT
    if key in ("builtins.min", "builtins.max"):
        out = None
        for k in args:
            out = join(out, k)
        return out or UNKNOWN
    if key in _SHAPE_FROM_ARG:
        shape_node, shape_kind = _bound_arg(rule, node, "shape", args, keywords)
        return array(_shape_rank(shape_node, shape_kind))
    if key in _LIKE_FIRST:
        if key in ("np.cumsum",):
            axis_node, _ = _bound_arg(rule, node, "axis", args, keywords)
            if axis_node is None or (isinstance(axis_node, ast.Constant) and axis_node.value is None):
                return array(1, first.dtype if first.array else "f")
        if first.array:
            dtype = first.dtype
            if key in ("np.zeros_like", "np.ones_like", "np.empty_like", "np.full_like"):
                dtype = first.dtype
            return array(first.rank, dtype)
        if first.scalar and key in ("np.copy", "np.asarray", "np.zeros_like", "np.ones_like"):
            return array(0)
        return array(None)
    if key in _RANK_ONE or name in ("ravel", "flatten"):
        return array(1, first.dtype if first.array else "f")
    if key in ("np.reshape", "method.reshape"):
        if key == "np.reshape":
            shape_node, shape_kind = _bound_arg(rule, node, "newshape", args, keywords)
            if shape_node is None:
                shape_node, shape_kind = _bound_arg(rule, node, "shape", args, keywords)
            return array(_shape_rank(shape_node, shape_kind), first.dtype if first.array else "f")
        dims = args[1:]
        if len(dims) == 1:
            return array(_shape_rank(None, dims[0]), first.dtype if first.array else "f")
        return array(len(dims), first.dtype if first.array else "f")
    if key in ("np.array",):
        obj = node.args[0] if node.args else None
        if isinstance(obj, ast.List) or isinstance(obj, ast.Tuple):
            depth, inner = 0, obj
            while isinstance(inner, (ast.List, ast.Tuple)):
                depth += 1
                inner = inner.elts[0] if inner.elts else None
            item = args[0].items[0] if args[0].items else FLOAT
            extra = item.rank if item.array and item.rank is not None else 0
            return array(depth + extra if not item.cat == "unknown" else None,
                         "f" if item.cat in ("float", "array") else ("i" if item.cat == "int" else None))
        if first.array:
            return first
        return array(None)
    if key in ("np.stack",):
        seq = args[0] if args else UNKNOWN
        items = [k for k in seq.items if k.array]
        if items and all(k.rank is not None for k in items):
            return array(items[0].rank + 1)
        return array(None)
    if key in ("np.concatenate", "np.hstack", "np.vstack"):
        seq = args[0] if args else UNKNOWN
        known = [k.rank for k in seq.items if k.array and k.rank is not None]
        if known:                     # NumPy joins arrays of one rank: any known one tells it
            rank = known[0] if key != "np.vstack" else max(known[0], 2)
            return array(rank)
        return array(None)
    if key in ("np.outer",):
        return array(2)
    if key in ("np.transpose", "method.transpose", "attr.T", "np.squeeze", "method.squeeze"):
        if name in ("squeeze",):
            return array(None)
        return first if first.maybe_array else UNKNOWN
    if key in ("np.dot", "np.matmul", "method.dot", "np.inner"):
        return matmul_kind(first, args[1] if len(args) > 1 else UNKNOWN)
    if key in ("np.argmax", "np.argmin"):
        axis_node, _ = _bound_arg(rule, node, "axis", args, keywords)
        if axis_node is None:
            return INT
        return array(None, "i")
    if key in ("np.arange",):
        return array(1, None)
    if key in ("np.where",) and len(args) == 1:
        return UNKNOWN
    result = rule.result if rule is not None else "inactive"
    if result == "elementwise":
        relevant = args
        if rule is not None and rule.params:
            relevant = [k for p, k in zip(rule.params, args) if p in rule.adjoints or p in ("condition",)] or args
        return broadcast(relevant)
    if result == "reduce":
        axis_node, axis_kind = _bound_arg(rule, node, "axis", args, keywords, offset)
        keep_node, _ = _bound_arg(rule, node, "keepdims", args, keywords, offset)
        keepdims = _literal(keep_node) if keep_node is not None else False
        if keepdims is True:
            return first if first.array else FLOAT
        if axis_node is None or (isinstance(axis_node, ast.Constant) and axis_node.value is None):
            return FLOAT if first.dtype != "i" else INT
        if not first.array or first.rank is None:
            return array(None)
        axis = _literal(axis_node)
        count = len(axis) if isinstance(axis, tuple) else 1
        rank = first.rank - count
        return array(rank) if rank > 0 else FLOAT
    if result == "scalar":
        return FLOAT
    if result == "int":
        return INT
    if result == "bool":
        return BOOL
    if result == "same":
        return first
    if result == "array":
        return array(None)
    if result == "matmul":
        return matmul_kind(first, args[1] if len(args) > 1 else UNKNOWN)
    if result == "item":
        if first.cat == "tuple":
            out = None
            for k in first.items:
                out = join(out, k)
            return out or UNKNOWN
        if first.array and first.rank is not None:
            return array(first.rank - 1, first.dtype) if first.rank > 1 else (INT if first.dtype == "i" else FLOAT)
        return UNKNOWN
    return UNKNOWN
