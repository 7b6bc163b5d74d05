"""Building blocks of generated code: AST constructors, indented lines, tape pushes and pops.

Shared by the adjoint (forward and backward sweeps), the tangent and verify mode; nothing here
knows about derivatives.
"""
import ast
import copy


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

