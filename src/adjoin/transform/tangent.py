"""Tangent mode: the derivative of one user function along given directions, ``f_d``.

One forward sweep and no tape.  Before each statement of the primal, the statement's tangent:
``x_d`` is the tangent of ``x``, computed from the tangents of what the statement reads, with the
tangent templates of the derivative table (rules.py).  The tangent comes first because it reads
the values the statement overwrites; where a template needs a value twice, or the result
(``ans``), the value is kept in a ``tmp`` first and the primal statement reads it.

Tangents share memory exactly as their values do (runtime/jvp.py): a view of ``x`` has as tangent
the same view of ``x_d``, an alias the same tangent, and a new array a new tangent.  So an update
in place (``x[1:] += ...``, or a callee writing its argument) updates the tangents of every name
that sees it, and views, aliases and calls need no analysis beyond activity.  A call is a plain
call of the callee's tangent, ``t, t_d = f_d(a, b, a_d)``: no checkpointing in this mode.
"""
import ast
import copy

from ..analysis.calls import bind_rule_call, sequence_items
from ..errors import UnsupportedError
from ..rules import tangent_templates
from .code import assign, call, const, name, store_copy
from .expression import _OPS, _UNARY, ExprAdjoint, _simple, rebuild
from .templates import instantiate, template_names

NONE = ast.Constant(value=None)


def _storage(node):
    """An expression that designates memory an existing name holds (x, x[1:], x.T)."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return isinstance(node, ast.Name)


def _total(terms):
    """``t1 + t2 + ...``, with ``a + -b`` and ``a + -b * c`` written ``a - b`` and ``a - b * c``,
    and a term that comes twice (``x * x``: ``x_d * x + x_d * x``) written once, times 2."""
    out = None
    for term, count in _counted(terms):
        if count > 1:
            term = ast.BinOp(left=term, op=ast.Mult(), right=ast.Constant(float(count)))
        negated = _negated(term) if out is not None else None
        if out is None:
            out = term
        elif negated is not None:
            out = ast.BinOp(left=out, op=ast.Sub(), right=negated)
        else:
            out = ast.BinOp(left=out, op=ast.Add(), right=term)
    return out


def _counted(terms):
    """(term, how many times it appears), in order of first appearance."""
    seen = {}
    for term in terms:
        key = ast.dump(term)
        seen[key] = (seen[key][0], seen[key][1] + 1) if key in seen else (term, 1)
    return list(seen.values())


def _negated(term):
    """``b`` for ``-b``, ``b * c`` for ``-b * c`` (and ``/``); None for any other term."""
    if isinstance(term, ast.UnaryOp) and isinstance(term.op, ast.USub):
        return term.operand
    if (isinstance(term, ast.BinOp) and isinstance(term.op, (ast.Mult, ast.Div))
            and isinstance(term.left, ast.UnaryOp) and isinstance(term.left.op, ast.USub)):
        return ast.BinOp(left=term.left.operand, op=term.op, right=term.right)
    return None


def _trim_defaults(term, key, rule):
    """``np.sum(x_d, None, None, None, False)`` as ``np.sum(x_d)``: a template calling the entry's
    own primitive loses the trailing arguments that are the entry's defaults."""
    if not isinstance(term, ast.Call) or term.keywords:
        return term
    space, _, attr = key.partition(".")
    if space == "np" and ast.unparse(term.func) == key:
        params = rule.params
    elif space == "method" and isinstance(term.func, ast.Attribute) and term.func.attr == attr:
        params = rule.params[1:]
    else:
        return term
    args = list(term.args)
    while args and len(args) <= len(params):
        param, last = params[len(args) - 1], args[-1]
        if not (isinstance(last, ast.Constant) and param in rule.defaults
                and type(last.value) is type(rule.defaults[param]) and last.value == rule.defaults[param]):
            break
        args.pop()
    term.args = args
    return term


def _cheap(node):
    """Cheap and safe to evaluate again: simple, or a basic index of a name (x[k], x[1:-1])."""
    if _simple(node):
        return True
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and _simple_index(node.slice)


def _default(value):
    if isinstance(value, type):
        return name(value.__name__)
    return const(value)


class TangentExpr:
    """The value and the tangent of one expression, with the temporaries they need in ``lines``."""

    def __init__(self, gen, lines, temps=None):
        self.gen = gen
        self.ctx = gen.ctx
        self.lines = lines
        self.temps = dict(temps or {})        # id(node) -> temp holding its value
        self.tangent_temps = {}               # id(node) -> temp holding its tangent
        self.needed = set()                   # ids of nodes whose value a tangent reads
        self.probe = ExprAdjoint(gen.ctx, [])

    def active(self, node):
        return self.probe.active(node)

    def kind(self, node):
        return self.ctx.kind(node)

    def scalar(self, node):
        kind = self.kind(node)
        return kind is not None and kind.scalar

    # -- what a tangent reads ------------------------------------------------------------------
    def rule_of(self, node):
        """(key, {param: argument node}) of an operator, attribute or call to a primitive."""
        if isinstance(node, ast.BinOp):
            return _OPS.get(type(node.op)), {"a": node.left, "b": node.right}
        if isinstance(node, ast.UnaryOp):
            return _UNARY.get(type(node.op)), {"a": node.operand}
        if isinstance(node, ast.Attribute):
            return f"attr.{node.attr}", {"a": node.value}
        callee = self.ctx.func.callees.get(id(node))
        rule = self.ctx.rules[callee.key]
        return callee.key, bind_rule_call(rule, node, callee.key)[0]

    def active_params(self, rule, bound):
        out = []
        for param in rule.params:
            arg = bound.get(param)
            if arg is None or param not in rule.adjoints:
                continue
            items = sequence_items(arg) if param in rule.sequence else None
            if any(self.active(e) for e in (items if items is not None else [arg])):
                out.append(param)
        return out

    def mark(self, node):
        """First pass: the nodes whose values the tangent reads (kept in temps, computed once)."""
        if not self.active(node) or isinstance(node, ast.IfExp):
            return
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call)) or (
                isinstance(node, ast.Attribute) and node.attr in ("T", "real")):
            key, bound = self.rule_of(node)
            rule = self.ctx.rules[key]
            templates = tangent_templates(rule)
            active = self.active_params(rule, bound)
            used = set().union(*(template_names(templates[p]) for p in active))
            if "ans" in used:
                self.needed.add(id(node))
            for param, arg in bound.items():
                widen = self.widened(rule, param, arg, active)
                if param in used or widen:
                    items = sequence_items(arg) if param in rule.sequence else None
                    self.needed.update(id(e) for e in (items if items is not None else [arg]))
            for arg in bound.values():
                self.mark(arg)
            return
        if isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                if self.active(elt):
                    self.mark(elt)
                elif not self.scalar(elt):
                    self.needed.add(id(elt))
            return
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            self.mark(node.value)

    def widened(self, rule, param, arg, active):
        """True when the tangent of an element-wise result must be widened by this argument: it
        has no derivative, may be an array, and the tangent templates do not read it."""
        if not rule.elementwise or rule.tangents or param in active or param in ("out", "dtype"):
            return False
        if isinstance(arg, ast.Constant) or self.scalar(arg):
            return False
        kind = self.kind(arg)
        if kind is not None and kind.cat in ("str", "none", "int", "bool"):
            return False
        used = set().union(*(template_names(tangent_templates(rule)[p]) for p in active)) if active else set()
        return param not in used

    # -- values ----------------------------------------------------------------------------------
    def value(self, node):
        """An expression for node's value (its temp once computed)."""
        if id(node) in self.temps:
            return name(self.temps[id(node)])
        if isinstance(node, ast.IfExp) and self.active(node) and not self.plain_choice(node):
            return self.if_statement(node)
        rebuilt = self.rebuild(node)
        if id(node) in self.needed and not _cheap(node):
            temp = self.ctx.namer.fresh("tmp")
            self.lines.append(assign(temp, rebuilt))
            self.temps[id(node)] = temp
            return name(temp)
        return rebuilt

    def rebuild(self, node):
        return rebuild(node, self.value, self.ctx.func.callees, _unevaluated)

    def plain_choice(self, node):
        """``a if c else b`` whose branches are cheap and safe to evaluate inline twice."""
        return all(_simple(b) or isinstance(b, ast.Subscript) and _simple(b.value) and _simple_index(b.slice)
                   for b in (node.body, node.orelse))

    def if_statement(self, node):
        """``v = a if c else b`` with work in a branch: an if statement that computes the chosen
        branch's value and tangent only."""
        temp, temp_d = self.ctx.namer.fresh("tmp"), self.ctx.namer.fresh("tmp_d")
        branches = []
        for branch in (node.body, node.orelse):
            lines = []
            sub = TangentExpr(self.gen, lines, self.temps)
            p, t = sub.emit(branch)
            lines.append(assign(temp_d, t if t is not None else self.gen.zero(branch, p)))
            lines.append(assign(temp, p))
            branches.append(lines)
        self.lines.append(ast.If(test=self.value(node.test), body=branches[0], orelse=branches[1]))
        self.temps[id(node)] = temp
        self.tangent_temps[id(node)] = temp_d
        return name(temp)

    # -- tangents --------------------------------------------------------------------------------
    def emit(self, node):
        """(value expression, tangent expression or None) of ``node``."""
        self.mark(node)
        value = self.value(node)
        return value, self.tangent(node)

    def tangent(self, node):
        if id(node) in self.tangent_temps:
            return name(self.tangent_temps[id(node)])
        if not self.active(node):
            return None
        if isinstance(node, ast.Name):
            return name(self.gen.tangent_name(node.id))
        if isinstance(node, ast.Subscript):
            return ast.Subscript(value=self.tangent(node.value), slice=self.value(node.slice), ctx=ast.Load())
        if isinstance(node, (ast.Tuple, ast.List)):
            elts = [self.tangent(e) for e in node.elts]
            elts = [t if t is not None else self.gen.zero(e, self.value(e)) for t, e in zip(elts, node.elts)]
            return type(node)(elts=elts, ctx=ast.Load())
        if isinstance(node, ast.IfExp):
            parts = [self.tangent(b) for b in (node.body, node.orelse)]
            parts = [t if t is not None else self.gen.zero(b, self.value(b)) for t, b in zip(parts, (node.body, node.orelse))]
            return ast.IfExp(test=self.value(node.test), body=parts[0], orelse=parts[1])
        return self.apply(node)

    def argument_tangent(self, rule, param, arg, derived):
        """``d`` for one parameter: the argument's tangent, a tuple of its items' tangents for a
        sequence, a display of tangents (None where an item has none) for a display."""
        if param in rule.sequence:
            items = sequence_items(arg)
            return ast.Tuple(elts=[self.tangent(e) or copy.copy(NONE) for e in items], ctx=ast.Load())
        if isinstance(arg, (ast.Tuple, ast.List)):
            display = self.display_tangent(arg)
            return call("ad.fill_zeros", display, self.value(arg)) if derived else display
        return self.tangent(arg)

    def display_tangent(self, node):
        if isinstance(node, (ast.Tuple, ast.List)):
            return type(node)(elts=[self.display_tangent(e) for e in node.elts], ctx=ast.Load())
        return self.tangent(node) or copy.copy(NONE)

    def apply(self, node):
        """The tangent of a primitive's result: the sum of its active arguments' templates."""
        key, bound = self.rule_of(node)
        rule = self.ctx.rules[key]
        templates = tangent_templates(rule)
        active = self.active_params(rule, bound)
        derived = rule.elementwise and not rule.tangents
        mapping = {}
        for param in rule.params:
            arg = bound.get(param)
            if arg is None:
                if param in rule.defaults:
                    mapping[param] = _default(rule.defaults[param])
                continue
            items = sequence_items(arg) if param in rule.sequence else None
            mapping[param] = (ast.Tuple(elts=[self.value(e) for e in items], ctx=ast.Load())
                              if items is not None else self.value(arg))
        if any("ans" in template_names(templates[p]) for p in active):
            mapping["ans"] = self.value(node)
        terms = []
        for param in active:
            d = self.argument_tangent(rule, param, bound[param], derived)
            text = templates[param]
            missing = template_names(text) - set(mapping) - {"d", "ans", "np", "math", "ad"} - _BUILTINS
            if missing:
                raise UnsupportedError(f"{self.ctx.func.path}:{getattr(node, 'lineno', 0)}: cannot differentiate "
                                       f"{key.split('.', 1)[1]} here: give its argument(s) {', '.join(sorted(missing))}")
            if sum(1 for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name) and n.id == "d") > 1:
                d = self.keep(d)
            terms.append(_trim_defaults(instantiate(text, dict(mapping, d=d)), key, rule))
        tangent = _total(terms)
        bare = _storage(tangent)        # d itself, or simplified to it (d * 1.0): memory a name holds
        if self.scalar(node):
            return tangent
        others = [self.value(bound[p]) for p in rule.params
                  if p in bound and self.widened(rule, p, bound[p], active)]
        if others:
            return call("ad.widen_copy" if bare else "ad.widen", tangent, *others)
        if bare and not rule.view:
            return call("ad.fresh", tangent)       # a new array (x + 1.0): its own tangent
        return tangent

    def keep(self, expr):
        if _simple(expr):
            return expr
        temp = self.ctx.namer.fresh("tmp_d")
        self.lines.append(assign(temp, expr))
        return name(temp)


_BUILTINS = {"float", "sum", "None", "len", "int", "round", "abs", "max", "min"}


def _unevaluated(node, field_name):
    """Operands evaluated only when chosen: a conditional's branches, and/or's operands."""
    return isinstance(node, ast.IfExp) and field_name != "test" or isinstance(node, ast.BoolOp)


def _simple_index(index):
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(_simple(p) or isinstance(p, ast.Slice) and all(q is None or _simple(q) for q in
                                                             (p.lower, p.upper, p.step)) for p in parts)


def tangent_target(gen, target):
    """The tangent of an assignment target: x -> x_d, x[i] -> x_d[i] (None: no tangent)."""
    if isinstance(target, ast.Name):
        return name(gen.tangent_name(target.id), store=True) if gen.has_tangent(target) else None
    if isinstance(target, ast.Subscript):
        root = target
        while isinstance(root, ast.Subscript):
            root = root.value
        if not isinstance(root, ast.Name) or not gen.has_tangent(root):
            return None
        out = store_copy(target)
        inner = out
        while isinstance(inner.value, ast.Subscript):
            inner = inner.value
        inner.value = name(gen.tangent_name(root.id))
        return out
    if isinstance(target, (ast.Tuple, ast.List)):
        parts = [tangent_target(gen, e) for e in target.elts]
        if all(p is None for p in parts):
            return None
        parts = [p if p is not None else name(gen.ctx.namer.fresh("unused_d"), store=True) for p in parts]
        return ast.Tuple(elts=parts, ctx=ast.Store())
    return None
