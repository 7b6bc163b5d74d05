"""Finding user functions and their source: the head, what it calls, across the user's modules."""
import ast
import builtins
import collections
import inspect
import io
import math
import sys
import sysconfig
import tokenize
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UnsupportedError, located

_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
_NUMPY = Path(np.__file__).resolve().parent
# installed packages (matplotlib, scipy, ...) are not the user's code: adjoin does not read them
_INSTALLED = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}


@dataclass(frozen=True)
class Directive:
    """A `# $AD ...` comment: its line, its words."""
    line: int
    words: tuple


@dataclass
class ModuleSource:
    """A user module: its file, text, tree and directives."""
    path: str
    text: str
    tree: ast.Module
    directives: dict          # line -> Directive
    module: types.ModuleType | None


@dataclass
class UserFunction:
    """A user function reached from the head."""
    name: str
    fn: types.FunctionType
    node: ast.FunctionDef
    source: ModuleSource
    aliases: dict = field(default_factory=dict)      # new name -> the value it stands for
    alias_names: dict = field(default_factory=dict)  # new name -> the module-level name it renames
    binding: object = None     # frontend.specialize.Binding: the function values it is specialized on
    # a function made by adjoin from the user's code (a nested def, lifted): its definition, which
    # a generated module writes out (the user's module has no such name to import)
    primal_source: str | None = None

    @property
    def path(self):
        return self.source.path

    @property
    def globals(self):
        """The function's module-level names, and the aliases normalization gave some values."""
        if not self.aliases:
            return self.fn.__globals__
        return collections.ChainMap(self.aliases, self.fn.__globals__)

    @property
    def local_names(self):
        """Its parameters and every name it assigns."""
        node = self.node
        names = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
        names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        return names


_MODULE_CACHE = {}


def read_directives(text):
    """Maps line numbers to `# $AD` directives found in comments (tokenize: comments are not in the ast)."""
    found = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                body = tok.string.lstrip("#").strip()
                if body.upper().startswith("$AD"):
                    words = tuple(body[3:].split())
                    found[tok.start[0]] = Directive(tok.start[0], words)
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def module_source(fn):
    """The ModuleSource holding ``fn``, parsed once per file content."""
    path = inspect.getsourcefile(fn) or inspect.getfile(fn)
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        try:
            lines, _ = inspect.findsource(fn)     # a notebook cell or a console keeps its text here
        except OSError:
            raise UnsupportedError(
                f"cannot read the source of {fn.__name__!r} (its code says it comes from {path!r}); adjoin "
                "reads the functions it differentiates: define it in a module file, not with exec() or "
                "'python -c'") from None
        text = "".join(lines)
    key = (path, hash(text))
    cached = _MODULE_CACHE.get(key)
    if cached is not None:
        return cached
    tree = ast.parse(text, filename=path)
    source = ModuleSource(path, text, tree, read_directives(text), inspect.getmodule(fn))
    _MODULE_CACHE[key] = source
    return source


def is_user_function(obj):
    """A plain Python function with source that is neither NumPy's nor the standard library's."""
    if not isinstance(obj, types.FunctionType):
        return False
    try:
        path = Path(inspect.getsourcefile(obj) or "").resolve()
    except TypeError:
        return False
    if not path.name:
        return False
    for root in (_STDLIB, _NUMPY, *_INSTALLED):
        if root in path.parents:
            return False
    if {"site-packages", "dist-packages"} & set(path.parts):
        return False
    return Path(__file__).resolve().parents[1] not in path.parents


def function_node(fn, source):
    """The ast.FunctionDef of ``fn`` in its module's tree; refused when the file no longer holds
    the code that runs (edited since it was imported)."""
    line = fn.__code__.co_firstlineno
    best = None
    for node in ast.walk(source.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn.__name__:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == line or node.lineno == line:
                best = node
                break
            best = best or node
    if best is None:
        raise UnsupportedError(f"{source.path}: cannot find the source of function {fn.__name__!r}")
    if not _same_code(best, fn, source.path):
        raise UnsupportedError(
            f"{source.path}:{best.lineno}: the source of {fn.__name__} in this file is not the code "
            "that runs (the file changed since it was imported?); reload the module "
            "(importlib.reload, or %autoreload in a notebook) or restart Python")
    return best


def _same_code(node, fn, path):
    """Whether ``node`` compiles to the code of ``fn``: the same names, locals and constants (a
    cheap fingerprint of the body; bytecode differs with the compiler's context)."""
    if fn.__code__.co_freevars:
        return True                     # a closure: compiled alone it would differ; refused later
    try:
        module = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
    except (SyntaxError, ValueError, TypeError):
        return True
    compiled = [c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == fn.__name__]
    if not compiled:
        return True
    return _fingerprint(compiled[0]) == _fingerprint(fn.__code__)


def _fingerprint(code):
    consts = tuple(_fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
                   for c in code.co_consts)
    return code.co_name, code.co_names, code.co_varnames, code.co_argcount, code.co_kwonlyargcount, consts


def compiled_function(definition, path, fn_globals, module):
    """The function object of ``definition`` (a FunctionDef adjoin made from the user's code),
    compiled as if written in the user's file ``path``, with the globals of its module."""
    code = compile(ast.fix_missing_locations(ast.Module(body=[definition], type_ignores=[])), path, "exec")
    function_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn = types.FunctionType(function_code, fn_globals, definition.name)
    fn.__module__ = module
    return fn


def user_function(fn):
    """Wraps a user function object with its parsed source."""
    if not is_user_function(fn):
        raise UnsupportedError(f"{getattr(fn, '__name__', fn)!r} is not a Python function with source; "
                               "adjoin differentiates plain module-level Python functions")
    source = module_source(fn)
    return UserFunction(fn.__name__, fn, function_node(fn, source), source)


def resolve(expr, fn_globals):
    """Statically evaluates a Name/Attribute chain against a function's globals; None if impossible."""
    if isinstance(expr, ast.Name):
        if expr.id in fn_globals:
            return fn_globals[expr.id]
        if hasattr(builtins, expr.id):
            return getattr(builtins, expr.id)
        return _MISSING
    if isinstance(expr, ast.Attribute):
        base = resolve(expr.value, fn_globals)
        if base is _MISSING or base is None:
            return _MISSING
        if isinstance(base, types.ModuleType):
            return getattr(base, expr.attr, _MISSING)
        return _MISSING
    return _MISSING


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()
MISSING = _MISSING


def where(fn_or_path, node):
    """'path:line:col' prefix pieces for a node."""
    path = fn_or_path.path if isinstance(fn_or_path, UserFunction) else fn_or_path
    return path, getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def error_at(func, node, what, hint=None):
    """An UnsupportedError located at ``node`` of user function ``func``."""
    path, line, col = where(func, node)
    return UnsupportedError(located(path, line, col + 1, what, hint))


NUMPY = np
MATH = math
