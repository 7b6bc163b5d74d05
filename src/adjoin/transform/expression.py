"""Adjoints of expressions: an adjoint propagated through one expression tree, node by node.

For every primitive the derivative table (rules.py) gives a template per argument; this module
instantiates them, computing again in the backward sweep the intermediate values a template
reads (``np.sin(a)``, ``ans``), and reports, through ``mark_needed``, which nodes' values the
code will use.  Statements (adjoint.py) and tangents (tangent.py) build on it.
"""
import ast
import copy

from ..analysis.calls import bind_rule_call, sequence_items
from ..analysis.points_to import _basic_index
from .code import assign, augadd, call, const, name
from .templates import instantiate, shape_only_names, template_names

_OPS = {ast.Add: "op.add", ast.Sub: "op.sub", ast.Mult: "op.mul", ast.Div: "op.truediv",
        ast.Pow: "op.pow", ast.MatMult: "op.matmul", ast.Mod: "op.mod", ast.FloorDiv: "op.floordiv"}
_UNARY = {ast.USub: "op.neg", ast.UAdd: "op.pos"}


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
        if id(node) not in self.temps and isinstance(node, ast.BinOp) and not isinstance(node.op, ast.MatMult):
            # x * x, 2.0 * x, x ** 2: the shape of x (a number operand does not broadcast; an
            # element-wise operator only: v @ v is a number)
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
        """Propagates ``g`` through the primitive ``key`` applied to the ``bound`` arguments, with
        the table's template of each argument that carries a derivative."""
        rule = self.ctx.rules[key]
        if not exact and not rule.elementwise:
            g = call("ad.sum_to", g, self.shape_of(node))
            exact = True
        active_params = self.active_params(rule, bound)
        if not active_params:
            return
        uses_of_g = sum(template_names(rule.adjoints[p]).__contains__("g") for p in active_params)
        if uses_of_g > 1 or any(isinstance(bound.get(p), (ast.List, ast.Tuple)) for p in active_params):
            g = self.materialize_g(g)
        mapping = self.template_arguments(rule, bound, active_params, g)
        _check_given(self.ctx, key, rule, node, active_params, mapping)
        needs_ans = any("ans" in template_names(rule.adjoints[p]) for p in active_params)
        if needs_ans:
            mapping["ans"] = self.value(node)
        for param in active_params:
            self.contribute(rule, param, bound[param], node, mapping, exact)

    def active_params(self, rule, bound):
        """The parameters of ``rule`` with an adjoint template whose argument carries a derivative."""
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
        return active_params

    def template_arguments(self, rule, bound, active_params, g):
        """What the templates' placeholders stand for: ``g``, and the values (or only the shapes)
        of the arguments the active templates read."""
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
        return mapping

    def contribute(self, rule, param, arg, node, mapping, exact):
        """Propagates one argument's contribution (each item's, for a sequence argument)."""
        text = rule.adjoints[param]
        items = sequence_items(arg) if param in rule.sequence else None
        if items is not None:
            for k, item in enumerate(items):
                if self.active(item):
                    contribution = instantiate(text, dict(mapping, i=const(k)))
                    self.propagate(item, contribution, exact=not rule.elementwise and exact)
            return
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
        elif _basic_index(index, self.ctx.kinds) or boolean_index(index, self.ctx):
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


def _check_given(ctx, key, rule, node, active_params, mapping):
    """Refuses a call that leaves out an argument a template of its active arguments reads."""
    for param in active_params:
        missing = template_names(rule.adjoints[param]) - set(mapping) - {"g", "ans", "i", "np", "math", "ad"}
        if missing:
            from ..errors import UnsupportedError
            raise UnsupportedError(
                f"{ctx.func.path}:{getattr(node, 'lineno', 0)}: cannot differentiate "
                f"{key.split('.', 1)[1]} here: its argument(s) {', '.join(sorted(missing))} must be given")


# Primitives computed again by generated code through a quicker helper giving the same array
# (runtime/vjp.py; the tangent's ad module has it too): np.roll's general axes handling costs as
# much as the copies themselves on the small grids of stencil code.
QUICKER = {"np.roll": "ad.roll"}


def quicker(stmt, callees):
    """A copy of ``stmt`` whose calls to the primitives of QUICKER call the quicker helper."""
    memo = {}
    new = copy.deepcopy(stmt, memo)
    for node in ast.walk(stmt):
        callee = callees.get(id(node)) if isinstance(node, ast.Call) else None
        if callee is not None and callee.key in QUICKER:
            memo[id(node)].func = ast.parse(QUICKER[callee.key], mode="eval").body
    return new


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
                if callee is not None and callee.key in QUICKER:
                    func = ast.parse(QUICKER[callee.key], mode="eval").body
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


def boolean_index(index, ctx):
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
