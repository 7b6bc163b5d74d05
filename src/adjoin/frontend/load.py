"""Loading and resolving: a user function's source (nested defs lifted), the key of each function a
program reaches, and what each call calls."""
import ast
import builtins
import types
from dataclasses import dataclass

import numpy as np

from ..rules import RULES
from .names import RESERVED
from .nested import lift_nested, registered
from .source import resolve, user_function
from .specialize import NOTHING, callee_binding
from .syntax import is_local_root


@dataclass(frozen=True)
class Callee:
    """What a call in user code calls."""
    kind: str          # "user", "rule", "print", "inactive", "external"
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


RULE_OBJECTS = _rule_objects()     # id(NumPy, math or builtin function) -> its key in RULES


def loaded(fn):
    """The UserFunction of ``fn`` (or of a function lifted from a nested def), nested defs lifted."""
    return lift_nested(registered(fn) or user_function(fn))


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


def resolve_call(node, func, locals_, keys, call_keys=None):
    """The Callee of a call node in user function ``func`` (``call_keys``: the keys normalization
    found for user calls before it rewrote their arguments)."""
    if call_keys and id(node) in call_keys:
        return Callee("user", call_keys[id(node)][1])
    f = node.func
    if isinstance(f, ast.Attribute) and is_local_root(f.value, locals_):
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
    if id(target) in RULE_OBJECTS:
        key = RULE_OBJECTS[id(target)]
        if RULES[key].one_argument and len(node.args) == 1 and not node.keywords:
            key = RULES[key].one_argument     # max(x), min(x): over the items of one argument
        return Callee("rule", key)
    return Callee("external", ast.unparse(f))
