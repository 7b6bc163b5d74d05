"""A function chosen at run time among known ones: its calls become a choice among their calls.

Models pick a scheme by a string (``step = SCHEMES[name]``, or ``if name == "rk2": step = rk2
else: step = euler``) and call it (``x = step(rhs, x, dt)``).  When every assignment of the local
name gives it one of a known set of user functions (module-level functions, parameters bound to
functions, the values of a module-level dict or tuple of functions), each call of the name is
written as a conditional expression over the candidates::

    x = rk2(rhs, x, dt) if step is rk2 else euler(rhs, x, dt)

which is ordinary code: one call site per candidate, the branch taken recorded like any other.
The assignments stay as written (the dict lookup still raises KeyError for an unknown name).
"""
import ast
import copy
from dataclasses import replace

from .source import MISSING, is_user_function, resolve


def dispatch_local_functions(user, function_value):
    """``user`` with the calls of its local function-valued names written as choices; the same
    object when it has none.  ``function_value(node, user)``: the function a name designates."""
    candidates = _candidates(user, function_value)
    if not candidates:
        return user
    node = copy.deepcopy(user.node)
    aliases = dict(user.aliases)
    taken = {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)} | set(user.fn.__globals__)
    names = {}
    for fns in candidates.values():
        for fn in fns:
            if id(fn) not in names:
                names[id(fn)] = _alias(fn, user, aliases, taken)
    _Rewrite(candidates, names).visit(node)
    ast.fix_missing_locations(node)
    return replace(user, node=node, aliases=aliases)


def _candidates(user, function_value):
    """{local name: [user functions it may hold]} for the names called whose every assignment
    gives a known function; names assigned otherwise are left out (their calls stay refused)."""
    called = {sub.func.id for sub in ast.walk(user.node)
              if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)}
    params = {a.arg for a in user.node.args.posonlyargs + user.node.args.args + user.node.args.kwonlyargs}
    found, spoiled = {}, set(params)
    for sub in ast.walk(user.node):
        if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
            name = sub.targets[0].id
            fns = _functions_of(sub.value, user, function_value)
            if fns is None:
                spoiled.add(name)
            else:
                found.setdefault(name, [])
                found[name] += [fn for fn in fns if all(fn is not known for known in found[name])]
            continue
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            if not _is_simple_target(sub, user.node):
                spoiled.add(sub.id)
    return {name: fns for name, fns in found.items() if name in called and name not in spoiled and fns}


def _is_simple_target(name, tree):
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and sub.targets[0] is name:
            return True
    return False


def _functions_of(value, user, function_value):
    """The user functions ``value`` may be (a function's name, or a subscript of a module-level
    dict, tuple or list of functions), or None when it is something else."""
    if isinstance(value, ast.Name):
        fn = function_value(value, user)
        return [fn] if fn is not None else None
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
            and value.value.id not in user.local_names:
        table = resolve(value.value, user.globals)
        items = list(table.values()) if isinstance(table, dict) else \
            list(table) if isinstance(table, (tuple, list)) else None
        if table is not MISSING and items and all(is_user_function(fn) for fn in items):
            return items
    return None


def _alias(fn, user, aliases, taken):
    """A name for ``fn`` in ``user``'s globals: its own when that is it, else a fresh alias."""
    if user.globals.get(fn.__name__) is fn and fn.__name__ not in user.local_names:
        return fn.__name__
    name, n = fn.__name__, 1
    while name in taken or name in aliases:
        n += 1
        name = f"{fn.__name__}{n}"
    taken.add(name)
    aliases[name] = fn
    return name


class _Rewrite(ast.NodeTransformer):
    """``step(args)`` -> ``c1(args) if step is c1 else (c2(args) if step is c2 else c3(args))``."""

    def __init__(self, candidates, names):
        self.candidates = candidates
        self.names = names

    def visit_Call(self, call):
        self.generic_visit(call)
        if not (isinstance(call.func, ast.Name) and call.func.id in self.candidates):
            return call
        local = call.func.id
        fns = self.candidates[local]
        choice = self._call(call, fns[-1])
        for fn in reversed(fns[:-1]):
            test = ast.Compare(left=ast.Name(id=local, ctx=ast.Load()), ops=[ast.Is()],
                               comparators=[ast.Name(id=self.names[id(fn)], ctx=ast.Load())])
            choice = ast.IfExp(test=test, body=self._call(call, fn), orelse=choice)
        return ast.copy_location(choice, call)

    def _call(self, call, fn):
        new = copy.deepcopy(call)
        new.func = ast.copy_location(ast.Name(id=self.names[id(fn)], ctx=ast.Load()), call.func)
        return new


__all__ = ["dispatch_local_functions"]
