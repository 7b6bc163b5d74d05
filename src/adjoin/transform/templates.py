"""Derivative-table templates, parsed once, and substitution of names by expressions."""
import ast
import copy
from functools import lru_cache


@lru_cache(maxsize=None)
def parse_template(text):
    """The expression tree of a template (cached; always copy before use)."""
    return ast.parse(text, mode="eval").body


def template_names(text):
    """Names a template refers to."""
    return {n.id for n in ast.walk(parse_template(text)) if isinstance(n, ast.Name)}


SHAPE_ARGUMENTS = {"unreduce": 1, "sum_to": 1}    # ad.f(g, like, ...): ``like`` gives a shape


def shape_only_names(text):
    """Names a template reads only for their shape (``like`` of ``ad.sum_to(g, like)``)."""
    tree = parse_template(text)
    shaped = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "ad"
                and node.func.attr in SHAPE_ARGUMENTS and len(node.args) > SHAPE_ARGUMENTS[node.func.attr]):
            like = node.args[SHAPE_ARGUMENTS[node.func.attr]]
            if isinstance(like, ast.Name):
                shaped.add(id(like))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return {n for n in names if all(id(m) in shaped for m in ast.walk(tree)
                                    if isinstance(m, ast.Name) and m.id == n)}


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping and isinstance(node.ctx, ast.Load):
            return copy.deepcopy(self.mapping[node.id])
        return node


def substitute(node, mapping):
    """A copy of expression ``node`` with the names read in it replaced by ``mapping``'s expressions."""
    wrapper = ast.Expression(body=copy.deepcopy(node))
    _Substitute(mapping).visit(wrapper)
    return wrapper.body


def instantiate(text, mapping):
    """A copy of template ``text`` with names replaced by the expressions in ``mapping``."""
    tree = copy.deepcopy(parse_template(text))
    wrapper = ast.Expression(body=tree)
    _Substitute(mapping).visit(wrapper)
    return simplify(wrapper.body)


def simplify(node):
    """Removes the obvious: g * 1.0, -(-g), a conditional on constants (``... if None is None
    else ...``), a whole constant power's guard, and keeps the rest as written."""
    class Simplifier(ast.NodeTransformer):
        def visit_BinOp(self, n):
            self.generic_visit(n)
            if isinstance(n.op, ast.Mult):
                if _is_number(n.right, 1.0):
                    return n.left
                if _is_number(n.left, 1.0):
                    return n.right
            if isinstance(n.op, ast.Div) and _is_number(n.right, 1.0):
                return n.left
            return n

        def visit_Call(self, n):
            self.generic_visit(n)
            return _constant_power(n) or n

        def visit_IfExp(self, n):
            self.generic_visit(n)
            known = _known_test(n.test)
            return n if known is None else (n.body if known else n.orelse)

        def visit_UnaryOp(self, n):
            self.generic_visit(n)
            if isinstance(n.op, ast.USub) and isinstance(n.operand, ast.UnaryOp) and isinstance(n.operand.op, ast.USub):
                return n.operand.operand
            return n
    return Simplifier().visit(node)


def _known_test(test):
    """The value of a test between constants (``None is None``: a default the template checks), else None."""
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and isinstance(test.left, ast.Constant) and isinstance(test.comparators[0], ast.Constant)):
        same = test.left.value is test.comparators[0].value
        return same if isinstance(test.ops[0], ast.Is) else not same
    return None


def _constant_power(n):
    """``ad.pow_base(g, a, k)`` for a whole constant k >= 1 written out: ``g``, ``g * (2 * a)``,
    ``g * (k * a ** (k - 1))`` (no guard needed: a ** (k - 1) is finite); else None."""
    if not (isinstance(n.func, ast.Attribute) and n.func.attr == "pow_base" and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "ad" and len(n.args) == 3 and not n.keywords):
        return None
    g, a, k = n.args
    if not (isinstance(k, ast.Constant) and type(k.value) in (int, float) and k.value >= 1
            and float(k.value).is_integer()):
        return None
    if k.value == 1:
        return g
    factor = ast.Constant(float(k.value))
    power = a if k.value == 2 else ast.BinOp(left=a, op=ast.Pow(), right=ast.Constant(type(k.value)(k.value - 1)))
    return ast.BinOp(left=g, op=ast.Mult(), right=ast.BinOp(left=factor, op=ast.Mult(), right=power))


def _is_number(node, value):
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == value
