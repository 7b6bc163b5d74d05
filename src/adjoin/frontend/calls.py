"""Normalizing calls to user functions: arguments bound as positional, defaults filled in, calls nested
in expressions hoisted into statements of their own, arguments that a callee could change copied first."""
import ast
import inspect
import types

from .source import is_user_function, resolve
from .specialize import callee_binding
from .syntax import is_local_root, storage_root
from .values import constant_value, default_constant, module_level_name, plain


class UserCalls:
    """The calls to user functions in one function being normalized."""

    def __init__(self, func, keys, problems, locals_, namer):
        self.func = func
        self.keys = keys
        self.problems = problems
        self.locals = locals_
        self.namer = namer
        # id(user call) -> (the call, the callee's key): the call is held so that its id is not
        # given to a node made later while this table lives (calls rewritten here are freed)
        self.call_keys = {}
        self._view_bases = None

    def user_target(self, call):
        """The user function ``call`` calls (its key kept in ``call_keys``), or None."""
        f = call.func
        if isinstance(f, ast.Name) and f.id in self.keys.fragments:
            return self.keys.fragments[f.id].fn
        if isinstance(f, ast.Attribute) and is_local_root(f.value, self.locals):
            return None
        if isinstance(f, ast.Name) and f.id in self.locals:
            return None
        target = resolve(f, self.func.globals)
        if not isinstance(target, types.FunctionType):
            return None
        # the key is found from the call as written, before bind() rewrites its arguments
        known = self.call_keys.get(id(call))
        key = known[1] if known else self.keys.get(target, callee_binding(call, target, self.func))
        if key is None:
            return None
        self.call_keys[id(call)] = (call, key)
        return target

    def bind(self, call, target):
        """Rewrites the call's arguments as positional, defaults filled in."""
        sig = inspect.signature(target)
        try:
            bound = sig.bind(*call.args, **{kw.arg: kw.value for kw in call.keywords})
        except TypeError as error:
            self.problems.add(self.func, call, f"call to {target.__name__}: {error}")
            return call
        args = []
        for name, param in sig.parameters.items():
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(bound.arguments.get(name, ()))      # the callee is specialized on them
            elif name in bound.arguments:
                args.append(bound.arguments[name])
            elif is_user_function(param.default):
                args.append(self.function_name(param.default, call))
            elif default_constant(param.default):
                args.append(ast.copy_location(ast.Constant(value=plain(param.default)), call))
            else:
                args.append(self.constant_name(name, param.default, target, call))
        call.args = args
        call.keywords = []
        return call

    def constant_name(self, name, value, target, call):
        """A name for a module-level constant given as a default value (``params=PARAMS``): an alias
        of the caller's module-level name bound to that very object."""
        found = module_level_name(value, self.func.fn.__globals__) if constant_value(value) else None
        if found is None:
            self.problems.add(self.func, call, f"default value of {name!r} in {target.__name__} is not a number, "
                              "a string, a bool, None, a tuple of them or a module-level constant of this module",
                              f"pass {name}= at this call")
            return ast.copy_location(ast.Constant(value=None), call)
        for alias, bound in self.func.aliases.items():
            if bound is value:
                return ast.copy_location(ast.Name(id=alias, ctx=ast.Load()), call)
        alias = self.namer.fresh(f"{found}_default")
        self.func.aliases[alias] = value
        self.func.alias_names[alias] = found
        return ast.copy_location(ast.Name(id=alias, ctx=ast.Load()), call)

    def function_name(self, fn, near):
        """A name for a user function given as a default value, in this function's globals."""
        for alias, value in self.func.aliases.items():
            if value is fn:
                return ast.copy_location(ast.Name(id=alias, ctx=ast.Load()), near)
        alias = self.namer.fresh(fn.__name__)
        self.func.aliases[alias] = fn
        return ast.copy_location(ast.Name(id=alias, ctx=ast.Load()), near)

    def hoist(self, expr, before, top=False):
        """Replaces nested user calls in ``expr`` by temporaries assigned in ``before``."""
        if isinstance(expr, ast.Call):
            target = self.user_target(expr)
            if target is None and isinstance(expr.func, ast.Attribute):
                # a method of a user call's result: sq(x).sum() -> sq_result = sq(x); sq_result.sum()
                expr.func.value = self.hoist(expr.func.value, before)
            expr.args = [self.hoist(a, before) for a in expr.args]
            for kw in expr.keywords:
                kw.value = self.hoist(kw.value, before)
            if target is not None:
                self.bind(expr, target)
                self.separate_arguments(expr, before)
                if top:
                    return expr
                temp = self.namer.fresh(f"{target.__name__}_result")
                assign = ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())], value=expr)
                ast.copy_location(assign, expr)
                before.append(assign)
                return ast.copy_location(ast.Name(id=temp, ctx=ast.Load()), expr)
            return expr
        if isinstance(expr, ast.IfExp) and any(isinstance(sub, ast.Call) and self.user_target(sub) is not None
                                               for sub in ast.walk(expr)):
            # a conditional expression calling user functions becomes an if statement
            temp = self.namer.fresh("choice")
            test = self.hoist(expr.test, before)
            branches, roots = [], set()
            for part in (expr.body, expr.orelse):
                inner = []
                value = self.hoist(part, inner, top=True)
                roots |= _alias_roots(value)
                inner.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())],
                                                          value=value), expr))
                branches.append(inner)
            bases = self.view_bases()
            bases[temp] = _with_bases(roots, bases)     # choice = y or x
            before.append(ast.copy_location(ast.If(test=test, body=branches[0], orelse=branches[1]), expr))
            return ast.copy_location(ast.Name(id=temp, ctx=ast.Load()), expr)
        if isinstance(expr, (ast.IfExp, ast.BoolOp)):
            for sub in ast.walk(expr):
                if isinstance(sub, ast.Call) and self.user_target(sub) is not None:
                    self.problems.add(self.func, sub, "a call to a user function inside a conditional "
                                      "expression or 'and'/'or'", "call it in a statement of its own")
            return expr
        for name, value in ast.iter_fields(expr):
            if isinstance(value, ast.expr):
                setattr(expr, name, self.hoist(value, before))
            elif isinstance(value, list):
                setattr(expr, name, [self.hoist(v, before) if isinstance(v, ast.expr) else v for v in value])
        return expr

    def separate_arguments(self, call, before):
        """An argument computed from an array that another argument passes (f(y, y + 1.0)) is
        computed into a variable first: the callee may update that array, and the adjoint must
        see the argument's value from before the call."""
        # only an array passed as such (y, y[1:]) can be updated by the callee, and only the
        # arrays an argument computes with (not its indices) matter: T[k + 1] beside z[k] or k
        # is no reason to copy anything
        bases = self.view_bases()
        names = [_with_bases(_value_names(a), bases) for a in call.args]
        storage = [_with_bases({storage_root(a)} - {None}, bases) for a in call.args]
        for k, arg in enumerate(call.args):
            if isinstance(arg, (ast.Name, ast.Constant)):
                continue
            # another argument passing an array this one computes with, unless it is another row
            clash = any(names[k] & storage[j] & self.locals and not other_rows(arg, call.args[j])
                        for j in range(len(call.args)) if j != k)
            if clash:
                if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name) and all(
                        isinstance(p, ast.Slice) for p in (arg.slice.elts if isinstance(arg.slice, ast.Tuple)
                                                           else [arg.slice])):
                    continue        # a view: the array itself, passed in part
                temp = self.namer.fresh("argument")
                before.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())],
                                                           value=arg), arg))
                call.args[k] = ast.copy_location(ast.Name(id=temp, ctx=ast.Load()), arg)

    def view_bases(self):
        """For each local bound to a subscript of a name (``row = T[k]``), to another name or to a
        choice between them (``v = y if c else x``, also as normalization writes a conditional
        expression), the arrays it may be or be a view of (``T``, and what ``T`` is a view of): the
        analyses may write a view out as the subscript (analysis/views.py), which then passes
        ``T`` itself, and a second name is the same array."""
        if self._view_bases is None:
            direct = {}
            for node in ast.walk(self.func.node):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    roots = _alias_roots(node.value)
                    if roots:
                        direct.setdefault(node.targets[0].id, set()).update(roots)
            closed = {name: set(roots) for name, roots in direct.items()}
            changed = True
            while changed:
                changed = False
                for roots in closed.values():
                    more = _with_bases(roots, closed) - roots
                    if more:
                        roots |= more
                        changed = True
            self._view_bases = closed
        return self._view_bases


def other_rows(a, b):
    """``traj[n]`` and ``traj[n - 1]`` (or ``x[0]`` and ``x[2]``): two rows of one array that cannot
    be the same one, by their first index (a name plus different constants, or two constants
    that are not negative)."""
    if not (isinstance(a, ast.Subscript) and isinstance(b, ast.Subscript) and isinstance(a.value, ast.Name)
            and isinstance(b.value, ast.Name) and a.value.id == b.value.id):
        return False
    first = [(s.slice.elts[0] if isinstance(s.slice, ast.Tuple) else s.slice) for s in (a, b)]
    offsets = [_offset(part) for part in first]
    if None in offsets:
        return False
    (name_a, k_a), (name_b, k_b) = offsets
    if name_a is None and name_b is None:
        return k_a != k_b and k_a >= 0 and k_b >= 0
    return name_a == name_b and k_a != k_b


def _offset(expr):
    """(name, constant) for ``n``, ``n + 2``, ``n - 1``, ``3``; None for anything else."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, int) and not isinstance(expr.value, bool):
        return None, expr.value
    if isinstance(expr, ast.Name):
        return expr.id, 0
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)) and isinstance(expr.left, ast.Name) \
            and isinstance(expr.right, ast.Constant) and isinstance(expr.right.value, int):
        return expr.left.id, expr.right.value if isinstance(expr.op, ast.Add) else -expr.right.value
    return None


def _with_bases(names, bases):
    """``names`` and the arrays they may be or be a view of (a table of view_bases)."""
    return set(names).union(*(bases.get(n, set()) for n in names))


def _alias_roots(value):
    """The names whose arrays ``value`` may be or be a view of, as written: ``y``, ``y[1:]``, ``y if
    c else x`` (an empty set for anything computed)."""
    if isinstance(value, ast.IfExp):
        return _alias_roots(value.body) | _alias_roots(value.orelse)
    root = storage_root(value) if isinstance(value, (ast.Name, ast.Subscript)) else None
    return {root} if root is not None else set()


def _value_names(expr):
    """Names an expression computes with, leaving out those only in its indices."""
    if isinstance(expr, ast.Name):
        return {expr.id}
    if isinstance(expr, ast.Subscript):
        return _value_names(expr.value)
    out = set()
    for child in ast.iter_child_nodes(expr):
        out |= _value_names(child)
    return out
