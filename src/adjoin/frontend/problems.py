"""Refusals: collected while the frontend and the analyses read a program, raised as one error."""
from ..errors import UnsupportedError
from .source import error_at


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
