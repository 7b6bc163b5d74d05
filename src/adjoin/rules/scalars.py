"""Scalar entries: the math module's functions and the builtins."""
from .entry import rule

# the math module: scalar templates in math.* so that scalar loops stay fast
MATH = {
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
}


# builtins
BUILTINS = {
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
}
