"""Shared helpers for the example tests: load a case from its case.toml, check a gradient.

Tests run from the repository root (``pytest examples/...``).  Each model is loaded with
importlib from the file its case.toml names, under the model's own module name.
"""
import copy
import importlib.util
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent
# Central finite-difference steps, relative to the scale of each parameter (see random_direction).
FD_STEPS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "adjoint: needs adjoin's generated adjoint (fails until the transformer works)")


@dataclass
class Case:
    """One example case: the model module, its head, the wrt names and the head's arguments."""
    name: str
    module: object
    head: object
    wrt: tuple
    inputs: dict
    config: dict


def load_module(path):
    """Imports the model file at ``path`` under its stem (``burgers.py`` -> module ``burgers``)."""
    path = Path(path).resolve()
    name = path.stem
    known = sys.modules.get(name)
    if known is not None and Path(getattr(known, "__file__", "")).resolve() == path:
        return known
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # adjoin finds the head's module (and its source) through sys.modules
    spec.loader.exec_module(module)
    return module


def read_case(name):
    """The parsed case.toml of example ``name``."""
    return tomllib.loads((EXAMPLES / name / "case.toml").read_text())


def make_case(name, size=None, **inputs_args):
    """Loads example ``name`` and builds its inputs; ``size`` and keywords override [inputs_args]."""
    config = read_case(name)
    module = load_module(EXAMPLES / name / config["module"])
    args = dict(config.get("inputs_args", {}))
    if size is not None:
        args["size"] = size
    args.update(inputs_args)
    inputs = getattr(module, config["inputs"])(**args)
    return Case(name, module, getattr(module, config["head"]), tuple(config["wrt"]), inputs, config)


@pytest.fixture(scope="session")
def load_case():
    """``load_case(name, size=None, **inputs_args)`` -> Case."""
    return make_case


@pytest.fixture(scope="session")
def load_model():
    """``load_model(name)`` -> the model module of example ``name`` (no inputs built)."""
    return lambda name: load_module(EXAMPLES / name / read_case(name)["module"])


def random_direction(inputs, wrt, rng):
    """A random direction for every wrt parameter, scaled like the parameter varies.

    Parameters differ by orders of magnitude (a diffusivity of 500 m2/s next to temperatures of
    10 degC), so each direction is scaled by its parameter's spread: the standard deviation of an
    array (a layer depth of 100 m that varies by 1 m is perturbed by ~1 m, not ~100 m), the
    magnitude of a scalar.  A finite-difference step h is then a relative perturbation.
    """
    direction = {}
    for name in wrt:
        value = np.asarray(inputs[name], dtype=float)
        scale = float(np.std(value)) if value.ndim else abs(float(value))
        scale = scale or float(np.sqrt(np.mean(value * value))) or 1.0
        direction[name] = scale * (float(rng.normal()) if value.ndim == 0
                                   else rng.normal(size=value.shape))
    return direction


def shifted(inputs, direction, h):
    """A deep copy of ``inputs`` moved by ``h`` along ``direction``."""
    moved = copy.deepcopy(inputs)
    for name, d in direction.items():
        moved[name] = moved[name] + h * d
        if np.ndim(d) == 0:
            moved[name] = float(moved[name])
    return moved


def fd_error(head, inputs, direction, predicted, steps=FD_STEPS):
    """Best relative error of ``predicted`` against central differences of ``head`` over ``steps``."""
    errors = []
    for h in steps:
        plus = float(head(**shifted(inputs, direction, h)))
        minus = float(head(**shifted(inputs, direction, -h)))
        fd = (plus - minus) / (2.0 * h)
        errors.append(abs(fd - predicted) / max(abs(predicted), 1e-300))
    return min(errors)


def check_gradient(case, value, grads, seed=0, rtol=1e-5, steps=FD_STEPS):
    """Checks adjoin's (value, grads) for ``case`` against the primal and finite differences.

    The directional derivative sum(g * v) is compared with central differences along v for one
    direction moving every wrt parameter together, then along each parameter alone (so that one
    parameter with a large derivative cannot hide an error in another).
    """
    expected = float(case.head(**copy.deepcopy(case.inputs)))
    assert np.isclose(float(value), expected, rtol=1e-12, atol=0.0), (value, expected)
    grads = tuple(grads)
    assert len(grads) == len(case.wrt)
    for name, g in zip(case.wrt, grads):
        assert np.shape(g) == np.shape(case.inputs[name]), name
        assert np.all(np.isfinite(g)), name
    rng = np.random.default_rng(seed)
    direction = random_direction(case.inputs, case.wrt, rng)
    by_name = dict(zip(case.wrt, grads))
    trials = [dict(direction)] + [{name: direction[name]} for name in case.wrt]
    for trial in trials:
        predicted = sum(float(np.sum(np.asarray(by_name[n]) * d)) for n, d in trial.items())
        error = fd_error(case.head, case.inputs, trial, predicted, steps)
        assert error <= rtol, (f"{case.name}: along {sorted(trial)} the adjoint gives {predicted!r}, "
                               f"finite differences disagree (best relative error {error:.2e})")


@pytest.fixture(scope="session")
def gradient_checker():
    """``gradient_checker(case, value, grads, seed=0, rtol=1e-5)`` asserts the gradient is right."""
    return check_gradient
