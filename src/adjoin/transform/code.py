"""Building blocks of generated code: AST constructors, indented lines, tape pushes and pops.

Shared by the adjoint (forward and backward sweeps), the tangent and verify mode; nothing here
knows about derivatives.
"""
import ast
import copy

from ..runtime.profiler import INLINE_STATEMENT


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


class Lines:
    """Indented source lines."""

    def __init__(self):
        self.lines = []

    def add(self, indent, text):
        if not text:
            self.lines.append("")
        for line in text.splitlines():
            self.lines.append("    " * indent + line)

    def stmt(self, indent, node, comment=None):
        text = ast.unparse(ast.fix_missing_locations(node))
        if comment:
            first, *rest = text.splitlines()
            text = "\n".join([f"{first}  # {comment}"] + rest)
        self.add(indent, text)

    def extend(self, other):
        self.lines.extend(other.lines)


def tape_push(expr):
    return ast.Expr(value=ast.Call(func=ast.Attribute(value=name("tape"), attr="push", ctx=ast.Load()),
                                   args=[expr], keywords=[]))


def tape_pop():
    return ast.Call(func=ast.Attribute(value=name("tape"), attr="pop", ctx=ast.Load()), args=[], keywords=[])


def everything(target):
    """``x[...]``: the whole array as a region, for in-place restores."""
    return ast.Subscript(value=name(target), slice=ast.Constant(value=Ellipsis), ctx=ast.Store())


def inline_event(kind, site):
    """A profiling event recorded without a call (runtime/profiler.py, INLINE)."""
    return INLINE_STATEMENT.format(kind=kind, site=site)


def statement_label(stmt):
    """``line N (its source)``: a statement named in verify mode's messages."""
    return f"line {stmt.lineno} ({source_line(stmt)})"


def source_line(stmt):
    """The first line of a statement's source, cut to 70 characters (comments and messages)."""
    text = ast.unparse(stmt).splitlines()[0]
    return text if len(text) <= 70 else text[:67] + "..."
