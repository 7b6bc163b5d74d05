"""The derivative table: every template parses, binds like NumPy, and matches finite differences.

Each case calls a primitive (np.sin, math.sin, operator.mul, a method, an attribute) on random
inputs, draws a random adjoint ``g`` of its result, evaluates the rule's template for every
differentiable argument and checks the dot-product identity against central differences:

    sum(g * (f(x + h v) - f(x - h v)) / 2h)  ==  sum(contribution * v)

for a random direction ``v``, keeping the best of several steps ``h`` as a careful check does.
"""
import ast
import builtins
import functools
import inspect
import math
import operator
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adjoin.errors import UnsupportedError
from adjoin.runtime import support, vjp
from adjoin.rules import KIND_RULES, RULES

# ---------------------------------------------------------------------------------------------
# random inputs


@dataclass(frozen=True)
class R:
    """A random float input, uniform in [lo, hi]: a Python float for shape (), else an array."""
    shape: tuple = ()
    lo: float = -1.0
    hi: float = 1.0
    fortran: bool = False

    def draw(self, rng):
        if self.shape == ():
            return float(rng.uniform(self.lo, self.hi))
        x = rng.uniform(self.lo, self.hi, self.shape)
        return np.asfortranarray(x) if self.fortran else x


@dataclass(frozen=True)
class B:
    """A random boolean mask of ``shape``."""
    shape: tuple = ()

    def draw(self, rng):
        return rng.random(self.shape) < 0.5


def A(*shape, lo=-1.0, hi=1.0, fortran=False):
    """A random float array of ``shape``."""
    return R(shape, lo, hi, fortran)


@dataclass(frozen=True)
class Wellposed(R):
    """A random float matrix (or stack of them) far from singular: uniform plus n times the identity."""

    def draw(self, rng):
        n = self.shape[-1]
        return rng.uniform(self.lo, self.hi, self.shape) + n * np.eye(n)


def S(lo=-1.0, hi=1.0):
    """A random Python float."""
    return R((), lo, hi)


def draw(x, rng):
    """``x`` with every placeholder (R, B) replaced by a random value, containers kept."""
    if isinstance(x, (R, B)):
        return x.draw(rng)
    if isinstance(x, (list, tuple)):
        return type(x)(draw(item, rng) for item in x)
    return x


def is_float(x):
    """Whether ``x`` is a value the test differentiates: a float or a float array (or a placeholder)."""
    if isinstance(x, R):
        return True
    if isinstance(x, np.ndarray):
        return np.issubdtype(x.dtype, np.floating)
    return isinstance(x, float)


def random_like(x, rng):
    """A random direction (or adjoint) shaped like ``x``: a float for scalars."""
    if np.ndim(x) == 0:
        return float(rng.uniform(-1.0, 1.0))
    return rng.uniform(-1.0, 1.0, np.shape(x))


def shifted(x, v, t):
    """``x + t v``, keeping the memory layout of an array ``x`` (order='K'/'A' depend on it)."""
    if isinstance(x, np.ndarray):
        out = np.empty_like(x)
        out[...] = x + t * v
        return out
    return x + t * v


# ---------------------------------------------------------------------------------------------
# calling a primitive and binding its arguments to a rule, as the engine does


def call(key, args, kwargs):
    """Calls the primitive named by ``key`` (x.NAME(...) for methods, x.NAME for attributes)."""
    space, name = key.split(".", 1)
    name = name.removesuffix("_items")       # max(x) over the items of one argument is max
    if space == "method":
        return getattr(args[0], name)(*args[1:], **kwargs)
    if space == "attr":
        return getattr(args[0], name)
    module = {"np": np, "math": math, "builtins": builtins, "op": operator}[space]
    return functools.reduce(getattr, name.split("."), module)(*args, **kwargs)


def bind(rule, args, kwargs):
    """Where each parameter of ``rule`` comes from in a call: ('arg', k), ('kw', name) or ('var', k).

    Positional arguments fill ``params`` in order up to ``varargs``, which collects the rest; the
    parameters after it are keyword-only. A keyword must name a parameter; a missing parameter
    must have a default.
    """
    star = rule.params.index(rule.varargs) if rule.varargs else len(rule.params)
    fixed = [p for p in rule.params if p != rule.varargs]
    if not rule.varargs:
        assert len(args) <= len(fixed), "too many positional arguments for the rule"
    where = {name: ("arg", k) for k, name in enumerate(fixed[:min(len(args), star)])}
    if rule.varargs:
        where[rule.varargs] = ("var", star)
    for name in kwargs:
        assert name in fixed and name not in where, f"keyword {name!r} does not bind"
        where[name] = ("kw", name)
    missing = [name for name in fixed if name not in where and name not in rule.defaults]
    assert not missing, f"no value and no default for {missing}"
    return where


def value_at(args, kwargs, place):
    kind, k = place
    if kind == "arg":
        return args[k]
    if kind == "kw":
        return kwargs[k]
    return tuple(args[k:])


def environment(rule, args, kwargs, where):
    """The parameter values a template sees: the call's arguments, else the rule's defaults."""
    return {name: value_at(args, kwargs, where[name]) if name in where else rule.defaults[name]
            for name in rule.params}


def leaves(value, path=None):
    """(path, leaf) for each float in ``value``: a plain value (path None) or a display (tuple paths)."""
    if isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            yield from leaves(item, (path or ()) + (k,))
    elif is_float(value):
        yield path, value


def parts(rule, param, template, env, g, ans):
    """(i, element, its contribution) for each float element of a parameter, as the engine splits them.

    A sequence parameter evaluates the template once per element with ``i`` its position.  A plain
    parameter evaluates it once; when its argument is a display (``np.array([x, y])``), element k
    gets entry k of the contribution (recursively), when not the whole contribution (``i`` None).
    """
    value = env[param]
    if param in rule.sequence:
        for k, item in enumerate(value):
            if is_float(item):
                yield k, item, contribution(rule, template, env, g, ans, k)
        return
    if not any(True for _ in leaves(value)):  # inactive (None, an int, a string): no adjoint
        return
    whole = contribution(rule, template, env, g, ans, None)
    if rule.elementwise and not isinstance(value, (list, tuple)):
        whole = support.sum_to(whole, value)
    assert np.shape(whole) == np.shape(value), (param, np.shape(whole), np.shape(value))
    for path, leaf in leaves(value):
        yield path, leaf, whole if path is None else np.asarray(whole)[path]


def with_element(value, path, new):
    """``value`` with the element at ``path`` (None, (), an int or a tuple) replaced by ``new``."""
    if path is None or path == ():
        return new
    if isinstance(path, int):
        path = (path,)
    items = list(value)
    items[path[0]] = with_element(items[path[0]], path[1:], new)
    return type(value)(items)


def replaced(args, kwargs, place, path, new):
    """The call's arguments with one parameter (or one element of it) replaced by ``new``."""
    args, kwargs = list(args), dict(kwargs)
    kind, k = place
    if kind == "var":
        args[k + path] = new
    elif kind == "arg":
        args[k] = with_element(args[k], path, new)
    else:
        kwargs[k] = with_element(kwargs[k], path, new)
    return args, kwargs


@functools.lru_cache(maxsize=None)
def compiled(template):
    return compile(template, template, "eval")


def contribution(rule, template, env, g, ans, i):
    """Evaluates a template as generated code would (``ad`` is adjoin.runtime.vjp)."""
    namespace = {"np": np, "math": math, "ad": vjp, **env, "g": g, "ans": ans, "i": i}
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        return eval(compiled(template), namespace)


STEPS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)


def fd_error(f, g, expected_fd):
    """Smallest relative difference, over the steps, between central differences and ``expected_fd``."""
    # an absolute floor of 1e-12 |g| for derivatives that are exactly 0 (prod with two zero
    # factors), where central differences leave O(h^2)
    scale = max(abs(expected_fd), 1e-6 * (1.0 + float(np.sum(np.abs(g)))))
    best = math.inf
    for h in STEPS:
        fd = float(np.sum(g * (np.asarray(f(h), dtype=float) - np.asarray(f(-h), dtype=float))))
        best = min(best, abs(fd / (2.0 * h) - expected_fd) / scale)
    return best


def check_adjoints(key, args, kwargs, seed, rtol=1e-6):
    """Checks every differentiable argument of one call against central differences."""
    rule = RULES[key]
    rng = np.random.default_rng(seed)
    args = draw(args, rng)
    kwargs = {name: draw(value, rng) for name, value in kwargs.items()}
    where = bind(rule, args, kwargs)
    env = environment(rule, args, kwargs, where)
    ans = call(key, args, kwargs)
    g = random_like(ans, rng)
    checked = []
    for param, template in rule.adjoints.items():
        if param not in where:
            continue
        for i, value, got in parts(rule, param, template, env, g, ans):
            if rule.elementwise:
                got = support.sum_to(got, value)
            assert np.shape(got) == np.shape(value), (param, i, np.shape(got), np.shape(value))
            v = random_like(value, rng)
            expected = float(np.sum(got * v))

            def f(t, param=param, i=i, value=value, v=v):
                return call(key, *replaced(args, kwargs, where[param], i, shifted(value, v, t)))

            error = fd_error(f, g, expected)
            assert error <= rtol, f"{key}: adjoint of {param}[{i}] off by {error:.2e} (relative)"
            checked.append((param, i))
    assert checked, "the case differentiates nothing"


# ---------------------------------------------------------------------------------------------
# the cases: several per rule, covering every differentiable parameter


def case(key, label, *args, **kwargs):
    return pytest.param(key, args, kwargs, id=f"{key}-{label}")


UNARY = {  # element-wise functions of one argument, with a domain where they are smooth
    "op.neg": (-2, 2), "op.pos": (-2, 2),
    "np.sin": (-3, 3), "np.cos": (-3, 3), "np.tan": (-1.2, 1.2), "np.arcsin": (-0.9, 0.9),
    "np.arccos": (-0.9, 0.9), "np.arctan": (-3, 3), "np.sinh": (-2, 2), "np.cosh": (-2, 2),
    "np.tanh": (-2, 2), "np.arcsinh": (-2, 2), "np.arccosh": (1.2, 3), "np.arctanh": (-0.9, 0.9),
    "np.exp": (-2, 2), "np.exp2": (-2, 2), "np.expm1": (-2, 2), "np.log": (0.2, 3),
    "np.log2": (0.2, 3), "np.log10": (0.2, 3), "np.log1p": (-0.5, 2), "np.sqrt": (0.2, 3),
    "np.cbrt": (-3, -0.2), "np.square": (-2, 2), "np.reciprocal": (0.3, 2), "np.abs": (-2, 2),
    "np.absolute": (-2, 2), "np.fabs": (-2, 2), "np.negative": (-2, 2), "np.positive": (-2, 2),
    "np.deg2rad": (-90, 90), "np.radians": (-90, 90), "np.rad2deg": (-2, 2),
    "np.degrees": (-2, 2), "builtins.abs": (-2, 2),
}

MATH_UNARY = {
    "math.sin": (-3, 3), "math.cos": (-3, 3), "math.tan": (-1.2, 1.2), "math.asin": (-0.9, 0.9),
    "math.acos": (-0.9, 0.9), "math.atan": (-3, 3), "math.sinh": (-2, 2), "math.cosh": (-2, 2),
    "math.tanh": (-2, 2), "math.asinh": (-2, 2), "math.acosh": (1.2, 3), "math.atanh": (-0.9, 0.9),
    "math.exp": (-2, 2), "math.exp2": (-2, 2), "math.expm1": (-2, 2), "math.log": (0.2, 3),
    "math.log2": (0.2, 3), "math.log10": (0.2, 3), "math.log1p": (-0.5, 2), "math.sqrt": (0.2, 3),
    "math.cbrt": (0.2, 3), "math.fabs": (-2, 2), "math.erf": (-2, 2), "math.erfc": (-2, 2),
    "math.degrees": (-2, 2), "math.radians": (-90, 90), "builtins.float": (-2, 2),
}

BINARY = {  # element-wise functions of two arguments: a domain per argument
    "op.add": ((-2, 2), (-2, 2)), "op.sub": ((-2, 2), (-2, 2)), "op.mul": ((-2, 2), (-2, 2)),
    "op.truediv": ((-2, 2), (0.5, 2)), "op.mod": ((-3, 3), (0.7, 1.3)),
    "op.pow": ((0.5, 2), (-1.5, 2.5)),
    "np.add": ((-2, 2), (-2, 2)), "np.subtract": ((-2, 2), (-2, 2)),
    "np.multiply": ((-2, 2), (-2, 2)), "np.divide": ((-2, 2), (0.5, 2)),
    "np.true_divide": ((-2, 2), (-2, -0.5)), "np.power": ((0.5, 2), (-1.5, 2.5)),
    "np.arctan2": ((-2, 2), (-2, 2)), "np.hypot": ((-2, 2), (-2, 2)),
    "np.maximum": ((-2, 2), (-2, 2)), "np.minimum": ((-2, 2), (-2, 2)),
    "np.fmax": ((-2, 2), (-2, 2)), "np.fmin": ((-2, 2), (-2, 2)),
    "np.logaddexp": ((-2, 2), (-2, 2)), "np.mod": ((-3, 3), (0.7, 1.3)),
    "np.remainder": ((-3, 3), (-1.3, -0.7)), "np.fmod": ((-3, 3), (0.7, 1.3)),
}

MATH_BINARY = {
    "math.atan2": ((-2, 2), (-2, 2)), "math.pow": ((0.5, 2), (-1.5, 2.5)),
    "math.fmod": ((-3, 3), (0.7, 1.3)), "math.log": ((0.5, 3), (1.5, 3)),
}

SHAPE_PAIRS = [("scalars", (), ()), ("array-scalar", (5,), ()), ("scalar-array", (), (5,)),
               ("2d", (3, 4), (3, 4)), ("outer-broadcast", (5, 1), (1, 7)),
               ("row-broadcast", (3,), (4, 3))]

CASES = []
for key, (lo, hi) in UNARY.items():
    for label, shape in (("scalar", ()), ("1d", (5,)), ("2d", (3, 4))):
        CASES.append(case(key, label, R(shape, lo, hi)))
for key, (lo, hi) in MATH_UNARY.items():
    CASES.append(case(key, "scalar", S(lo, hi)))
for key, ((lo1, hi1), (lo2, hi2)) in BINARY.items():
    for label, shape1, shape2 in SHAPE_PAIRS:
        CASES.append(case(key, label, R(shape1, lo1, hi1), R(shape2, lo2, hi2)))
for key, ((lo1, hi1), (lo2, hi2)) in MATH_BINARY.items():
    CASES.append(case(key, "scalars", S(lo1, hi1), S(lo2, hi2)))

REDUCTIONS = ["np.sum", "np.mean", "np.prod", "np.max", "np.amax", "np.min", "np.amin",
              "np.var", "np.std"]
for key in REDUCTIONS:
    method = "method." + key[3:]
    CASES += [
        case(key, "scalar", S(0.5, 1.5)),
        case(key, "1d", A(6, lo=0.5, hi=1.5)),
        case(key, "axis-none", A(3, 4, lo=0.5, hi=1.5)),
        case(key, "axis-0-positional", A(3, 4, lo=0.5, hi=1.5), 0),
        case(key, "axis-1", A(3, 4, lo=0.5, hi=1.5), axis=1),
        case(key, "axis-minus-1-keepdims", A(3, 4, lo=0.5, hi=1.5), axis=-1, keepdims=True),
        case(key, "axis-none-keepdims", A(3, 4, lo=0.5, hi=1.5), keepdims=True),
        case(key, "axis-tuple", A(2, 3, 4, lo=0.5, hi=1.5), axis=(0, 2)),
        case(key, "axis-tuple-keepdims", A(2, 3, 4, lo=0.5, hi=1.5), axis=(0, -1), keepdims=True),
    ]
    if method in RULES:
        CASES += [
            case(method, "no-axis", A(3, 4, lo=0.5, hi=1.5)),
            case(method, "axis-0-positional", A(3, 4, lo=0.5, hi=1.5), 0),
            case(method, "axis-tuple-keepdims", A(2, 3, 4, lo=0.5, hi=1.5), axis=(0, 2),
                 keepdims=True),
        ]
CASES += [
    case("np.var", "ddof", A(3, 4), axis=1, ddof=1),
    case("np.std", "ddof", A(3, 4), ddof=1),
    case("method.var", "ddof", A(3, 4), 0, ddof=1),
    case("method.std", "ddof-keepdims", A(3, 4), 1, ddof=1, keepdims=True),
    # products with zero factors: no division by a, exact
    case("np.prod", "one-zero", np.array([0.7, 0.0, 1.3, 0.9])),
    case("np.prod", "two-zeros", np.array([0.0, 1.1, 0.0, 0.9])),
    case("np.prod", "zeros-axis", np.array([[0.0, 1.2, 0.8], [0.0, 0.0, 1.1]]), axis=1),
    case("method.prod", "zero", np.array([[0.0, 1.2], [0.5, 0.9]]), 0),
]

CASES += [
    # np.where and clip: the non-differentiable condition and bounds that may be arrays
    case("np.where", "1d", B((5,)), A(5), A(5)),
    case("np.where", "broadcast", B((3, 4)), A(3, 1), A(1, 4)),
    case("np.where", "scalar-branch", B((4,)), S(), A(4)),
    case("np.clip", "scalars", A(7, lo=-2, hi=2), S(-0.6, -0.4), S(0.4, 0.6)),
    case("np.clip", "array-bounds", A(3, 4, lo=-2, hi=2), A(4, lo=-1, hi=-0.2), A(3, 1, lo=0.2, hi=1)),
    case("np.clip", "low-only", A(6, lo=-2, hi=2), S(-0.6, -0.4), None),
    case("np.clip", "high-only-keyword", A(6, lo=-2, hi=2), a_max=S(0.4, 0.6), a_min=None),
    case("np.clip", "crossed-bounds", A(6, lo=-2, hi=2), A(6, lo=0.5, hi=1), A(6, lo=-1, hi=-0.5)),
    case("method.clip", "both", A(3, 4, lo=-2, hi=2), S(-0.6, -0.4), S(0.4, 0.6)),
    case("method.clip", "min-keyword", A(6, lo=-2, hi=2), min=S(-0.6, -0.4)),
    case("method.clip", "max-keyword", A(6, lo=-2, hi=2), max=A(6, lo=0, hi=0.5)),
    case("op.pow", "int-exponent", A(5, lo=-2, hi=2), 3),
    case("np.power", "negative-base-int-exponent", A(5, lo=-2, hi=-0.5), 2),
    case("op.mod", "negative-divisor", A(5, lo=-3, hi=3), S(-1.3, -0.7)),
    # scans and differences
    case("np.cumsum", "1d", A(6)),
    case("np.cumsum", "axis-none", A(3, 4)),
    case("np.cumsum", "axis-0", A(3, 4), 0),
    case("np.cumsum", "axis-minus-1", A(3, 4), axis=-1),
    case("method.cumsum", "axis-1", A(3, 4), 1),
    case("method.cumsum", "flat", A(2, 3)),
    case("np.trapezoid", "1d", A(6)),
    case("np.trapezoid", "dx", A(6), dx=S(0.2, 0.5)),
    case("np.trapezoid", "x-1d", A(6), x=A(6)),
    case("np.trapezoid", "axis-0-x-1d", A(5, 3), A(5), axis=0),
    case("np.trapezoid", "x-full", A(3, 4), A(3, 4)),
    case("np.trapezoid", "axis-0-dx", A(4, 3), dx=S(0.2, 0.5), axis=0),
    case("np.diff", "1d", A(6)),
    case("np.diff", "n2", A(7), 2),
    case("np.diff", "axis-0", A(4, 5), axis=0),
    case("np.diff", "n0", A(4), 0),
    case("np.diff", "n0-ignores-prepend", A(4), 0, prepend=A(2)),
    case("np.diff", "prepend-scalar", A(5), prepend=S()),
    case("np.diff", "append-array", A(3, 5), n=2, append=A(3, 2)),
    case("np.diff", "prepend-append-axis-0", A(3, 4), 1, 0, A(1, 4), A(2, 4)),
    # products
    case("np.dot", "vectors", A(4), A(4)),
    case("np.dot", "matrix-vector", A(3, 4), A(4)),
    case("np.dot", "vector-matrix", A(4), A(4, 5)),
    case("np.dot", "matrices", A(3, 4), A(4, 5)),
    case("np.dot", "scalar-array", S(), A(3)),
    case("np.dot", "array-scalar", A(2, 3), S()),
    case("np.dot", "3d-vector", A(2, 3, 4), A(4)),
    case("np.dot", "3d-3d", A(2, 3, 4), A(5, 4, 2)),
    case("np.dot", "vector-3d", A(4), A(2, 4, 3)),
    case("method.dot", "matrices", A(3, 4), A(4, 2)),
    case("method.dot", "matrix-vector", A(3, 4), A(4)),
]
for key in ("np.matmul", "op.matmul"):
    CASES += [
        case(key, "matrices", A(3, 4), A(4, 5)),
        case(key, "vector-matrix", A(4), A(4, 5)),
        case(key, "matrix-vector", A(3, 4), A(4)),
        case(key, "vectors", A(4), A(4)),
        case(key, "batch-matrix", A(2, 3, 4), A(4, 5)),
        case(key, "batch-broadcast", A(2, 1, 3, 4), A(5, 4, 2)),
        case(key, "matrix-batch", A(3, 4), A(2, 4, 5)),
        case(key, "vector-batch", A(4), A(2, 4, 5)),
    ]
CASES += [
    case("np.inner", "vectors", A(4), A(4)),
    case("np.inner", "matrices", A(3, 4), A(5, 4)),
    case("np.inner", "3d-vector", A(2, 3, 4), A(4)),
    case("np.inner", "vector-3d", A(4), A(2, 3, 4)),
    case("np.inner", "scalar", S(), A(2, 3)),
    case("np.outer", "vectors", A(3), A(4)),
    case("np.outer", "flattened", A(2, 2), A(3)),
    case("np.outer", "scalar", S(), A(3)),
    # shapes, copies, rearrangements
    case("np.transpose", "2d", A(3, 4)),
    case("np.transpose", "axes", A(2, 3, 4), (1, 2, 0)),
    case("np.transpose", "negative-axes-keyword", A(2, 3, 4), axes=(-1, 0, 1)),
    case("method.transpose", "none", A(2, 3, 4)),
    case("method.transpose", "varargs", A(2, 3, 4), 1, 2, 0),
    case("method.transpose", "tuple", A(2, 3, 4), (2, 0, 1)),
    case("method.transpose", "none-argument", A(2, 3), None),
    case("attr.T", "2d", A(3, 4)),
    case("attr.T", "3d", A(2, 3, 4)),
    case("attr.T", "1d", A(5)),
    case("attr.real", "2d", A(3, 4)),
    case("np.reshape", "c", A(3, 4), (2, 6)),
    case("np.reshape", "f", A(3, 4), (4, 3), order="F"),
    case("np.reshape", "a-fortran-array", A(3, 4, fortran=True), shape=(6, 2), order="A"),
    case("np.reshape", "minus-one", A(2, 3, 4), (4, -1)),
    case("method.reshape", "varargs", A(3, 4), 2, 6),
    case("method.reshape", "tuple", A(3, 4), (6, 2)),
    case("np.ravel", "c", A(3, 4)),
    case("np.ravel", "f", A(3, 4), "F"),
    case("np.ravel", "k-fortran-array", A(3, 4, fortran=True), order="K"),
    case("np.ravel", "a-fortran-array", A(2, 3, 4, fortran=True), order="A"),
    case("method.ravel", "c", A(3, 4)),
    case("method.ravel", "k", A(3, 4, fortran=True), "K"),
    case("method.flatten", "c", A(2, 3)),
    case("method.flatten", "f", A(2, 3), "F"),
    case("np.squeeze", "all", A(3, 1, 4, 1)),
    case("np.squeeze", "axis", A(3, 1, 4), axis=1),
    case("method.diagonal", "offset", A(3, 4), 1),
    case("method.squeeze", "all", A(1, 4)),
    case("method.squeeze", "axis", A(3, 1, 1), 2),
    case("np.expand_dims", "0", A(3, 4), 0),
    case("np.expand_dims", "tuple", A(3, 4), axis=(0, 3)),
    case("np.broadcast_to", "rows", A(3), (4, 3)),
    case("np.broadcast_to", "columns", A(3, 1), (2, 3, 5)),
    case("np.broadcast_to", "scalar", S(), (3,)),
    case("np.tile", "1d", A(3), 2),
    case("np.tile", "more-dims", A(2, 3), (2, 1, 2)),
    case("np.tile", "scalar", S(), 3),
    case("np.repeat", "scalar", S(), 4),
    case("np.repeat", "flat", A(2, 3), 2),
    case("np.repeat", "axis", A(2, 3), [1, 2, 0], axis=1),
    case("np.flip", "all", A(3, 4)),
    case("np.flip", "axis", A(3, 4), 0),
    case("np.flip", "axes", A(2, 3, 4), axis=(0, 2)),
    case("np.roll", "1d", A(6), 2),
    case("np.roll", "axis", A(3, 4), 1, axis=1),
    case("np.roll", "tuples", A(3, 4), (1, -2), (0, 1)),
    case("np.roll", "flat", A(3, 4), 5),
    case("np.roll", "keyword-shift", A(5), shift=-1),
    case("np.sort", "1d", A(6)),
    case("np.sort", "axis-0", A(3, 4), 0),
    case("np.sort", "flat", A(3, 4), axis=None),
    case("np.copy", "2d", A(3, 4)),
    case("np.copy", "scalar", S()),
    case("method.copy", "2d", A(3, 4)),
    case("method.astype", "float", A(3, 4), float),
    case("method.astype", "int-has-no-derivative", A(3, 4, lo=0.2, hi=0.8), int),
    case("method.item", "size-one", A(1, 1)),
    case("method.item", "flat-index", A(3, 4), 5),
    case("method.item", "multi-index", A(3, 4), 1, 2),
    case("method.item", "tuple-index", A(3, 4), (2, 3)),
    # np.pad, every mode that is linear in the array
    case("np.pad", "constant-1d", A(6), 2),
    case("np.pad", "constant-pairs", A(3, 4), ((1, 2), (0, 3))),
    case("np.pad", "constant-value", A(3, 4), 1, constant_values=S()),
    case("np.pad", "constant-per-axis-values", A(3, 4), (1, 2), "constant", constant_values=A(2, 2)),
    case("np.pad", "constant-pair-values", A(5), (2, 1), constant_values=A(2)),
    case("np.pad", "dict-widths", A(3, 4), {1: (2, 1)}),
    case("np.pad", "edge", A(6), 2, mode="edge"),
    case("np.pad", "edge-2d", A(3, 4), ((1, 2), (3, 0)), "edge"),
    case("np.pad", "reflect", A(5), 3, mode="reflect"),
    case("np.pad", "reflect-wide", A(3), 5, mode="reflect"),
    case("np.pad", "reflect-2d", A(3, 4), ((2, 1), (1, 3)), "reflect"),
    case("np.pad", "reflect-odd", A(4, 3), 2, "reflect", reflect_type="odd"),
    case("np.pad", "symmetric", A(5), (2, 4), "symmetric"),
    case("np.pad", "symmetric-2d", A(3, 4), 2, "symmetric"),
    case("np.pad", "symmetric-odd", A(5), 3, "symmetric", reflect_type="odd"),
    case("np.pad", "wrap", A(4), 3, mode="wrap"),
    case("np.pad", "wrap-wide", A(3), (7, 5), mode="wrap"),
    case("np.pad", "wrap-2d", A(3, 4), ((1, 1), (2, 5)), mode="wrap"),
    case("np.pad", "linear-ramp", A(3, 4), 2, "linear_ramp"),
    case("np.pad", "linear-ramp-end-values", A(3, 4), (1, 2), "linear_ramp", end_values=A(2, 2)),
    case("np.pad", "linear-ramp-end-value", A(5), 3, "linear_ramp", end_values=S()),
    case("np.pad", "mean", A(3, 5), 2, "mean"),
    case("np.pad", "mean-one-stat-length", A(3, 5), 2, "mean", stat_length=2),
    case("np.pad", "mean-stat-length-pair", A(6), (2, 1), "mean", stat_length=(1, 3)),
    case("np.pad", "mean-stat-length", A(6, 5), ((1, 2), (2, 0)), "mean", stat_length=((2, 3), (1, 4))),
    # np.array of a display (the engine splits the contribution), np.concatenate and the stacks
    case("np.array", "scalars", [S(), S(), S()]),
    case("np.array", "nested", [[S(), S()], [S(), S()]]),
    case("np.array", "arrays", [A(3), A(3)]),
    case("np.array", "mixed-constants", (S(), 2.0, S()), dtype=float),
    case("np.array", "not-a-display", A(3, 4)),
    case("np.asarray", "scalars", [S(), S()]),
    case("np.asarray", "array", A(2, 3)),
    case("np.concatenate", "1d", [A(3), A(4)]),
    case("np.concatenate", "axis-0", (A(2, 3), A(4, 3), A(1, 3))),
    case("np.concatenate", "axis-1", [A(3, 2), A(3, 5)], axis=1),
    case("np.concatenate", "axis-minus-1", [A(2, 3, 2), A(2, 3, 1)], -1),
    case("np.concatenate", "axis-none", [A(2, 3), A(4)], axis=None),
    case("np.stack", "axis-0", [A(3), A(3), A(3)]),
    case("np.stack", "axis-1", [A(3), A(3)], axis=1),
    case("np.stack", "axis-minus-1", (A(2, 3), A(2, 3)), -1),
    case("np.stack", "scalars", [S(), S()]),
    case("np.hstack", "1d", [A(3), A(2)]),
    case("np.hstack", "scalar-and-array", [S(), A(2)]),
    case("np.hstack", "2d", (A(2, 3), A(2, 1))),
    case("np.vstack", "1d", [A(3), A(3)]),
    case("np.vstack", "2d-and-1d", [A(2, 3), A(3)]),
    case("np.dstack", "2d", [A(2, 3), A(2, 3)]),
    case("np.dstack", "1d", [A(3), A(3)]),
    case("np.column_stack", "1d-and-2d", [A(3), A(3, 2)]),
    # constructors with an active fill value, linspace with active ends
    case("np.full", "scalar", (3, 4), S()),
    case("np.full", "row", (3, 4), A(4)),
    case("np.full", "keyword", 5, fill_value=S()),
    case("np.full_like", "scalar", A(3, 4), S()),
    case("np.linspace", "scalars", S(), S(2, 3), 5),
    case("np.linspace", "no-endpoint", S(), S(2, 3), num=4, endpoint=False),
    case("np.linspace", "default-num", S(), S(2, 3)),
    case("np.linspace", "arrays-axis-1", A(3), S(2, 3), 4, axis=1),
    case("np.linspace", "arrays-axis-0", A(2, 3), A(3, lo=2, hi=3), 5),
    case("np.linspace", "one-point", S(), S(2, 3), 1),
    # math and builtins of several scalars
    case("math.log", "natural", S(0.5, 3)),
    case("math.hypot", "scalars", S(), S()),
    case("math.fabs", "negative", S(-2, -0.1)),
    case("builtins.max", "first-larger", S(1, 2), S(-1, 0)),
    case("builtins.max", "second-larger", S(-1, 0), S(1, 2)),
    case("builtins.max", "with-constant", S(), 0.0),
    case("builtins.min", "first-smaller", S(-1, 0), S(1, 2)),
    case("builtins.min", "second-smaller", S(1, 2), S(-1, 0)),
    case("builtins.abs", "negative", S(-2, -0.1)),
    case("builtins.pow", "square", S(0.5, 2.0), 2),
    case("np.triu", "matrix", A(4, 4)),
    case("np.tril", "offset", A(4, 3), -1),
    case("np.diag", "vector", A(3)),
    case("np.diag", "matrix", A(3, 3)),
    case("np.diag", "offset", A(4, 4), 1),
    case("np.diagonal", "matrix", A(3, 4)),
    case("np.diagonal", "offset", A(4, 4), -1),
    case("np.diagonal", "axes", A(2, 3, 4), 0, 2, 1),
    case("np.trace", "matrix", A(3, 3)),
    case("np.append", "flat", A(3), A(2, 2)),
    case("np.append", "axis", A(2, 3), A(2, 2), axis=1),
    case("np.nan_to_num", "finite", A(4)),
    case("np.linalg.norm", "vector", A(5)),
    case("np.linalg.norm", "matrix", A(3, 4)),
    case("np.linalg.norm", "axis", A(3, 4), axis=1),
    case("np.linalg.norm", "axis-keepdims", A(3, 4), axis=0, keepdims=True),
    case("np.einsum", "matvec", "ij,j->i", A(3, 4), A(4)),
    case("np.einsum", "matmat", "ij,jk->ik", A(2, 3), A(3, 4)),
    case("np.einsum", "outer", "i,j->ij", A(3), A(2)),
    case("np.einsum", "dot-implicit", "i,i", A(4), A(4)),
    case("np.einsum", "sum-over-own-axis", "ij->j", A(3, 4)),
    case("np.einsum", "three", "ij,jk,k->i", A(2, 3), A(3, 4), A(4)),
    case("np.interp", "inside", A(5, lo=0.1, hi=2.9), np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 2.0, -1.0, 0.5])),
    case("np.interp", "values", A(7, lo=-0.5, hi=3.5), np.array([0.0, 1.0, 2.5, 3.0]), A(4)),
    case("np.interp", "values-left-right", A(2, 3, lo=-0.5, hi=3.5), np.array([0.0, 1.0, 2.5, 3.0]), A(4),
         left=-1.0, right=2.0),
    case("np.interp", "values-at-breakpoints", np.array([0, 1, 3, 4]), np.array([0.0, 1.0, 2.5, 3.0]), A(4)),
    case("np.linalg.solve", "vector", Wellposed((3, 3)), A(3)),
    case("np.linalg.solve", "matrix", Wellposed((3, 3)), A(3, 2)),
    case("np.linalg.solve", "batched", Wellposed((2, 3, 3)), A(2, 3, 2)),
    case("np.linalg.solve", "batched-a-shared-b", Wellposed((2, 3, 3)), A(3, 2)),
    case("np.linalg.solve", "batched-a-vector-b", Wellposed((2, 3, 3)), A(3)),
    case("np.linalg.inv", "matrix", Wellposed((3, 3))),
    case("np.linalg.inv", "batched", Wellposed((2, 3, 3))),
    case("np.flipud", "matrix", A(3, 4)),
    case("np.rot90", "once", A(3, 4)),
    case("np.rot90", "thrice-axes", A(2, 3, 4), 3, (1, 2)),
    case("np.convolve", "full", A(5), A(3)),
    case("np.convolve", "same", A(5), A(3), "same"),
    case("np.convolve", "same-longer-kernel", A(3), A(6), mode="same"),
    case("np.convolve", "valid", A(6), A(4), "valid"),
    case("np.median", "odd", A(5)),
    case("np.median", "even", A(6)),
    case("np.median", "axis", A(4, 5), 1),
    case("np.median", "axis-0", A(4, 3), axis=0),
    case("math.fsum", "display", [S(), S(), S()]),
    case("math.fsum", "array", A(4)),
    case("np.fliplr", "matrix", A(3, 4)),
    case("np.nansum", "all", A(3, 4)),
    case("np.nansum", "axis", A(3, 4), 1),
    case("np.nansum", "keepdims", A(3, 4), 0, keepdims=True),
    case("np.heaviside", "at-zero", np.array([0, 1, -1, 0]), A(4)),
    case("np.heaviside", "broadcast", A(3, 1), S()),
    case("np.heaviside", "step", A(4, lo=0.1, hi=1.0), A(4)),
    case("np.gradient", "default", A(6)),
    case("np.gradient", "spacing", A(6), 0.5),
    case("np.gradient", "axis", A(4, 5), 0.25, axis=1),
    case("builtins.pow", "both", S(0.5, 2.0), S(0.5, 1.5)),
    case("np.float64", "scalar", S()),
    case("builtins.max_items", "array", A(5)),
    case("builtins.min_items", "array", A(5)),
    case("builtins.max_items", "rows", A(3, 1)),
    case("builtins.sum", "array", A(4)),
    case("builtins.sum", "rows-start", A(3, 2), S()),
]


@pytest.mark.parametrize("key, args, kwargs", CASES)
def test_adjoint_matches_finite_differences(key, args, kwargs, request):
    seed = zlib.crc32(request.node.callspec.id.encode())
    check_adjoints(key, args, kwargs, seed)


# ---------------------------------------------------------------------------------------------
# the table itself


def test_every_differentiable_parameter_has_a_case():
    covered = set()
    for param in CASES:
        key, args, kwargs = param.values
        rule = RULES[key]
        where = bind(rule, args, kwargs)
        env = environment(rule, args, kwargs, where)
        covered |= {(key, name) for name in rule.adjoints
                    if name in where and any(True for _ in leaves(env[name]))}
    wanted = {(key, name) for key, rule in RULES.items() for name in rule.adjoints}
    assert sorted(wanted - covered) == []


REQUIRED = (
    "op.add op.sub op.mul op.truediv op.floordiv op.mod op.pow op.matmul op.neg op.pos "
    "np.sin np.cos np.tan np.exp np.log np.sqrt np.tanh np.arctan np.arctan2 np.abs np.absolute "
    "np.power np.maximum np.minimum np.clip np.where np.sinh np.cosh np.arcsin np.arccos np.log10 "
    "np.log2 np.log1p np.expm1 np.square np.sign np.hypot np.fabs np.floor np.ceil np.round "
    "np.sum np.mean np.prod np.max np.min np.amax np.amin np.dot np.matmul np.outer np.inner "
    "np.transpose np.reshape np.ravel np.squeeze np.expand_dims np.roll np.concatenate np.hstack "
    "np.vstack np.stack np.pad np.diff np.cumsum np.zeros np.ones np.empty np.zeros_like "
    "np.ones_like np.empty_like np.full np.copy np.array np.asarray np.arange np.linspace "
    "np.argmax np.argmin np.argsort np.isnan np.isfinite np.any np.all np.nonzero "
    "np.count_nonzero np.shape np.size np.ndim np.searchsorted "
    "math.sin math.cos math.tan math.exp math.log math.log10 math.sqrt math.tanh math.atan "
    "math.atan2 math.pow math.fabs math.hypot math.sinh math.cosh math.asin math.acos math.erf "
    "builtins.abs builtins.min builtins.max builtins.float builtins.len builtins.range "
    "builtins.int builtins.round builtins.bool "
    "method.sum method.mean method.prod method.max method.min method.copy method.reshape "
    "method.ravel method.transpose method.dot method.astype method.clip method.flatten "
    "method.squeeze attr.T attr.real attr.shape attr.size attr.ndim"
).split()


def test_the_table_covers_the_input_language():
    assert sorted(set(REQUIRED) - set(RULES)) == []


@pytest.mark.parametrize("key", sorted(RULES))
def test_rule_is_well_formed(key):
    rule = RULES[key]
    assert rule.result in KIND_RULES
    assert len(set(rule.params)) == len(rule.params)
    assert set(rule.adjoints) <= set(rule.params)
    assert set(rule.defaults) <= set(rule.params)
    assert set(rule.sequence) <= set(rule.params)
    # a trailing ``out`` would let out= bind; without it the call is refused (writes an argument)
    assert rule.params[-1:] != ("out",)
    if rule.varargs:
        # the values it collects never carry a derivative, unless it is a sequence (np.einsum's arrays)
        assert rule.varargs not in rule.adjoints or rule.varargs in rule.sequence
    allowed = {"g", "ans", "np", "math", "ad", *rule.params} | ({"i"} if rule.sequence else set())
    for param, template in rule.adjoints.items():
        tree = ast.parse(template, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                assert node.id in allowed or hasattr(builtins, node.id), (param, node.id)
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in ("np", "math", "ad")):
                module = {"np": np, "math": math, "ad": vjp}[node.value.id]
                assert hasattr(module, node.attr), f"{template}: no {node.value.id}.{node.attr}"


def _callee(key):
    space, name = key.split(".", 1)
    if space == "method":
        return getattr(np.ndarray, name)
    return functools.reduce(lambda obj, part: getattr(obj, part, None), name.split("."),
                            {"np": np, "math": math, "builtins": builtins}.get(space))


def _signature(key):
    callee = _callee(key)
    try:
        return inspect.signature(callee)
    except (TypeError, ValueError):
        return None


WITH_SIGNATURE = [key for key in sorted(RULES)
                  if key.split(".")[0] in ("np", "math", "builtins", "method") and _signature(key)]
# np.where's one-argument form is np.nonzero (a tuple of index arrays): left unbound on purpose
UNBOUND_DEFAULTS = {"np.where": {"x", "y"}}


@pytest.mark.parametrize("key", WITH_SIGNATURE)
def test_params_follow_the_real_signature(key):
    rule = RULES[key]
    parameters = list(_signature(key).parameters.values())
    P = inspect.Parameter
    positional = [p for p in parameters if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    keyword_only = {p.name for p in parameters if p.kind == P.KEYWORD_ONLY}
    takes_kwargs = any(p.kind == P.VAR_KEYWORD for p in parameters)
    ours = list(rule.params)
    if rule.varargs:
        # *varargs where NumPy has it: the parameters after it are keyword-only
        assert any(p.kind == P.VAR_POSITIONAL for p in parameters)
        star = next(k for k, p in enumerate(parameters) if p.kind == P.VAR_POSITIONAL)
        assert ours.index(rule.varargs) == star, (ours, star)
        ours = ours[:star] + ours[star + 1:]
        positional = positional[:star]
    # positional parameters are a prefix of the real ones, named alike where keywords can name them
    for mine, real in zip(ours, positional):
        assert real.kind == P.POSITIONAL_ONLY or mine == real.name, (mine, real.name)
    extra = ours[len(positional):]
    assert all(name in keyword_only or takes_kwargs for name in extra), extra
    # defaults: present where NumPy has one, equal to it unless NumPy's is "no value"
    real_by_name = {p.name: p for p in parameters}
    for index, name in enumerate(ours):
        real = positional[index] if index < len(positional) else real_by_name.get(name)
        if real is None:  # taken by **kwargs: NumPy documents its default, the signature cannot
            continue
        if real.default is P.empty:
            assert name not in rule.defaults, f"{name} has no default in NumPy"
        elif name not in UNBOUND_DEFAULTS.get(key, ()):
            assert name in rule.defaults, f"{name} needs a default"
            if real.default is not np._NoValue:
                assert rule.defaults[name] == real.default, (name, real.default)


def test_keyword_calls_bind_like_numpy():
    # the motivating calls: keywords after positionals land on the right parameters
    u = np.arange(12.0).reshape(3, 4)
    for key, args, kwargs, name, value in [
            ("np.sum", (u,), {"axis": 0}, "axis", 0),
            ("np.roll", (u, 2), {"axis": 1}, "axis", 1),
            ("np.pad", (u, 2), {"mode": "edge"}, "mode", "edge"),
            ("np.sum", (u, 1, None, None, True), {}, "keepdims", True),
            ("np.diff", (u,), {"prepend": 0.0}, "n", 1)]:
        rule = RULES[key]
        env = environment(rule, args, kwargs, bind(rule, args, kwargs))
        assert env[name] == value


# ---------------------------------------------------------------------------------------------
# conventions where the derivative does not exist, and exactness


@pytest.mark.parametrize("key", ["np.max", "np.amax", "method.max", "np.min", "method.min"])
def test_reduction_ties_split_g_evenly(key):
    rule = RULES[key]
    a = np.array([[1.0, 3.0, 3.0], [-2.0, -2.0, 0.5]])
    if "min" in key:
        a = -a
    ans = call(key, (a,), {"axis": 1})
    env = environment(rule, (a,), {"axis": 1}, bind(rule, (a,), {"axis": 1}))
    got = contribution(rule, rule.adjoints["a"], env, np.array([2.0, 4.0]), ans, None)
    np.testing.assert_array_equal(got, [[0.0, 1.0, 1.0], [0.0, 0.0, 4.0]])
    # moving the tied elements together, finite differences agree
    v = np.array([[0.3, 0.7, 0.7], [0.1, 0.1, -0.4]])
    h = 1e-6
    fd = np.sum(np.array([2.0, 4.0]) * (call(key, (a + h * v,), {"axis": 1})
                                        - call(key, (a - h * v,), {"axis": 1}))) / (2 * h)
    assert np.isclose(fd, np.sum(got * v), rtol=1e-8)


@pytest.mark.parametrize("key", ["np.maximum", "np.minimum", "np.fmax", "np.fmin"])
def test_elementwise_ties_share_g_in_halves(key):
    rule = RULES[key]
    x1, x2 = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    ans = call(key, (x1, x2), {})
    env = {"x1": x1, "x2": x2}
    g = np.ones(3)
    first = contribution(rule, rule.adjoints["x1"], env, g, ans, None)
    second = contribution(rule, rule.adjoints["x2"], env, g, ans, None)
    assert first[0] == second[0] == 0.5
    np.testing.assert_array_equal(first + second, g)


def test_builtin_max_and_min_give_g_to_the_argument_they_return():
    for key, a, b in (("builtins.max", 3.0, 3.0), ("builtins.max", 1.0, 3.0),
                      ("builtins.min", 2.0, 2.0), ("builtins.min", 2.0, 1.0)):
        rule = RULES[key]
        ans = call(key, (a, b), {})
        got = [contribution(rule, rule.adjoints[name], {"a": a, "b": b}, 5.0, ans, None)
               for name in ("a", "b")]
        assert got == ([5.0, 0.0] if ans is a else [0.0, 5.0])   # Python returns the first at a tie


def test_abs_has_zero_derivative_at_zero():
    for key in ("np.abs", "np.fabs", "builtins.abs", "math.fabs"):
        rule = RULES[key]
        assert contribution(rule, rule.adjoints["x"], {"x": 0.0}, 1.0, 0.0, None) == 0.0


def test_clip_on_a_bound_gives_g_to_its_argument():
    rule = RULES["np.clip"]
    a, env = np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), {}
    env = {"a": a, "a_min": 0.0, "a_max": 1.0}
    ans = np.clip(a, 0.0, 1.0)
    g = np.ones(5)
    parts = [contribution(rule, rule.adjoints[name], env, g, ans, None)
             for name in ("a", "a_min", "a_max")]
    np.testing.assert_array_equal(parts[0], [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(parts[1], [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(parts[2], [0, 0, 0, 0, 1])


def test_prod_with_zeros_is_exact_and_divides_by_nothing():
    a = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]])
    with np.errstate(all="raise"):
        got = vjp.prod_adjoint(np.array([1.0, 1.0]), a, 1, False)
    np.testing.assert_array_equal(got, [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_pow_base_is_zero_for_a_zero_exponent_and_infinite_below_one():
    assert vjp.pow_base(1.0, 0.0, 0) == 0.0
    assert vjp.pow_base(1.0, 0.0, 0.5) == math.inf      # not a ZeroDivisionError
    assert vjp.pow_base(1.0, -2.0, 3) == 12.0
    np.testing.assert_array_equal(vjp.pow_base(np.ones(2), np.zeros(2), np.array([0.0, 2.0])),
                                  [0.0, 0.0])


def test_pad_modes_that_are_not_linear_are_refused():
    with pytest.raises(UnsupportedError, match="maximum"):
        vjp.pad_adjoint(np.ones(7), np.ones(3), 2, "maximum", "even", None)


# ---------------------------------------------------------------------------------------------
# properties on random shapes

ELEMENTWISE = sorted(key for key, rule in RULES.items()
                     if rule.elementwise and rule.adjoints and key.split(".")[0] in ("np", "op")
                     and key not in ("np.full", "np.full_like"))
DOMAINS = {**{key: (domain,) for key, domain in UNARY.items()}, **BINARY,
           "np.clip": ((-2, 2), (-1, -0.1), (0.1, 1)), "method.clip": ((-2, 2), (-1, -0.1), (0.1, 1))}


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(ELEMENTWISE), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_elementwise_rules_on_broadcastable_shapes(key, data, seed):
    rule = RULES[key]
    shapes = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=len(rule.params), min_dims=0, max_dims=3, max_side=4)).input_shapes
    domains = DOMAINS.get(key, ((-2, 2),) * len(rule.params))
    args = [B(shape) if name == "condition" else R(shape, *domain)
            for name, shape, domain in zip(rule.params, shapes, domains)]
    check_adjoints(key, tuple(args), {}, seed)


@settings(max_examples=100, deadline=None)
@given(key=st.sampled_from(["np.sum", "np.mean", "np.prod", "np.max", "np.min", "np.var"]),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       data=st.data(), keepdims=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_reductions_on_random_axes(key, shape, data, keepdims, seed):
    axis = data.draw(st.none() | st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                          max_size=len(shape), unique=True).map(tuple))
    a = np.random.default_rng(seed).uniform(0.5, 1.5, shape)
    if key == "np.prod":  # zero factors, anywhere
        zeros = data.draw(st.lists(st.integers(0, a.size - 1), max_size=2))
        a.flat[zeros] = 0.0
    check_adjoints(key, (a,), {"axis": axis, "keepdims": keepdims}, seed)


@pytest.mark.parametrize("key, args, kwargs", CASES)
def test_every_primitive_returning_a_view_is_known_as_one(key, args, kwargs, request):
    """The effects analysis must know every primitive whose result may share memory with its
    first argument (a write through the result changes the argument): a missing one is a silently
    wrong gradient, not a refusal."""
    from adjoin.analysis.points_to import VIEW_RULES
    rng = np.random.default_rng(zlib.crc32(request.node.callspec.id.encode()))
    values, options = draw(args, rng), {k: draw(v, rng) for k, v in kwargs.items()}
    result = call(key, list(values), options)
    inputs = [v for v in values if isinstance(v, np.ndarray)]
    if isinstance(result, np.ndarray) and inputs and np.shares_memory(result, inputs[0]):
        assert key in VIEW_RULES, f"{key} returned a view of its argument"


def test_singular_derivatives_with_a_zero_adjoint_contribute_zero():
    assert vjp.div(0.0, 0.0) == 0.0
    assert vjp.div(1.0, 0.0) == math.inf
    np.testing.assert_array_equal(vjp.div(np.array([0.0, 2.0]), np.array([0.0, 4.0])), [0.0, 0.5])
    np.testing.assert_array_equal(vjp.pow_exponent(np.array([0.0, 1.0]), np.array([0.0, 0.0]),
                                                   np.array([0.0, 0.0])), [0.0, 0.0])
    np.testing.assert_array_equal(vjp.pow_base(np.array([0.0]), np.array([0.0]), -1.5), [0.0])


@pytest.mark.parametrize("key, args, kwargs", [c for c in CASES if RULES[c.values[0]].keeps_shape])
def test_a_rule_said_to_keep_the_shape_keeps_it(key, args, kwargs):
    """keeps_shape lets the backward sweep read the first argument's shape for the result's."""
    rng = np.random.default_rng(1)
    args = draw(args, rng)
    kwargs = {name: draw(value, rng) for name, value in kwargs.items()}
    assert np.shape(call(key, args, kwargs)) == np.shape(args[0])


def test_every_rule_said_to_keep_the_shape_has_a_case():
    covered = {c.values[0] for c in CASES}
    assert {k for k, r in RULES.items() if r.keeps_shape} <= covered


# ---------------------------------------------------------------------------------------------
# tangent mode: every rule with adjoints has a tangent, checked against finite differences and,
# to rounding, against the adjoint (<g, J v> = <J^T g, v>)

from adjoin.rules import tangent_templates  # noqa: E402
from adjoin.runtime import jvp  # noqa: E402


def with_direction(rule, param, env, path, v):
    """``d`` as the engine passes it: the direction for the element at ``path``, None for the
    other items of a sequence or a display."""
    value = env[param]
    if param in rule.sequence:
        return tuple(v if k == path else None for k in range(len(value)))
    if path is None:
        return v

    def build(item, where):
        if isinstance(item, (list, tuple)):
            return type(item)(build(x, where + (k,)) for k, x in enumerate(item))
        return v if where == path else None
    return build(value, ())


def laid_like(v, value):
    """A direction in the memory layout of ``value``: tangent code keeps every tangent laid out
    like its value (order='A'/'K' reshapes read the layout)."""
    if isinstance(value, np.ndarray):
        out = np.empty_like(value, dtype=float)
        out[...] = v
        return out
    return v


def tangent_of(rule, template, env, d, ans, operands):
    namespace = {"np": np, "math": math, "ad": jvp, **env, "d": d, "ans": ans}
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        t = eval(compiled(template), namespace)
    if rule.elementwise and not rule.tangents:     # the engine widens a derived tangent
        t = jvp.widen(t, *operands)
    return t


def check_tangents(key, args, kwargs, seed, rtol=1e-6):
    rule = RULES[key]
    templates = tangent_templates(rule)
    rng = np.random.default_rng(seed)
    args = draw(args, rng)
    kwargs = {name: draw(value, rng) for name, value in kwargs.items()}
    where = bind(rule, args, kwargs)
    env = environment(rule, args, kwargs, where)
    ans = call(key, args, kwargs)
    g = random_like(ans, rng)
    operands = [value for value in list(args) + list(kwargs.values()) if is_float(value)]
    checked = []
    for param, template in rule.adjoints.items():
        if param not in where:
            continue
        for i, value, adjoint in parts(rule, param, template, env, g, ans):
            if rule.elementwise:
                adjoint = support.sum_to(adjoint, value)
            v = laid_like(random_like(value, rng), value)
            t = tangent_of(rule, templates[param], env, with_direction(rule, param, env, i, v), ans, operands)
            assert np.shape(t) == np.shape(ans), f"{key}: tangent of {param} has shape {np.shape(t)}, " \
                                                 f"the result {np.shape(ans)}"
            forward = float(np.sum(g * t))

            def f(s, param=param, i=i, value=value, v=v):
                return call(key, *replaced(args, kwargs, where[param], i, shifted(value, v, s)))

            error = fd_error(f, g, forward)
            assert error <= rtol, f"{key}: tangent of {param}[{i}] off by {error:.2e} (relative)"
            backward = float(np.sum(adjoint * v))
            scale = max(abs(forward), abs(backward), 1e-300)
            assert abs(forward - backward) <= 1e-12 * scale + 1e-15, \
                f"{key}: <g, J v> = {forward!r} but <J^T g, v> = {backward!r}"
            checked.append((param, i))
    assert checked, "the case differentiates nothing"


@pytest.mark.parametrize("key, args, kwargs", CASES)
def test_tangent_matches_finite_differences_and_the_adjoint(key, args, kwargs, request):
    seed = zlib.crc32(request.node.callspec.id.encode())
    check_tangents(key, args, kwargs, seed)


@pytest.mark.parametrize("key", sorted(RULES))
def test_every_rule_with_adjoints_has_tangents(key):
    rule = RULES[key]
    templates = tangent_templates(rule)
    assert set(templates) == set(rule.adjoints), key
    allowed = {"d", "ans", "np", "math", "ad", *rule.params}
    for param, template in templates.items():
        for node in ast.walk(ast.parse(template, mode="eval")):
            if isinstance(node, ast.Name):
                assert node.id in allowed or hasattr(builtins, node.id), (key, param, node.id)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ad":
                assert hasattr(jvp, node.attr), f"{template}: no ad.{node.attr} in adjoin.runtime.jvp"


@settings(max_examples=300, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=3), shift=st.integers(-12, 12),
       axis=st.one_of(st.none(), st.integers(-3, 2)), dtype=st.sampled_from([float, int, bool]),
       strided=st.booleans())
def test_quick_roll_is_np_roll(shape, shift, axis, dtype, strided):
    """ad.roll and ad.unroll (the adjoint rule's quicker np.roll) give np.roll's array, element
    for element, for every shape, shift and axis (None: rolled flat), on contiguous arrays and
    views, and np.roll's error for an axis out of range."""
    a = (np.arange(int(np.prod(shape)) * 2).reshape(shape[:-1] + [2 * shape[-1]]) % 3).astype(dtype)
    a = a[..., ::2] if strided else np.ascontiguousarray(a[..., ::2])
    if axis is not None and not -a.ndim <= axis < a.ndim:
        with pytest.raises(np.exceptions.AxisError):
            vjp.roll(a, shift, axis)
        return
    expected = np.roll(a, shift, axis)
    got = vjp.roll(a, np.int64(shift) if shift % 2 else shift, axis)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert not np.shares_memory(got, a) or a.size == 0
    assert np.array_equal(vjp.unroll(expected, shift, axis), a)


def test_quick_roll_leaves_other_shapes_of_arguments_to_np_roll():
    a = np.arange(12.0).reshape(3, 4)
    for shift, axis in ((1.0, None), ((1, -2), (0, 1)), (1, (1,))):
        assert np.array_equal(vjp.roll(a, shift, axis), np.roll(a, shift, axis))
        assert np.array_equal(vjp.unroll(np.roll(a, shift, axis), shift, axis), a)
