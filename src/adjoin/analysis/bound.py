"""Bound names: which local names hold a value before each statement, on every path or on some.

The generator gives a name pushed while possibly unbound a value first (``definitely_bound``),
and an adjoint may be nonzero only after its primal was bound on some path (``maybe_bound``).  A
name read where no path has bound it is a program the primal cannot run: it is refused here
rather than failing inside the adjoint.
"""
import ast

from ..frontend.problems import Problems
from .flow import Forward


class Bound(Forward):
    """Names bound before each statement: on every path (``definite``) or on some path."""

    def __init__(self, definite):
        self.definite = definite
        self.before = {}

    def join(self, a, b):
        return a & b if self.definite else a | b

    def _record(self, stmt, state):
        previous = self.before.get(id(stmt))
        self.before[id(stmt)] = state if previous is None else self.join(previous, state)

    def loop_entry(self, loop, state):
        if isinstance(loop, ast.For):
            return state | {loop.target.id}
        return state

    def before_loop(self, stmt, state):
        self._record(stmt, state)
        return state

    def before_if(self, stmt, state):
        self._record(stmt, state)
        return state

    def transfer(self, stmt, state):
        self._record(stmt, state)
        names = set()
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if not isinstance(t, ast.Subscript):
                    names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        return state | frozenset(names)


def definitely_bound(func):
    """(before: id(stmt) -> names bound on every path, end: names bound at the end) — to give a
    name pushed while possibly unbound a value first."""
    analysis = Bound(definite=True)
    end = analysis.run(func.node.body, frozenset(func.params))
    return analysis.before, end or frozenset()


def maybe_bound(func):
    """id(stmt) -> names bound on some path before it (their adjoint may be nonzero after it)."""
    analysis = Bound(definite=False)
    analysis.run(func.node.body, frozenset(func.params))
    return analysis.before


def refuse_unbound_reads(program):
    """Refuses a read of a local name that no path before it assigns (the primal's UnboundLocalError)."""
    problems = Problems()
    for func in program.functions.values():
        before = maybe_bound(func)
        for node in ast.walk(func.node):
            parts = _read_parts(node)
            if parts is None or id(node) not in before:
                continue
            for part in parts:
                for sub in ast.walk(part):
                    read = isinstance(sub.ctx, ast.Load) or isinstance(node, ast.AugAssign) and sub is node.target \
                        if isinstance(sub, ast.Name) else False
                    if read and sub.id in func.locals and sub.id not in before[id(node)]:
                        problems.add(func.user, sub, f"{sub.id!r} is read before any value is assigned to it",
                                     f"assign {sub.id!r} before this line (Python would raise UnboundLocalError)")
    problems.raise_if_any(program.head)


def _read_parts(node):
    """The expressions a statement evaluates before it binds anything (None: not a statement)."""
    if isinstance(node, ast.Assign):
        return [node.value] + [t for t in node.targets if isinstance(t, ast.Subscript)]
    if isinstance(node, ast.AugAssign):
        return [node.value, node.target]
    if isinstance(node, (ast.Expr, ast.Return)):
        return [node.value] if node.value is not None else []
    if isinstance(node, (ast.If, ast.While, ast.Assert)):
        return [node.test]
    if isinstance(node, ast.For):
        return [node.iter]
    return None
