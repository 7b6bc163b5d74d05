"""Nested functions, lifted: a ``def`` inside a user function becomes a function of its own.

Scientists write helpers where they use them::

    def cost(y0, k):
        def rhs(y):
            return -k * y          # reads k from the enclosing function
        ...
        y = y + dt * rhs(y)

A nested function reads the enclosing function's variables as they are when it is called.  So
it is the same as a function that takes them as arguments, called with them at each call:
``cost_rhs(y, k=k)``.  That function (compiled from the nested one's code, in the user's file) is
an ordinary user function from then on: analysed, differentiated, a checkpoint site.

Lifted only when this equivalence is plain to see, else left to the checker, which refuses it:
the ``def`` is a statement of the enclosing function's body (not in a loop or a branch), has no
decorator, no default values, no ``*args``/``**kwargs``, no ``nonlocal``/``global``, no ``def``
of its own, and its name is only ever called (never passed, returned, stored or defined twice),
and it calls no other nested function (nor itself).
"""
import ast
import copy
from dataclasses import replace

from .source import UserFunction, compiled_function
from .specialize import fresh_name

_LIFTED_ATTRIBUTE = "__adjoin_lifted__"     # on a lifted function object: its UserFunction


def registered(fn):
    """The UserFunction of a function lifted by ``lift_nested``, else None."""
    return getattr(fn, _LIFTED_ATTRIBUTE, None)


def lift_nested(user):
    """``user`` with every liftable nested function made a function of its own (its calls pass
    the variables it reads from ``user``); ``user`` itself when there is none."""
    body = user.node.body
    nested = [s for s in body if isinstance(s, ast.FunctionDef)]
    names = [s.name for s in nested]
    liftable = [s for s in nested if names.count(s.name) == 1 and _liftable(s, user.node, set(names))]
    if not liftable:
        return user
    node = copy.deepcopy(user.node)
    aliases = dict(user.aliases)
    taken = _all_names(user.node) | set(user.fn.__globals__) | set(aliases)
    for stmt in liftable:
        free = _free_names(stmt, user.node)
        lifted = _lifted_function(user, stmt, free, fresh_name(f"{user.name}_{stmt.name}", taken))
        aliases[lifted.name] = lifted.fn
        _rewrite_calls(node, stmt.name, lifted.name, free)
    node.body = [s for s in node.body if not (isinstance(s, ast.FunctionDef) and s.name in
                                              {t.name for t in liftable})]
    return replace(user, node=node, aliases=aliases)


def _liftable(stmt, outer, nested_names):
    args = stmt.args
    if stmt.decorator_list or args.defaults or any(d is not None for d in args.kw_defaults):
        return False
    if args.vararg or args.kwarg or args.posonlyargs or args.kwonlyargs:
        return False
    inner = list(ast.walk(stmt))[1:]
    if any(isinstance(n, (ast.Nonlocal, ast.Global, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                          ast.ClassDef)) for n in inner):
        return False
    if any(isinstance(n, ast.Name) and n.id in nested_names for n in inner):
        return False            # calls another nested function, or itself
    return _only_called(outer, stmt)


def _only_called(outer, stmt):
    """Whether ``stmt.name`` appears in ``outer`` only as the function of calls, after the def."""
    calls = {id(n.func) for n in ast.walk(outer) if isinstance(n, ast.Call)}
    for n in ast.walk(outer):
        if isinstance(n, ast.Name) and n.id == stmt.name:
            if id(n) not in calls or not isinstance(n.ctx, ast.Load):
                return False
    return True


def _free_names(stmt, outer):
    """The enclosing function's variables the nested function reads, sorted."""
    outer_locals = _parameters(outer) | _stored(outer, skip=stmt)
    own = _parameters(stmt) | _stored(stmt)
    read = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted((read - own) & outer_locals)


def _parameters(fn):
    return {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}


def _stored(tree, skip=None):
    skipped = {id(n) for n in ast.walk(skip)} if skip is not None else set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            and id(n) not in skipped}


def _all_names(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def _lifted_function(user, stmt, free, name):
    """The UserFunction of the nested ``stmt`` as a function ``name`` of its own parameters, then
    of the ``free`` variables it reads; compiled from its code, in the user's file."""
    definition = copy.deepcopy(stmt)
    definition.name = name
    definition.args.args = definition.args.args + [ast.copy_location(ast.arg(arg=v), stmt) for v in free]
    fn = compiled_function(definition, user.path, user.fn.__globals__, user.fn.__module__)
    fn.__qualname__ = f"{user.fn.__qualname__}.<locals>.{stmt.name}"
    lifted = UserFunction(name, fn, definition, user.source, aliases=dict(user.aliases),
                          alias_names=dict(user.alias_names), primal_source=ast.unparse(definition))
    setattr(fn, _LIFTED_ATTRIBUTE, lifted)
    return lifted


def _rewrite_calls(node, old, new, free):
    """Every call ``old(...)`` in ``node`` as ``new(..., v=v for the free v)``."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == old:
            call.func = ast.copy_location(ast.Name(id=new, ctx=ast.Load()), call.func)
            call.keywords = call.keywords + [
                ast.copy_location(ast.keyword(arg=v, value=ast.copy_location(ast.Name(id=v, ctx=ast.Load()), call)),
                                  call) for v in free]
