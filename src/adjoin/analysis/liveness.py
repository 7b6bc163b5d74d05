"""Liveness: the names whose current value a function may still read after each statement.

The aliasing checks of points_to.py ask it: an in-place write is harmful only when another name
that shares the array is still live.
"""
import ast

from .flow import Backward


def names_read(node):
    """Local names an expression reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def statement_uses_defs(stmt):
    """(names read, names rebound) by a simple statement."""
    uses, defs = set(), set()
    if isinstance(stmt, ast.Assign):
        uses |= names_read(stmt.value)
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                uses |= names_read(target)
            else:
                defs |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    elif isinstance(stmt, ast.AugAssign):
        uses |= names_read(stmt.value) | names_read(stmt.target)
        if isinstance(stmt.target, ast.Name):
            uses.add(stmt.target.id)
            defs.add(stmt.target.id)
    elif isinstance(stmt, (ast.Expr, ast.Return, ast.Assert)):
        value = stmt.value if not isinstance(stmt, ast.Assert) else stmt.test
        if value is not None:
            uses |= names_read(value)
    return uses, defs


class Liveness(Backward):
    """Names whose current value may be read later, after each simple statement.  A callee's
    parameters are read at its end too: the caller sees its arrays as the callee left them."""

    def __init__(self, func, outputs=True):
        self.func = func
        self.after = {}
        self.outputs = outputs

    def compute(self):
        end = set(self.func.result_names) | (set(self.func.params) if self.outputs else set())
        self.run(self.func.node.body, frozenset(end))
        return self.after

    def join(self, a, b):
        return a | b

    def transfer(self, stmt, state):
        self.after[id(stmt)] = self.after.get(id(stmt), frozenset()) | state
        uses, defs = statement_uses_defs(stmt)
        return (state - defs) | uses

    def condition(self, stmt, state):
        return state | names_read(stmt.test)

    def loop_top(self, stmt, state):
        if isinstance(stmt, ast.For):
            return state - {stmt.target.id}
        return state | names_read(stmt.test)

    def loop_before(self, stmt, state):
        if isinstance(stmt, ast.For):
            return state | names_read(stmt.iter)
        return state | names_read(stmt.test)

