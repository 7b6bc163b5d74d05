"""Usefulness: which names may carry a derivative to the outputs (Tapenade's "useful" half of activity).

Activity (activity.py) is the forward half: a name is *varied* when it depends on a parameter in
``wrt``.  A varied name whose value never reaches an output through differentiable operations
(one that only feeds a comparison, an index or a shape) has an adjoint that stays zero all along
the backward sweep, so the adjoint statements that propagate it are dead.  A name is *useful*
when it may reach an output: the function's result, or an array parameter it updates in place
(the caller may read it afterwards).  The analysis is backward and flow-insensitive, like
activity: a fixed point over the function's simple statements, and conservative everywhere it
is unsure (an expression it does not know passes usefulness to every name it reads; every
argument of a user call is useful as soon as one of its outputs is).

Names that may share memory (``v = a[1:]``, ``b = a``, a call returning a view of its
argument) are useful together: a write through one reaches the other.  The points-to sets of
effects.py say which names may share.

Only a function's own locals lose their activity (``restrict_to_useful``): parameters, results
and the names bound by user calls keep the activity they have, so that the adjoint's signatures
and the call adjoints do not change.
"""
import ast

from .activity import storage_name
from .calls import bind_rule_call, sequence_items
from .liveness import names_read
from .flow import simple_statements


def restrict_to_useful(program, kinds, activity, rules, summaries):
    """Removes from ``activity`` every local that cannot reach an output (after infer_activity)."""
    for key in program.order():
        if key in kinds.expr_kinds:
            activity.active[key] -= useless_locals(program.functions[key], activity.active[key], rules,
                                                   summaries, key)


def useless_locals(func, active, rules, summaries, key):
    """Active locals of ``func`` that cannot reach an output: their adjoints are always zero."""
    useful = Useful(func, rules, summaries, key).run()
    keep = set(func.params) | set(func.result_names) | _call_targets(func)
    return {n for n in active if n not in useful and n not in keep}


class Useful:
    """The backward fixed point of one function's useful names."""

    def __init__(self, func, rules, summaries, key):
        self.func = func
        self.rules = rules
        self.summaries = summaries
        self.groups = summaries.sharing.get(key, ())
        self.names = set(summaries.writes(key)) if key in summaries.by_key else set()

    def run(self):
        stmts = list(simple_statements(self.func.node.body))
        for _ in range(100):
            before = len(self.names)
            for stmt in reversed(stmts):
                self.statement(stmt)
            for group in self.groups:
                if group & self.names:
                    self.names |= group
            if len(self.names) == before:
                break
        return self.names

    def any_useful(self, targets):
        return any(t in self.names for t in targets)

    def statement(self, stmt):
        if isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.names |= self.reads(stmt.value)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                self.assign(target, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            if self.any_useful(_stores(stmt.target)):
                self.names |= self.reads(stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.user_call(stmt.value, ())

    def assign(self, target, value):
        callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
        if callee is not None and callee.kind == "user":
            self.user_call(value, _stores(target))
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                self.assign(t, v)
        elif self.any_useful(_stores(target)):
            self.names |= self.reads(value)

    def user_call(self, call, targets):
        """Every argument is useful when a result or an array the callee updates is."""
        callee = self.func.callees.get(id(call))
        if callee is None or callee.kind != "user":
            return
        written = self.summaries.writes(callee.key) if callee.key in self.summaries.by_key else None
        params = self.summaries.params(callee.key) if callee.key in self.summaries.by_key else ()
        outputs = set(targets)
        for position, arg in enumerate(call.args):
            if written is None or position >= len(params) or params[position] in written:
                root = storage_name(arg)
                if root is not None:
                    outputs.add(root)
        if self.any_useful(outputs):
            for arg in list(call.args) + [k.value for k in call.keywords]:
                self.names |= names_read(arg)

    # -- the names an expression passes a derivative from ------------------------------------------
    def reads(self, node):
        """Names whose derivative may flow into the value of ``node`` (all it reads, when unsure)."""
        if isinstance(node, ast.Constant):
            return set()
        if isinstance(node, ast.Name):
            return {node.id}
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, (ast.FloorDiv, ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
                return set()
            return self.reads(node.left) | self.reads(node.right)
        if isinstance(node, ast.UnaryOp):
            return set() if isinstance(node.op, (ast.Not, ast.Invert)) else self.reads(node.operand)
        if isinstance(node, ast.Compare):
            return set()
        if isinstance(node, ast.IfExp):
            return self.reads(node.body) | self.reads(node.orelse)
        if isinstance(node, ast.Subscript):
            return self.reads(node.value)
        if isinstance(node, ast.Attribute) and node.attr in ("T", "real"):
            return self.reads(node.value)
        if isinstance(node, (ast.Tuple, ast.List)):
            return set().union(*(self.reads(e) for e in node.elts))
        if isinstance(node, ast.Call):
            return self.call_reads(node)
        return names_read(node)

    def call_reads(self, node):
        callee = self.func.callees.get(id(node))
        rule = self.rules.get(callee.key) if callee is not None and callee.kind == "rule" else None
        if rule is None or rule.no_rule is not None:
            return names_read(node)
        try:
            bound, _ = bind_rule_call(rule, node, callee.key)
        except ValueError:
            return names_read(node)
        out = set()
        for name, arg in bound.items():
            if name not in rule.adjoints:
                continue        # no derivative flows through this argument (an axis, a shape, a mask)
            items = sequence_items(arg) if name in rule.sequence else None
            for item in items if items is not None else [arg]:
                out |= self.reads(item)
        return out


def _stores(target):
    """The names a target stores into: itself, the array a subscript writes, a tuple's items."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_stores(e) for e in target.elts))
    root = storage_name(target)
    return {root} if root is not None else names_read(target)


def _call_targets(func):
    """Names bound to the results of user calls (their adjoints enter call adjoints)."""
    out = set()
    for stmt in simple_statements(func.node.body):
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            callee = func.callees.get(id(stmt.value))
            if callee is not None and callee.kind == "user":
                for target in stmt.targets:
                    out |= _stores(target)
    return out
