"""Loop indices the backward sweep computes again instead of popping them.

Scalar-loop code starts a loop body by computing integer indices from the loop counters
(lorenz96: ``m = k * nj + j; mp1 = m + 1; if mp1 >= nm: mp1 = mp1 - nm``).  The backward sweep
needs them in every reversed iteration; pushing and popping them costs more than the arithmetic.
When the first statements of a ``for`` body compute such names from nothing but loop counters,
names the loop leaves alone and each other, the reversed iteration runs those statements again
first and nothing is pushed.  It is exact only if the names get the same values: so

* a statement of the prefix assigns a scalar name (or is an ``if`` of such statements), and its
  expressions are arithmetic and comparisons of names and constants (no calls, no subscripts);
* each name's first assignment in the prefix is unconditional and does not read it, so an
  iteration never sees the value the previous one left;
* the names are assigned nowhere else and read nowhere outside the loop body, not parameters;
* every other name the prefix reads is assigned nowhere in the loop body (loop counters of
  enclosing loops included: the reversed loops give them their values); the caller makes sure the
  backward sweep has their values when it reverses the loop, as it does for range bounds.
"""
import ast
from dataclasses import dataclass

ARITHMETIC = (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp,
              ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


@dataclass(frozen=True)
class Recomputed:
    """The statements a reversed iteration runs again, the names they set, the names they read."""
    statements: tuple
    names: frozenset
    reads: frozenset


def recomputed_prefix(loop, body, params, is_scalar_name):
    """The :class:`Recomputed` prefix of ``loop`` (an ``ast.For`` in the function body ``body``),
    or None.  ``is_scalar_name(node)``: the Name is an inactive scalar."""
    prefix = _candidate_prefix(loop.body, is_scalar_name)
    while prefix:
        names = _assigned(prefix)
        bad = _failing_names(loop, body, prefix, names, params)
        if not bad:
            return Recomputed(tuple(prefix), frozenset(names), frozenset(_reads(prefix) - names))
        prefix = prefix[:_first_assigning(prefix, bad)]
    return None


def _candidate_prefix(stmts, is_scalar_name):
    """The leading statements that are scalar assignments or branches of them."""
    prefix = []
    for stmt in stmts:
        if not _computes_an_index(stmt, is_scalar_name):
            break
        prefix.append(stmt)
    return prefix


def _computes_an_index(stmt, is_scalar_name):
    if isinstance(stmt, ast.Assign):
        targets_ok = len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        return targets_ok and is_scalar_name(stmt.targets[0]) and _arithmetic(stmt.value)
    if isinstance(stmt, ast.AugAssign):
        return isinstance(stmt.target, ast.Name) and is_scalar_name(stmt.target) and _arithmetic(stmt.value)
    if isinstance(stmt, ast.If):
        return (_arithmetic(stmt.test) and bool(stmt.body)
                and all(_computes_an_index(s, is_scalar_name) for s in stmt.body + stmt.orelse))
    return False


def _arithmetic(expr):
    return all(isinstance(node, ARITHMETIC) for node in ast.walk(expr))


def _assigned(stmts):
    return {node.id for stmt in stmts for node in ast.walk(stmt)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def _reads(stmts):
    nodes = [node for stmt in stmts for node in ast.walk(stmt)]
    reads = {node.id for node in nodes if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return reads | {node.target.id for node in nodes if isinstance(node, ast.AugAssign)}


def _failing_names(loop, body, prefix, names, params):
    """Names that break one of the module's conditions (also the reads the body rebinds)."""
    rest = loop.body[len(prefix):]
    stored_in_rest = _assigned(rest)           # loop targets too: they are Names in a Store
    outside = _names_outside(body, loop)
    bad = {n for n in names if n in params or n in stored_in_rest or n in outside}
    bad |= _not_first_set_unconditionally(prefix, names)
    for read in _reads(prefix) - names:
        if read in _assigned(loop.body):
            bad |= names            # a read the body changes: nothing here can be computed again
    return bad


def _names_outside(body, loop):
    """Every name used in ``body`` outside ``loop``'s body (its target and range included)."""
    inside = {id(node) for stmt in loop.body for node in ast.walk(stmt)}
    return {node.id for stmt in body for node in ast.walk(stmt)
            if isinstance(node, ast.Name) and id(node) not in inside}


def _not_first_set_unconditionally(prefix, names):
    """Names whose first appearance in the prefix is not a plain assignment that skips reading them."""
    bad, seen = set(), set()
    for stmt in prefix:
        if isinstance(stmt, ast.Assign):
            bad |= (_reads([stmt]) & names) - seen
            seen.add(stmt.targets[0].id)
        else:
            bad |= (_reads([stmt]) | _assigned([stmt])) & names - seen
    return bad


def _first_assigning(prefix, names):
    """Index of the first prefix statement that assigns one of ``names``."""
    for k, stmt in enumerate(prefix):
        if _assigned([stmt]) & names:
            return k
    return len(prefix)
