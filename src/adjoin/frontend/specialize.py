"""Functions as values: a user function specialized on the functions its parameters receive.

Scientists pass schemes and right-hand sides as arguments (``def run(x, dt, method=rk4): ...
x = method(x, dt)``, ``def step(f, x, *params): return f(x, *params)``).  When the function value
is known where the call is written (a module-level user function, a parameter the caller itself
was specialized on, a default) or where the head is called, the callee is specialized on it: a
copy of its code in which ``method(...)`` calls that function by name, an ordinary call site
(named after the function really called).  ``*args`` is specialized on the number of values it
receives: ``*params`` becomes ``params_0, params_1``.  The parameter itself stays in the signature
(the advance of a checkpointed call runs the user's own function with the same arguments).
"""
import ast
import copy
import inspect
from dataclasses import dataclass, replace

from .dispatch import dispatch_local_functions
from .source import MISSING, is_user_function, resolve, user_function
from .syntax import assigned_names


@dataclass(frozen=True)
class Binding:
    """What one specialization of a function knows: its parameters' function values, and how
    many values its ``*args`` receives (None: it has none)."""
    functions: tuple = ()          # ((parameter, function object), ...), sorted by parameter
    varargs: int | None = None
    # ((parameter, length), ...): a tuple parameter the function unpacks into a call (g(x, *args))
    tuples: tuple = ()

    def function_of(self, name):
        return dict(self.functions).get(name)

    def tuple_length(self, name):
        return dict(self.tuples).get(name)

    def label(self):
        """Part of a key naming the functions bound: 'rk4', 'euler_lorenz'."""
        if not self.functions and self.varargs is None and self.tuples:
            return "_".join(f"{p}{n}" for p, n in self.tuples)
        return "_".join(fn.__name__ for _, fn in self.functions) or f"{self.varargs}args"


NOTHING = Binding()


def head_binding(fn, values=None):
    """The head's binding: user functions among the values it is called with, or its defaults."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return NOTHING
    functions, tuples, starred = {}, {}, _unpacked_parameters(fn)
    for name, param in parameters.items():
        value = (values or {}).get(name, param.default)
        if is_user_function(value):
            functions[name] = value
        elif name in starred and isinstance(value, tuple):
            tuples[name] = len(value)
    return Binding(tuple(sorted(functions.items(), key=lambda item: item[0])), tuples=tuple(sorted(tuples.items())))


def _unpacked_parameters(fn, seen=None):
    """Parameters of ``fn`` (not its own ``*args``) that its body unpacks into calls, ``g(x, *args)``,
    or passes on to a user function that does, and never assigns: specialized on the length of the
    tuple they receive."""
    seen = {} if seen is None else seen        # id(fn) -> its parameters (none while being read: recursion)
    if id(fn) in seen:
        return seen[id(fn)]
    seen[id(fn)] = set()
    try:
        node = user_function(fn).node
    except Exception:       # no source: not a user function adjoin reads
        return set()
    params = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    params -= assigned_names(node)
    starred = {sub.value.id for sub in ast.walk(node) if isinstance(sub, ast.Starred) and isinstance(sub.value, ast.Name)}
    for call in ast.walk(node):
        passed = {a.id for a in call.args if isinstance(a, ast.Name)} & params - starred if isinstance(
            call, ast.Call) else set()
        target = resolve(call.func, fn.__globals__) if passed else MISSING
        if passed and is_user_function(target):
            try:
                bound = inspect.signature(target).bind_partial(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
            except (TypeError, ValueError):
                continue
            inner = _unpacked_parameters(target, seen)
            starred |= {a.id for p, a in bound.arguments.items() if p in inner and isinstance(a, ast.Name)}
    seen[id(fn)] = params & starred
    return seen[id(fn)]


def _tuple_length(node, func):
    """The number of values of a tuple argument known where the call is written: a tuple display,
    or a parameter of the caller specialized on its length; else None."""
    if isinstance(node, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in node.elts):
        return len(node.elts)
    if isinstance(node, ast.Name) and node.id not in assigned_names(func.node):
        return (func.binding or NOTHING).tuple_length(node.id)
    return None


def function_value(node, func):
    """The user function an argument expression designates, or None: a module-level function, or
    a parameter of ``func`` that its binding gives a function."""
    if not isinstance(node, ast.Name):
        return None
    bound = (func.binding or NOTHING).function_of(node.id)
    if bound is not None:
        return bound
    if node.id in func.local_names:
        return None
    value = resolve(node, func.globals)
    return value if value is not MISSING and is_user_function(value) else None


def callee_binding(call, target, func):
    """The binding of ``target`` at this call in ``func`` (positional and keyword arguments)."""
    try:
        signature = inspect.signature(target)
        bound = signature.bind_partial(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
    except (TypeError, ValueError):
        return NOTHING
    functions, varargs, tuples, starred = {}, None, {}, _unpacked_parameters(target)
    for name, param in signature.parameters.items():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            varargs = len(bound.arguments.get(name, ()))
        elif name in bound.arguments:
            value = function_value(bound.arguments[name], func)
            if value is not None:
                functions[name] = value
            elif name in starred and _tuple_length(bound.arguments[name], func) is not None:
                tuples[name] = _tuple_length(bound.arguments[name], func)
        elif is_user_function(param.default):
            functions[name] = param.default
        elif name in starred and isinstance(param.default, tuple):
            tuples[name] = len(param.default)
    return Binding(tuple(sorted(functions.items(), key=lambda item: item[0])), varargs, tuple(sorted(tuples.items())))


def specialized(user, binding):
    """The UserFunction of ``user`` specialized on ``binding``: calls of bound parameters name the
    function (an alias of the function's globals), ``*args`` becomes that many parameters, and
    calls of a local name holding one of known functions choose among them (frontend/dispatch.py)."""
    return dispatch_local_functions(_bound(user, binding), function_value)


def _bound(user, binding):
    if binding == NOTHING:
        return replace(user, binding=binding)
    node = copy.deepcopy(user.node)
    aliases = dict(user.aliases)
    taken = set(_names(node)) | set(user.fn.__globals__)
    if binding.varargs is not None and node.args.vararg is not None:
        _expand_varargs(node, binding.varargs, taken)
    for param, count in binding.tuples:
        _expand_unpacking(node, param, count)
    for param, fn in binding.functions:
        alias = fresh_name(fn.__name__, taken)
        aliases[alias] = fn
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == param:
                sub.func = ast.copy_location(ast.Name(id=alias, ctx=ast.Load()), sub.func)
    return replace(user, node=node, aliases=aliases, binding=binding)


def _expand_varargs(node, count, taken):
    """``def f(x, *params)`` called with 2 extra values -> ``def f(x, params_0, params_1)``."""
    name = node.args.vararg.arg
    names = [fresh_name(f"{name}_{k}", taken) for k in range(count)]
    node.args.args = node.args.args + [ast.arg(arg=n) for n in names]
    node.args.vararg = None

    class Expand(ast.NodeTransformer):
        def visit_Call(self, call):
            args = []
            for arg in call.args:
                if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name) and arg.value.id == name:
                    args += [ast.copy_location(ast.Name(id=n, ctx=ast.Load()), arg) for n in names]
                else:
                    args.append(arg)
            call.args = args
            self.generic_visit(call)
            return call

        def visit_Name(self, sub):
            if sub.id == name and isinstance(sub.ctx, ast.Load):
                return ast.copy_location(ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in names],
                                                   ctx=ast.Load()), sub)
            return sub
    node.body = [Expand().visit(stmt) for stmt in node.body]
    ast.fix_missing_locations(node)


def _expand_unpacking(node, name, count):
    """``g(x, *args)`` with ``args`` a parameter holding 3 values -> ``g(x, args[0], args[1], args[2])``."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            args = []
            for arg in call.args:
                if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name) and arg.value.id == name:
                    args += [ast.copy_location(ast.Subscript(value=ast.Name(id=name, ctx=ast.Load()),
                                                             slice=ast.Constant(value=k), ctx=ast.Load()), arg)
                             for k in range(count)]
                else:
                    args.append(arg)
            call.args = args
    ast.fix_missing_locations(node)


def _names(node):
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)} | \
        {sub.arg for sub in ast.walk(node) if isinstance(sub, ast.arg)}


def fresh_name(base, taken):
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


__all__ = ["Binding", "NOTHING", "callee_binding", "function_value", "head_binding", "specialized"]
