"""Data-flow over normalized (structured) function bodies.

After normalization a body holds only simple statements, ``if``, ``for ... in range``, ``while``
and ``break`` as the last statement of a branch, so analyses walk the tree: branches join, loops
iterate to a fixed point.  ``None`` is the state of unreachable code.
"""
import ast


class Forward:
    """A forward analysis: subclasses give ``transfer``, ``join`` and optionally ``loop_entry``."""

    def transfer(self, stmt, state):
        raise NotImplementedError

    def join(self, a, b):
        raise NotImplementedError

    def loop_entry(self, loop, state):
        """State at the top of an iteration, given the state before it (assigns the loop index)."""
        return state

    def equal(self, a, b):
        return a == b

    def run(self, stmts, state):
        return self.block(stmts, state, [])

    def _join(self, a, b):
        if a is None:
            return b
        if b is None:
            return a
        return self.join(a, b)

    def block(self, stmts, state, breaks):
        for stmt in stmts:
            if state is None:
                return None
            state = self.statement(stmt, state, breaks)
        return state

    def statement(self, stmt, state, breaks):
        if isinstance(stmt, ast.If):
            state = self.before_if(stmt, state)
            a = self.block(stmt.body, state, breaks)
            b = self.block(stmt.orelse, state, breaks)
            return self._join(a, b)
        if isinstance(stmt, (ast.For, ast.While)):
            state = self.before_loop(stmt, state)
            head = state
            for _ in range(100):
                loop_breaks = []
                entry = self.loop_entry(stmt, head)
                end = self.block(stmt.body, entry, loop_breaks)
                new_head = self._join(state, end)
                if self.equal(new_head, head):
                    break
                head = new_head
            exit_state = head
            for b in loop_breaks:
                exit_state = self._join(exit_state, b)
            return self.after_loop(stmt, exit_state)
        if isinstance(stmt, ast.Break):
            breaks.append(state)
            return None
        return self.transfer(stmt, state)

    def before_if(self, stmt, state):
        return state

    def before_loop(self, stmt, state):
        return state

    def after_loop(self, stmt, state):
        return state


class Backward:
    """A backward analysis (liveness-like): ``transfer(stmt, state_after) -> state_before``."""

    def transfer(self, stmt, state):
        raise NotImplementedError

    def join(self, a, b):
        raise NotImplementedError

    def equal(self, a, b):
        return a == b

    def run(self, stmts, state):
        return self.block(stmts, state, None)

    def block(self, stmts, state, loop_exit):
        for stmt in reversed(stmts):
            state = self.statement(stmt, state, loop_exit)
        return state

    def statement(self, stmt, state, loop_exit):
        if isinstance(stmt, ast.If):
            a = self.block(stmt.body, state, loop_exit)
            b = self.block(stmt.orelse, state, loop_exit)
            return self.condition(stmt, self.join(a, b))
        if isinstance(stmt, (ast.For, ast.While)):
            after = state
            head = after
            for _ in range(100):
                top = self.block(stmt.body, head, after)
                top = self.loop_top(stmt, top)
                new_head = self.join(after, top)
                if self.equal(new_head, head):
                    break
                head = new_head
            return self.loop_before(stmt, head)
        if isinstance(stmt, ast.Break):
            return loop_exit
        return self.transfer(stmt, state)

    def condition(self, stmt, state):
        return state

    def loop_top(self, stmt, state):
        return state

    def loop_before(self, stmt, state):
        return state


def simple_statements(stmts):
    """Every simple statement in a body, in order, descending into compound ones."""
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            yield from simple_statements(stmt.body)
            yield from simple_statements(stmt.orelse)
        elif isinstance(stmt, (ast.For, ast.While)):
            yield from simple_statements(stmt.body)
        else:
            yield stmt
