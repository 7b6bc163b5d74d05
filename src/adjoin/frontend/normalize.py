"""Normalizing: each checked user function rewritten into a smaller language the analyses and the
transformer handle:

* calls to user functions are statements of their own (``t = f(a, b)`` or ``f(a, b)``), with
  positional arguments only (keywords bound, defaults filled in);
* one ``return`` at the end, assigning the ``result`` variables on every path;
* no ``continue``; ``break`` only as the last statement of a branch (the statements that followed
  a jump are moved into the branches that fall through);
* ``a = b = e`` split, annotated assignments plain.
"""
import ast
import copy
import types
from dataclasses import dataclass, field

import numpy as np

from .calls import UserCalls
from .control import ControlFlow, assigns_results
from .directives import checkpoint_fragments, outline_fragment, outline_inactive
from .load import resolve_call
from .names import RESERVED, Namer
from .source import MISSING, UserFunction, resolve
from .syntax import assigned_names, fills, is_local_root, is_range, loop_sequences, reversed_range, names_expr, names_only, \
    parallel_store, plain_copy, storage_root


@dataclass
class Function:
    """A checked, normalized user function."""
    key: str                    # unique name among the program's functions
    user: UserFunction
    node: ast.FunctionDef       # normalized copy
    params: tuple
    result_names: tuple         # the result variables ((), one, or several for tuple returns)
    callees: dict = field(default_factory=dict)   # id(ast.Call) -> Callee
    locals: frozenset = frozenset()
    fragments: list = field(default_factory=list)  # [(start_line, end_line, label)]
    fragment_of: str | None = None   # for a checkpointed fragment: the function it was cut from
    fragment_label: str = ""
    user_params: tuple = ()     # the parameters' names in the user's code (``params`` are renamed
                                # where they clash with the generated code's names)
    copy_of: str = ""           # a copy made for other argument kinds: the key of the function copied

    @property
    def site_name(self):
        """The name site ids give this function: a copy's is the original's."""
        return self.copy_of or self.key

    @property
    def name(self):
        return self.user.name

    @property
    def path(self):
        return self.user.path


def normalize(key, func, keys, problems):
    """A normalized copy of user function ``func`` (see the module docstring)."""
    node = copy.deepcopy(func.node)
    params = tuple(a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs)
    locals_ = set(params) | assigned_names(node)
    namer = Namer(locals_ | set(func.globals) | {"np", "math", "tape", "ad"})
    state = _Normalizer(func, keys, problems, locals_, namer)
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    fragments = []
    if not getattr(func, "synthetic", False):
        for k, (start, end, label) in enumerate(checkpoint_fragments(func), start=1):
            found = outline_fragment(key, func, node, body, start, end, label, k, keys, problems, locals_)
            if found is not None:
                body, fragment = found
                fragments.append(fragment)
    body = outline_inactive(func, body, keys, namer)
    _nest_extremes(ast.Module(body=body, type_ignores=[]), func)
    body = state.block(body)
    result_names = state.result_names()
    flow = ControlFlow(namer, result_names)
    body = flow.structure(body, in_loop=False)
    body = _rename_rebound_parameters(body, params, namer, lambda call: state.calls.user_target(call) is not None)
    if result_names and flow.returned_flag is None and not assigns_results(body, result_names):
        state.falls_off_end = True
    if result_names:
        ret = ast.Return(value=names_expr(result_names))
        end_line = getattr(func.node, "end_lineno", func.node.lineno)
        ast.copy_location(ret, func.node)
        ret.lineno = end_line
        body.append(ret)
        body = _init_results(state, body, result_names)
    if not body:
        body = [ast.Pass()]
    node.body = body
    node.decorator_list = []
    node.returns = None
    for arg in node.args.args + node.args.posonlyargs + node.args.kwonlyargs:
        arg.annotation = None
    ast.fix_missing_locations(node)
    user_params = params
    params = _rename_reserved(node, params, func, namer)
    function = Function(key, func, node, params, result_names, user_params=user_params)
    if keys.first.get(id(func.fn), key) != key:
        function.copy_of = keys.first[id(func.fn)]      # sites are named after the function called
    function.locals = frozenset(set(params) | assigned_names(node))
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            function.callees[id(call)] = resolve_call(call, func, function.locals, keys, state.calls.call_keys)
    function.fragments = checkpoint_fragments(func) if not getattr(func, "synthetic", False) else []
    if getattr(func, "synthetic", False):
        function.fragment_of, function.fragment_label = func.fragment_of, func.fragment_label
    return function, fragments


class _Normalizer:
    """Rewrites the statements of one function (the user calls in them by ``calls``)."""

    def __init__(self, func, keys, problems, locals_, namer):
        self.func = func
        self.problems = problems
        self.locals = locals_
        self.namer = namer
        self.calls = UserCalls(func, keys, problems, locals_, namer)
        self.arity = None
        self.falls_off_end = False
        self.has_value_return = False
        self.has_bare_return = False

    def block(self, stmts):
        """The statements ``stmts`` become."""
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        """The statements ``stmt`` becomes: itself rewritten, after the user calls hoisted out of it."""
        before = []
        if isinstance(stmt, ast.AnnAssign):
            stmt = ast.copy_location(ast.Assign(targets=[stmt.target], value=stmt.value), stmt)
        if isinstance(stmt, (ast.Assign, ast.AugAssign)):
            self.hoist_written_indices(stmt, before)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and parallel_store(stmt.targets[0], stmt.value) \
                and not all(isinstance(e, ast.Name) for e in stmt.targets[0].elts):
            return self.parallel_assignment(stmt)
        if isinstance(stmt, ast.Assign):
            return self.assignment(stmt, before)
        if isinstance(stmt, ast.AugAssign):
            stmt.value = self.calls.hoist(stmt.value, before)
            if isinstance(stmt.target, ast.Subscript):
                stmt.target.slice = self.calls.hoist(stmt.target.slice, before)
            return before + [stmt]
        if isinstance(stmt, ast.Expr) and _fills_diagonal(stmt, self.func.globals):
            return self.statement(_diagonal_store(stmt))
        if isinstance(stmt, ast.Expr) and _is_store_call(stmt.value, self.func.globals, self.locals):
            return self.statement(_whole_store(stmt))
        if isinstance(stmt, ast.Expr):
            stmt.value = self.calls.hoist(stmt.value, before, top=True)
            return before + [stmt]
        if isinstance(stmt, ast.If):
            stmt.test = self.calls.hoist(stmt.test, before)
            stmt.body = self.block(stmt.body)
            stmt.orelse = self.block(stmt.orelse)
            return before + [stmt]
        if isinstance(stmt, ast.For):
            stmt.iter = self.calls.hoist(stmt.iter, before)
            if reversed_range(stmt.iter, self.func.globals) is not None:
                stmt = self.over_reversed_range(stmt, before)
            elif not is_range(stmt.iter, self.func.globals):
                stmt = self.over_range(stmt, before)
            stmt.body = self.block(stmt.body)
            return before + [stmt]
        if isinstance(stmt, ast.While):
            check = []
            self.calls.hoist(stmt.test, check)
            if check:
                self.problems.add(self.func, stmt, "a call to a user function in a while condition",
                                  "compute the condition into a variable before the loop and at the end of its body")
            stmt.body = self.block(stmt.body)
            return [stmt]
        if isinstance(stmt, ast.Return):
            return self.return_statement(stmt, before)
        if isinstance(stmt, ast.Assert):
            return [stmt]
        return before + [stmt]

    def hoist_written_indices(self, stmt, before):
        """``a[a > 0] = 0``: an index computed from the array it writes is computed first, into ``before``."""
        for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
            if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and any(
                    isinstance(n, ast.Name) and n.id == t.value.id for n in ast.walk(t.slice)):
                # the index depends on the array it writes: compute it first, so that the
                # backward sweep can find the same region after restoring the old values
                temp = self.namer.fresh("index")
                before.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())],
                                                           value=t.slice), stmt))
                t.slice = ast.Name(id=temp, ctx=ast.Load())

    def parallel_assignment(self, stmt):
        """``u[0], u[1] = u[1], u[0]``: every value into a temporary, then one store each."""
        # Python evaluates every value, then stores them left to right
        temps = [self.namer.fresh("value") for _ in stmt.value.elts]
        first = [ast.copy_location(ast.Assign(targets=[ast.Name(id=t, ctx=ast.Store())], value=v), stmt)
                 for t, v in zip(temps, stmt.value.elts)]
        then = [ast.copy_location(ast.Assign(targets=[e], value=ast.Name(id=t, ctx=ast.Load())), stmt)
                for e, t in zip(stmt.targets[0].elts, temps)]
        return self.block(first + then)

    def assignment(self, stmt, before):
        """An assignment, its user calls hoisted into ``before``, a chain ``a = b = e`` split."""
        plain_targets = all(isinstance(t, ast.Name) or isinstance(t, (ast.Tuple, ast.List)) and
                            all(isinstance(e, ast.Name) for e in t.elts) for t in stmt.targets)
        # a user call's result goes to names; x[i] = f(...) becomes t = f(...); x[i] = t
        stmt.value = self.calls.hoist(stmt.value, before, top=plain_targets)
        for t in stmt.targets:
            if isinstance(t, ast.Subscript):
                t.slice = self.calls.hoist(t.slice, before)
        if len(stmt.targets) > 1:
            # a = b = e  ->  b = e; a = b   (the last target first, as Python assigns left to right)
            value = stmt.value
            out = []
            temp = self.namer.fresh("chain")
            out.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())],
                                                    value=value), stmt))
            for t in stmt.targets:
                out.append(ast.copy_location(ast.Assign(targets=[t], value=ast.Name(id=temp, ctx=ast.Load())),
                                             stmt))
            return before + out
        return before + [stmt]

    def return_statement(self, stmt, before):
        """A return, its value's user calls hoisted into ``before``; counts the values returned."""
        if isinstance(stmt.value, ast.List):
            # return [a, b] returns two values, as return a, b does
            stmt.value = ast.copy_location(ast.Tuple(elts=stmt.value.elts, ctx=ast.Load()), stmt.value)
        if stmt.value is not None and not (isinstance(stmt.value, ast.Constant) and stmt.value.value is None):
            stmt.value = self.calls.hoist(stmt.value, before)
            arity = len(stmt.value.elts) if isinstance(stmt.value, ast.Tuple) else 1
            if self.arity is None:
                self.arity = arity
            elif self.arity != arity:
                self.problems.add(self.func, stmt, "returns of different lengths in one function",
                                  "return the same number of values on every path")
            self.has_value_return = True
        else:
            stmt.value = None
            self.has_bare_return = True
        return before + [stmt]

    def result_names(self):
        """Fresh names for the values the function returns (``()`` when it returns none)."""
        if self.has_value_return and self.has_bare_return:
            self.problems.add(self.func, self.func.node, f"{self.func.name!r} returns a value on some paths "
                              "and nothing on others", "return a value on every path")
        if not self.has_value_return:
            return ()
        if self.arity == 1:
            return (self.namer.fresh("result"),)
        return tuple(self.namer.fresh(f"result{k}") for k in range(self.arity))

    def over_reversed_range(self, loop, before):
        """``for i in reversed(range(a, b, s))`` -> ``for k in range(count): i = a + (count - 1 - k) * s``
        (the checker allows a step only as a positive number), the bounds computed once before."""
        args = reversed_range(loop.iter, self.func.globals).args
        start = args[0] if len(args) > 1 else ast.Constant(value=0)
        stop = args[1] if len(args) > 1 else args[0]
        step = args[2] if len(args) > 2 else ast.Constant(value=1)
        first, count = self.namer.fresh("start"), self.namer.fresh("count")
        span = ast.BinOp(left=ast.BinOp(left=stop, op=ast.Sub(), right=ast.Name(id=first, ctx=ast.Load())),
                         op=ast.Add(), right=ast.Constant(value=step.value - 1))
        before.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=first, ctx=ast.Store())], value=start), loop))
        before.append(ast.copy_location(ast.Assign(
            targets=[ast.Name(id=count, ctx=ast.Store())],
            value=ast.Call(func=ast.Name(id="max", ctx=ast.Load()), args=[
                ast.Constant(value=0), ast.BinOp(left=span, op=ast.FloorDiv(), right=ast.Constant(value=step.value))],
                keywords=[])), loop))
        index = self.namer.fresh("index")
        back = ast.BinOp(left=ast.BinOp(left=ast.Name(id=count, ctx=ast.Load()), op=ast.Sub(), right=ast.Constant(value=1)),
                         op=ast.Sub(), right=ast.Name(id=index, ctx=ast.Load()))
        value = ast.BinOp(left=ast.Name(id=first, ctx=ast.Load()), op=ast.Add(),
                          right=ast.BinOp(left=back, op=ast.Mult(), right=ast.Constant(value=step.value)))
        take = ast.copy_location(ast.Assign(targets=[ast.Name(id=loop.target.id, ctx=ast.Store())], value=value), loop)
        rng = ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[ast.Name(id=count, ctx=ast.Load())], keywords=[])
        loop = ast.copy_location(ast.For(target=ast.Name(id=index, ctx=ast.Store()), iter=rng,
                                         body=[take] + loop.body, orelse=[], type_comment=None), loop)
        return ast.fix_missing_locations(loop)

    def over_range(self, loop, before):
        """``for v in x``, ``for i, v in enumerate(x, 1)``, ``for a, b in zip(x, y)`` -> a loop over
        ``range(len(...))`` whose body first takes the items (``v = x[k]``).  A sequence that is no
        plain name, or a name the body rebinds, is kept in a variable first, as Python's iterator
        keeps the object it started with."""
        kind, parts = loop_sequences(loop.iter, self.func.globals)
        start = parts[1] if kind == "enumerate" and len(parts) > 1 else None
        sequences = parts[:1] if kind in ("enumerate", "items", "reversed") else parts
        zipped = kind == "enumerate" and loop_sequences(parts[0], self.func.globals)[0] == "zip"
        if zipped:                       # enumerate(zip(x, y)): the index, then the pairs
            sequences = loop_sequences(parts[0], self.func.globals)[1]
        assigned = assigned_names(ast.Module(body=loop.body, type_ignores=[]))
        held = []
        for seq in sequences:
            if isinstance(seq, ast.Name) and seq.id not in assigned:
                held.append(seq.id)
                continue
            name = self.namer.fresh("items")
            before.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=seq), loop))
            held.append(name)
        index = self.namer.fresh("index")
        lengths = [ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[ast.Name(id=h, ctx=ast.Load())],
                            keywords=[]) for h in held]
        count = lengths[0]
        for length in lengths[1:]:
            count = ast.Call(func=ast.Name(id="min", ctx=ast.Load()), args=[count, length], keywords=[])
        position = ast.Name(id=index, ctx=ast.Load())
        if kind == "reversed":           # reversed(x): x[len(x) - 1 - k]
            position = ast.BinOp(left=ast.BinOp(left=copy.deepcopy(count), op=ast.Sub(), right=ast.Constant(value=1)),
                                 op=ast.Sub(), right=position)
        items = [ast.Subscript(value=ast.Name(id=h, ctx=ast.Load()), slice=copy.deepcopy(position),
                               ctx=ast.Load()) for h in held]
        if zipped:
            items = [ast.Tuple(elts=items, ctx=ast.Load())]
        if kind == "enumerate":
            counter = ast.Name(id=index, ctx=ast.Load()) if start is None else ast.BinOp(
                left=ast.Name(id=index, ctx=ast.Load()), op=ast.Add(), right=start)
            items = [counter] + items
        value = items[0] if kind in ("items", "reversed") else ast.Tuple(elts=items, ctx=ast.Load())
        take = [ast.copy_location(a, loop) for a in self.unpack(loop.target, value)]
        rng = ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[count], keywords=[])
        loop = ast.copy_location(ast.For(target=ast.Name(id=index, ctx=ast.Store()), iter=rng,
                                         body=take + loop.body, orelse=[], type_comment=None), loop)
        return ast.fix_missing_locations(loop)

    def unpack(self, target, value):
        """Assignments of ``value`` to ``target`` whose targets are names or tuples of names."""
        if isinstance(target, ast.Name) or names_only(target) and all(isinstance(e, ast.Name) for e in target.elts) \
                and not (isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts)):
            return [ast.Assign(targets=[_store(target)], value=value)]
        if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
            return [a for t, v in zip(target.elts, value.elts) for a in self.unpack(t, v)]
        temp = self.namer.fresh("item")
        out = [ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())], value=value)]
        for k, t in enumerate(target.elts):
            part = ast.Subscript(value=ast.Name(id=temp, ctx=ast.Load()), slice=ast.Constant(value=k), ctx=ast.Load())
            out += self.unpack(t, part)
        return out


def _nest_extremes(node, func):
    """max(a, b, c) -> max(max(a, b), c) (the same value: the first largest argument)."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and len(call.args) > 2 and not call.keywords and \
                resolve(call.func, func.globals) in (max, min):
            inner = call.args[0]
            for arg in call.args[1:-1]:
                inner = ast.copy_location(ast.Call(func=copy.deepcopy(call.func), args=[inner, arg], keywords=[]), call)
            call.args = [inner, call.args[-1]]


def _init_results(state, body, result_names):
    """Results assigned only on some paths would be unbound: the checker refuses falling off the end."""
    if state.falls_off_end:
        problems, func = state.problems, state.func
        problems.add(func, func.node, f"function {func.name!r} returns a value on some paths but not others",
                     "end every path with a return")
    return body


def _rename_rebound_parameters(body, params, namer, calls_user):
    """A parameter the function may update in place and then rebinds at its top level (``T[0] =
    T[1]; T = T * 1.0; T[-1] = ...``) gets a new name from the rebinding on: the caller's array
    and the new local are two values, and the caller's adjoint belongs to the first."""
    for param in params:
        if not _maybe_written_in_place(body, param, calls_user):
            continue
        for k, stmt in enumerate(body):
            if isinstance(stmt, ast.Assign) and param in assigned_names(ast.Module(body=[stmt], type_ignores=[])) \
                    and not any(isinstance(t, ast.Subscript) for t in stmt.targets):
                new = namer.fresh(param)
                for later in body[k:]:
                    for sub in ast.walk(later):
                        if isinstance(sub, ast.Name) and sub.id == param and (later is not stmt or
                                                                               isinstance(sub.ctx, ast.Store)):
                            sub.id = new
                break
    return body


def _maybe_written_in_place(body, name, calls_user):
    """Could ``name``'s array be updated in place somewhere in ``body``: a subscript store, an
    augmented assignment, or a call to a user function it is passed to."""
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                root = storage_root(target)
                if root == name and (isinstance(target, ast.Subscript) or isinstance(node, ast.AugAssign)):
                    return True
        if isinstance(node, ast.Call) and calls_user(node) and any(isinstance(a, ast.Name) and a.id == name or
                                              isinstance(a, ast.Subscript) and storage_root(a) == name
                                              for a in node.args):
            return True
    return False


def _rename_reserved(node, params, func, namer):
    """Renames the locals and parameters of a normalized function that the generated code uses
    (``tape = x * 2.0`` -> ``tape2``), and its references to module-level values of those names
    (aliases the function's globals then resolve); returns the parameters' new names."""
    globals_ = func.globals
    renames = {}
    for name in sorted(RESERVED & (set(params) | assigned_names(node))):
        renames[name] = namer.fresh(name)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in RESERVED and sub.id not in renames:
            value = globals_.get(sub.id, MISSING)
            if value is not MISSING and not isinstance(value, types.ModuleType):
                renames[sub.id] = namer.fresh(f"{sub.id}_global")
                func.aliases[renames[sub.id]] = value
                func.alias_names[renames[sub.id]] = sub.id
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in renames:
            sub.id = renames[sub.id]
        elif isinstance(sub, ast.arg) and sub.arg in renames:
            sub.arg = renames[sub.arg]
    return tuple(renames.get(p, p) for p in params)


def _store(target):
    target = copy.deepcopy(target)
    for sub in ast.walk(target):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Store()
    return target


def _fills_diagonal(stmt, fn_globals):
    call = stmt.value
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and resolve(call.func, fn_globals) is np.fill_diagonal
            and len(call.args) == 2 and not call.keywords and isinstance(call.args[0], ast.Name))


def _is_store_call(call, fn_globals, local_names):
    """A statement ``x.fill(v)`` on a local array or ``np.copyto(x, v)``: the store ``x[...] = v``."""
    if not isinstance(call, ast.Call):
        return False
    if fills(call) and is_local_root(call.func.value, local_names):
        return True
    return (isinstance(call.func, (ast.Attribute, ast.Name)) and resolve(call.func, fn_globals) is np.copyto
            and plain_copy(call))


def _whole_store(stmt):
    """x.fill(v) and np.copyto(x, v) -> x[...] = v: every element written, broadcasting v, as a
    store the analyses know (both write their argument in place)."""
    call = stmt.value
    target, value = (call.func.value, call.args[0]) if fills(call) else call.args
    store = ast.Assign(targets=[ast.Subscript(value=ast.Name(id=target.id, ctx=ast.Load()), slice=ast.Constant(value=Ellipsis),
                                              ctx=ast.Store())], value=value)
    return ast.fix_missing_locations(ast.copy_location(store, stmt))


def _diagonal_store(stmt):
    """np.fill_diagonal(a, v) -> a[np.diag_indices(min(a.shape), a.ndim)] = v: the same elements,
    as a store the analyses know (fill_diagonal writes its argument in place)."""
    target, value = stmt.value.args
    load = ast.Name(id=target.id, ctx=ast.Load())
    numpy = copy.deepcopy(stmt.value.func.value)       # the user's name of NumPy
    index = ast.Call(func=ast.Attribute(value=numpy, attr="diag_indices", ctx=ast.Load()),
                     args=[ast.Call(func=ast.Name(id="min", ctx=ast.Load()),
                                    args=[ast.Attribute(value=load, attr="shape", ctx=ast.Load())], keywords=[]),
                           ast.Attribute(value=copy.deepcopy(load), attr="ndim", ctx=ast.Load())], keywords=[])
    store = ast.Assign(targets=[ast.Subscript(value=ast.Name(id=target.id, ctx=ast.Load()), slice=index,
                                              ctx=ast.Store())], value=value)
    return ast.fix_missing_locations(ast.copy_location(store, stmt))
