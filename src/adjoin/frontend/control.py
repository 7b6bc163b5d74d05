"""Structured control flow: one return at the end, no continue, break only as the last statement of a
branch (the statements that followed a jump are moved into the branches that fall through)."""
import ast
import copy

from .syntax import assigned_names


class ControlFlow:
    """Restructures the jumps of one function whose returns assign ``results``."""

    def __init__(self, namer, results):
        self.namer = namer
        self.results = results
        self.returned_flag = None

    def structure(self, stmts, in_loop):
        """Moves the statements after a jump into the branches that fall through; see module docstring."""
        out = []
        for k, stmt in enumerate(stmts):
            tail = stmts[k + 1:]
            if isinstance(stmt, ast.Return):
                out.extend(self.return_assign(stmt))
                if in_loop:
                    out.extend(self.return_in_loop(stmt))
                return out
            if isinstance(stmt, ast.Continue):
                return out
            if isinstance(stmt, ast.Break):
                out.append(stmt)
                return out
            if isinstance(stmt, ast.If) and _jumps(stmt, loop_level=True):
                stmt.body = self.structure(stmt.body + copy.deepcopy(tail), in_loop)
                stmt.orelse = self.structure(stmt.orelse + copy.deepcopy(tail), in_loop)
                out.append(stmt)
                return out
            if isinstance(stmt, (ast.For, ast.While)):
                contains_return = any(isinstance(s, ast.Return) for s in ast.walk(stmt))
                if contains_return:
                    flag = self.flag()
                    init = ast.copy_location(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                                                        value=ast.Constant(value=False)), stmt)
                    stmt.body = self.structure(stmt.body, in_loop=True)
                    out.append(init)
                    out.append(stmt)
                    after = ast.copy_location(ast.If(test=ast.Name(id=flag, ctx=ast.Load()),
                                                     body=[_returned_marker(stmt)] if not in_loop else
                                                     [ast.copy_location(ast.Break(), stmt)],
                                                     orelse=self.structure(copy.deepcopy(tail), in_loop)), stmt)
                    if not in_loop:
                        after.body = [ast.copy_location(ast.Pass(), stmt)]
                    out.append(after)
                    return out
                stmt.body = self.structure(stmt.body, in_loop=True)
                out.append(stmt)
                continue
            if isinstance(stmt, ast.If):
                stmt.body = self.structure(stmt.body, in_loop)
                stmt.orelse = self.structure(stmt.orelse, in_loop)
            out.append(stmt)
        return out

    def flag(self):
        """The variable that says a loop was left by a return (made when first needed)."""
        if self.returned_flag is None:
            self.returned_flag = self.namer.fresh("returned")
        return self.returned_flag

    def return_assign(self, stmt):
        """``return e`` -> ``result = e``."""
        if stmt.value is None or not self.results:
            return []
        targets = _names_target(self.results)
        return [ast.copy_location(ast.Assign(targets=[targets], value=stmt.value), stmt)]

    def return_in_loop(self, stmt):
        """A return inside a loop: the flag set, then break."""
        flag = self.flag()
        return [ast.copy_location(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                                             value=ast.Constant(value=True)), stmt),
                ast.copy_location(ast.Break(), stmt)]


def _returned_marker(stmt):
    return ast.copy_location(ast.Pass(), stmt)


def _names_target(names):
    if len(names) == 1:
        return ast.Name(id=names[0], ctx=ast.Store())
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in names], ctx=ast.Store())


def _jumps(stmt, loop_level):
    """True when ``stmt`` contains a return, or a break/continue of the enclosing loop."""
    def walk(node, depth):
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.Break, ast.Continue)):
            return depth == 0
        if isinstance(node, (ast.For, ast.While)):
            return any(walk(s, depth + 1) for s in node.body)
        if isinstance(node, ast.If):
            return any(walk(s, depth) for s in node.body + node.orelse)
        return False
    return walk(stmt, 0)


def assigns_results(stmts, results):
    """True when every path through ``stmts`` assigns the result variables."""
    for stmt in reversed(stmts):
        if isinstance(stmt, ast.Assign) and assigned_names(stmt) >= set(results):
            return True
        if isinstance(stmt, ast.If):
            if assigns_results(stmt.body, results) and assigns_results(stmt.orelse, results):
                return True
        if isinstance(stmt, (ast.For, ast.While)):
            continue
    return False
