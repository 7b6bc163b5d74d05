"""Tangent mode (issue 18): jvp against converged finite differences, and the dot-product test of
the adjoint against the tangent, <J xd, yb> = <xd, J^T yb>, to rounding."""
import sys
from pathlib import Path

import numpy as np
import pytest

import adjoin
from adjoin.errors import AdjoinError
from conformance_programs import CONFORMANCE, load

ROOT = Path(__file__).resolve().parents[1]
DOT_RTOL = 1e-10


def converged_difference(f, x, d):
    """Central differences along d at two steps that agree (else the test cannot judge)."""
    estimates = [(f(x + h * d) - f(x - h * d)) / (2 * h) for h in (1e-4, 1e-5, 1e-6)]
    for a, b in zip(estimates, estimates[1:]):
        if np.allclose(a, b, rtol=1e-6, atol=1e-9):
            return b
    pytest.fail(f"finite differences do not converge: {estimates}")


def conformance_names():
    if not CONFORMANCE.exists():
        return []
    return sorted(p.stem for p in CONFORMANCE.glob("p*.py"))


@pytest.mark.parametrize("stem", conformance_names())
def test_conformance_program_passes_the_dot_product_test(stem):
    module, args = load(stem[:3], prefix="tangent")
    try:
        result = adjoin.dot_test(module.HEAD, tuple(module.WRT), **args)
    except AdjoinError:
        if getattr(module, "ACCEPT_REFUSAL", False):
            pytest.skip(f"{stem} may be refused (ACCEPT_REFUSAL), and is")
        raise
    assert result.relative_error <= DOT_RTOL, str(result)


def _example(name, size):
    import importlib.util
    import tomllib
    folder = ROOT / "examples" / name
    case = tomllib.loads((folder / "case.toml").read_text())
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(f"tangent_{name}", folder / case["module"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = getattr(module, case["inputs"])(**dict(case.get("inputs_args", {}), size=size))
    return getattr(module, case["head"]), tuple(case["wrt"]), args


@pytest.mark.parametrize("name, size", [("burgers", 0.3), ("lorenz96", 0.3), ("shallow_water", 0.3),
                                        ("ocean", 0.15), ("competition", 0.3)])
def test_example_passes_the_dot_product_test(name, size):
    head, wrt, args = _example(name, size)
    assert adjoin.dot_test(head, wrt, **args).relative_error <= DOT_RTOL


# --- the shapes of issue 12: views into calls, second names, lists, call results -------------

def density(t, z):
    return (t - 10.0) * (1.0 + 0.1 * z) + 0.01 * t * t


def mix_levels(q, k, w):
    flux = w * (q[k] - q[k + 1])
    q[k] -= flux
    q[k + 1] += flux


def column(T0, z):
    T = T0.copy()
    for k in range(T.shape[0] - 1):
        w = density(T[k], z[k]) * 0.01
        mix_levels(T, k, w)
    return np.sum(T * T)


def second_name(a, b):
    m = a * b
    out = m
    sq = m ** 2
    out -= b
    return np.sum(out) + np.sum(sq)


def square(x):
    return x * x


def call_results(x):
    return square(x).sum() + np.sum(np.sum(square(x), 1).reshape((3, 1))) + np.sum(square(x).T[0])


def lists(h):
    r = [h * 2.0, h]
    return np.sum(r[0] * r[1])


def self_update(x):
    y = x.copy()
    y *= y
    y /= 1.0 + x
    y **= 1.5
    return np.sum(y)


def relax_twice(v, s):
    v += 0.5 * (s - v)
    w = v * 1.0             # a new array whose tangent simplifies to v_d: it must be a copy
    w += 0.5 * (s - w)
    return np.sum(w)


def new_names_of_simplified_tangents(x, a):
    # found by the random programs' dot-product test: 'v * 1.0' aliased the caller's tangent
    y = x + x
    t = relax_twice(y, a)
    return np.sum(y ** 2) + t


CASES = [
    (column, dict(T0=10 + 3 * np.random.default_rng(0).normal(size=(5, 4)), z=np.linspace(0, 1, 5)), "T0"),
    (second_name, dict(a=np.array([1.0, 2.0, 3.0]), b=np.array([0.5, 1.5, 2.0])), ("a", "b")),
    (call_results, dict(x=np.random.default_rng(1).normal(size=(3, 4))), "x"),
    (lists, dict(h=np.array([1.0, 2.0])), "h"),
    (self_update, dict(x=np.random.default_rng(2).uniform(0.5, 2.0, 6)), "x"),
    (new_names_of_simplified_tangents, dict(x=np.random.default_rng(4).normal(size=7), a=0.46), ("x", "a")),
]


@pytest.mark.parametrize("fn, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_tangent_matches_finite_differences(fn, args, wrt):
    names = (wrt,) if isinstance(wrt, str) else wrt
    rng = np.random.default_rng(3)
    directions = tuple(rng.standard_normal(np.shape(args[n])) for n in names)
    value, value_d = adjoin.jvp(fn, wrt=wrt)(**args, tangents=directions)
    assert value == pytest.approx(fn(**{k: np.copy(v) for k, v in args.items()}), rel=1e-14)

    def along(t):
        moved = dict(args)
        for n, d in zip(names, directions):
            moved[n] = args[n] + t * d
        return fn(**{k: np.copy(v) for k, v in moved.items()})
    expected = converged_difference(along, 0.0, 1.0)
    assert value_d == pytest.approx(expected, rel=1e-6)
    assert adjoin.dot_test(fn, wrt, **args).relative_error <= DOT_RTOL


# --- array results: a Jacobian-vector product of a whole state --------------------------------

def step(u, c):
    v = u.copy()
    v[1:] -= c * (u[1:] - u[:-1])
    v[0] = u[0] * np.exp(-c)
    return v, np.sum(v)


def test_jvp_of_an_array_and_tuple_valued_function():
    u, c = np.linspace(0.0, 1.0, 6) ** 2, 0.3
    du = np.random.default_rng(4).standard_normal(6)
    (v, total), (v_d, total_d) = adjoin.jvp(step, wrt=("u", "c"))(u, c, tangents=(du, 1.0))
    expected = converged_difference(lambda t: step(u + t * du, c + t)[0], 0.0, 1.0)
    np.testing.assert_allclose(v_d, expected, rtol=1e-7, atol=1e-10)
    assert total_d == pytest.approx(np.sum(expected), rel=1e-7)


def test_tangent_source_is_readable_and_does_not_touch_the_inputs():
    source = adjoin.tangent(column, wrt="T0").source
    assert "def column_d(T0, z, T0_d):" in source and "mix_levels_d(T, k, w, T_d, w_d)" in source
    assert "# line" in source
    T0, d = np.ones((3, 2)) * 10.0, np.ones((3, 2))
    before = (T0.copy(), d.copy())
    adjoin.jvp(column, wrt="T0")(T0, np.linspace(0, 1, 3), tangents=(d,))
    assert np.array_equal(T0, before[0]) and np.array_equal(d, before[1])


def test_bad_tangents_are_refused_clearly():
    f = adjoin.jvp(second_name, wrt=("a", "b"))
    a = np.ones(3)
    with pytest.raises(AdjoinError, match="tuple of 2 direction"):
        f(a, a, tangents=(a,))
    with pytest.raises(AdjoinError, match="shape"):
        f(a, a, tangents=(a, np.ones(4)))


def _products(x, c):
    y = x * x
    return np.sum(c - y * c)


def test_repeated_and_negated_terms_are_written_once_and_subtracted():
    """x * x has the tangent x_d * x * 2.0 (not the same product twice); c - y * c subtracts
    y's term instead of negating it first."""
    x, c = np.linspace(0.1, 0.9, 5), 0.3
    t = adjoin.tangent(_products, wrt=("x", "c"))
    _, value_d = t(x, c, tangents=(np.ones_like(x), 1.0))
    assert "x_d * x * 2.0" in t.source and "x_d * x + x_d * x" not in t.source, t.source
    assert "-(" not in t.source and "+ -" not in t.source, t.source
    assert value_d == pytest.approx(np.sum(-2.0 * x * c) + np.sum(1.0 - x * x), rel=1e-14)


# --- every program of the language tests (tests/programs/language.py), in tangent mode ------------

def _language_names():
    from programs import language
    return [n for n in dir(language) if not n.startswith("_") and callable(getattr(language, n))
            and getattr(language, n).__module__ == language.__name__]


@pytest.mark.parametrize("name", _language_names())
def test_language_program_passes_the_dot_product_test(name):
    """One construct each: an int accumulator made float in a loop, nested functions, views."""
    from programs import language
    rng = np.random.default_rng(11)
    args = dict(a=rng.uniform(0.2, 0.9, (3, 4)), x=rng.uniform(-0.5, 0.9, 4))
    assert adjoin.dot_test(getattr(language, name), ("a", "x"), **args).relative_error <= DOT_RTOL
