"""Element-wise entries: the operators and NumPy's element-wise functions (ufuncs and the like)."""
from .entry import rule

# operators
OPERATORS = {
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
}


# NumPy element-wise functions of one argument
ELEMENTWISE_ONE = {
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
}


# NumPy element-wise functions of two or three arguments
ELEMENTWISE_SEVERAL = {
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
}
