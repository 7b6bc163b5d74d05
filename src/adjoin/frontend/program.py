"""The program adjoin differentiates: the head, every user function it reaches, checked and normalized.

Checking refuses, in one error listing every problem, anything outside the input language
(DESIGN.md).  Normalizing rewrites each function into a smaller language the analyses and the
transformer handle:

* calls to user functions are statements of their own (``t = f(a, b)`` or ``f(a, b)``), with
  positional arguments only (keywords bound, defaults filled in);
* one ``return`` at the end, assigning the ``result`` variables on every path;
* no ``continue``; ``break`` only as the last statement of a branch (the statements that followed
  a jump are moved into the branches that fall through);
* ``a = b = e`` split, annotated assignments plain.
"""
import ast
import builtins
import copy
import inspect
import types
from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedError
from ..rules import RULES
from .source import MISSING, UserFunction, compiled_function, error_at, is_user_function, resolve, user_function
from .nested import lift_nested, registered
from .specialize import NOTHING, callee_binding, head_binding, specialized


@dataclass(frozen=True)
class Callee:
    """What a call in user code calls."""
    kind: str          # "user", "rule", "print", "external"
    key: str = ""      # user: function key; rule: RULES key; external: a readable name


def _rule_objects():
    table = {}
    modules = {"np": np, "math": __import__("math"), "builtins": builtins}
    for key in RULES:
        prefix, _, name = key.partition(".")
        obj = modules.get(prefix)
        for part in name.split("."):           # np.linalg.norm
            obj = getattr(obj, part, None) if obj is not None else None
        if obj is not None:
            table.setdefault(id(obj), key)
    return table


_RULE_OBJECTS = _rule_objects()
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
    ast.Starred: ("starred arguments other than a function's own *args",
                  "pass the values one by one, or forward the function's own *args (def f(x, *params): "
                  "g(x, *params))"),
}


LANGUAGE_PAGE = "docs/input-language.md"
# where each kind of refusal is explained, by words of its message (first match wins)
_SECTIONS = [
    (("share its memory", "same array is passed", "shares memory", "may rebind it", "may or may not be the array"),
     "aliasing"),
    (("updates its argument in place", "out=", "derivative rule", "derivative table", "cannot be differentiated "
      "with respect to"), "numpy-and-math"),
    (("$AD INACTIVE",), "code-with-no-derivative-inactive"),
    (("list", "tuple"), "lists-and-tuples"),
    (("for loop", "'else' on", "loop variable"), "loops"),
    (("a local variable whose function",), "functions-as-values"),
    (("recursion", "'*args'", "'**'", "call to ", "default value", "starred"), "functions-and-calls"),
    (("dict", "set", "class", "attribute", "complex", "module-level"), "values"),
]


def _see(what, hint):
    text = f"{what} {hint}"
    for words, section in _SECTIONS:
        if any(w in text for w in words):
            return f" (see {LANGUAGE_PAGE}#{section})"
    return f" (see {LANGUAGE_PAGE}#statements)"


class Problems:
    """Collects refusals so that one error lists every problem of the program."""

    def __init__(self):
        self.errors = []

    def add(self, func, node, what, hint=None):
        message = str(error_at(func, node, what, hint)) + _see(what, hint or "")
        if message not in self.errors:
            self.errors.append(message)

    def raise_if_any(self, head_name):
        if self.errors:
            count = len(self.errors)
            extra = f"\n(adjoin found {count} problems in the code reached from {head_name!r})" if count > 1 else ""
            raise UnsupportedError("\n".join(self.errors) + extra)


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


@dataclass
class Program:
    """The head and the user functions it reaches (head first)."""
    head: str
    functions: dict             # key -> Function
    inactive: dict = field(default_factory=dict)   # name -> (definition, UserFunction): statements
                                                   # marked INACTIVE, outlined as functions

    def order(self):
        """Function keys, callers before callees."""
        seen, out = set(), []

        def visit(key):
            if key in seen:
                return
            seen.add(key)
            for callee in self.functions[key].callees.values():
                if callee.kind == "user":
                    visit(callee.key)
            out.append(key)
        visit(self.head)
        return list(reversed(out))


def load_program(fn, values=None):
    """Checks and normalizes ``fn`` and every user function it reaches, each specialized on the
    function values its parameters receive (``values``: the head's arguments, when known)."""
    head = specialized(_loaded(fn), head_binding(fn, values))
    problems = Problems()
    keys = Keys()               # (id(fn object), binding) -> key
    raw = {}                    # key -> UserFunction
    pending = [head]
    raw[keys.add(head.fn, head.binding)] = head
    while pending:
        func = pending.pop()
        checker = Checker(func, problems)
        checker.run()
        for obj, binding in checker.user_callees:
            if keys.get(obj, binding) is None:
                new = specialized(_loaded(obj), binding)
                raw[keys.add(obj, binding)] = new
                pending.append(new)
    problems.raise_if_any(head.name)
    functions = {}
    pending = list(raw.items())
    while pending:
        key, func = pending.pop(0)
        function, fragments = normalize(key, func, keys, problems)
        functions[key] = function
        pending.extend(fragments)
    problems.raise_if_any(head.name)
    program = Program(keys.get(head.fn, head.binding), functions, inactive=keys.inactive)
    _check_recursion(program, problems)
    problems.raise_if_any(head.name)
    return program


def _loaded(fn):
    """The UserFunction of ``fn`` (or of a function lifted from a nested def), nested defs lifted."""
    return lift_nested(registered(fn) or user_function(fn))


def _unique_key(obj, keys, binding=None):
    taken = set(keys.values()) | RESERVED
    name = obj.__name__
    if name not in taken:
        return name
    if binding is not None and binding.label():
        name = f"{name}_{binding.label()}"      # a second specialization: step_rk4
        if name not in taken:
            return name
    module = (obj.__module__ or "mod").split(".")[-1]
    candidate = f"{module}_{name}"
    n = 2
    while candidate in taken:
        candidate = f"{module}_{name}{n}"
        n += 1
    return candidate


def _check_recursion(program, problems):
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


def _assigned_names(node):
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


class Checker:
    """Refuses what is outside the input language in one user function; finds its user callees."""

    def __init__(self, func, problems):
        self.func = func
        self.problems = problems
        self.user_callees = []
        node = func.node
        self.params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        self.locals = set(self.params) | _assigned_names(node)
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
        values = _default_values(self.func.fn)
        for arg, default in defaults:
            if not (_default_constant(values.get(arg.arg)) or is_user_function(values.get(arg.arg))):
                self.bad(default, f"the default value of {arg.arg!r}, a {type(values.get(arg.arg)).__name__}",
                         "use a number, a string, a bool, None or a tuple of them as default")
        self.block(node.body, loop_depth=0)

    def block(self, stmts, loop_depth):
        for stmt in stmts:
            self.statement(stmt, loop_depth)

    def nested_body(self, stmt):
        """The other problems of a nested function's body (its own parameters and locals known,
        so that only real ones are reported); calls to it say nothing more."""
        args = stmt.args
        inner = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} | _assigned_names(stmt)
        for star in (args.vararg, args.kwarg):
            if star is not None:
                inner.add(star.arg)
        added = inner - self.locals
        self.locals |= added
        self.block(stmt.body, 0)
        self.locals -= added
        self.nested.add(stmt.name)

    def statement(self, stmt, loop_depth):
        if _marked_inactive(self.func, stmt):
            return              # the user's promise: no derivative flows through it (normalize outlines it)
        for kind, (what, hint) in _STATEMENT_HINTS.items():
            if isinstance(stmt, kind):
                self.bad(stmt, f"cannot differentiate {what}", hint)
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.nested_body(stmt)
                return
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if _parallel_store(target, stmt.value):
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
        if _is_range(stmt.iter, self.func.globals):
            if not isinstance(stmt.target, ast.Name):
                self.bad(stmt.target, "a for loop over range(...) whose target is not a single name",
                         "loop over range(...) with one index variable")
            elif stmt.target.id in _assigned_names(ast.Module(body=stmt.body, type_ignores=[])):
                self.bad(stmt, f"assigning the loop variable {stmt.target.id!r} inside its loop",
                         "use another variable")
            for arg in stmt.iter.args:
                self.expr(arg)
            return
        if not _names_only(stmt.target):
            self.bad(stmt.target, "a for loop whose target is not a name or a tuple of names",
                     "unpack into names: for i, (a, b) in enumerate(zip(x, y))")
        kind, sequences = _loop_sequences(stmt.iter, self.func.globals)
        if kind == "enumerate" and _loop_sequences(sequences[0], self.func.globals)[0] == "zip":
            sequences = _loop_sequences(sequences[0], self.func.globals)[1] + sequences[1:]
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
        if _function_table(value):
            return          # SCHEMES[name]: a choice among its functions (frontend/dispatch.py)
        if _constant_value(value) or _scalar_type(value):
            return
        self.bad(node, f"module-level name {node.id!r} of type {type(value).__name__}",
                 "module-level values must be numbers, strings, tuples or arrays (read only)")

    def attribute(self, node):
        base = resolve(node.value, self.func.globals) if not _is_local_root(node.value, self.locals) else MISSING
        if base is not MISSING and isinstance(base, types.ModuleType):
            value = getattr(base, node.attr, MISSING)
            if value is MISSING:
                self.bad(node, f"module {base.__name__!r} has no attribute {node.attr!r}")
            elif not (_constant_value(value) or value is None or callable(value)
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
        if isinstance(func, ast.Attribute) and _is_local_root(func.value, self.locals):
            name = func.attr
            if _fills(node) and statement:
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
        target = resolve(func, self.func.globals)
        label = ast.unparse(func)
        if target is MISSING:
            self.bad(node, f"name {label!r} is not defined")
        elif target in (eval, exec, compile, __import__, globals, locals, vars, getattr, setattr, open):
            self.bad(node, f"calling {label}()", "adjoin differentiates code it can read; remove the call")
        elif target is print:
            if not statement:
                self.bad(node, "print(...) inside an expression", "call print as a statement")
            for arg in node.args:
                if not isinstance(arg, (ast.JoinedStr, ast.Constant)):
                    self.expr(arg)
            return
        elif id(target) in _RULE_OBJECTS:
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
        elif _pure_external(target) and target in _WRITES_ARGUMENTS and not (
                target is np.fill_diagonal and isinstance(func, ast.Attribute)
                or target is np.copyto and statement and _plain_copy(node)):
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
        self.arguments(node)

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


def _is_local_root(expr, local_names):
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return isinstance(expr, ast.Name) and expr.id in local_names or not isinstance(expr, (ast.Name, ast.Attribute))


def _is_module_chain(expr, fn_globals):
    base = expr.value
    value = resolve(base, fn_globals)
    return isinstance(value, types.ModuleType)


def _default_values(fn):
    try:
        return {name: p.default for name, p in inspect.signature(fn).parameters.items()
                if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}


def _default_constant(value):
    if isinstance(value, tuple):
        return all(_default_constant(v) for v in value)
    return isinstance(value, (int, float, str, bool, type(None), np.number, np.bool_))


def _plain(value):
    """A default value as a Python constant (NumPy scalars as floats, ints, bools)."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value.item() if isinstance(value, (np.number, np.bool_)) else value


def _scalar_type(value):
    """A number type used as a dtype (``.astype(int)``, ``dtype=bool``, ``np.float64``)."""
    return isinstance(value, type) and issubclass(value, (int, float, bool, np.generic))


def _constant_value(value):
    if isinstance(value, (bool, int, float, str, type(None), np.number, np.bool_)):
        return True
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, tuple):
        return all(_constant_value(v) for v in value)
    if isinstance(value, dict):          # PARAMS = {"nu": 0.1, "dt": 0.01}: read as PARAMS["dt"]
        return all(isinstance(k, (str, int)) and _constant_value(v) for k, v in value.items())
    return False


# ----------------------------------------------------------------------------------------------
# normalization

def resolve_call(node, func, locals_, keys, call_keys=None):
    """The Callee of a call node in user function ``func`` (``call_keys``: the keys normalization
    found for user calls before it rewrote their arguments)."""
    if call_keys and id(node) in call_keys:
        return Callee("user", call_keys[id(node)][1])
    f = node.func
    if isinstance(f, ast.Attribute) and _is_local_root(f.value, locals_):
        return Callee("rule", f"method.{f.attr}")
    if isinstance(f, ast.Name) and f.id in locals_:
        return Callee("external", f.id)
    if isinstance(f, ast.Name) and f.id in keys.fragments:
        return Callee("user", f.id)
    if isinstance(f, ast.Name) and f.id in keys.inactive:
        return Callee("inactive", f.id)
    target = resolve(f, func.globals)
    if target is print:
        return Callee("print")
    if isinstance(target, types.FunctionType) and keys.get(target, callee_binding(node, target, func)):
        return Callee("user", keys.get(target, callee_binding(node, target, func)))
    if id(target) in _RULE_OBJECTS:
        key = _RULE_OBJECTS[id(target)]
        if RULES[key].one_argument and len(node.args) == 1 and not node.keywords:
            key = RULES[key].one_argument     # max(x), min(x): over the items of one argument
        return Callee("rule", key)
    return Callee("external", ast.unparse(f))


def _nest_extremes(node, func):
    """max(a, b, c) -> max(max(a, b), c) (the same value: the first largest argument)."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and len(call.args) > 2 and not call.keywords and \
                resolve(call.func, func.globals) in (max, min):
            inner = call.args[0]
            for arg in call.args[1:-1]:
                inner = ast.copy_location(ast.Call(func=copy.deepcopy(call.func), args=[inner, arg], keywords=[]), call)
            call.args = [inner, call.args[-1]]


class _Namer:
    def __init__(self, taken):
        self.taken = set(taken)

    def fresh(self, base):
        name = base
        n = 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name


def _function_table(value):
    """A module-level dict, tuple or list of user functions (a table of schemes)."""
    items = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (tuple, list)) else []
    return bool(items) and all(is_user_function(item) for item in items)


def normalize(key, func, keys, problems):
    """A normalized copy of user function ``func`` (see the module docstring)."""
    node = copy.deepcopy(func.node)
    params = tuple(a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs)
    locals_ = set(params) | _assigned_names(node)
    namer = _Namer(locals_ | set(func.globals) | {"np", "math", "tape", "ad"})
    state = _Normalizer(key, func, keys, problems, locals_, namer)
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    fragments = []
    if not getattr(func, "synthetic", False):
        for k, (start, end, label) in enumerate(_fragments(func), start=1):
            found = _outline(key, func, node, body, start, end, label, k, keys, problems, locals_)
            if found is not None:
                body, fragment = found
                fragments.append(fragment)
    body = _outline_inactive(func, body, keys, namer)
    _nest_extremes(ast.Module(body=body, type_ignores=[]), func)
    body = state.block(body)
    result_names = state.result_names()
    body = state.structure(body, in_loop=False)
    body = _rename_rebound_parameters(body, params, namer, lambda call: state.user_target(call) is not None)
    if result_names and state.returned_flag is None and not _assigns_results(body, result_names):
        state.falls_off_end = True
    if result_names:
        ret = ast.Return(value=_names_expr(result_names))
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
    function.locals = frozenset(set(params) | _assigned_names(node))
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            function.callees[id(call)] = resolve_call(call, func, function.locals, keys, state.call_keys)
    function.fragments = _fragments(func) if not getattr(func, "synthetic", False) else []
    if getattr(func, "synthetic", False):
        function.fragment_of, function.fragment_label = func.fragment_of, func.fragment_label
    return function, fragments


# ---------------------------------------------------------------------------------------------
# fragments: `# $AD CHECKPOINT-START` ... `# $AD CHECKPOINT-END` become a function of their own

class Keys(dict):
    """(id(function object), binding) -> function key, for one program; ``fragments``: name ->
    FragmentFunction."""

    def __init__(self):
        super().__init__()
        self.fragments = {}
        self.inactive = {}      # name -> (definition, UserFunction) of statements marked INACTIVE
        self.first = {}         # id(function object) -> the key of its first specialization

    def get(self, fn, binding=NOTHING):
        return dict.get(self, (id(fn), binding))

    def add(self, fn, binding=NOTHING):
        key = _unique_key(fn, self, binding)
        self[(id(fn), binding)] = key
        self.first.setdefault(id(fn), key)     # what site ids call every specialization of fn
        return key


class FragmentFunction(UserFunction):
    """A fragment cut out of a user function: a function with the fragment's statements."""
    synthetic = True


def _outline(key, func, node, body, start, end, label, ordinal, keys, problems, locals_):
    """Replaces the statements between the directives by a call to a new function."""
    block, first, last = _find_block(body, start, end)
    if block is None:
        problems.add(func, func.node, f"the checkpointed fragment between lines {start} and {end} does not "
                     "hold whole statements of one block", "put START and END around statements of one block")
        return None
    statements = block[first:last]
    inner = ast.Module(body=statements, type_ignores=[])
    for sub in ast.walk(inner):
        if isinstance(sub, (ast.Return, ast.Break, ast.Continue)) and _leaves_fragment(sub, statements):
            problems.add(func, sub, "a jump out of a checkpointed fragment", "end the fragment before it")
            return None
    stored = _assigned_names(inner)
    read = {n.id for n in ast.walk(inner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    outside = [s for s in ast.walk(ast.Module(body=body, type_ignores=[]))
               if not any(s is t for t in ast.walk(inner))]
    stored_outside = {n.id for n in outside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    read_outside = {n.id for n in outside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    params_ = set(a.arg for a in node.args.args + node.args.posonlyargs + node.args.kwonlyargs)
    inputs = sorted(n for n in read if n in locals_ and (n in params_ or n in stored_outside))
    outputs = sorted(n for n in stored if n in read_outside or n in params_ and n in stored)
    name = f"{func.name}_{_identifier(label) if label else 'fragment'}{ordinal}"
    while name in func.globals or name in locals_ or name in keys.fragments:
        name += "_"
    definition = ast.FunctionDef(
        name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in inputs], vararg=None,
                                      kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=copy.deepcopy(statements) + ([ast.Return(value=ast.Tuple(
            elts=[ast.Name(id=n, ctx=ast.Load()) for n in outputs], ctx=ast.Load()) if len(outputs) > 1
            else ast.Name(id=outputs[0], ctx=ast.Load()))] if outputs else []),
        decorator_list=[], returns=None, type_params=[])
    ast.copy_location(definition, statements[0])
    definition.lineno = start
    for sub in definition.body[-1:]:
        ast.copy_location(sub, statements[-1])
        for child in ast.walk(sub):
            ast.copy_location(child, statements[-1])
    fn = compiled_function(definition, func.path, {**func.fn.__globals__, **func.aliases}, func.fn.__module__)
    fragment = FragmentFunction(name, fn, definition, func.source)
    fragment.fragment_of = key
    fragment.fragment_label = label or "fragment"
    fragment.primal_source = ast.unparse(definition)
    keys.fragments[name] = fragment
    keys[(id(fn), NOTHING)] = name
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[ast.Name(id=n, ctx=ast.Load()) for n in inputs],
                    keywords=[])
    if len(outputs) > 1:
        replacement = ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in outputs],
                                                    ctx=ast.Store())], value=call)
    elif outputs:
        replacement = ast.Assign(targets=[ast.Name(id=outputs[0], ctx=ast.Store())], value=call)
    else:
        replacement = ast.Expr(value=call)
    ast.copy_location(call, statements[0])
    ast.copy_location(replacement, statements[0])
    ast.fix_missing_locations(replacement)
    block[first:last] = [replacement]
    return body, (name, fragment)


def _identifier(text):
    cleaned = "".join(c if c.isalnum() else "_" for c in text).strip("_")
    return cleaned or "fragment"


def _find_block(stmts, start, end):
    """(block list, first, last) of the statements strictly between lines start and end."""
    inside = [k for k, s in enumerate(stmts) if start < s.lineno < end]
    if inside:
        first, last = inside[0], inside[-1] + 1
        if all(start < s.lineno and getattr(s, "end_lineno", s.lineno) < end for s in stmts[first:last]):
            return stmts, first, last
        return None, 0, 0
    for s in stmts:
        for field_name in ("body", "orelse"):
            child = getattr(s, field_name, None)
            if isinstance(child, list) and child and s.lineno < start < getattr(s, "end_lineno", 0):
                found = _find_block(child, start, end)
                if found[0] is not None:
                    return found
    return None, 0, 0


def _leaves_fragment(jump, statements):
    if isinstance(jump, ast.Return):
        return True
    for s in statements:
        for loop in ast.walk(s):
            if isinstance(loop, (ast.For, ast.While)) and any(j is jump for j in ast.walk(loop)):
                return False
    return True


def _init_results(state, body, result_names):
    """Results assigned only on some paths would be unbound: the checker refuses falling off the end."""
    if state.falls_off_end:
        problems, func = state.problems, state.func
        problems.add(func, func.node, f"function {func.name!r} returns a value on some paths but not others",
                     "end every path with a return")
    return body


def _names_expr(names):
    if len(names) == 1:
        return ast.Name(id=names[0], ctx=ast.Load())
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in names], ctx=ast.Load())


def _fragments(func):
    """[(start_line, end_line, label)] of `# $AD CHECKPOINT-START` ... `# $AD CHECKPOINT-END` in func."""
    directives = func.source.directives
    start = func.node.lineno
    end = getattr(func.node, "end_lineno", start)
    found, open_ = [], []
    for line in sorted(directives):
        if not start <= line <= end:
            continue
        words = directives[line].words
        if not words:
            continue
        word = words[0].upper()
        if word == "CHECKPOINT-START":
            open_.append((line, " ".join(words[1:])))
        elif word == "CHECKPOINT-END" and open_:
            first, label = open_.pop()
            found.append((first, line, label))
    return sorted(found)


class _Normalizer:
    def __init__(self, key, func, keys, problems, locals_, namer):
        self.key = key
        self.func = func
        self.keys = keys
        self.problems = problems
        self.locals = locals_
        self.namer = namer
        self.arity = None
        self.results = None
        self.falls_off_end = False
        self.returned_flag = None
        self.has_value_return = False
        self.has_bare_return = False
        # id(user call) -> (the call, the callee's key): the call is held so that its id is not
        # given to a node made later while this table lives (calls rewritten here are freed)
        self.call_keys = {}
        self._view_bases = None

    # -- user calls: bind arguments, hoist nested ones --------------------------------------------
    def user_target(self, call):
        f = call.func
        if isinstance(f, ast.Name) and f.id in self.keys.fragments:
            return self.keys.fragments[f.id].fn
        if isinstance(f, ast.Attribute) and _is_local_root(f.value, self.locals):
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
            else:
                default = param.default
                if not _default_constant(default):
                    self.problems.add(self.func, call, f"default value of {name!r} in {target.__name__} "
                                      "is not a number, a string, a bool, None or a tuple of them")
                args.append(ast.copy_location(ast.Constant(value=_plain(default)), call))
        call.args = args
        call.keywords = []
        return call

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

    def over_range(self, loop, before):
        """``for v in x``, ``for i, v in enumerate(x, 1)``, ``for a, b in zip(x, y)`` -> a loop over
        ``range(len(...))`` whose body first takes the items (``v = x[k]``).  A sequence that is no
        plain name, or a name the body rebinds, is kept in a variable first, as Python's iterator
        keeps the object it started with."""
        kind, parts = _loop_sequences(loop.iter, self.func.globals)
        start = parts[1] if kind == "enumerate" and len(parts) > 1 else None
        sequences = parts[:1] if kind in ("enumerate", "items") else parts
        zipped = kind == "enumerate" and _loop_sequences(parts[0], self.func.globals)[0] == "zip"
        if zipped:                       # enumerate(zip(x, y)): the index, then the pairs
            sequences = _loop_sequences(parts[0], self.func.globals)[1]
        assigned = _assigned_names(ast.Module(body=loop.body, type_ignores=[]))
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
        items = [ast.Subscript(value=ast.Name(id=h, ctx=ast.Load()), slice=ast.Name(id=index, ctx=ast.Load()),
                               ctx=ast.Load()) for h in held]
        if zipped:
            items = [ast.Tuple(elts=items, ctx=ast.Load())]
        if kind == "enumerate":
            counter = ast.Name(id=index, ctx=ast.Load()) if start is None else ast.BinOp(
                left=ast.Name(id=index, ctx=ast.Load()), op=ast.Add(), right=start)
            items = [counter] + items
        value = items[0] if kind == "items" else ast.Tuple(elts=items, ctx=ast.Load())
        take = [ast.copy_location(a, loop) for a in self.unpack(loop.target, value)]
        rng = ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[count], keywords=[])
        loop = ast.copy_location(ast.For(target=ast.Name(id=index, ctx=ast.Store()), iter=rng,
                                         body=take + loop.body, orelse=[], type_comment=None), loop)
        return ast.fix_missing_locations(loop)

    def unpack(self, target, value):
        """Assignments of ``value`` to ``target`` whose targets are names or tuples of names."""
        if isinstance(target, ast.Name) or _names_only(target) and all(isinstance(e, ast.Name) for e in target.elts) \
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

    def separate_arguments(self, call, before):
        """An argument computed from an array that another argument passes (f(y, y + 1.0)) is
        computed into a variable first: the callee may update that array, and the adjoint must
        see the argument's value from before the call."""
        # only an array passed as such (y, y[1:]) can be updated by the callee, and only the
        # arrays an argument computes with (not its indices) matter: T[k + 1] beside z[k] or k
        # is no reason to copy anything
        bases = self.view_bases()
        names = [_with_bases(_value_names(a), bases) for a in call.args]
        storage = [_with_bases({_storage_root(a)} - {None}, bases) for a in call.args]
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

    def block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        before = []
        if isinstance(stmt, ast.AnnAssign):
            stmt = ast.copy_location(ast.Assign(targets=[stmt.target], value=stmt.value), stmt)
        if isinstance(stmt, (ast.Assign, ast.AugAssign)):
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and any(
                        isinstance(n, ast.Name) and n.id == t.value.id for n in ast.walk(t.slice)):
                    # the index depends on the array it writes: compute it first, so that the
                    # backward sweep can find the same region after restoring the old values
                    temp = self.namer.fresh("index")
                    before.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())],
                                                               value=t.slice), stmt))
                    t.slice = ast.Name(id=temp, ctx=ast.Load())
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _parallel_store(stmt.targets[0], stmt.value) \
                and not all(isinstance(e, ast.Name) for e in stmt.targets[0].elts):
            # Python evaluates every value, then stores them left to right
            temps = [self.namer.fresh("value") for _ in stmt.value.elts]
            first = [ast.copy_location(ast.Assign(targets=[ast.Name(id=t, ctx=ast.Store())], value=v), stmt)
                     for t, v in zip(temps, stmt.value.elts)]
            then = [ast.copy_location(ast.Assign(targets=[e], value=ast.Name(id=t, ctx=ast.Load())), stmt)
                    for e, t in zip(stmt.targets[0].elts, temps)]
            return self.block(first + then)
        if isinstance(stmt, ast.Assign):
            plain_targets = all(isinstance(t, ast.Name) or isinstance(t, (ast.Tuple, ast.List)) and
                                all(isinstance(e, ast.Name) for e in t.elts) for t in stmt.targets)
            # a user call's result goes to names; x[i] = f(...) becomes t = f(...); x[i] = t
            stmt.value = self.hoist(stmt.value, before, top=plain_targets)
            for t in stmt.targets:
                if isinstance(t, ast.Subscript):
                    t.slice = self.hoist(t.slice, before)
            if len(stmt.targets) > 1:
                # a = b = e  ->  b = e; a = b   (the last target first, as Python assigns left to right)
                first = stmt.targets[0]
                value = stmt.value
                out = []
                temp = self.namer.fresh("chain")
                out.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())],
                                                        value=value), stmt))
                for t in stmt.targets:
                    out.append(ast.copy_location(ast.Assign(targets=[t], value=ast.Name(id=temp, ctx=ast.Load())),
                                                 stmt))
                del first
                return before + out
            return before + [stmt]
        if isinstance(stmt, ast.AugAssign):
            stmt.value = self.hoist(stmt.value, before)
            if isinstance(stmt.target, ast.Subscript):
                stmt.target.slice = self.hoist(stmt.target.slice, before)
            return before + [stmt]
        if isinstance(stmt, ast.Expr) and _fills_diagonal(stmt, self.func.globals):
            return self.statement(_diagonal_store(stmt))
        if isinstance(stmt, ast.Expr) and _is_store_call(stmt.value, self.func.globals, self.locals):
            return self.statement(_whole_store(stmt))
        if isinstance(stmt, ast.Expr):
            stmt.value = self.hoist(stmt.value, before, top=True)
            return before + [stmt]
        if isinstance(stmt, ast.If):
            stmt.test = self.hoist(stmt.test, before)
            stmt.body = self.block(stmt.body)
            stmt.orelse = self.block(stmt.orelse)
            return before + [stmt]
        if isinstance(stmt, ast.For):
            stmt.iter = self.hoist(stmt.iter, before)
            if not _is_range(stmt.iter, self.func.globals):
                stmt = self.over_range(stmt, before)
            stmt.body = self.block(stmt.body)
            return before + [stmt]
        if isinstance(stmt, ast.While):
            check = []
            self.hoist(stmt.test, check)
            if check:
                self.problems.add(self.func, stmt, "a call to a user function in a while condition",
                                  "compute the condition into a variable before the loop and at the end of its body")
            stmt.body = self.block(stmt.body)
            return [stmt]
        if isinstance(stmt, ast.Return):
            if isinstance(stmt.value, ast.List):
                # return [a, b] returns two values, as return a, b does
                stmt.value = ast.copy_location(ast.Tuple(elts=stmt.value.elts, ctx=ast.Load()), stmt.value)
            if stmt.value is not None and not (isinstance(stmt.value, ast.Constant) and stmt.value.value is None):
                stmt.value = self.hoist(stmt.value, before)
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
        if isinstance(stmt, ast.Assert):
            return [stmt]
        return before + [stmt]

    def result_names(self):
        if self.has_value_return and self.has_bare_return:
            self.problems.add(self.func, self.func.node, f"{self.func.name!r} returns a value on some paths "
                              "and nothing on others", "return a value on every path")
        if not self.has_value_return:
            self.results = ()
            return ()
        if self.arity == 1:
            self.results = (self.namer.fresh("result"),)
        else:
            self.results = tuple(self.namer.fresh(f"result{k}") for k in range(self.arity))
        return self.results

    # -- structured control flow ---------------------------------------------------------------------
    def structure(self, stmts, in_loop):
        """Moves the statements after a jump into the branches that fall through; see module docstring."""
        out = []
        for k, stmt in enumerate(stmts):
            tail = stmts[k + 1:]
            if isinstance(stmt, ast.Return):
                out.extend(self.return_assign(stmt))
                if in_loop:
                    out.extend(self.return_in_loop(stmt))
                return out
            if isinstance(stmt, ast.Continue):
                return out
            if isinstance(stmt, ast.Break):
                out.append(stmt)
                return out
            if isinstance(stmt, ast.If) and _jumps(stmt, loop_level=True):
                stmt.body = self.structure(stmt.body + copy.deepcopy(tail), in_loop)
                stmt.orelse = self.structure(stmt.orelse + copy.deepcopy(tail), in_loop)
                out.append(stmt)
                return out
            if isinstance(stmt, (ast.For, ast.While)):
                contains_return = any(isinstance(s, ast.Return) for s in ast.walk(stmt))
                if contains_return:
                    flag = self.flag()
                    init = ast.copy_location(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                                                        value=ast.Constant(value=False)), stmt)
                    stmt.body = self.structure(stmt.body, in_loop=True)
                    out.append(init)
                    out.append(stmt)
                    after = ast.copy_location(ast.If(test=ast.Name(id=flag, ctx=ast.Load()),
                                                     body=[_returned_marker(stmt)] if not in_loop else
                                                     [ast.copy_location(ast.Break(), stmt)],
                                                     orelse=self.structure(copy.deepcopy(tail), in_loop)), stmt)
                    if not in_loop:
                        after.body = [ast.copy_location(ast.Pass(), stmt)]
                    out.append(after)
                    return out
                stmt.body = self.structure(stmt.body, in_loop=True)
                out.append(stmt)
                continue
            if isinstance(stmt, ast.If):
                stmt.body = self.structure(stmt.body, in_loop)
                stmt.orelse = self.structure(stmt.orelse, in_loop)
            out.append(stmt)
        return out

    def flag(self):
        if self.returned_flag is None:
            self.returned_flag = self.namer.fresh("returned")
        return self.returned_flag

    def return_assign(self, stmt):
        if stmt.value is None or not self.results:
            return []
        targets = _names_target(self.results)
        return [ast.copy_location(ast.Assign(targets=[targets], value=stmt.value), stmt)]

    def return_in_loop(self, stmt):
        flag = self.flag()
        return [ast.copy_location(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                                             value=ast.Constant(value=True)), stmt),
                ast.copy_location(ast.Break(), stmt)]


def _rename_rebound_parameters(body, params, namer, calls_user):
    """A parameter the function may update in place and then rebinds at its top level (``T[0] =
    T[1]; T = T * 1.0; T[-1] = ...``) gets a new name from the rebinding on: the caller's array
    and the new local are two values, and the caller's adjoint belongs to the first."""
    for param in params:
        if not _maybe_written_in_place(body, param, calls_user):
            continue
        for k, stmt in enumerate(body):
            if isinstance(stmt, ast.Assign) and param in _assigned_names(ast.Module(body=[stmt], type_ignores=[])) \
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
                root = _storage_root(target)
                if root == name and (isinstance(target, ast.Subscript) or isinstance(node, ast.AugAssign)):
                    return True
        if isinstance(node, ast.Call) and calls_user(node) and any(isinstance(a, ast.Name) and a.id == name or
                                              isinstance(a, ast.Subscript) and _storage_root(a) == name
                                              for a in node.args):
            return True
    return False


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


# Names the generated code uses for itself: a user's name among them is renamed (never shadowed).
RESERVED = frozenset({"tape", "ad", "np", "math", "prof", "verify", "value", "result_b"})


def _rename_reserved(node, params, func, namer):
    """Renames the locals and parameters of a normalized function that the generated code uses
    (``tape = x * 2.0`` -> ``tape2``), and its references to module-level values of those names
    (aliases the function's globals then resolve); returns the parameters' new names."""
    globals_ = func.globals
    renames = {}
    for name in sorted(RESERVED & (set(params) | _assigned_names(node))):
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


def _is_range(expr, fn_globals):
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "range"
            and resolve(expr.func, fn_globals) is builtins.range and not expr.keywords
            and 1 <= len(expr.args) <= 3)


def _names_only(target):
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_names_only(e) for e in target.elts)


def _loop_sequences(expr, fn_globals):
    """("enumerate", [seq, start?]), ("zip", [seqs]) or ("items", [expr]) for a loop's iterable."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        target = resolve(expr.func, fn_globals)
        if target is enumerate and 1 <= len(expr.args) <= 2 and not expr.keywords:
            return "enumerate", list(expr.args)
        if target is enumerate and len(expr.args) == 1 and [k.arg for k in expr.keywords] == ["start"]:
            return "enumerate", [expr.args[0], expr.keywords[0].value]
        if target is zip:
            return "zip", list(expr.args)
    return "items", [expr]


def _parallel_store(target, value):
    """``a, b = c, d`` with as many values as targets (so each target gets one value)."""
    return isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
        and len(target.elts) == len(value.elts) and not any(isinstance(e, ast.Starred) for e in target.elts)


def _fills_diagonal(stmt, fn_globals):
    call = stmt.value
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and resolve(call.func, fn_globals) is np.fill_diagonal
            and len(call.args) == 2 and not call.keywords and isinstance(call.args[0], ast.Name))


def _fills(call):
    """``x.fill(v)`` on a name: one value, no keyword (``a[k].fill(v)`` writes a view when ``k`` is
    basic and a copy when it is an index array: refused, not guessed)."""
    return (isinstance(call.func, ast.Attribute) and call.func.attr == "fill" and isinstance(call.func.value, ast.Name)
            and len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred))


def _plain_copy(call):
    """``np.copyto(dst, src)`` into a name: two arguments, no keyword (``where=``, ``casting=`` are
    refused, and so is a subscript ``dst``, as for ``.fill``)."""
    return (len(call.args) == 2 and not call.keywords and isinstance(call.args[0], ast.Name)
            and not isinstance(call.args[1], ast.Starred))


def _is_store_call(call, fn_globals, local_names):
    """A statement ``x.fill(v)`` on a local array or ``np.copyto(x, v)``: the store ``x[...] = v``."""
    if not isinstance(call, ast.Call):
        return False
    if _fills(call) and _is_local_root(call.func.value, local_names):
        return True
    return (isinstance(call.func, (ast.Attribute, ast.Name)) and resolve(call.func, fn_globals) is np.copyto
            and _plain_copy(call))


def _whole_store(stmt):
    """x.fill(v) and np.copyto(x, v) -> x[...] = v: every element written, broadcasting v, as a
    store the analyses know (both write their argument in place)."""
    call = stmt.value
    target, value = (call.func.value, call.args[0]) if _fills(call) else call.args
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


def _marked_inactive(func, stmt):
    """A statement under ``# $AD INACTIVE`` (on the line before, or at its end): the user's word
    that no derivative flows through it and that it changes nothing the adjoint reads (plotting,
    logging, diagnostics)."""
    directives = func.source.directives
    lines = func.source.text.splitlines()
    line = stmt.lineno
    while line >= 1:
        if line != stmt.lineno:
            text = lines[line - 1].strip() if line - 1 < len(lines) else ""
            if text and not text.startswith("#"):
                return False           # a directive at the end of that line is that line's
        found = directives.get(line)
        if found is not None and found.words and found.words[0].upper() == "INACTIVE":
            return True
        line -= 1
    return False


def _outline_inactive(func, body, keys, namer):
    """Each statement marked INACTIVE becomes a call of a function holding it (a primitive with no
    derivative, Callee kind "inactive"), given the names the rest of the function binds that it
    reads, returning those it binds that the rest of the function reads."""
    everything = ast.Module(body=body, type_ignores=[])

    def outside(stmt, ctx):
        inner = {id(n) for n in ast.walk(stmt)}
        return {n.id for n in ast.walk(everything) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)
                and id(n) not in inner}

    def block(stmts):
        out = []
        for stmt in stmts:
            if _marked_inactive(func, stmt):
                out.append(_inactive_call(func, stmt, keys, namer, outside(stmt, ast.Load),
                                          outside(stmt, ast.Store) | set(_parameters(func))))
                continue
            for field_name in ("body", "orelse"):
                if isinstance(getattr(stmt, field_name, None), list):
                    setattr(stmt, field_name, block(getattr(stmt, field_name)))
            out.append(stmt)
        return out
    return block(body)


def _parameters(func):
    node = func.node
    return [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]


def _inactive_call(func, stmt, keys, namer, read_outside, bound_outside):
    inner = ast.Module(body=[stmt], type_ignores=[])
    stored = _assigned_names(inner)
    inputs = sorted({n.id for n in ast.walk(inner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                     and n.id in bound_outside})
    outputs = sorted(n for n in stored if n in read_outside)
    name = namer.fresh(f"{func.name}_inactive")
    returned = [ast.Return(value=_names_expr(outputs))] if outputs else []
    definition = ast.FunctionDef(
        name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in inputs], vararg=None,
                                      kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[copy.deepcopy(stmt)] + returned, decorator_list=[], returns=None, type_params=[])
    ast.fix_missing_locations(ast.copy_location(definition, stmt))
    keys.inactive[name] = (definition, func)
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[ast.Name(id=n, ctx=ast.Load()) for n in inputs],
                    keywords=[])
    if outputs:
        target = ast.Name(id=outputs[0], ctx=ast.Store()) if len(outputs) == 1 else ast.Tuple(
            elts=[ast.Name(id=n, ctx=ast.Store()) for n in outputs], ctx=ast.Store())
        replacement = ast.Assign(targets=[target], value=call)
    else:
        replacement = ast.Expr(value=call)
    return ast.fix_missing_locations(ast.copy_location(replacement, stmt))


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
    root = _storage_root(value) if isinstance(value, (ast.Name, ast.Subscript)) else None
    return {root} if root is not None else set()


def _storage_root(arg):
    """The name of the array an argument passes as storage (``y``, ``y[1:, k]``), or None."""
    while isinstance(arg, ast.Subscript):
        arg = arg.value
    return arg.id if isinstance(arg, ast.Name) else None


def _returned_marker(stmt):
    return ast.copy_location(ast.Pass(), stmt)


def _names_target(names):
    if len(names) == 1:
        return ast.Name(id=names[0], ctx=ast.Store())
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in names], ctx=ast.Store())


def _jumps(stmt, loop_level):
    """True when ``stmt`` contains a return, or a break/continue of the enclosing loop."""
    def walk(node, depth):
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.Break, ast.Continue)):
            return depth == 0
        if isinstance(node, (ast.For, ast.While)):
            return any(walk(s, depth + 1) for s in node.body)
        if isinstance(node, ast.If):
            return any(walk(s, depth) for s in node.body + node.orelse)
        return False
    return walk(stmt, 0)


def _assigns_results(stmts, results):
    """True when every path through ``stmts`` assigns the result variables."""
    for stmt in reversed(stmts):
        if isinstance(stmt, ast.Assign) and _assigned_names(stmt) >= set(results):
            return True
        if isinstance(stmt, ast.If):
            if _assigns_results(stmt.body, results) and _assigns_results(stmt.orelse, results):
                return True
        if isinstance(stmt, (ast.For, ast.While)):
            continue
    return False


