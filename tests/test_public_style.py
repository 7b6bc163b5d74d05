"""Programs written the way tutorials and course codes write NumPy (tests/programs/public_style/):
each one's gradient against converged central differences, under the default placement and with
every site off; the programs adjoin refuses are listed with the reason, so that a program that
starts being refused, or that is refused no more, fails here.  Then the small reproducers of what
the campaign that wrote them found."""
import copy
import importlib
import pkgutil

import numpy as np
import pytest

import adjoin
from programs import public_style

# module.head -> a phrase of the refusal adjoin gives, and why it is kept
EXPECTED_REFUSALS = {
    "logistic.cost": ("appending to a list", "a list grown by .append has no length known before the loop; "
                      "the message says to fill an array made before the loop"),
    "pendulum.cost": ("appending to a list", "as logistic.cost; pendulum_prealloc.cost is the same model "
                      "with the trajectory preallocated"),
}


def _heads():
    for info in sorted(pkgutil.iter_modules(public_style.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{public_style.__name__}.{info.name}")
        for name in sorted(dir(module)):
            if name == "cost" or name.startswith("cost_"):
                yield f"{info.name}.{name}"


HEADS = list(_heads())


def _program(label):
    module_name, head = label.split(".")
    module = importlib.import_module(f"{public_style.__name__}.{module_name}")
    return module, getattr(module, head)


def _central(fn, args, name, direction, h):
    plus, minus = copy.deepcopy(args), copy.deepcopy(args)
    plus[name] = plus[name] + h * direction
    minus[name] = minus[name] - h * direction
    return (fn(**plus) - fn(**minus)) / (2 * h)


def _assert_matches_differences(fn, args, wrt, grads):
    rng = np.random.default_rng(3)
    for name, g in zip(wrt, grads):
        assert np.shape(g) == np.shape(args[name])
        direction = rng.normal(size=np.shape(args[name]))
        direction = float(direction) if np.ndim(args[name]) == 0 else direction
        predicted = float(np.sum(g * direction))
        estimates = [_central(fn, args, name, direction, h) for h in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)]
        scale = max(abs(predicted), 1e-7)
        # two step sizes agree: the differences have converged; and the adjoint agrees with them
        assert min(abs(a - b) for a, b in zip(estimates, estimates[1:])) / scale < 1e-4, estimates
        assert min(abs(e - predicted) for e in estimates) / scale < 1e-6, (name, predicted, estimates)


@pytest.mark.parametrize("label", HEADS)
def test_public_style_program_gradient(label):
    module, fn = _program(label)
    args, wrt = module.inputs(), module.WRT
    if label in EXPECTED_REFUSALS:
        with pytest.raises(adjoin.AdjoinError, match=EXPECTED_REFUSALS[label][0]):
            adjoin.value_and_grad(fn, wrt=wrt)(**copy.deepcopy(args))
        return
    value, grads = adjoin.value_and_grad(fn, wrt=wrt)(**copy.deepcopy(args))
    assert value == pytest.approx(fn(**copy.deepcopy(args)), rel=1e-12)
    _assert_matches_differences(fn, args, wrt, grads)
    off = adjoin.Placement(nocheckpoint=[s.id for s in adjoin.checkpoint_sites(fn)])
    _, grads_off = adjoin.value_and_grad(fn, wrt=wrt, placement=off)(**copy.deepcopy(args))
    for g0, g1 in zip(grads, grads_off):
        assert np.allclose(g0, g1, rtol=1e-12, atol=1e-15)


def test_expected_refusals_name_real_programs():
    assert set(EXPECTED_REFUSALS) <= set(HEADS)


# --- reproducers -------------------------------------------------------------------------------

PARAMS = {"dt": 0.1, "n": 3, "w": np.array([1.0, 2.0])}
WEIGHTS = np.array([0.5, 1.5])


def _relax(x, params=PARAMS):
    y = x
    for _ in range(params["n"]):
        y = y + params["dt"] * np.sin(y) * params["w"]
    return y


def _scaled(x, w=WEIGHTS):
    return x * w


def _overwrites(x, w=WEIGHTS):
    w[0] = x[0]
    return x * w


def dict_and_array_defaults(x):
    return np.sum(_relax(x) ** 2) + np.sum(_scaled(x) * x)


def head_with_a_dict_default(x, params=PARAMS):
    return np.sum(_relax(x, params) * params["w"])


def writes_into_an_array_default(x):
    return np.sum(_overwrites(x))


@pytest.mark.parametrize("fn", [dict_and_array_defaults, head_with_a_dict_default])
def test_module_level_constant_as_default_value(fn):
    x = np.array([0.3, 0.7])
    _, g = adjoin.value_and_grad(fn, wrt="x")(x)
    _assert_matches_differences(fn, {"x": x}, ("x",), (g,))


def test_writing_into_a_default_module_array_is_refused_by_its_name():
    with pytest.raises(adjoin.AdjoinError, match="module-level array 'WEIGHTS'"):
        adjoin.value_and_grad(writes_into_an_array_default, wrt="x")(np.array([0.3, 0.7]))
    assert WEIGHTS[0] == 0.5


def test_a_tangent_first_thing_in_a_process_imports_its_runtime(tmp_path):
    """adjoin.jvp before any adjoint ran: the tangent module's runtime imported vjp_arrays before vjp,
    which imports it back (ImportError: cannot import name 'transpose_adjoint')."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    script = tmp_path / "fresh_tangent.py"
    script.write_text("import numpy as np, adjoin\n"
                      "def f(x):\n    return np.sum(np.cumsum(x) ** 2)\n"
                      "print(adjoin.jvp(f, wrt='x')(np.ones(3), tangents=(np.ones(3),))[1])\n")
    src = str(Path(adjoin.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == 28.0      # 2 * sum(cumsum(1)_i * cumsum(1)_i)


def _pad_reflect(x):
    return np.sum(np.pad(x, 2, mode="maximum") ** 2)


def _norm_nuclear(x):
    a = x.reshape(2, 2)
    return np.linalg.norm(a, "nuc")


@pytest.mark.parametrize("fn", [_pad_reflect, _norm_nuclear])
def test_a_refusal_at_run_time_names_the_file_and_line(fn):
    """Rules that check their arguments when the adjoint runs (np.pad's mode, np.linalg.norm's ord)
    said what but not where."""
    import inspect
    path = inspect.getsourcefile(fn)
    line = inspect.getsourcelines(fn)[1] + (2 if fn is _norm_nuclear else 1)
    with pytest.raises(adjoin.AdjoinError, match=f"^{path}:{line}: "):
        adjoin.value_and_grad(fn, wrt="x")(np.array([0.3, -0.7, 1.1, 0.45]))
    with pytest.raises(adjoin.AdjoinError, match=f"^{path}:{line}: "):
        adjoin.jvp(fn, wrt="x")(np.array([0.3, -0.7, 1.1, 0.45]), tangents=(np.ones(4),))


def _decay(t, y, k, c):
    return -k * y + c * np.sin(t)


def _euler(f, t, y, h, *args):
    return y + h * f(t, y, *args)


def _integrate(f, y, dt, nsteps, args):
    t = 0.0
    for _ in range(nsteps):
        y = _euler(f, t, y, dt, *args)
        t += dt
    return y


def _relay(f, y, dt, args):
    return _integrate(f, y, dt, 3, args)


def tuple_parameter_unpacked(y0, k):
    return np.sum(_integrate(_decay, y0, 0.1, 4, (k, 0.5)) ** 2) + np.sum(_relay(_decay, y0, 0.2, (k, k)))


def tuple_parameter_of_the_head(y0, k, extra=(0.3, 0.5)):
    return k * np.sum(_integrate(_decay, y0, 0.1, 4, extra)) + np.sum(_integrate(_decay, y0, 0.1, 2, (k, extra[1])))


def tuple_parameter_of_unknown_length(y0, k):
    pair = (k, 0.5)
    return np.sum(_integrate(_decay, y0, 0.1, 4, pair))


@pytest.mark.parametrize("fn", [tuple_parameter_unpacked, tuple_parameter_of_the_head])
def test_a_tuple_parameter_unpacked_into_a_call(fn):
    """scipy's style, ``args=(k, c)`` passed down and unpacked, ``f(t, y, *args)``: specialized on the
    tuple's length where the call writes the tuple (was refused: 'starred arguments')."""
    args = {"y0": np.array([1.0, -0.5]), "k": 0.7}
    _, grads = adjoin.value_and_grad(fn, wrt=("y0", "k"))(**args)
    _assert_matches_differences(fn, args, ("y0", "k"), grads)
    off = adjoin.Placement(nocheckpoint=[s.id for s in adjoin.checkpoint_sites(fn)])
    _, grads_off = adjoin.value_and_grad(fn, wrt=("y0", "k"), placement=off)(**args)
    assert all(np.allclose(a, b, rtol=1e-12) for a, b in zip(grads, grads_off))
    assert adjoin.dot_test(fn, ("y0", "k"), **args).relative_error < 1e-12


def test_a_tuple_of_unknown_length_unpacked_is_refused_where_it_is_unpacked():
    with pytest.raises(adjoin.AdjoinError, match=r"test_public_style.py:\d+:\d+: cannot differentiate starred"):
        adjoin.value_and_grad(tuple_parameter_of_unknown_length, wrt="k")(np.array([1.0, -0.5]), 0.7)


def _einsum_diagonals(x):
    a = x.reshape(3, 3)
    cube = np.einsum("i,j,k->ijk", x[:3], x[3:6], x[6:])
    return (np.einsum("ii", a) + np.sum(np.einsum("ii->i", a) ** 2) + np.sum(np.einsum("ij,jj->i", a, a))
            + np.einsum("ii,ij,jk->", a, a, a) + np.sum(np.einsum("iij->j", cube)) + np.einsum("ii->", a @ a))


def test_einsum_with_a_repeated_index():
    """np.einsum('ii', A), a trace written as scientists write it, was refused at run time."""
    x = np.random.default_rng(4).uniform(-1.0, 1.0, 9)
    _, g = adjoin.value_and_grad(_einsum_diagonals, wrt="x")(x)
    _assert_matches_differences(_einsum_diagonals, {"x": x}, ("x",), (g,))
    assert adjoin.dot_test(_einsum_diagonals, ("x",), x).relative_error < 1e-12
