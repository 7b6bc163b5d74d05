"""The program adjoin differentiates: the head and every user function it reaches, loaded, checked
and normalized.

``load_program`` chains the frontend's passes: loading each function reached (load.py; nested defs
lifted, calls on function values specialized), checking it against the input language (check.py),
normalizing it (normalize.py, with the directives of directives.py), and refusing recursion.  Each
pass adds its refusals to one Problems, raised before the next pass starts.
"""
from dataclasses import dataclass, field

from .check import Checker, check_recursion
from .load import Keys, loaded
from .normalize import normalize
from .problems import Problems
from .specialize import head_binding, specialized


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
    head = specialized(loaded(fn), head_binding(fn, values))
    problems = Problems()
    keys = Keys()               # (id(fn object), binding) -> key
    reached = _checked(head, keys, problems)
    problems.raise_if_any(head.name)
    functions = _normalized(reached, keys, problems)
    problems.raise_if_any(head.name)
    program = Program(keys.get(head.fn, head.binding), functions, inactive=keys.inactive)
    check_recursion(program, problems)
    problems.raise_if_any(head.name)
    return program


def _checked(head, keys, problems):
    """key -> UserFunction of the head and of every user function it reaches, each checked."""
    raw = {}
    pending = [head]
    raw[keys.add(head.fn, head.binding)] = head
    while pending:
        func = pending.pop()
        checker = Checker(func, problems)
        checker.run()
        for obj, binding in checker.user_callees:
            if keys.get(obj, binding) is None:
                new = specialized(loaded(obj), binding)
                raw[keys.add(obj, binding)] = new
                pending.append(new)
    return raw


def _normalized(raw, keys, problems):
    """key -> Function of every checked function, and of the fragments normalization cuts out."""
    functions = {}
    pending = list(raw.items())
    while pending:
        key, func = pending.pop(0)
        function, fragments = normalize(key, func, keys, problems)
        functions[key] = function
        pending.extend(fragments)
    return functions
