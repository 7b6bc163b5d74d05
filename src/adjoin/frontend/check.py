"""Checking: refuses, in one error listing every problem, anything outside the input language
(DESIGN.md) in the functions reached from the head, and finds the user functions each calls."""
import ast
import types

import numpy as np

from ..rules import RULES
from .directives import marked_inactive
from .load import RULE_OBJECTS
from .source import MISSING, is_user_function, resolve
from .specialize import callee_binding
from .syntax import assigned_names, fills, is_local_root, is_range, loop_sequences, names_only, parallel_store, \
    plain_copy, reversed_range
from .values import constant_value, default_constant, default_values, function_table, module_level_name, \
    scalar_type


PURE_MODULES = ("numpy", "math")


_STATEMENT_HINTS = {
    ast.Try: ("'try' statements", "move the error handling outside the differentiated functions"),
    ast.With: ("'with' statements", "open files and contexts outside the differentiated functions"),
    ast.AsyncWith: ("'async with' statements", "differentiate plain synchronous functions"),
    ast.AsyncFor: ("'async for' loops", "differentiate plain synchronous functions"),
    ast.Global: ("'global' declarations", "pass the value as an argument and return the new one"),
    ast.Nonlocal: ("'nonlocal' declarations", "pass the value as an argument and return the new one"),
    ast.ClassDef: ("class definitions", "use module-level functions and arrays"),
    ast.FunctionDef: ("nested functions (closures) of this form",
                      "adjoin takes a nested def that is a statement of the function's body, is only "
                      "called (not passed or stored), has no default values, *args or nonlocal, and calls "
                      "no other nested function; else define the function at module level"),
    ast.AsyncFunctionDef: ("nested functions (closures)", "define the function at module level"),
    ast.Delete: ("'del' statements", "let the name be rebound instead"),
    ast.Import: ("imports inside functions", "import at module level"),
    ast.ImportFrom: ("imports inside functions", "import at module level"),
    ast.Raise: ("'raise' statements", "check arguments before calling the differentiated function"),
    ast.Match: ("'match' statements", "use if/elif/else"),
}


_EXPRESSION_HINTS = {
    ast.Lambda: ("lambda expressions", "define a module-level function"),
    ast.Yield: ("generators ('yield')", "return an array or loop inside one function"),
    ast.YieldFrom: ("generators ('yield from')", "return an array or loop inside one function"),
    ast.Await: ("'await'", "differentiate plain synchronous functions"),
    ast.ListComp: ("list comprehensions", "use a for loop over range(...) filling an array"),
    ast.SetComp: ("set comprehensions", "use arrays"),
    ast.DictComp: ("dict comprehensions", "use arrays"),
    ast.GeneratorExp: ("generator expressions", "use a for loop over range(...)"),
    ast.Dict: ("dicts", "use separate variables or arrays"),
    ast.Set: ("sets", "use arrays"),
    ast.NamedExpr: ("assignment expressions (':=')", "assign in a statement of its own"),
    ast.Starred: ("starred arguments other than a function's own *args or a tuple parameter whose length is "
                  "known where the call is written",
                  "pass the values one by one, forward the function's own *args (def f(x, *params): "
                  "g(x, *params)), or pass the tuple as a display (run(f, y, args=(k, c)))"),
}


class Checker:
    """Refuses what is outside the input language in one user function; finds its user callees."""

    def __init__(self, func, problems):
        self.func = func
        self.problems = problems
        self.user_callees = []
        node = func.node
        self.params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        self.locals = set(self.params) | assigned_names(node)
        self.nested = set()         # names of nested functions, refused where they are defined

    def bad(self, node, what, hint=None):
        self.problems.add(self.func, node, what, hint)

    def run(self):
        node = self.func.node
        if isinstance(node, ast.AsyncFunctionDef):
            self.bad(node, "async functions", "differentiate plain synchronous functions")
        if node.args.vararg or node.args.kwarg:
            self.bad(node, f"'*args'/'**kwargs' parameters of {node.name!r}", "name every parameter")
        # defaults are the values Python computed when it defined the function (8.0 / 3.0, 2 * np.pi)
        defaults = [(a, d) for a, d in zip((node.args.posonlyargs + node.args.args)[::-1], node.args.defaults[::-1])]
        defaults += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
        values = default_values(self.func.fn)
        for arg, default in defaults:
            value = values.get(arg.arg)
            if default_constant(value) or is_user_function(value):
                continue
            if constant_value(value) and module_level_name(value, self.func.fn.__globals__) is not None:
                continue        # params=PARAMS, weights=W: a module-level constant, read only
            what = (f"the default value of {arg.arg!r}, a {type(value).__name__} that is not a module-level name"
                    if constant_value(value) else f"the default value of {arg.arg!r}, a {type(value).__name__}")
            self.bad(default, what, "use a number, a string, a bool, None or a tuple of them as default, or a "
                     "module-level constant (PARAMS = {...} at module level, then params=PARAMS)")
        self.block(node.body, loop_depth=0)

    def block(self, stmts, loop_depth):
        for stmt in stmts:
            self.statement(stmt, loop_depth)

    def nested_body(self, stmt):
        """The other problems of a nested function's body (its own parameters and locals known,
        so that only real ones are reported); calls to it say nothing more."""
        args = stmt.args
        inner = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} | assigned_names(stmt)
        for star in (args.vararg, args.kwarg):
            if star is not None:
                inner.add(star.arg)
        added = inner - self.locals
        self.locals |= added
        self.block(stmt.body, 0)
        self.locals -= added
        self.nested.add(stmt.name)

    def statement(self, stmt, loop_depth):
        if marked_inactive(self.func, stmt):
            return              # the user's promise: no derivative flows through it (normalize outlines it)
        for kind, (what, hint) in _STATEMENT_HINTS.items():
            if isinstance(stmt, kind):
                self.bad(stmt, f"cannot differentiate {what}", hint)
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.nested_body(stmt)
                return
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if parallel_store(target, stmt.value):
                    for elt in target.elts:      # u[0], u[1] = u[1], u[0]: one store each
                        self.target(elt)
                else:
                    self.target(target)
            self.expr(stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                self.bad(stmt, "annotations without a value", "assign a value")
            else:
                self.target(stmt.target)
                self.expr(stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            self.target(stmt.target)
            self.expr(stmt.value)
            if isinstance(stmt.op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift, ast.MatMult)):
                self.bad(stmt, f"augmented assignment with {type(stmt.op).__name__}", "write it out in full")
        elif isinstance(stmt, ast.Expr):
            value = stmt.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return  # docstring
            if not isinstance(value, (ast.Call, ast.Yield, ast.YieldFrom)):   # a yield says it itself
                self.bad(stmt, "an expression statement that is not a call", "remove it or assign it")
            self.expr(value, statement=True)
        elif isinstance(stmt, ast.If):
            self.expr(stmt.test)
            self.block(stmt.body, loop_depth)
            self.block(stmt.orelse, loop_depth)
        elif isinstance(stmt, ast.For):
            self.for_loop(stmt)
            self.block(stmt.body, loop_depth + 1)
        elif isinstance(stmt, ast.While):
            self.expr(stmt.test)
            if stmt.orelse:
                self.bad(stmt, "'else' on a while loop", "use a flag variable")
            self.block(stmt.body, loop_depth + 1)
        elif isinstance(stmt, (ast.Break, ast.Continue)):
            if loop_depth == 0:
                self.bad(stmt, f"'{type(stmt).__name__.lower()}' outside a loop")
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.expr(stmt.value)
        elif isinstance(stmt, ast.Assert):
            self.expr(stmt.test)
        elif isinstance(stmt, ast.Pass):
            pass
        else:
            self.bad(stmt, f"cannot differentiate {type(stmt).__name__} statements")

    def for_loop(self, stmt):
        """``for i in range(...)``; over the items of an array, tuple or list (``for v in x``),
        ``enumerate(...)`` or ``zip(...)``, which normalization writes as a loop over a range."""
        if stmt.orelse:
            self.bad(stmt, "'else' on a for loop", "use a flag variable")
        backwards = reversed_range(stmt.iter, self.func.globals)
        if backwards is not None and len(backwards.args) == 3 and not (
                isinstance(backwards.args[2], ast.Constant) and type(backwards.args[2].value) is int
                and backwards.args[2].value > 0):
            self.bad(backwards.args[2], "reversed(range(...)) with a step that is not a positive whole number",
                     "write the range itself backwards: range(last, first - 1, -step)")
        if is_range(stmt.iter, self.func.globals) or backwards is not None:
            if not isinstance(stmt.target, ast.Name):
                self.bad(stmt.target, "a for loop over range(...) whose target is not a single name",
                         "loop over range(...) with one index variable")
            elif stmt.target.id in assigned_names(ast.Module(body=stmt.body, type_ignores=[])):
                self.bad(stmt, f"assigning the loop variable {stmt.target.id!r} inside its loop",
                         "use another variable")
            for arg in (backwards or stmt.iter).args:
                self.expr(arg)
            return
        if not names_only(stmt.target):
            self.bad(stmt.target, "a for loop whose target is not a name or a tuple of names",
                     "unpack into names: for i, (a, b) in enumerate(zip(x, y))")
        kind, sequences = loop_sequences(stmt.iter, self.func.globals)
        if kind == "enumerate" and loop_sequences(sequences[0], self.func.globals)[0] == "zip":
            sequences = loop_sequences(sequences[0], self.func.globals)[1] + sequences[1:]
            kind = "zip"
        if kind == "zip" and (not sequences or stmt.iter.keywords):
            self.bad(stmt.iter, "zip(...) without sequences or with keywords", "zip the sequences alone")
        for seq in sequences:
            self.expr(seq)

    def target(self, target):
        if isinstance(target, ast.Name):
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                if not isinstance(elt, ast.Name):
                    self.bad(elt, "unpacking into something other than plain names",
                             "unpack into names, then assign the elements")
            return
        if isinstance(target, ast.Subscript):
            if not isinstance(target.value, ast.Name):
                self.bad(target, "assignment into a subscript of an expression (e.g. a[i][j] = ...)",
                         "index once: a[i, j] = ...")
            elif target.value.id not in self.locals:
                self.bad(target, f"writing into module-level array {target.value.id!r}",
                         "module-level constants are read-only; copy the array into a local first")
            self.expr(target.slice)
            return
        if isinstance(target, ast.Attribute):
            self.bad(target, "storing into an attribute", "use plain variables and arrays")
            return
        self.bad(target, f"assignment to {type(target).__name__}")

    def expr(self, node, statement=False):
        for kind, (what, hint) in _EXPRESSION_HINTS.items():
            if isinstance(node, kind):
                self.bad(node, f"cannot differentiate {what}", hint)
                return
        if isinstance(node, ast.Call):
            self.call(node, statement)
            return
        if isinstance(node, ast.Name):
            if node.id not in self.locals:
                self.global_name(node)
            return
        if isinstance(node, ast.Attribute):
            self.attribute(node)
            return
        if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            self.bad(node, "f-strings outside print(...)", "only print may format strings")
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.comprehension):
                self.bad(node, "comprehensions", "use a for loop over range(...)")

    def global_name(self, node):
        value = resolve(node, self.func.globals)
        if value is MISSING:
            self.bad(node, f"name {node.id!r} is not defined", "define it or pass it as an argument")
            return
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, np.ufunc)):
            return
        if function_table(value):
            return          # SCHEMES[name]: a choice among its functions (frontend/dispatch.py)
        if constant_value(value) or scalar_type(value):
            return
        self.bad(node, f"module-level name {node.id!r} of type {type(value).__name__}",
                 "module-level values must be numbers, strings, tuples or arrays (read only)")

    def attribute(self, node):
        base = resolve(node.value, self.func.globals) if not is_local_root(node.value, self.locals) else MISSING
        if base is not MISSING and isinstance(base, types.ModuleType):
            value = getattr(base, node.attr, MISSING)
            if value is MISSING:
                self.bad(node, f"module {base.__name__!r} has no attribute {node.attr!r}")
            elif not (constant_value(value) or value is None or callable(value)
                      or isinstance(value, types.ModuleType)):
                self.bad(node, f"module attribute {node.attr!r} of type {type(value).__name__}")
            return
        if f"attr.{node.attr}" not in RULES and node.attr not in ("T", "shape", "size", "ndim", "real", "imag"):
            self.bad(node, f"the attribute '.{node.attr}'",
                     "adjoin knows .T .shape .size .ndim on arrays; use a NumPy function instead")
        self.expr(node.value)

    def call(self, node, statement):
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.nested:
            self.arguments(node)        # a call to a nested function, refused where it is defined
            return
        if isinstance(func, ast.Attribute) and is_local_root(func.value, self.locals):
            self.method_call(node, statement)
            return
        if isinstance(func, ast.Attribute) and not _is_module_chain(func, self.func.globals):
            self.bad(node, f"calling method '.{func.attr}()' of an expression", "assign it to a name first")
            self.expr(func.value)
            self.arguments(node)
            return
        if isinstance(func, ast.Name) and func.id in self.locals:
            self.bad(node, f"calling {func.id!r}, a local variable whose function is not known where "
                     "the call is written",
                     "pass a module-level function as the argument (adjoin specializes the call on it), "
                     "assign it only module-level functions or items of a module-level dict of them, "
                     "or call the function in each branch that chooses it")
            return
        if not isinstance(func, (ast.Name, ast.Attribute)):
            self.bad(node, "calling the result of an expression", "call module-level functions by name")
            return
        self.named_call(node, statement)

    def method_call(self, node, statement):
        """``x.sum()``, ``x.fill(v)``, ``(a * b).sum()``: a method of a local value or of an expression."""
        func = node.func
        name = func.attr
        if fills(node) and statement:
            pass            # x.fill(v): the store x[...] = v (normalize writes it so)
        elif name == "fill":
            self.bad(node, "'.fill()' other than as a statement 'name.fill(value)'",
                     "write the store as an assignment: x[...] = v, a[k] = v")
        elif name == "append" and f"method.{name}" not in RULES:
            self.bad(node, "appending to a list", "collect the values in an array made before the loop "
                     "(traj = np.zeros((n, m)); traj[k] = x), or mark a history kept for plotting "
                     "'# $AD INACTIVE'")
        elif f"method.{name}" not in RULES:
            self.bad(node, f"calling method '.{name}()' on an object",
                     "adjoin knows the array methods of its derivative table; use NumPy functions")
        self.expr(func.value)
        self.arguments(node)

    def named_call(self, node, statement):
        """A call to what a name or a module attribute holds (``f``, ``np.sum``, ``physics.step``)."""
        func = node.func
        target = resolve(func, self.func.globals)
        label = ast.unparse(func)
        if target is MISSING:
            self.bad(node, f"name {label!r} is not defined")
        elif target in (eval, exec, compile, __import__, globals, locals, vars, getattr, setattr, open):
            self.bad(node, f"calling {label}()", "adjoin differentiates code it can read; remove the call")
        elif target is print:
            self.print_arguments(node, statement)
            return
        elif id(target) in RULE_OBJECTS:
            pass                  # int(...), float(...), range(...) are primitives of the table too
        elif _draws_from_global_state(target):
            self.bad(node, f"calling {label}, which draws from NumPy's global random state",
                     "draw the random numbers before calling the differentiated function and pass them "
                     "as an argument: a checkpointed call runs again in the adjoint and would draw others")
        elif target in (list, tuple):
            self.bad(node, f"converting to a {target.__name__} with {label}(...)",
                     "keep the array (z = z0.copy(), then z[0], z[1]; 'x, y = z0' unpacks it), or write the "
                     "display of its items: [z0[0], z0[1]]")
        elif isinstance(target, type):
            self.bad(node, f"calling class {label}", "adjoin differentiates functions on numbers and arrays")
        elif is_user_function(target):
            callee = (target, callee_binding(node, target, self.func))
            if callee not in self.user_callees:
                self.user_callees.append(callee)
        else:
            self.library_call(node, target, label, statement)
        self.arguments(node)

    def print_arguments(self, node, statement):
        """``print(...)``: kept in the primal, as a statement; its strings are not checked."""
        if not statement:
            self.bad(node, "print(...) inside an expression", "call print as a statement")
        for arg in node.args:
            if not isinstance(arg, (ast.JoinedStr, ast.Constant)):
                self.expr(arg)

    def library_call(self, node, target, label, statement):
        """A call to a function with no derivative rule and no source of the user's: NumPy's and
        math's are allowed on values that carry no derivative, unless they write into an argument."""
        func = node.func
        if _pure_external(target) and target in _WRITES_ARGUMENTS and not (
                target is np.fill_diagonal and isinstance(func, ast.Attribute)
                or target is np.copyto and statement and plain_copy(node)):
            self.bad(node, f"calling {label}, which updates its argument in place",
                     "write the update as an assignment (a[index] = values)")
        elif _pure_external(target) and any(k.arg == "out" for k in node.keywords):
            self.bad(node, f"{label}(..., out=...) writes into an argument", "assign the result instead")
        elif _pure_external(target):
            pass  # allowed on values that carry no derivative; the activity analysis checks that
        else:
            package = (getattr(target, "__module__", None) or "").split(".")[0]
            where = f" (from {package})" if package and package not in ("builtins", "__main__") else ""
            self.bad(node, f"calling {label}{where}, which adjoin cannot differentiate (no derivative rule, "
                     "no source of the user's)",
                     "if no derivative flows through this line (plotting, logging), put '# $AD INACTIVE' on "
                     "the line before it; else compute it outside the differentiated code")

    def arguments(self, node):
        for arg in node.args:
            self.expr(arg)
        for kw in node.keywords:
            if kw.arg is None:
                self.bad(kw.value, "'**' keyword arguments", "pass keywords one by one")
            else:
                self.expr(kw.value)


# NumPy functions with no rule that write into an argument: an update adjoin would not see
_WRITES_ARGUMENTS = [np.fill_diagonal, np.copyto, np.put, np.place, np.putmask, np.put_along_axis,
                     np.random.shuffle]


def _draws_from_global_state(obj):
    """np.random.normal, np.random.seed, ...: methods of NumPy's hidden global RandomState."""
    return isinstance(getattr(obj, "__self__", None), np.random.RandomState)


def _pure_external(obj):
    module = getattr(obj, "__module__", None) or ""
    if isinstance(obj, np.ufunc):
        return True
    return module.split(".")[0] in PURE_MODULES


def _is_module_chain(expr, fn_globals):
    base = expr.value
    value = resolve(base, fn_globals)
    return isinstance(value, types.ModuleType)


def check_recursion(program, problems):
    """Refuses recursion, direct or through other functions, in the call graph of ``program``."""
    state = {}

    def visit(key, stack):
        state[key] = "active"
        for callee in program.functions[key].callees.values():
            if callee.kind != "user":
                continue
            if state.get(callee.key) == "active":
                func = program.functions[key]
                problems.add(func.user, func.user.node,
                             f"recursion ({' -> '.join(stack + [callee.key])})",
                             "adjoin differentiates call trees without recursion; write the recursion as a loop")
                continue
            if callee.key not in state:
                visit(callee.key, stack + [callee.key])
        state[key] = "done"
    visit(program.head, [program.head])
