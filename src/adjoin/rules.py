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
"""
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Rule:
    """Everything adjoin knows of one primitive: how to differentiate it, the kind of its result,
    whether that result may share memory with its first argument, and its other spellings."""
    params: tuple                      # positional parameter names in call order
    adjoints: MappingProxyType         # parameter -> contribution template ({} for non-differentiable)
    defaults: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    elementwise: bool = False          # may return contributions in the broadcast shape
    result: str = "elementwise"        # kind of the result, see KIND_RULES
    sequence: tuple = ()               # parameters that take a list/tuple of arrays
    varargs: str | None = None         # name of a *args parameter (e.g. reshape's dims), never active
    view: bool = False                 # the result may be a view of the first argument (effects.py)
    methods: tuple = ()                # the same primitive as an array method: x.NAME(...)
    one_argument: str | None = None    # the entry a call with one positional argument means instead
    # no derivative rule although the derivative is not zero: an argument carrying a derivative is
    # refused, with this rewrite (an empty ``adjoints`` alone means "piecewise constant": zero)
    no_rule: str | None = None
    # the result always has the first argument's shape (np.roll): the backward sweep reads the
    # shape there instead of computing the result again (tests/test_rules.py checks every case)
    keeps_shape: bool = False
    # tangent mode: parameter -> template of the result's tangent, given ``d`` the parameter's
    # tangent (see TANGENTS below; element-wise entries derive theirs from ``adjoints``)
    tangents: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


# result kinds understood by the kind inference (analysis/kinds.py reads these, never names)
KIND_RULES = {
    "elementwise": "broadcast of the arguments",
    "reduce": "first argument reduced along 'axis' (all axes when None), keepdims respected",
    "scalar": "a float",
    "int": "an int (never active)",
    "bool": "a bool (never active)",
    "same": "same kind and rank as the first argument",
    "like": "an array of the first argument's rank and dtype (a 0-d array for a number)",
    "array": "an array of unknown rank",
    "matmul": "rank of a matrix product of the first two arguments",
    "item": "an item of the first argument (an array without its first axis, a tuple's items)",
    "join": "the join of the arguments' kinds (builtin max/min of numbers)",
    "from_shape": "an array whose rank is the length of the 'shape' argument",
    "reshape": "an array whose rank is the length of 'shape' (or of the dims given one by one)",
    "flat": "a 1-D array",
    "arange": "a 1-D array, of ints when every argument is an int",
    "flat_or_like": "a 1-D array when 'axis' is None, else like the first argument (cumsum)",
    "display": "an array as deep as the nested list or tuple given (np.array([[a, b], [c, d]]))",
    "stack": "one more dimension than the arrays stacked",
    "concatenate": "the rank of the arrays joined",
    "vstack": "the rank of the arrays joined, at least 2",
    "matrix": "a 2-D array",
    "expand": "one more dimension per axis inserted",
    "broadcast": "an array whose rank is the length of 'shape'",
    "tile": "the larger of the first argument's rank and the length of 'reps'",
    "repeat": "a 1-D array when 'axis' is None, else like the first argument",
    "arg": "an int, or an int array along 'axis' (argmax, argmin)",
    "where": "a tuple of index arrays with one argument, else the broadcast of the arguments",
    "diag": "a matrix from a vector, a vector from a matrix (np.diag)",
    "diagonal": "the first argument with its two axes made one, last (np.diagonal: a matrix gives a vector)",
    "einsum": "an array of the rank of the subscripts after '->'",
    "gradient": "like the first argument when it is 1-D or 'axis' is given (else a tuple, refused)",
    "meshgrid": "a tuple of as many arrays as arguments, each of that rank",
    "inactive": "any value that never carries derivatives (indices, masks, shapes)",
}


def rule(params, adjoints=None, *, defaults=None, elementwise=False, result="elementwise",
         sequence=(), varargs=None, view=False, methods=(), one_argument=None, no_rule=None,
         keeps_shape=False):
    """Builds a Rule; ``params`` is a space-separated string of parameter names."""
    return Rule(tuple(params.split()), MappingProxyType(dict(adjoints or {})),
                MappingProxyType(dict(defaults or {})), elementwise, result, tuple(sequence), varargs,
                view, tuple(methods), one_argument, no_rule, keeps_shape)


# defaults shared by the reductions (NumPy's "no value" defaults mean what is written here)
_SUM = {"axis": None, "dtype": None, "out": None, "keepdims": False}
_EXTREME = {"axis": None, "out": None, "keepdims": False}
_VAR = {"axis": None, "dtype": None, "out": None, "ddof": 0, "keepdims": False}
_LIKE = {"dtype": None, "order": "K", "subok": True, "shape": None}
_CLOSE = {"rtol": 1e-05, "atol": 1e-08, "equal_nan": False}

# Keys: "np.NAME" (NumPy functions), "math.NAME", "builtins.NAME", "op.NAME" (operators:
# add sub mul truediv floordiv mod pow matmul neg pos), "method.NAME" (x.NAME(...), x is the first
# parameter) and "attr.NAME" (x.NAME, x is the only parameter).
#
# Conventions where the derivative does not exist: max/min reductions split g evenly among tied
# extremes; np.maximum/np.minimum give half to each argument at a tie; builtins max/min give all
# of g to the argument they return (the first at a tie); abs/fabs give 0 at 0, and std gives 0
# where it is 0; clip gives g to its first argument when it sits exactly on a bound.
RULES = {
    # --- operators ------------------------------------------------------------------------
    "op.add": rule("a b", {"a": "g", "b": "g"}, elementwise=True),
    "op.sub": rule("a b", {"a": "g", "b": "-g"}, elementwise=True),
    "op.mul": rule("a b", {"a": "g * b", "b": "g * a"}, elementwise=True),
    "op.truediv": rule("a b", {"a": "g / b", "b": "-g * ans / b"}, elementwise=True),
    "op.floordiv": rule("a b"),                                  # piecewise constant
    "op.mod": rule("a b", {"a": "g", "b": "-g * (a // b)"}, elementwise=True),
    "op.pow": rule("a b", {"a": "ad.pow_base(g, a, b)", "b": "ad.pow_exponent(g, a, ans)"},
                   elementwise=True),
    "op.matmul": rule("a b", {"a": "ad.matmul_a(g, a, b)", "b": "ad.matmul_b(g, a, b)"},
                      result="matmul"),
    "op.neg": rule("a", {"a": "-g"}, elementwise=True),
    "op.pos": rule("a", {"a": "g"}, elementwise=True),

    # --- NumPy element-wise functions of one argument -----------------------------------------
    "np.sin": rule("x", {"x": "g * np.cos(x)"}, elementwise=True),
    "np.cos": rule("x", {"x": "-g * np.sin(x)"}, elementwise=True),
    "np.tan": rule("x", {"x": "g / np.cos(x) ** 2"}, elementwise=True),
    "np.arcsin": rule("x", {"x": "ad.div(g, np.sqrt(1.0 - x * x))"}, elementwise=True),
    "np.arccos": rule("x", {"x": "ad.div(-g, np.sqrt(1.0 - x * x))"}, elementwise=True),
    "np.arctan": rule("x", {"x": "g / (1.0 + x * x)"}, elementwise=True),
    "np.sinh": rule("x", {"x": "g * np.cosh(x)"}, elementwise=True),
    "np.cosh": rule("x", {"x": "g * np.sinh(x)"}, elementwise=True),
    "np.tanh": rule("x", {"x": "g * (1.0 - ans * ans)"}, elementwise=True),
    "np.arcsinh": rule("x", {"x": "g / np.sqrt(x * x + 1.0)"}, elementwise=True),
    "np.arccosh": rule("x", {"x": "ad.div(g, np.sqrt(x * x - 1.0))"}, elementwise=True),
    "np.arctanh": rule("x", {"x": "g / (1.0 - x * x)"}, elementwise=True),
    "np.exp": rule("x", {"x": "g * ans"}, elementwise=True),
    "np.exp2": rule("x", {"x": "g * ans * np.log(2.0)"}, elementwise=True),
    "np.expm1": rule("x", {"x": "g * (ans + 1.0)"}, elementwise=True),
    "np.log": rule("x", {"x": "g / x"}, elementwise=True),
    "np.log2": rule("x", {"x": "g / (x * np.log(2.0))"}, elementwise=True),
    "np.log10": rule("x", {"x": "g / (x * np.log(10.0))"}, elementwise=True),
    "np.log1p": rule("x", {"x": "g / (1.0 + x)"}, elementwise=True),
    "np.sqrt": rule("x", {"x": "ad.div(g, 2.0 * ans)"}, elementwise=True),
    "np.cbrt": rule("x", {"x": "ad.div(g, 3.0 * ans * ans)"}, elementwise=True),
    "np.square": rule("x", {"x": "2.0 * g * x"}, elementwise=True),
    "np.reciprocal": rule("x", {"x": "-g * ans * ans"}, elementwise=True),
    "np.abs": rule("x", {"x": "g * np.sign(x)"}, elementwise=True),
    "np.absolute": rule("x", {"x": "g * np.sign(x)"}, elementwise=True),
    "np.fabs": rule("x", {"x": "g * np.sign(x)"}, elementwise=True),
    "np.negative": rule("x", {"x": "-g"}, elementwise=True),
    "np.positive": rule("x", {"x": "g"}, elementwise=True),
    "np.deg2rad": rule("x", {"x": "g * (np.pi / 180.0)"}, elementwise=True),
    "np.radians": rule("x", {"x": "g * (np.pi / 180.0)"}, elementwise=True),
    "np.rad2deg": rule("x", {"x": "g * (180.0 / np.pi)"}, elementwise=True),
    "np.degrees": rule("x", {"x": "g * (180.0 / np.pi)"}, elementwise=True),
    # piecewise constant: float results whose derivative is 0
    "np.sign": rule("x"),
    # a step in x1 (zero derivative, as np.sign), and x2 is its value where x1 == 0
    "np.heaviside": rule("x1 x2", {"x1": "g * 0.0", "x2": "g * (x1 == 0)"}, elementwise=True),
    "np.floor": rule("x"),
    "np.ceil": rule("x"),
    "np.rint": rule("x"),
    "np.trunc": rule("x"),
    "np.fix": rule("x"),
    "np.round": rule("a decimals", defaults={"decimals": 0}, methods=("round",)),

    # --- NumPy element-wise functions of two or three arguments --------------------------------
    "np.add": rule("x1 x2", {"x1": "g", "x2": "g"}, elementwise=True),
    "np.subtract": rule("x1 x2", {"x1": "g", "x2": "-g"}, elementwise=True),
    "np.multiply": rule("x1 x2", {"x1": "g * x2", "x2": "g * x1"}, elementwise=True),
    "np.divide": rule("x1 x2", {"x1": "g / x2", "x2": "-g * ans / x2"}, elementwise=True),
    "np.true_divide": rule("x1 x2", {"x1": "g / x2", "x2": "-g * ans / x2"}, elementwise=True),
    "np.power": rule("x1 x2", {"x1": "ad.pow_base(g, x1, x2)", "x2": "ad.pow_exponent(g, x1, ans)"},
                     elementwise=True),
    "np.arctan2": rule("x1 x2", {"x1": "ad.div(g * x2, x1 * x1 + x2 * x2)",
                                 "x2": "ad.div(-g * x1, x1 * x1 + x2 * x2)"}, elementwise=True),
    "np.hypot": rule("x1 x2", {"x1": "ad.div(g * x1, ans)", "x2": "ad.div(g * x2, ans)"},
                     elementwise=True),
    "np.maximum": rule("x1 x2", {"x1": "g * ad.chosen(x1, ans, x2)",
                                 "x2": "g * ad.chosen(x2, ans, x1)"}, elementwise=True),
    "np.minimum": rule("x1 x2", {"x1": "g * ad.chosen(x1, ans, x2)",
                                 "x2": "g * ad.chosen(x2, ans, x1)"}, elementwise=True),
    "np.fmax": rule("x1 x2", {"x1": "g * ad.chosen(x1, ans, x2)",
                              "x2": "g * ad.chosen(x2, ans, x1)"}, elementwise=True),
    "np.fmin": rule("x1 x2", {"x1": "g * ad.chosen(x1, ans, x2)",
                              "x2": "g * ad.chosen(x2, ans, x1)"}, elementwise=True),
    "np.logaddexp": rule("x1 x2", {"x1": "g * np.exp(x1 - ans)", "x2": "g * np.exp(x2 - ans)"},
                         elementwise=True),
    "np.mod": rule("x1 x2", {"x1": "g", "x2": "-g * np.floor_divide(x1, x2)"}, elementwise=True),
    "np.remainder": rule("x1 x2", {"x1": "g", "x2": "-g * np.floor_divide(x1, x2)"},
                         elementwise=True),
    "np.fmod": rule("x1 x2", {"x1": "g", "x2": "-g * np.round((x1 - ans) / x2)"},
                    elementwise=True),
    "np.floor_divide": rule("x1 x2"),                            # piecewise constant
    "np.where": rule("condition x y", {"x": "np.where(condition, g, 0.0)",
                                       "y": "np.where(condition, 0.0, g)"}, elementwise=True, result="where"),
    "np.clip": rule("a a_min a_max", {"a": "g * ad.clip_passes(a, a_min, a_max)",
                                      "a_min": "g * ad.clip_low(a, a_min, a_max)",
                                      "a_max": "g * ad.clip_high(a, a_min, a_max)"},
                    defaults={"a_min": None, "a_max": None}, elementwise=True, result="like"),

    # --- reductions and scans ----------------------------------------------------------------
    "np.sum": rule("a axis dtype out keepdims", {"a": "ad.unreduce(g, a, axis, keepdims)"},
                   defaults=_SUM, result="reduce", methods=("sum",)),
    "np.median": rule("a axis", {"a": "ad.median_adjoint(g, a, axis)"}, defaults={"axis": None},
                      result="reduce"),       # no out, overwrite_input or keepdims: refused if given
    "np.nansum": rule("a axis dtype out keepdims",
                      {"a": "np.where(np.isnan(a), 0.0, ad.unreduce(g, a, axis, keepdims))"},
                      defaults=_SUM, result="reduce"),
    "np.mean": rule("a axis dtype out keepdims",
                    {"a": "ad.unreduce(g, a, axis, keepdims) * (np.size(ans) / np.size(a))"},
                    defaults=_SUM, result="reduce", methods=("mean",)),
    "np.prod": rule("a axis dtype out keepdims", {"a": "ad.prod_adjoint(g, a, axis, keepdims)"},
                    defaults=_SUM, result="reduce", methods=("prod",)),
    "np.max": rule("a axis out keepdims", {"a": "ad.max_adjoint(g, a, ans, axis, keepdims)"},
                   defaults=_EXTREME, result="reduce", methods=("max",)),
    "np.amax": rule("a axis out keepdims", {"a": "ad.max_adjoint(g, a, ans, axis, keepdims)"},
                    defaults=_EXTREME, result="reduce"),
    "np.min": rule("a axis out keepdims", {"a": "ad.max_adjoint(g, a, ans, axis, keepdims)"},
                   defaults=_EXTREME, result="reduce", methods=("min",)),
    "np.amin": rule("a axis out keepdims", {"a": "ad.max_adjoint(g, a, ans, axis, keepdims)"},
                    defaults=_EXTREME, result="reduce"),
    "np.var": rule("a axis dtype out ddof keepdims",
                   {"a": "ad.var_adjoint(g, a, axis, ddof, keepdims)"},
                   defaults=_VAR, result="reduce", methods=("var",)),
    "np.std": rule("a axis dtype out ddof keepdims",
                   {"a": "ad.std_adjoint(g, a, ans, axis, ddof, keepdims)"},
                   defaults=_VAR, result="reduce", methods=("std",)),
    "np.cumsum": rule("a axis dtype", {"a": "ad.cumsum_adjoint(g, a, axis)"},
                      defaults={"axis": None, "dtype": None}, result="flat_or_like", methods=("cumsum",)),
    "np.diff": rule("a n axis prepend append",
                    {"a": "ad.diff_adjoint(g, a, n, axis, prepend, append, 'a')",
                     "prepend": "ad.diff_adjoint(g, a, n, axis, prepend, append, 'prepend')",
                     "append": "ad.diff_adjoint(g, a, n, axis, prepend, append, 'append')"},
                    defaults={"n": 1, "axis": -1, "prepend": None, "append": None},
                    result="like", view=True),

    # --- products ---------------------------------------------------------------------------
    "np.dot": rule("a b", {"a": "ad.dot_a(g, a, b)", "b": "ad.dot_b(g, a, b)"}, result="matmul", methods=("dot",)),
    "np.matmul": rule("x1 x2", {"x1": "ad.matmul_a(g, x1, x2)", "x2": "ad.matmul_b(g, x1, x2)"},
                      result="matmul"),
    "np.inner": rule("a b", {"a": "ad.inner_a(g, a, b)", "b": "ad.inner_b(g, a, b)"},
                     result="matmul"),
    "np.outer": rule("a b", {"a": "np.reshape(g @ np.ravel(b), np.shape(a))",
                             "b": "np.reshape(np.ravel(a) @ g, np.shape(b))"}, result="matrix"),

    # --- shapes, copies and rearrangements -----------------------------------------------------
    "np.transpose": rule("a axes", {"a": "ad.transpose_adjoint(g, axes)"},
                         defaults={"axes": None}, result="same", view=True),
    "np.reshape": rule("a shape order", {"a": "ad.reshape_adjoint(g, a, order)"},
                       defaults={"order": "C"}, result="reshape", view=True),
    "np.ravel": rule("a order", {"a": "ad.ravel_adjoint(g, a, order)"},
                     defaults={"order": "C"}, result="flat", methods=("ravel",), view=True),
    "np.squeeze": rule("a axis", {"a": "np.reshape(g, np.shape(a))"},
                       defaults={"axis": None}, result="array", methods=("squeeze",), view=True),
    "np.expand_dims": rule("a axis", {"a": "np.reshape(g, np.shape(a))"}, result="expand", view=True),
    "np.broadcast_to": rule("array shape subok", {"array": "ad.sum_to(g, array)"},
                            defaults={"subok": False}, result="broadcast", view=True),
    "np.tile": rule("A reps", {"A": "ad.unselect(g, A, np.tile, reps)"}, result="tile"),
    "np.repeat": rule("a repeats axis", {"a": "ad.unselect(g, a, np.repeat, repeats, axis)"},
                      defaults={"axis": None}, result="repeat"),
    "np.flip": rule("m axis", {"m": "np.flip(g, axis)"}, defaults={"axis": None}, result="like", view=True,
                    keeps_shape=True),
    "np.rot90": rule("m k axes", {"m": "np.rot90(g, -k, axes)"}, defaults={"k": 1, "axes": (0, 1)},
                     result="like", view=True),
    "np.convolve": rule("a v mode", {"a": "ad.convolve_adjoint(g, a, v, mode, 'a')",
                                     "v": "ad.convolve_adjoint(g, a, v, mode, 'v')"},
                        defaults={"mode": "full"}, result="flat"),
    "np.flipud": rule("m", {"m": "np.flipud(g)"}, result="like", view=True, keeps_shape=True),
    "np.fliplr": rule("m", {"m": "np.fliplr(g)"}, result="like", view=True, keeps_shape=True),
    "np.roll": rule("a shift axis", {"a": "ad.unroll(g, shift, axis)"},
                    defaults={"axis": None}, result="like", keeps_shape=True),
    "np.sort": rule("a axis kind order", {"a": "ad.sort_adjoint(g, a, axis)"},
                    defaults={"axis": -1, "kind": None, "order": None}, result="like"),
    "np.pad": rule("array pad_width mode constant_values end_values reflect_type stat_length",
                   {"array": "ad.pad_adjoint(g, array, pad_width, mode, reflect_type, stat_length)",
                    "constant_values": "ad.pad_values_adjoint(g, array, pad_width, mode, "
                                       "'constant_values', constant_values)",
                    "end_values": "ad.pad_values_adjoint(g, array, pad_width, mode, "
                                  "'end_values', end_values)"},
                   defaults={"mode": "constant", "constant_values": 0.0, "end_values": 0.0,
                             "reflect_type": "even", "stat_length": None}, result="like"),
    "np.copy": rule("a order subok", {"a": "g"}, defaults={"order": "K", "subok": False},
                    result="like", keeps_shape=True),

    "np.triu": rule("m k", {"m": "ad.unselect(g, m, np.triu, k)"}, defaults={"k": 0}, result="like"),
    "np.tril": rule("m k", {"m": "ad.unselect(g, m, np.tril, k)"}, defaults={"k": 0}, result="like"),
    "np.diag": rule("v k", {"v": "ad.unselect(g, v, np.diag, k)"}, defaults={"k": 0}, result="diag",
                    view=True),                      # the diagonal of a matrix is a (read-only) view
    "np.diagonal": rule("a offset axis1 axis2", {"a": "ad.unselect(g, a, np.diagonal, offset, axis1, axis2)"},
                        defaults={"offset": 0, "axis1": 0, "axis2": 1}, result="diagonal", methods=("diagonal",),
                        view=True),                  # a read-only view: it sees later writes into a
    "np.trace": rule("a offset axis1 axis2", {"a": "ad.trace_adjoint(g, a, offset, axis1, axis2)"},
                     defaults={"offset": 0, "axis1": 0, "axis2": 1}, result="scalar"),
    "np.append": rule("arr values axis", {"arr": "ad.append_adjoint(g, arr, values, axis, 'arr')",
                                          "values": "ad.append_adjoint(g, arr, values, axis, 'values')"},
                      defaults={"axis": None}, result="flat_or_like"),
    "np.nan_to_num": rule("x copy nan posinf neginf", {"x": "g * np.isfinite(x)"},
                          defaults={"copy": True, "nan": 0.0, "posinf": None, "neginf": None},
                          result="like", view=True, keeps_shape=True),       # copy=False: x itself
    "np.linalg.solve": rule("a b", {"a": "ad.solve_a(g, a, b, ans)", "b": "ad.solve_b(g, a, b)"},
                            result="matmul"),
    "np.linalg.inv": rule("a", {"a": "-(np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2))"},
                          result="same"),
    "np.linalg.norm": rule("x ord axis keepdims", {"x": "ad.norm_adjoint(g, x, ans, ord, axis, keepdims)"},
                           defaults={"ord": None, "axis": None, "keepdims": False}, result="reduce"),
    "np.einsum": rule("operands", {"operands": "ad.einsum_adjoint(g, operands, i)"}, varargs="operands",
                      sequence=("operands",), result="einsum"),
    "np.interp": rule("x xp fp left right period", {"x": "ad.interp_slope(g, x, xp, fp, period)",
                                                    "fp": "ad.interp_values(g, x, xp, fp, left, right, period)"},
                      defaults={"left": None, "right": None, "period": None}, result="like"),
    "np.gradient": rule("f varargs axis edge_order", {"f": "ad.gradient_adjoint(g, f, varargs, axis, edge_order)"},
                        varargs="varargs", defaults={"axis": None, "edge_order": 1}, result="gradient"),
    "np.meshgrid": rule("xi indexing sparse copy", varargs="xi",
                        defaults={"indexing": "xy", "sparse": False, "copy": True}, result="meshgrid",
                        no_rule="build the grids by broadcasting, e.g. X = x[None, :] * np.ones((len(y), 1)) "
                                "and Y = y[:, None] * np.ones((1, len(x)))"),
    "np.diag_indices": rule("n ndim", defaults={"ndim": 2}, result="inactive"),

    # --- building and joining arrays (sequence parameters: the template gives element i's) -----
    "np.array": rule("object dtype", {"object": "g"}, defaults={"dtype": None}, result="display"),
    "np.asarray": rule("a dtype order", {"a": "g"}, defaults={"dtype": None, "order": None},
                       result="like", view=True),
    "np.concatenate": rule("arrays axis", {"arrays": "ad.concatenate_adjoint(g, arrays, axis, i)"},
                           defaults={"axis": 0}, sequence=("arrays",), result="concatenate"),
    "np.stack": rule("arrays axis", {"arrays": "np.take(g, i, axis=axis)"},
                     defaults={"axis": 0}, sequence=("arrays",), result="stack"),
    "np.hstack": rule("tup", {"tup": "ad.hstack_adjoint(g, tup, i)"}, sequence=("tup",),
                      result="concatenate"),
    "np.vstack": rule("tup", {"tup": "ad.vstack_adjoint(g, tup, i)"}, sequence=("tup",),
                      result="vstack"),
    "np.dstack": rule("tup", {"tup": "ad.dstack_adjoint(g, tup, i)"}, sequence=("tup",),
                      result="array"),
    "np.column_stack": rule("tup", {"tup": "ad.column_stack_adjoint(g, tup, i)"},
                            sequence=("tup",), result="matrix"),

    # --- constructors -----------------------------------------------------------------------
    "np.zeros": rule("shape dtype order", defaults={"dtype": None, "order": "C"}, result="from_shape"),
    "np.ones": rule("shape dtype order", defaults={"dtype": None, "order": "C"}, result="from_shape"),
    "np.empty": rule("shape dtype order", defaults={"dtype": None, "order": "C"}, result="from_shape"),
    "np.zeros_like": rule("a dtype order subok shape", defaults=_LIKE, result="like"),
    "np.ones_like": rule("a dtype order subok shape", defaults=_LIKE, result="like"),
    "np.empty_like": rule("a dtype order subok shape", defaults=_LIKE, result="like"),
    "np.full": rule("shape fill_value dtype order", {"fill_value": "g"},
                    defaults={"dtype": None, "order": "C"}, elementwise=True, result="from_shape"),
    "np.full_like": rule("a fill_value dtype order subok shape", {"fill_value": "g"},
                         defaults=_LIKE, elementwise=True, result="like"),
    "np.eye": rule("N M k dtype", defaults={"M": None, "k": 0, "dtype": float}, result="matrix"),
    "np.identity": rule("n", result="matrix"),
    "np.linspace": rule("start stop num endpoint retstep dtype axis",
                        {"start": "ad.linspace_adjoint(g, start, stop, num, endpoint, axis, 'start')",
                         "stop": "ad.linspace_adjoint(g, start, stop, num, endpoint, axis, 'stop')"},
                        defaults={"num": 50, "endpoint": True, "retstep": False, "dtype": None,
                                  "axis": 0}, result="flat"),

    # --- NumPy functions of indices, sizes and masks: never active ------------------------------
    "np.arange": rule("start stop step", {}, defaults={"stop": None, "step": 1}, result="arange",
                      no_rule="its length jumps with its bounds; write start + step * np.arange(n) "
                              "with an int n"),
    "np.argmax": rule("a axis", defaults={"axis": None}, result="arg", methods=("argmax",)),
    "np.argmin": rule("a axis", defaults={"axis": None}, result="arg", methods=("argmin",)),
    "np.argsort": rule("a axis kind order", defaults={"axis": -1, "kind": None, "order": None},
                       result="inactive"),
    "np.argwhere": rule("a", result="inactive"),
    "np.nonzero": rule("a", result="inactive", methods=("nonzero",)),
    "np.flatnonzero": rule("a", result="inactive"),
    "np.count_nonzero": rule("a axis", defaults={"axis": None}, result="inactive"),
    "np.searchsorted": rule("a v side sorter", defaults={"side": "left", "sorter": None},
                            result="inactive"),
    "np.digitize": rule("x bins right", defaults={"right": False}, result="inactive"),
    "np.isnan": rule("x", result="inactive"),
    "np.isinf": rule("x", result="inactive"),
    "np.isfinite": rule("x", result="inactive"),
    "np.isclose": rule("a b rtol atol equal_nan", defaults=_CLOSE, result="inactive"),
    "np.allclose": rule("a b rtol atol equal_nan", defaults=_CLOSE, result="bool"),
    "np.array_equal": rule("a1 a2 equal_nan", defaults={"equal_nan": False}, result="bool"),
    "np.any": rule("a axis out keepdims", defaults=_EXTREME, result="inactive", methods=("any",)),
    "np.all": rule("a axis out keepdims", defaults=_EXTREME, result="inactive", methods=("all",)),
    "np.logical_and": rule("x1 x2", result="inactive"),
    "np.logical_or": rule("x1 x2", result="inactive"),
    "np.logical_xor": rule("x1 x2", result="inactive"),
    "np.logical_not": rule("x", result="inactive"),
    "np.shape": rule("a", result="inactive"),
    "np.size": rule("a axis", defaults={"axis": None}, result="int"),
    "np.ndim": rule("a", result="int"),

    # --- the math module: scalar templates in math.* so that scalar loops stay fast -----------
    "math.sin": rule("x", {"x": "g * math.cos(x)"}, elementwise=True, result="scalar"),
    "math.cos": rule("x", {"x": "-g * math.sin(x)"}, elementwise=True, result="scalar"),
    "math.tan": rule("x", {"x": "g / math.cos(x) ** 2"}, elementwise=True, result="scalar"),
    "math.asin": rule("x", {"x": "ad.div(g, math.sqrt(1.0 - x * x))"}, elementwise=True,
                      result="scalar"),
    "math.acos": rule("x", {"x": "ad.div(-g, math.sqrt(1.0 - x * x))"}, elementwise=True,
                      result="scalar"),
    "math.atan": rule("x", {"x": "g / (1.0 + x * x)"}, elementwise=True, result="scalar"),
    "math.atan2": rule("y x", {"y": "ad.div(g * x, x * x + y * y)", "x": "ad.div(-g * y, x * x + y * y)"},
                       elementwise=True, result="scalar"),
    "math.sinh": rule("x", {"x": "g * math.cosh(x)"}, elementwise=True, result="scalar"),
    "math.cosh": rule("x", {"x": "g * math.sinh(x)"}, elementwise=True, result="scalar"),
    "math.tanh": rule("x", {"x": "g * (1.0 - ans * ans)"}, elementwise=True, result="scalar"),
    "math.asinh": rule("x", {"x": "g / math.sqrt(x * x + 1.0)"}, elementwise=True,
                       result="scalar"),
    "math.acosh": rule("x", {"x": "ad.div(g, math.sqrt(x * x - 1.0))"}, elementwise=True,
                       result="scalar"),
    "math.atanh": rule("x", {"x": "g / (1.0 - x * x)"}, elementwise=True, result="scalar"),
    "math.exp": rule("x", {"x": "g * ans"}, elementwise=True, result="scalar"),
    "math.exp2": rule("x", {"x": "g * ans * math.log(2.0)"}, elementwise=True, result="scalar"),
    "math.expm1": rule("x", {"x": "g * (ans + 1.0)"}, elementwise=True, result="scalar"),
    "math.log": rule("x base", {"x": "g / x if base is None else g / (x * math.log(base))",
                                "base": "-g * ans / (base * math.log(base))"},
                     defaults={"base": None}, elementwise=True, result="scalar"),
    "math.log2": rule("x", {"x": "g / (x * math.log(2.0))"}, elementwise=True, result="scalar"),
    "math.log10": rule("x", {"x": "g / (x * math.log(10.0))"}, elementwise=True,
                       result="scalar"),
    "math.log1p": rule("x", {"x": "g / (1.0 + x)"}, elementwise=True, result="scalar"),
    "math.sqrt": rule("x", {"x": "ad.div(g, 2.0 * ans)"}, elementwise=True, result="scalar"),
    "math.cbrt": rule("x", {"x": "ad.div(g, 3.0 * ans * ans)"}, elementwise=True, result="scalar"),
    "math.pow": rule("x y", {"x": "ad.pow_base(g, x, y)", "y": "ad.pow_exponent(g, x, ans)"},
                     elementwise=True, result="scalar"),
    "math.hypot": rule("x y", {"x": "ad.div(g * x, ans)", "y": "ad.div(g * y, ans)"}, elementwise=True,
                       result="scalar"),                 # two coordinates; more are refused
    "math.fabs": rule("x", {"x": "g * ((x > 0) - (x < 0))"}, elementwise=True, result="scalar"),
    "math.erf": rule("x", {"x": "g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)"},
                     elementwise=True, result="scalar"),
    "math.erfc": rule("x", {"x": "-g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)"},
                      elementwise=True, result="scalar"),
    "math.degrees": rule("x", {"x": "g * (180.0 / math.pi)"}, elementwise=True, result="scalar"),
    "math.radians": rule("x", {"x": "g * (math.pi / 180.0)"}, elementwise=True, result="scalar"),
    "math.fmod": rule("x y", {"x": "g", "y": "-g * round((x - ans) / y)"}, elementwise=True,
                      result="scalar"),
    "math.floor": rule("x", result="int"),
    "math.ceil": rule("x", result="int"),
    "math.trunc": rule("x", result="int"),
    "math.isnan": rule("x", result="bool"),
    "math.isinf": rule("x", result="bool"),
    "math.isfinite": rule("x", result="bool"),
    "math.isclose": rule("a b rel_tol abs_tol", defaults={"rel_tol": 1e-09, "abs_tol": 0.0},
                         result="bool"),

    # --- builtins -----------------------------------------------------------------------------
    "builtins.abs": rule("x", {"x": "g * np.sign(x)"}, elementwise=True),
    # max(a, b) returns a unless b > a: g goes to the argument returned (the first at a tie);
    # three or more arguments are refused (nest the calls)
    "builtins.max": rule("a b", {"a": "g if a >= b else 0.0", "b": "g if b > a else 0.0"}, one_argument="builtins.max_items", result="join"),
    "builtins.min": rule("a b", {"a": "g if a <= b else 0.0", "b": "g if b < a else 0.0"}, one_argument="builtins.min_items", result="join"),
    # one argument: over its items (the first extreme one gets g), sum(items, start)
    "builtins.max_items": rule("iterable", {"iterable": "ad.first_extreme(g, iterable, ans)"}, result="item", view=True),
    "builtins.min_items": rule("iterable", {"iterable": "ad.first_extreme(g, iterable, ans)"}, result="item", view=True),
    "builtins.sum": rule("iterable start", {"iterable": "ad.each_item(g, iterable)", "start": "ad.sum_to(g, start)"},
                         defaults={"start": 0}, result="item"),
    "math.fsum": rule("seq", {"seq": "ad.each_item(g, seq)"}, result="scalar"),
    "builtins.float": rule("x", {"x": "g"}, defaults={"x": 0}, elementwise=True, result="scalar"),
    "builtins.len": rule("obj", result="int"),
    "builtins.int": rule("x", defaults={"x": 0}, result="int"),
    "builtins.pow": rule("base exp mod", {"base": "ad.pow_base(g, base, exp)", "exp": "ad.pow_exponent(g, base, ans)"},
                         defaults={"mod": None}, elementwise=True),
    "np.float64": rule("x", {"x": "g"}, defaults={"x": 0.0}, elementwise=True, result="scalar"),
    "np.int64": rule("x", defaults={"x": 0}, result="int"),
    "builtins.round": rule("number ndigits", defaults={"ndigits": None}, result="int"),
    "builtins.bool": rule("x", defaults={"x": False}, result="bool"),
    "builtins.range": rule("start stop step", defaults={"stop": None, "step": 1},
                           result="arange"),          # as a value, a 1-D array of ints

    # --- array methods with parameters of their own: x.NAME(...), the array is the first -------
    # (the others are the np.NAME entries that list NAME in ``methods``: see METHODS below)
    "method.copy": rule("a order", {"a": "g"}, defaults={"order": "C"}, result="like", keeps_shape=True),
    "method.astype": rule("a dtype", {"a": "ad.astype_adjoint(g, a, dtype)"}, result="like",
                          keeps_shape=True),
    "method.reshape": rule("a shape", {"a": "np.reshape(g, np.shape(a))"}, varargs="shape",
                           result="reshape", view=True),
    "method.flatten": rule("a order", {"a": "ad.ravel_adjoint(g, a, order)"},
                           defaults={"order": "C"}, result="flat"),
    "method.transpose": rule("a axes", {"a": "ad.transpose_adjoint(g, axes)"}, varargs="axes",
                             result="same", view=True),
    "method.clip": rule("a min max", {"a": "g * ad.clip_passes(a, min, max)",
                                      "min": "g * ad.clip_low(a, min, max)",
                                      "max": "g * ad.clip_high(a, min, max)"},
                        defaults={"min": None, "max": None}, elementwise=True, result="like"),
    "method.item": rule("a args", {"a": "ad.item_adjoint(g, a, args)"}, varargs="args",
                        result="scalar"),

    # --- attributes: x.NAME -------------------------------------------------------------------
    "attr.T": rule("a", {"a": "np.transpose(g)"}, result="same", view=True),
    "attr.real": rule("a", {"a": "g"}, elementwise=True, result="same", view=True),   # float values only
    "attr.imag": rule("a", result="same"),                                  # zeros for floats
    "attr.shape": rule("a", result="inactive"),
    "attr.size": rule("a", result="int"),
    "attr.ndim": rule("a", result="int"),
}


def _with_methods(table):
    """Every entry that lists array-method spellings, also under "method.NAME"."""
    out = dict(table)
    for key, entry in table.items():
        for name in entry.methods:
            assert f"method.{name}" not in table, f"method.{name} is written twice"
            out[f"method.{name}"] = entry
    return out


# ---------------------------------------------------------------------------------------------
# Tangent mode (transform/tangent.py).  The tangent of a primitive's result is the sum, over its
# arguments that carry a derivative, of a template in which ``d`` is that argument's tangent
# (same shape as the argument; for a sequence parameter or a display, the tuple or display of
# the items' tangents with None for an item that has none: ``ad.fill_zeros`` makes them zeros).
# The other names are those of the adjoint templates, with ``ad`` = adjoin.runtime.jvp.
#
# An element-wise entry's Jacobian is diagonal, so its adjoint template with ``g`` read as ``d``
# is its tangent (the engine widens it to the result's shape when an argument without a
# derivative broadcasts it): those are not listed.  Every other entry with adjoints is, and
# tests/test_rules.py checks each against finite differences and against the adjoint.
_REDUCE = "ad.reduce_tangent(d, {weights}, axis, keepdims)"   # d times the gradient of each reduced group

TANGENTS = {
    "op.matmul": {"a": "d @ b", "b": "a @ d"},
    "np.sum": {"a": "np.sum(d, axis, dtype, None, keepdims)"},
    "np.mean": {"a": "np.mean(d, axis, dtype, None, keepdims)"},
    "np.nansum": {"a": "np.sum(np.where(np.isnan(a), 0.0, d), axis, dtype, None, keepdims)"},
    "np.prod": {"a": _REDUCE.format(weights="ad.prod_adjoint(ad.ones_like(ans), a, axis, keepdims)")},
    "np.max": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.amax": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.min": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.amin": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.var": {"a": _REDUCE.format(weights="ad.var_adjoint(ad.ones_like(ans), a, axis, ddof, keepdims)")},
    "np.std": {"a": _REDUCE.format(weights="ad.std_adjoint(ad.ones_like(ans), a, ans, axis, ddof, keepdims)")},
    "np.linalg.norm": {"x": _REDUCE.format(weights="ad.norm_adjoint(ad.ones_like(ans), x, ans, ord, axis, "
                                                   "keepdims)")},
    "np.cumsum": {"a": "np.cumsum(d, axis, dtype)"},
    "np.diff": {"a": "ad.diff_tangent(d, a, n, axis, prepend, append, 'a')",
                "prepend": "ad.diff_tangent(d, a, n, axis, prepend, append, 'prepend')",
                "append": "ad.diff_tangent(d, a, n, axis, prepend, append, 'append')"},
    "np.dot": {"a": "np.dot(d, b)", "b": "np.dot(a, d)"},
    "np.matmul": {"x1": "np.matmul(d, x2)", "x2": "np.matmul(x1, d)"},
    "np.inner": {"a": "np.inner(d, b)", "b": "np.inner(a, d)"},
    "np.outer": {"a": "np.outer(d, b)", "b": "np.outer(a, d)"},
    "np.transpose": {"a": "np.transpose(d, axes)"},
    "np.reshape": {"a": "ad.like_view(np.reshape(d, np.shape(ans), order), d, ans, a)"},
    "np.ravel": {"a": "ad.like_view(np.ravel(d, order), d, ans, a)"},
    "np.squeeze": {"a": "np.squeeze(d, axis)"},
    "np.expand_dims": {"a": "np.expand_dims(d, axis)"},
    "np.broadcast_to": {"array": "np.broadcast_to(d, shape, subok)"},
    "np.tile": {"A": "np.tile(d, reps)"},
    "np.repeat": {"a": "np.repeat(d, repeats, axis)"},
    "np.flip": {"m": "np.flip(d, axis)"},
    "np.roll": {"a": "ad.roll(d, shift, axis)"},
    "np.sort": {"a": "ad.sort_tangent(d, a, axis)"},
    "np.pad": {"array": "ad.pad_tangent(d, pad_width, mode, reflect_type, stat_length)",
               "constant_values": "ad.pad_values_tangent(d, array, pad_width, mode, 'constant_values')",
               "end_values": "ad.pad_values_tangent(d, array, pad_width, mode, 'end_values')"},
    "np.copy": {"a": "np.copy(d, order)"},
    "np.triu": {"m": "np.triu(d, k)"},
    "np.tril": {"m": "np.tril(d, k)"},
    "np.diag": {"v": "np.diag(d, k)"},
    "np.diagonal": {"a": "np.diagonal(d, offset, axis1, axis2)"},
    "np.trace": {"a": "np.trace(d, offset, axis1, axis2)"},
    "np.append": {"arr": "np.append(d, ad.zero_of(values), axis)", "values": "np.append(ad.zero_of(arr), d, axis)"},
    "np.nan_to_num": {"x": "ad.nan_to_num_tangent(d, x, copy)"},
    "np.einsum": {"operands": "ad.einsum_tangent(d, operands)"},
    "np.interp": {"x": "ad.interp_slope(d, x, xp, fp, period)",
                  "fp": "ad.interp_values_tangent(d, x, xp, left, right, period)"},
    "np.linalg.solve": {"a": "ad.solve_tangent_a(d, a, b, ans)", "b": "ad.solve_tangent_b(d, a, b)"},
    "np.linalg.inv": {"a": "-(ans @ d @ ans)"},
    "np.flipud": {"m": "np.flipud(d)"},
    "np.rot90": {"m": "np.rot90(d, k, axes)"},
    "np.convolve": {"a": "np.convolve(d, v, mode)", "v": "np.convolve(a, d, mode)"},
    "np.median": {"a": "ad.reduce_tangent(d, ad.median_adjoint(ad.ones_like(ans), a, axis), axis, False)"},
    "math.fsum": {"seq": "float(sum(ad.fill_zeros(d, seq)))"},
    "np.fliplr": {"m": "np.fliplr(d)"},
    "np.gradient": {"f": "np.gradient(d, *varargs, axis=axis, edge_order=edge_order)"},
    "np.array": {"object": "np.array(ad.fill_zeros(d, object), dtype)"},
    "np.asarray": {"a": "np.asarray(ad.fill_zeros(d, a), dtype, order)"},
    "np.concatenate": {"arrays": "np.concatenate(ad.fill_zeros(d, arrays), axis)"},
    "np.stack": {"arrays": "np.stack(ad.fill_zeros(d, arrays), axis)"},
    "np.hstack": {"tup": "np.hstack(ad.fill_zeros(d, tup))"},
    "np.vstack": {"tup": "np.vstack(ad.fill_zeros(d, tup))"},
    "np.dstack": {"tup": "np.dstack(ad.fill_zeros(d, tup))"},
    "np.column_stack": {"tup": "np.column_stack(ad.fill_zeros(d, tup))"},
    "np.full": {"fill_value": "np.full(shape, d, dtype, order)"},
    "np.full_like": {"fill_value": "np.full_like(a, d, dtype, order, subok, shape)"},
    "np.linspace": {"start": "np.linspace(d, ad.zero_of(stop), num, endpoint, False, None, axis)",
                    "stop": "np.linspace(ad.zero_of(start), d, num, endpoint, False, None, axis)"},
    "builtins.max": {"a": "d if a >= b else 0.0", "b": "d if b > a else 0.0"},
    "builtins.min": {"a": "d if a <= b else 0.0", "b": "d if b < a else 0.0"},
    "builtins.max_items": {"iterable": "ad.first_extreme_tangent(d, iterable, ans)"},
    "builtins.min_items": {"iterable": "ad.first_extreme_tangent(d, iterable, ans)"},
    "builtins.sum": {"iterable": "ad.widen(sum(ad.fill_zeros(d, iterable)), ans)", "start": "ad.widen(d, ans)"},
    "builtins.float": {"x": "float(d)"},
    "np.float64": {"x": "np.float64(d)"},
    "method.copy": {"a": "d.copy(order)"},
    "method.astype": {"a": "ad.astype_tangent(d, dtype)"},
    "method.reshape": {"a": "ad.like_view(np.reshape(d, np.shape(ans)), d, ans, a)"},
    "method.flatten": {"a": "np.ravel(d, order).copy()"},
    "method.transpose": {"a": "d.transpose(*axes)"},
    "method.item": {"a": "np.asarray(d).item(*args)"},
    "attr.T": {"a": "np.transpose(d)"},
    "attr.real": {"a": "np.real(d)"},
}


def tangent_templates(entry):
    """{param: tangent template} of a rule: its own, or for an element-wise one its adjoints."""
    if entry.tangents:
        return dict(entry.tangents)
    if entry.elementwise:
        return {p: _g_as_d(text) for p, text in entry.adjoints.items()}
    return {}


def _g_as_d(text):
    import ast
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "g":
            node.id = "d"
    return ast.unparse(tree)


def _with_tangents(table):
    from dataclasses import replace
    out = dict(table)
    for key, templates in TANGENTS.items():
        assert set(templates) <= set(table[key].adjoints), f"{key}: tangents for parameters without adjoints"
        out[key] = replace(table[key], tangents=MappingProxyType(dict(templates)))
    return out


RULES = _with_methods(_with_tangents(RULES))
