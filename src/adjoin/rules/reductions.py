"""Reductions, scans and products."""
from .entry import rule

# defaults shared by the reductions (NumPy's "no value" defaults mean what is written here)
_SUM = {"axis": None, "dtype": None, "out": None, "keepdims": False}
_EXTREME = {"axis": None, "out": None, "keepdims": False}
_VAR = {"axis": None, "dtype": None, "out": None, "ddof": 0, "keepdims": False}

# reductions and scans
REDUCTIONS = {
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
    # the trapezoidal rule along an axis: samples y at points x (or spacing dx)
    "np.trapezoid": rule("y x dx axis",
                         {"y": "ad.trapezoid_adjoint(g, y, x, dx, axis, 'y')",
                          "x": "ad.trapezoid_adjoint(g, y, x, dx, axis, 'x')",
                          "dx": "ad.trapezoid_adjoint(g, y, x, dx, axis, 'dx')"},
                         defaults={"x": None, "dx": 1.0, "axis": -1}, result="reduce"),
}


# products
PRODUCTS = {
    "np.dot": rule("a b", {"a": "ad.dot_a(g, a, b)", "b": "ad.dot_b(g, a, b)"}, result="matmul", methods=("dot",)),
    "np.matmul": rule("x1 x2", {"x1": "ad.matmul_a(g, x1, x2)", "x2": "ad.matmul_b(g, x1, x2)"},
                      result="matmul"),
    "np.inner": rule("a b", {"a": "ad.inner_a(g, a, b)", "b": "ad.inner_b(g, a, b)"},
                     result="matmul"),
    "np.outer": rule("a b", {"a": "np.reshape(g @ np.ravel(b), np.shape(a))",
                             "b": "np.reshape(np.ravel(a) @ g, np.shape(b))"}, result="matrix"),
}
