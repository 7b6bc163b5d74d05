"""Kinds: what sort of value each name and expression holds (float, int, array of rank r, ...).

The adjoint needs them where Python's meaning depends on the value: ``x += e`` updates an array in
place but rebinds a float; ``a[i]`` is a number on a 1-D array and a view on a 2-D one.  Kinds
are inferred from the kinds of the head's actual arguments, through every statement, and through
calls (a callee's parameter kinds join its call sites' argument kinds).

The lattice is kind_lattice.py; the kinds of primitives' results, read from the table's
``result`` property, are result_kinds.py.
"""
import ast

from .flow import Forward
from .kind_lattice import (BOOL, BOTTOM, FLOAT, INT, NONE, STR, UNKNOWN, Kind, array, broadcast, join,
                           matmul_kind, of_value)
from .result_kinds import rule_kind


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
            # a list of values is a tuple to the analyses: its items are never assigned (points_to.py
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
