"""The derivative table: one entry per primitive, the only place that knows derivatives.

Each entry says, for a NumPy / math / builtin function, an operator, a method or an attribute,
how the adjoint of its result becomes adjoint contributions to its arguments.  Contributions are
Python expression templates, parsed once, in which these names may appear:

* ``g``   the adjoint of the result (same shape as the result, or bigger when ``elementwise``)
* ``ans`` the value of the result
* the parameter names of the entry (their values)
* ``i``   for a sequence parameter (``np.concatenate((a, b))``): the position of the element
* ``np``, ``math`` and ``ad`` (``adjoin.runtime.vjp``: helpers for the longer adjoints)

``elementwise`` rules may leave a contribution in the broadcast shape of the result: the engine
sums it back to the operand's shape.  Other rules receive ``g`` already in the result's shape and
must return contributions in their operand's shape.

Adding a primitive is one entry here and one test in tests/test_rules.py.
"""
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Rule:
    """How to differentiate one primitive."""
    params: tuple                      # positional parameter names in call order
    adjoints: MappingProxyType         # parameter -> contribution template ({} for non-differentiable)
    defaults: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    elementwise: bool = False          # may return contributions in the broadcast shape
    result: str = "elementwise"        # kind of the result, see KIND_RULES
    sequence: tuple = ()               # parameters that take a list/tuple of arrays
    varargs: str | None = None         # name of a *args parameter (e.g. reshape's dims), never active


# result kinds understood by the kind inference (analysis/kinds.py)
KIND_RULES = {
    "elementwise": "broadcast of the arguments",
    "reduce": "first argument reduced along 'axis' (all axes when None), keepdims respected",
    "scalar": "a float",
    "int": "an int (never active)",
    "bool": "a bool (never active)",
    "same": "same kind and rank as the first argument",
    "array": "an array of unknown rank",
    "matmul": "rank of a matrix product of the first two arguments",
    "inactive": "any value that never carries derivatives (indices, masks, shapes)",
}


def rule(params, adjoints=None, *, defaults=None, elementwise=False, result="elementwise",
         sequence=(), varargs=None):
    """Builds a Rule; ``params`` is a space-separated string of parameter names."""
    return Rule(tuple(params.split()), MappingProxyType(dict(adjoints or {})),
                MappingProxyType(dict(defaults or {})), elementwise, result, tuple(sequence), varargs)


# Keys: "np.NAME" (NumPy functions), "math.NAME", "builtins.NAME", "op.NAME" (operators:
# add sub mul truediv pow matmul neg pos), "method.NAME" (x.NAME(...), x is the first parameter)
# and "attr.NAME" (x.NAME, x is the only parameter).
RULES = {
    "op.add": rule("a b", {"a": "g", "b": "g"}, elementwise=True),
    "op.sub": rule("a b", {"a": "g", "b": "-g"}, elementwise=True),
    "op.mul": rule("a b", {"a": "g * b", "b": "g * a"}, elementwise=True),
    "op.truediv": rule("a b", {"a": "g / b", "b": "-g * ans / b"}, elementwise=True),
    "op.neg": rule("a", {"a": "-g"}, elementwise=True),
    "op.pos": rule("a", {"a": "g"}, elementwise=True),
    "np.sin": rule("x", {"x": "g * np.cos(x)"}, elementwise=True),
    "math.sin": rule("x", {"x": "g * math.cos(x)"}, elementwise=True, result="scalar"),
    "np.sum": rule("a axis keepdims", {"a": "ad.unreduce(g, a, axis, keepdims)"},
                   defaults={"axis": None, "keepdims": False}, result="reduce"),
    "method.sum": rule("a axis keepdims", {"a": "ad.unreduce(g, a, axis, keepdims)"},
                       defaults={"axis": None, "keepdims": False}, result="reduce"),
    "attr.T": rule("a", {"a": "np.transpose(g)"}, result="same"),
    "np.arange": rule("start stop step", {}, defaults={"stop": None, "step": None}, result="inactive"),
}
