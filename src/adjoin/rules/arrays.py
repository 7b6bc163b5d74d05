"""Entries of shapes, copies, joins, constructors, indices and masks; array methods and attributes."""
from .entry import rule
from .reductions import _EXTREME        # np.any and np.all take the parameters of np.max

# defaults shared by the constructors *_like and by the closeness tests
_LIKE = {"dtype": None, "order": "K", "subok": True, "shape": None}
_CLOSE = {"rtol": 1e-05, "atol": 1e-08, "equal_nan": False}

# shapes, copies and rearrangements
SHAPES = {
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
}


# building and joining arrays (sequence parameters: the template gives element i's)
JOINING = {
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
}


# constructors
CONSTRUCTORS = {
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
}


# NumPy functions of indices, sizes and masks: never active
INDICES = {
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
}


# array methods with parameters of their own: x.NAME(...), the array is the first
# (the other methods are the np.NAME entries that list NAME in ``methods``: __init__.py's
# _with_methods adds them as method.NAME)
METHODS = {
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
}


# attributes: x.NAME
ATTRIBUTES = {
    "attr.T": rule("a", {"a": "np.transpose(g)"}, result="same", view=True),
    "attr.real": rule("a", {"a": "g"}, elementwise=True, result="same", view=True),   # float values only
    "attr.imag": rule("a", result="same"),                                  # zeros for floats
    "attr.shape": rule("a", result="inactive"),
    "attr.size": rule("a", result="int"),
    "attr.ndim": rule("a", result="int"),
}
