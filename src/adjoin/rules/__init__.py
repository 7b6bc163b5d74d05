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

Adding a primitive is one entry in its family's module and one test in tests/test_rules.py.

How a call binds to an entry (the engine does it the way Python binds a call):

* ``params`` follow the callee's real positional order and names, so keywords bind as in NumPy;
  a parameter missing from the call takes its value from ``defaults`` (values the templates see;
  the primal call is never rewritten).  A keyword that is not in ``params`` cannot be bound: such
  a call is refused, never differentiated without it (``a.reshape(3, 4, order="F")``,
  ``np.sum(..., where=...)``, ``np.cumsum(..., out=...)``).
* ``out`` is listed only where NumPy has it before a parameter the table needs (``np.sum(a,
  axis, dtype, out, keepdims)``), so that positions bind right; a call that passes an ``out``
  writes its result into an argument and must be refused.
* A ``sequence`` parameter takes a list or tuple display (``np.concatenate((a, b))``): the
  template is evaluated once per element, with ``i`` the element's position (an int) and the
  parameter's name bound to the tuple of all element values.  Any other argument (a variable
  holding a tuple) cannot be split and must be refused: ``i`` would be unbound.
* A display passed to a plain parameter (``np.array([x, y, x * y])``, ``np.asarray``,
  ``np.pad(..., constant_values=(lo, hi))``) receives the parameter's contribution as a whole;
  element k gets its k-th entry, recursively for nested displays.
* ``varargs`` names the ``*args`` parameter, listed last in ``params``; it collects the
  remaining positional arguments as a tuple (``a.transpose(1, 0)``: ``axes == (1, 0)``) and is
  never active.
* Templates are single expressions; some are conditional expressions (``a if c else b``), so
  they must be inserted as parsed expressions (or parenthesised), never pasted as text.

The table is a package: entry.py (the Rule of one primitive and its builder), a module per
family of primitives (elementwise.py, reductions.py, arrays.py, scalars.py) and tangents.py (the
tangent templates), put together here.
"""
from .arrays import ATTRIBUTES, CONSTRUCTORS, INDICES, JOINING, METHODS, SHAPES
from .elementwise import ELEMENTWISE_ONE, ELEMENTWISE_SEVERAL, OPERATORS
from .entry import KIND_RULES, Rule, rule
from .reductions import PRODUCTS, REDUCTIONS
from .scalars import BUILTINS, MATH
from .tangents import TANGENTS, _with_tangents, tangent_templates

__all__ = ["KIND_RULES", "RULES", "Rule", "TANGENTS", "rule", "tangent_templates"]


def _families(*tables):
    """One table of the families' entries, in their order: where several keys name one object
    (np.abs, np.absolute), the first one names it (frontend/program.py)."""
    out = {}
    for table in tables:
        for key, entry in table.items():
            assert key not in out, f"{key} is written twice"
            out[key] = entry
    return out


# Keys: "np.NAME" (NumPy functions), "math.NAME", "builtins.NAME", "op.NAME" (operators:
# add sub mul truediv floordiv mod pow matmul neg pos), "method.NAME" (x.NAME(...), x is the first
# parameter) and "attr.NAME" (x.NAME, x is the only parameter).
#
# Conventions where the derivative does not exist: max/min reductions split g evenly among tied
# extremes; np.maximum/np.minimum give half to each argument at a tie; builtins max/min give all
# of g to the argument they return (the first at a tie); abs/fabs give 0 at 0, and std gives 0
# where it is 0; clip gives g to its first argument when it sits exactly on a bound.
RULES = _families(OPERATORS, ELEMENTWISE_ONE, ELEMENTWISE_SEVERAL, REDUCTIONS, PRODUCTS, SHAPES, JOINING,
                  CONSTRUCTORS, INDICES, MATH, BUILTINS, METHODS, ATTRIBUTES)


def _with_methods(table):
    """Every entry that lists array-method spellings, also under "method.NAME"."""
    out = dict(table)
    for key, entry in table.items():
        for name in entry.methods:
            assert f"method.{name}" not in table, f"method.{name} is written twice"
            out[f"method.{name}"] = entry
    return out


RULES = _with_methods(_with_tangents(RULES))
