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
    """Removes the obvious: g * 1.0, -(-g), and keeps the rest as written."""
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

        def visit_UnaryOp(self, n):
            self.generic_visit(n)
            if isinstance(n.op, ast.USub) and isinstance(n.operand, ast.UnaryOp) and isinstance(n.operand.op, ast.USub):
                return n.operand.operand
            return n
    return Simplifier().visit(node)


def _is_number(node, value):
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == value
