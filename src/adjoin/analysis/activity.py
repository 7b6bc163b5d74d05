"""Activity: which names may carry derivatives (are 'varied' by the parameters in wrt).

A name is active in a function when some value assigned to it depends, through differentiable
operations, on an active parameter.  Ints, bools and strings never are.  Calls propagate
activity to the callee's parameters (the union over call sites: one adjoint per function) and
back through its result and the arrays it updates.  A derivative-carrying value passed to
something with no derivative rule is refused here.
"""
import ast

from ..errors import UnsupportedError
from ..frontend.problems import Problems
from .calls import bind_rule_call, sequence_items
from .flow import simple_statements


class Activity:
    """Active names per function, and the call summaries they came from."""

    def __init__(self):
        self.active = {}          # key -> set of active names
        self.active_params = {}   # key -> set of active params
        self.result_active = {}   # key -> bool


def infer_activity(program, kinds, rules, summaries, wrt):
    """Fixed point over the call graph; ``summaries`` gives each function's written params."""
    activity = Activity()
    for key in program.functions:
        activity.active_params[key] = set()
        activity.result_active[key] = False
        activity.active[key] = set()
    activity.active_params[program.head] = set(wrt)
    for _ in range(20):
        changed = False
        for key in program.order():
            func = program.functions[key]
            if key not in kinds.expr_kinds:
                continue
            varied = Varied(func, kinds.expr_kinds[key], rules, activity, summaries, None)
            names = varied.run(activity.active_params[key])
            if names != activity.active[key]:
                activity.active[key] = names
                changed = True
            result = any(n in names for n in func.result_names)
            if result != activity.result_active[key]:
                activity.result_active[key] = result
                changed = True
            for callee_key, params in varied.callee_params.items():
                if not params <= activity.active_params[callee_key]:
                    activity.active_params[callee_key] |= params
                    changed = True
        if not changed:
            break
    problems = Problems()
    for key in program.order():
        func = program.functions[key]
        if key in kinds.expr_kinds:
            Varied(func, kinds.expr_kinds[key], rules, activity, summaries, problems).run(
                activity.active_params[key])
    problems.raise_if_any(program.head)
    return activity


class Varied:
    """Flow-insensitive variedness of one function's names."""

    def __init__(self, func, expr_kinds, rules, activity, summaries, problems):
        self.func = func
        self.expr_kinds = expr_kinds
        self.rules = rules
        self.activity = activity
        self.summaries = summaries
        self.problems = problems
        self.names = set()
        self.callee_params = {}

    def numeric(self, node):
        kind = self.expr_kinds.get(node)
        return kind is None or kind.numeric or kind.cat in ("tuple", "list")

    def sequence(self, node):
        kind = self.expr_kinds.get(node)
        return kind is not None and kind.cat == "tuple"

    def item_index(self, index):
        kind = self.expr_kinds.get(index)
        return kind is not None and kind.cat in ("int", "bool")

    def run(self, params):
        self.names = set(params)
        stmts = list(simple_statements(self.func.node.body))
        for _ in range(50):
            before = set(self.names)
            for stmt in stmts:
                self.statement(stmt)
            if self.names == before:
                break
        return self.names

    def mark(self, target):
        if isinstance(target, ast.Name):
            kind = self.expr_kinds.get(target)
            if kind is None or kind.numeric or kind.cat == "tuple":
                self.names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.mark(elt)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and self.numeric(target.value):
            self.names.add(target.value.id)     # an int array truncates what is stored: no derivative

    def statement(self, stmt):
        if isinstance(stmt, ast.Assign):
            value = stmt.value
            callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
            if callee is not None and callee.kind == "user":
                self.user_call(value, callee, stmt.targets[0])
                return
            target = stmt.targets[0]
            if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
                for t, v in zip(target.elts, value.elts):
                    if self.varied(v):
                        self.mark(t)
                return
            if self.varied(value):
                self.mark(target)
        elif isinstance(stmt, ast.AugAssign):
            if self.varied(stmt.value):
                self.mark(stmt.target)
        elif isinstance(stmt, ast.Expr):
            value = stmt.value
            callee = self.func.callees.get(id(value))
            if callee is not None and callee.kind == "user":
                self.user_call(value, callee, None)
            else:
                self.varied(value)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.varied(stmt.value)

    def user_call(self, call, callee, target):
        params = self.summaries.params(callee.key)
        written = self.summaries.writes(callee.key)
        active_args = set()
        for param, arg in zip(params, call.args):
            if self.varied(arg):
                active_args.add(param)
        self.callee_params.setdefault(callee.key, set()).update(active_args)
        callee_active = self.activity.active.get(callee.key, set())
        for param, arg in zip(params, call.args):
            if param in written and param in callee_active:
                base = _storage_name(arg)
                if base is not None:
                    self.names.add(base)
        if target is not None and self.activity.result_active.get(callee.key):
            self.mark(target)

    def refuse(self, node, what, hint=None):
        if self.problems is not None:
            self.problems.add(self.func.user, node, what, hint)

    def varied(self, node):
        """True when ``node`` may carry a derivative; refuses varied values where none can go."""
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.Name):
            return node.id in self.names and self.numeric(node)
        if isinstance(node, ast.BinOp):
            return self.varied_binop(node)
        if isinstance(node, ast.UnaryOp):
            v = self.varied(node.operand)
            return v and not isinstance(node.op, (ast.Not, ast.Invert))
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                if self.varied(value):
                    self.refuse(node, "'and'/'or' on values that carry a derivative",
                                "use comparisons, or np.where / if-else to choose between values")
            return False
        if isinstance(node, ast.Compare):
            self.varied(node.left)
            for c in node.comparators:
                self.varied(c)
            return False
        if isinstance(node, ast.IfExp):
            self.varied(node.test)
            a = self.varied(node.body)
            b = self.varied(node.orelse)
            return a or b
        if isinstance(node, ast.Subscript):
            self.varied(node.slice)
            varied = self.varied(node.value) and self.numeric(node)
            if varied and self.sequence(node.value) and not self.item_index(node.slice):
                self.refuse(node, "slicing a list or tuple of values that carry derivatives",
                            "index its items one by one (t[0], t[1]), or keep them in an array")
            return varied
        if isinstance(node, ast.Attribute):
            if node.attr in ("T", "real"):
                return self.varied(node.value)
            if isinstance(node.value, ast.Name) and node.value.id not in self.func.locals:
                return False
            self.varied(node.value)
            return False
        if isinstance(node, (ast.Tuple, ast.List)):
            flags = [self.varied(e) for e in node.elts]
            return any(flags)
        if isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self.varied(part)
            return False
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            return False
        return False

    def varied_binop(self, node):
        """``varied`` of a binary operation: refuses arithmetic on sequences and bitwise operators
        on varied operands; floor division carries no derivative."""
        a = self.varied(node.left)
        b = self.varied(node.right)
        if (a or b) and (self.sequence(node.left) or self.sequence(node.right)):
            self.refuse(node, "arithmetic on lists or tuples of values that carry derivatives",
                        "compute on their items, or keep them in an array")
            return False
        if isinstance(node.op, (ast.FloorDiv,)) and (a or b):
            return False
        if isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
            if a or b:
                self.refuse(node, f"bitwise operator on a value that carries a derivative")
            return False
        return (a or b) and self.numeric(node)

    def call(self, node):
        callee = self.func.callees.get(id(node))
        if callee is None or callee.kind == "print":
            for arg in node.args:
                if not isinstance(arg, (ast.JoinedStr, ast.Constant)):
                    self.varied(arg)
            return False
        if callee.kind == "user":
            return self.activity.result_active.get(callee.key, False)
        if callee.kind == "external":
            flags = [self.varied(a) for a in node.args] + [self.varied(k.value) for k in node.keywords]
            if any(flags):
                self.refuse(node, f"calling {callee.key}, which has no derivative rule, on a value that "
                            "carries a derivative",
                            "add a rule to adjoin's derivative table, or compute it outside the "
                            "differentiated code")
            return False
        rule = self.rules.get(callee.key)
        if rule is None:
            return False
        try:
            bound, extra = bind_rule_call(rule, node, callee.key)
        except ValueError as error:
            self.refuse(node, f"call to {callee.key.split('.', 1)[1]}: {error}")
            return False
        any_varied = False
        if rule.no_rule is not None:
            varied = [self.varied(a) for a in list(bound.values()) + list(extra)]
            if any(varied):
                self.refuse(node, f"{callee.key} has no derivative rule for arguments that carry a "
                            "derivative", rule.no_rule)
            return False
        if "out" in bound and not (isinstance(bound["out"], ast.Constant) and bound["out"].value is None):
            self.refuse(node, f"{callee.key.split('.', 1)[1]}(..., out=...)",
                        "assign the result instead: x = np.sum(a, axis=0)")
        for name, arg in bound.items():
            if name in rule.sequence and sequence_items(arg) is None and self.varied(arg):
                self.refuse(arg, f"a sequence of arrays passed to {callee.key.split('.', 1)[1]} as a variable",
                            "write the list or tuple where it is used: np.concatenate((a, b))")
                continue
            items = sequence_items(arg) if name in rule.sequence else None
            flags = [self.varied(e) for e in items] if items is not None else [self.varied(arg)]
            if not any(flags):
                continue
            if name in rule.adjoints:
                any_varied = True
            elif rule.adjoints:
                self.refuse(arg, f"{callee.key.split('.', 1)[1]} cannot be differentiated with respect to "
                            f"its argument {name!r}", "pass a value that does not depend on the parameters "
                            "differentiated")
        for arg in extra:
            self.varied(arg)
        return any_varied and self.numeric(node)


def _storage_name(node):
    """The array name whose storage an argument expression designates (x, x[1:-1]), or None."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def storage_name(node):
    return _storage_name(node)


__all__ = ["Activity", "infer_activity", "storage_name", "UnsupportedError"]
