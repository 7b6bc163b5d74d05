"""Adjoints of statements and expressions (the backward sweep, statement by statement).

For a simple statement the generator writes the code that propagates adjoints from what the
statement defines to what it reads, using the derivative table for every primitive.  The code
reads primal values as they were just before the statement: the tape restores the overwritten
ones first (see tbr.py), so the generator reports which primal names its code reads — their
values, or only their binding (shape), for ``ad.sum_to``/``ad.dense``.
"""
import ast
import copy
from dataclasses import dataclass, field

from ..analysis.calls import bind_rule_call, sequence_items
from ..analysis.points_to import _basic_index
from .templates import instantiate, parse_template, shape_only_names, substitute, template_names

_OPS = {ast.Add: "op.add", ast.Sub: "op.sub", ast.Mult: "op.mul", ast.Div: "op.truediv",
        ast.Pow: "op.pow", ast.MatMult: "op.matmul", ast.Mod: "op.mod", ast.FloorDiv: "op.floordiv"}
_UNARY = {ast.USub: "op.neg", ast.UAdd: "op.pos"}


def name(id_, store=False):
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def assign(target, value):
    return ast.Assign(targets=[target if isinstance(target, ast.AST) else name(target, True)], value=value)


def augadd(target, value):
    return ast.AugAssign(target=target if isinstance(target, ast.AST) else name(target, True),
                         op=ast.Add(), value=value)


def call(func, *args):
    parts = func.split(".")
    node = name(parts[0])
    for part in parts[1:]:
        node = ast.Attribute(value=node, attr=part, ctx=ast.Load())
    return ast.Call(func=node, args=list(args), keywords=[])


def const(value):
    return ast.Constant(value=value)


def store_copy(node):
    """A copy of an expression usable as an assignment target."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    node.ctx = ast.Store()
    return node


ZERO = 0.0


@dataclass
class Reverse:
    """The backward code of one simple statement."""
    lines: list = field(default_factory=list)


class FunctionContext:
    """What generating one function's adjoint needs."""

    def __init__(self, func, kinds, active, rules, namer):
        self.func = func
        self.kinds = kinds            # node -> Kind (keyed by the node itself: it stays alive, its id unique)
        self.active = active          # active names
        self.rules = rules
        self.namer = namer
        self.adjoint_names = {}
        self.dense_names = frozenset()   # arrays whose adjoint is made dense at the turn

    def adj(self, primal):
        """The adjoint variable of a primal name (x -> x_b)."""
        found = self.adjoint_names.get(primal)
        if found is None:
            found = self.namer.fresh(f"{primal}_b")
            self.adjoint_names[primal] = found
        return found

    def kind(self, node):
        return self.kinds.get(node)

    def is_scalar(self, node):
        kind = self.kind(node)
        return kind is not None and kind.scalar


def binop_rule(node):
    """(rule key, bound arguments) of a binary operation; ``x * x`` is ``x ** 2``, so that its
    adjoint is one contribution, ``g * (2.0 * x)``, not the same one twice."""
    if isinstance(node.op, ast.Mult) and _same_value(node.left, node.right):
        return "op.pow", {"a": node.left, "b": ast.Constant(2)}
    return _OPS[type(node.op)], {"a": node.left, "b": node.right}


def _same_value(a, b):
    """Two expressions that read the same value: equal trees of names, constants, subscripts and
    arithmetic (nothing that could give two different values)."""
    pure = (ast.Name, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple, ast.BinOp, ast.UnaryOp,
            ast.operator, ast.unaryop, ast.expr_context)
    return all(isinstance(n, pure) for n in ast.walk(a)) and ast.dump(a) == ast.dump(b)


def _is_number(node):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


class ExprAdjoint:
    """Propagates an adjoint through one expression tree, appending code to ``lines``."""

    def __init__(self, ctx, lines, parent=None):
        self.ctx = ctx
        self.lines = lines
        self.needed = parent.needed if parent else set()   # ids of nodes whose value is needed
        self.temps = dict(parent.temps) if parent else {}    # id(node) -> temp name

    def shape_rules(self, node):
        """True when an active part of ``node`` uses a rule that needs its adjoint's exact shape."""
        if not self.active(node):
            return False
        if isinstance(node, ast.Call):
            callee = self.ctx.func.callees[id(node)]
            rule = self.ctx.rules[callee.key]
            if not rule.elementwise:
                return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return True
        if isinstance(node, ast.Attribute) and not self.ctx.rules[f"attr.{node.attr}"].elementwise:
            return True
        return any(self.shape_rules(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))

    # -- activity of expression nodes --------------------------------------------------------------
    def active(self, node):
        """True when ``node`` carries a derivative (mirrors analysis.activity.Varied)."""
        ctx = self.ctx
        kind = ctx.kind(node)
        if kind is not None and not (kind.numeric or kind.cat in ("tuple", "list")):
            return False
        if isinstance(node, ast.Name):
            return node.id in ctx.active and node.id in ctx.func.locals
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.FloorDiv):
                return False
            return self.active(node.left) or self.active(node.right)
        if isinstance(node, ast.UnaryOp):
            return not isinstance(node.op, (ast.Not, ast.Invert)) and self.active(node.operand)
        if isinstance(node, ast.IfExp):
            return self.active(node.body) or self.active(node.orelse)
        if isinstance(node, ast.Subscript):
            return self.active(node.value)
        if isinstance(node, ast.Attribute):
            return node.attr in ("T", "real") and self.active(node.value)
        if isinstance(node, (ast.Tuple, ast.List)):
            return any(self.active(e) for e in node.elts)
        if isinstance(node, ast.Call):
            callee = ctx.func.callees.get(id(node))
            if callee is None or callee.kind != "rule":
                return False
            rule = ctx.rules.get(callee.key)
            if rule is None or not rule.adjoints:
                return False
            bound, _ = bind_rule_call(rule, node, callee.key)
            for param, arg in bound.items():
                if param not in rule.adjoints:
                    continue
                items = sequence_items(arg) if param in rule.sequence else None
                if items is not None:
                    if any(self.active(e) for e in items):
                        return True
                elif self.active(arg):
                    return True
            return False
        return False

    # -- values needed ---------------------------------------------------------------------------
    def mark_needed(self, node):
        """First pass: which nodes' values the adjoint code will use."""
        if not self.active(node):
            return
        if isinstance(node, ast.BinOp):
            self.rule_needs(*binop_rule(node), node)
            self.mark_needed(node.left)
            self.mark_needed(node.right)
        elif isinstance(node, ast.UnaryOp):
            self.mark_needed(node.operand)
        elif isinstance(node, ast.IfExp):
            self.mark_needed(node.body)
            self.mark_needed(node.orelse)
        elif isinstance(node, ast.Subscript):
            self.mark_needed(node.value)
        elif isinstance(node, ast.Attribute):
            self.rule_needs(f"attr.{node.attr}", {"a": node.value}, node)
            self.mark_needed(node.value)
        elif isinstance(node, ast.Call):
            callee = self.ctx.func.callees[id(node)]
            rule = self.ctx.rules[callee.key]
            bound, _ = bind_rule_call(rule, node, callee.key)
            self.rule_needs(callee.key, bound, node)
            for param, arg in bound.items():
                if param in rule.adjoints:
                    items = sequence_items(arg) if param in rule.sequence else None
                    for item in (items if items is not None else [arg]):
                        self.mark_needed(item)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self.mark_needed(elt)

    def rule_needs(self, key, bound, node):
        rule = self.ctx.rules.get(key)
        if rule is None:
            return
        used = set()
        for param, text in rule.adjoints.items():
            arg = bound.get(param)
            if arg is None:
                continue
            items = sequence_items(arg) if param in rule.sequence else None
            if items is not None:
                if not any(self.active(e) for e in items):
                    continue
            elif not self.active(arg):
                continue
            used |= template_names(text)
        if "ans" in used:
            self.needed.add(id(node))
        for param, arg in bound.items():
            if param in used:
                items = sequence_items(arg) if param in rule.sequence else None
                for item in (items if items is not None else [arg]):
                    self.needed.add(id(item))

    def value(self, node):
        """An expression for the value of ``node`` before the statement (temps for reused parts)."""
        if id(node) in self.temps:
            return name(self.temps[id(node)])
        rebuilt = self.rebuild(node)
        if id(node) in self.needed and not _simple(node):
            temp = self.ctx.namer.fresh("tmp")
            self.lines.append(assign(temp, rebuilt))
            self.temps[id(node)] = temp
            return name(temp)
        return rebuilt

    def shape_of(self, node):
        """An expression with the shape of ``node``'s value: the value itself, or for a primitive
        keeping its first argument's shape (np.roll), that argument's, so as not to compute it again."""
        if id(node) not in self.temps and isinstance(node, ast.Call):
            callee = self.ctx.func.callees.get(id(node))
            rule = self.ctx.rules.get(callee.key) if callee is not None and callee.kind == "rule" else None
            if rule is not None and rule.keeps_shape:
                first = bind_rule_call(rule, node, callee.key)[0].get(rule.params[0])
                if first is not None:
                    return self.shape_of(first)
        if id(node) not in self.temps and isinstance(node, ast.BinOp):
            # x * x, 2.0 * x, x ** 2: the shape of x (a number operand does not broadcast)
            if _same_value(node.left, node.right) or _is_number(node.right):
                return self.shape_of(node.left)
            if _is_number(node.left) and not isinstance(node.op, ast.Pow):
                return self.shape_of(node.right)
        return self.value(node)

    def rebuild(self, node):
        return rebuild(node, self.value, self.ctx.func.callees)

    # -- propagation -----------------------------------------------------------------------------
    def materialize_g(self, g):
        if _simple(g):
            return g
        temp = self.ctx.namer.fresh("tmp_b")
        self.lines.append(assign(temp, g))
        return name(temp)

    def propagate(self, node, g, exact=True):
        """Adds the contribution ``g`` (adjoint of node's value) to the adjoints of node's inputs.

        ``exact``: g has exactly the shape of node's value (else it may be broadcast bigger).
        """
        if not self.active(node):
            return
        if isinstance(node, ast.Name):
            self.accumulate_name(node, g, exact)
        elif isinstance(node, ast.Subscript):
            self.accumulate_subscript(node, g, exact)
        elif isinstance(node, ast.BinOp):
            self.apply_rule(*binop_rule(node), node, g, exact)
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                self.propagate(node.operand, ast.UnaryOp(op=ast.USub(), operand=g), exact)
            else:
                self.propagate(node.operand, g, exact)
        elif isinstance(node, ast.IfExp):
            g = self.materialize_g(g)
            then_lines, else_lines = [], []
            saved = self.lines
            self.lines = then_lines
            self.propagate(node.body, g, exact)
            self.lines = else_lines
            self.propagate(node.orelse, g, exact)
            self.lines = saved
            test = self.value(node.test)
            self.lines.append(ast.If(test=test, body=then_lines or [ast.Pass()], orelse=else_lines))
        elif isinstance(node, ast.Attribute):
            self.apply_rule(f"attr.{node.attr}", {"a": node.value}, node, g, exact)
        elif isinstance(node, ast.Call):
            callee = self.ctx.func.callees[id(node)]
            rule = self.ctx.rules[callee.key]
            bound, _ = bind_rule_call(rule, node, callee.key)
            self.apply_rule(callee.key, bound, node, g, exact)
        elif isinstance(node, (ast.Tuple, ast.List)):
            if isinstance(g, ast.Tuple) and len(g.elts) == len(node.elts):
                parts = g.elts
            else:
                # the adjoint of a tuple is a list of per-item adjoints, or the 0.0 it began as
                g = self.materialize_g(call("ad.items", g, const(len(node.elts))))
                parts = [ast.Subscript(value=copy.deepcopy(g), slice=const(k), ctx=ast.Load())
                         for k in range(len(node.elts))]
            for elt, part in zip(node.elts, parts):
                self.propagate(elt, part, exact)

    def apply_rule(self, key, bound, node, g, exact):
        rule = self.ctx.rules[key]
        if not exact and not rule.elementwise:
            g = call("ad.sum_to", g, self.shape_of(node))
            exact = True
        active_params = []
        for param in rule.params:
            arg = bound.get(param)
            if arg is None or param not in rule.adjoints:
                continue
            items = sequence_items(arg) if param in rule.sequence else None
            if items is not None:
                if any(self.active(e) for e in items):
                    active_params.append(param)
            elif self.active(arg):
                active_params.append(param)
        if not active_params:
            return
        uses_of_g = sum(template_names(rule.adjoints[p]).__contains__("g") for p in active_params)
        if uses_of_g > 1 or any(isinstance(bound.get(p), (ast.List, ast.Tuple)) for p in active_params):
            g = self.materialize_g(g)
        mapping = {"g": g}
        # a parameter every active template reads only for its shape gets an expression of that shape
        templates = [rule.adjoints[p] for p in active_params]
        shape_only = set.intersection(*(shape_only_names(text) | (set(rule.params) - template_names(text))
                                        for text in templates))
        for param in rule.params:
            arg = bound.get(param)
            if arg is None:
                if param in rule.defaults:
                    mapping[param] = const(rule.defaults[param])
                continue
            if not any(param in template_names(text) for text in templates):
                continue        # no template reads it: computing its value would be dead code
            items = sequence_items(arg) if param in rule.sequence else None
            if items is not None:
                mapping[param] = ast.Tuple(elts=[self.value(e) for e in items], ctx=ast.Load())
            elif param in shape_only:
                mapping[param] = self.shape_of(arg)
            else:
                mapping[param] = self.value(arg)
        for param in active_params:
            missing = template_names(rule.adjoints[param]) - set(mapping) - {"g", "ans", "i", "np", "math", "ad"}
            if missing:
                from ..errors import UnsupportedError
                raise UnsupportedError(
                    f"{self.ctx.func.path}:{getattr(node, 'lineno', 0)}: cannot differentiate "
                    f"{key.split('.', 1)[1]} here: its argument(s) {', '.join(sorted(missing))} must be given")
        needs_ans = any("ans" in template_names(rule.adjoints[p]) for p in active_params)
        if needs_ans:
            mapping["ans"] = self.value(node)
        for param in active_params:
            arg = bound[param]
            text = rule.adjoints[param]
            items = sequence_items(arg) if param in rule.sequence else None
            if items is not None:
                for k, item in enumerate(items):
                    if self.active(item):
                        contribution = instantiate(text, dict(mapping, i=const(k)))
                        self.propagate(item, contribution, exact=not rule.elementwise and exact)
                continue
            contribution = instantiate(text, mapping)
            sub_exact = exact
            if rule.elementwise:
                sub_exact = exact and self.same_shape(arg, node)
            self.propagate(arg, contribution, sub_exact)

    def same_shape(self, operand, result):
        """True when ``operand`` provably has the shape of ``result`` (element-wise operations)."""
        ko, kr = self.ctx.kind(operand), self.ctx.kind(result)
        if ko is None or kr is None:
            return False
        if ko.scalar and kr.scalar:
            return True
        if ko.array and kr.array and isinstance(result, (ast.BinOp, ast.Call)):
            others = _elementwise_operands(result)
            if all(self.ctx.kind(o) is not None and self.ctx.kind(o).scalar for o in others
                   if o is not operand and not _same_value(o, operand)):
                return True
        return False

    def accumulate_name(self, node, g, exact):
        adj = self.ctx.adj(node.id)
        kind = self.ctx.kind(node)
        if kind is not None and kind.cat == "tuple":
            self.lines.append(assign(adj, call("ad.add_items", name(adj), g)))
        elif exact:
            self.lines.append(augadd(adj, g))
        elif self.ctx.is_scalar(node):
            self.lines.append(augadd(adj, call("np.sum", g)))
        else:
            self.lines.append(augadd(adj, call("ad.sum_to", g, name(node.id))))

    def accumulate_subscript(self, node, g, exact):
        base = node.value
        if not isinstance(base, ast.Name):
            # an expression indexed: the adjoint scatters into a temporary of its shape
            base_value = self.value(base)
            temp = self.ctx.namer.fresh("tmp_b")
            self.lines.append(assign(temp, call("np.zeros", call("np.shape", base_value))))
            self.scatter(temp, node.slice, g, exact, node)
            self.propagate(base, name(temp), True)
            return
        adj = self.ctx.adj(base.id)
        self.lines.extend(ctx_dense(self.ctx, base.id))
        self.scatter(adj, node.slice, g, exact, node)

    def scatter(self, adj, index, g, exact, node):
        index_value = self.value_index(index)
        if not exact:
            g = call("ad.sum_to", g, ast.Subscript(value=self.value(node.value), slice=copy.deepcopy(index_value),
                                                   ctx=ast.Load()))
        target = ast.Subscript(value=name(adj), slice=index_value, ctx=ast.Store())
        item = self.ctx.kind(node)
        if item is not None and item.cat == "tuple":
            # an item that is a tuple itself: its adjoint is a list, added to item by item
            current = ast.Subscript(value=name(adj), slice=copy.deepcopy(index_value), ctx=ast.Load())
            self.lines.append(assign(target, call("ad.add_items", current, g)))
        elif _basic_index(index, self.ctx.kinds) or _boolean_index(index, self.ctx):
            self.lines.append(ast.AugAssign(target=target, op=ast.Add(), value=g))
        else:
            self.lines.append(ast.Expr(value=call("ad.add_at", name(adj), _index_argument(index_value), g)))

    def value_index(self, index):
        if isinstance(index, ast.Tuple):
            return ast.Tuple(elts=[self.value(e) if not isinstance(e, ast.Slice) else self.slice_value(e)
                                   for e in index.elts], ctx=ast.Load())
        if isinstance(index, ast.Slice):
            return self.slice_value(index)
        return self.value(index)

    def slice_value(self, s):
        return ast.Slice(lower=self.value(s.lower) if s.lower else None,
                         upper=self.value(s.upper) if s.upper else None,
                         step=self.value(s.step) if s.step else None)


def rebuild(node, value, callees, unevaluated=lambda node, field_name: False):
    """A copy of ``node`` whose operands are ``value(operand)`` (temps where computed already).
    A method call keeps its method and rebuilds its object; the fields ``unevaluated`` names are
    copied as written (operands Python may not evaluate: a conditional's branches)."""
    if _simple(node):
        return copy.deepcopy(node)
    new = copy.copy(node)
    for field_name, field_value in ast.iter_fields(node):
        if isinstance(field_value, ast.expr):
            if isinstance(node, ast.Call) and field_name == "func":
                func = copy.deepcopy(field_value)
                callee = callees.get(id(node))
                if isinstance(field_value, ast.Attribute) and callee and callee.key.startswith("method."):
                    func.value = value(field_value.value)
                setattr(new, field_name, func)
            elif unevaluated(node, field_name):
                setattr(new, field_name, copy.deepcopy(field_value))
            else:
                setattr(new, field_name, value(field_value))
        elif isinstance(field_value, list):
            if unevaluated(node, field_name):
                setattr(new, field_name, copy.deepcopy(field_value))
                continue
            items = []
            for item in field_value:
                if isinstance(item, ast.expr):
                    items.append(value(item))
                elif isinstance(item, ast.keyword):
                    kw = copy.copy(item)
                    kw.value = value(item.value)
                    items.append(kw)
                else:
                    items.append(copy.deepcopy(item))
            setattr(new, field_name, items)
    return new


def ctx_dense(ctx, primal):
    """``x_b = ad.dense(x_b, x)`` unless x_b is dense from the turn on (x's binding never changes)."""
    if primal in ctx.dense_names:
        return []
    adj = ctx.adj(primal)
    return [assign(adj, call("ad.dense", name(adj), name(primal)))]


def _index_argument(index):
    """An index as a value that can be passed to a function: slices become slice(...) calls."""
    def convert(part):
        if isinstance(part, ast.Slice):
            return call("slice", *(copy.deepcopy(p) if p is not None else const(None)
                                   for p in (part.lower, part.upper, part.step)))
        return copy.deepcopy(part)
    if isinstance(index, ast.Tuple):
        return ast.Tuple(elts=[convert(p) for p in index.elts], ctx=ast.Load())
    return convert(index)


def _elementwise_operands(node):
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _boolean_index(index, ctx):
    kind = ctx.kind(index)
    return kind is not None and kind.array and kind.dtype == "b"


def _simple(node):
    """Cheap to evaluate again: names, constants, attributes of modules, slices of those."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _simple(node.value) and node.attr not in ("T",)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, (ast.Name, ast.Constant))
    return False


# ---------------------------------------------------------------------------------------------
# statements

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
    value = stmt.value
    ex = ExprAdjoint(ctx, lines)
    if isinstance(target, ast.Name):
        if target.id not in ctx.active:
            return lines
        adj = ctx.adj(target.id)
        reads_self = any(isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(value))
        if not ex.active(value):
            if target.id in maybe_bound_before:
                lines.append(assign(adj, const(ZERO)))
            return lines
        ex.mark_needed(value)
        target_kind = ctx.kind(target)
        guard = (target_kind is None or not target_kind.scalar) and ex.shape_rules(value)
        if reads_self or guard:
            temp = ctx.namer.fresh("tmp_b")
            lines.append(assign(temp, name(adj)))
            lines.append(assign(adj, const(ZERO)))
            if guard:
                # an adjoint still 0.0 (nothing flowed into it) has no shape for the rules below
                body = []
                ExprAdjoint(ctx, body, ex).propagate(value, name(temp), True)
                lines.append(ast.If(test=call("ad.nonzero", name(temp)), body=body or [ast.Pass()], orelse=[]))
            else:
                start = len(lines)
                ex.propagate(value, name(temp), True)
                scalar = target_kind is not None and target_kind.scalar
                lines[start - 2:] = _update_in_one(lines[start - 2:], adj, temp, scalar)
        else:
            ex.propagate(value, name(adj), True)
            lines.append(assign(adj, const(ZERO)))
        return lines
    if isinstance(target, (ast.Tuple, ast.List)):
        names_ = [e.id for e in target.elts]
        if not any(n in ctx.active for n in names_):
            return lines
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
                    # an adjoint still 0.0 (nothing flowed into it) has no shape for these rules
                    body = []
                    ExprAdjoint(ctx, body, ex).propagate(elt, name(temp), True)
                    lines.append(ast.If(test=call("ad.nonzero", name(temp)), body=body or [ast.Pass()],
                                        orelse=[]))
                else:
                    ex.propagate(elt, name(temp), True)
        elif ex.active(value):
            ex.mark_needed(value)
            g = ast.Tuple(elts=[name(t) if t else const(ZERO) for t in temps], ctx=ast.Load())
            ex.propagate(value, g, True)
        return lines
    if isinstance(target, ast.Subscript):
        base = target.value.id
        if base not in ctx.active:
            return lines
        adj = ctx.adj(base)
        reads_self = any(isinstance(n, ast.Name) and n.id == base for n in ast.walk(value))
        lines.extend(ctx_dense(ctx, base))
        index = ex.value_index(target.slice)
        region = surviving(ctx, target, ast.Subscript(value=name(adj), slice=index, ctx=ast.Load()), index)
        zero = assign(ast.Subscript(value=name(adj), slice=copy.deepcopy(index), ctx=ast.Store()), const(ZERO))
        if not ex.active(value):
            lines.append(zero)
            return lines
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
        return lines
    return lines


def surviving(ctx, target, region, index):
    """The adjoint of what a store into ``target`` wrote: ``region``, or, for an index array that
    may name an element twice (``y[[0, 1, 1]] = v``: NumPy keeps the last write), only the part
    whose write survived (``ad.kept``)."""
    if _basic_index(target.slice, ctx.kinds) or _boolean_index(target.slice, ctx):
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
