"""Entry access: which parameters' values on entry a function reads, and which it overwrites
after reading them (the parameters a checkpointed call's snapshot must hold).
"""
import ast

from .flow import Forward
from .points_to import _root


class EntryAccess(Forward):
    """Which parameters' values on entry a function reads, and which it writes after reading.

    State: (params whose every element is overwritten, on every path; params whose entry values
    may have been read).  A write to a parameter after a read of its entry values makes it part of
    the snapshot of a checkpointed call: its re-run must start from the values on entry.  A
    parameter written before it is read (a work array) needs no snapshot, and one read but never
    written after that read keeps its values until the call is reversed, if its caller keeps them.
    """

    def __init__(self, func, kinds, summaries, env_before):
        self.func = func
        self.kinds = kinds
        self.summaries = summaries
        self.env_before = env_before
        self.reads = set()
        self.rewrites = set()
        self.regions = {}         # param -> the one constant region all its writes touch, or None

    def join(self, a, b):
        return (a[0] & b[0], a[1] | b[1])

    def region(self, params, region):
        for p in params:
            if p in self.regions and self.regions[p] != region:
                self.regions[p] = None
            else:
                self.regions.setdefault(p, region)

    def params_of(self, node, env):
        """Parameters whose entry arrays (or values) an expression designates."""
        out = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):        # also the target of x += ...: it reads x
                for obj in env.get(sub.id, ()):
                    if obj.startswith("P:"):
                        out.add(_root(obj)[2:])
                if sub.id in self.func.params and sub.id not in env:
                    out.add(sub.id)
        return out

    def read(self, params, state):
        killed, read = state
        fresh = {p for p in params if p not in killed}
        self.reads |= fresh
        return (killed, read | frozenset(fresh))

    def write(self, params, state, whole=False):
        killed, read = state
        self.rewrites |= {p for p in params if p in read}
        if whole:
            killed = killed | frozenset(p for p in params if p not in read)
        return (killed, read)

    def loop_entry(self, loop, state):
        env = self.env_before.get(id(loop.body[0]), {}) if loop.body else {}
        test = loop.iter if isinstance(loop, ast.For) else loop.test
        return self.read(self.params_of(test, env), state)

    def before_if(self, stmt, state):
        env = self.env_before.get(id(stmt.body[0]), {}) if stmt.body else {}
        return self.read(self.params_of(stmt.test, env), state)

    def transfer(self, stmt, state):
        env = self.env_before.get(id(stmt), {})
        if isinstance(stmt, ast.Assign):
            value = stmt.value
            callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
            if callee is not None and callee.kind == "user":
                state = self.call(value, callee, env, state)
            else:
                state = self.read(self.params_of(value, env), state)
            for target in stmt.targets:
                if isinstance(target, ast.Subscript):
                    state = self.read(self.params_of(target.slice, env), state)
                    storage = self.params_of(target.value, env)
                    self.region(storage, constant_region(target.slice))
                    state = self.write(storage, state, whole=_whole(target.slice))
            return state
        if isinstance(stmt, ast.AugAssign):
            target = stmt.target
            state = self.read(self.params_of(stmt.value, env), state)
            base = target if isinstance(target, ast.Name) else target.value
            if isinstance(target, ast.Subscript):
                state = self.read(self.params_of(target.slice, env), state)
            storage = self.params_of(base, env)
            state = self.read(storage, state)
            kind = self.kinds.get(target)
            if isinstance(target, ast.Subscript) or kind is not None and kind.array:
                self.region(storage, constant_region(target.slice) if isinstance(target, ast.Subscript) else None)
                state = self.write(storage, state)
            return state
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            callee = self.func.callees.get(id(value))
            if callee is not None and callee.kind == "user":
                return self.call(value, callee, env, state)
            return self.read(self.params_of(value, env), state)
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            return self.read(self.params_of(stmt.value, env), state)
        if isinstance(stmt, ast.Assert):
            return self.read(self.params_of(stmt.test, env), state)
        return state

    def call(self, node, callee, env, state):
        summary = self.summaries.by_key.get(callee.key)
        if summary is None:
            return self.read(self.params_of(node, env), state)
        for k, param in enumerate(summary.params[:len(node.args)]):
            arg = node.args[k]
            storage = isinstance(arg, ast.Name) or isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name)
            if not storage or param in summary.reads:
                state = self.read(self.params_of(arg, env), state)
            elif isinstance(arg, ast.Subscript):
                state = self.read(self.params_of(arg.slice, env), state)
        for k, param in enumerate(summary.params[:len(node.args)]):
            arg = node.args[k]
            if param not in summary.writes:
                continue
            base = arg.value if isinstance(arg, ast.Subscript) else arg
            targets = self.params_of(base, env)
            if param in summary.rewrites:
                # the callee reads what it is given, then writes it: the caller's entry values, unless
                # the caller had overwritten them all before
                self.rewrites |= {p for p in targets if p not in state[0] or p in state[1]}
            whole = param in summary.kills and (isinstance(arg, ast.Name) or _whole(arg.slice))
            inner = dict(summary.write_regions).get(param)
            self.region(targets, inner if isinstance(arg, ast.Name) else None)
            state = self.write(targets, state, whole)
        return state



def constant_region(index):
    """The text of an index made of integer constants, slices of them and None ("1:-1, 1:-1"),
    or None when it depends on values (only such regions can be compared)."""
    for sub in ast.walk(index):
        if isinstance(sub, ast.Name) or isinstance(sub, ast.Constant) and not (
                sub.value is None or isinstance(sub.value, int) and not isinstance(sub.value, bool)):
            return None
        if isinstance(sub, (ast.Call, ast.Attribute, ast.Subscript)):
            return None
    text = ast.unparse(index)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _whole(index):
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Constant) and part.value is Ellipsis:
            continue
        if isinstance(part, ast.Slice) and part.lower is None and part.upper is None and part.step is None:
            continue
        return False
    return True
