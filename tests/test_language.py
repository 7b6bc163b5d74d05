"""Gradients of small programs, one construct of the input language each, against finite differences."""
import copy

import numpy as np
import pytest

import adjoin
from programs import language

NAMES = [n for n in dir(language) if not n.startswith("_") and callable(getattr(language, n))
         and getattr(language, n).__module__ == language.__name__]


def inputs():
    rng = np.random.default_rng(11)
    return dict(a=rng.uniform(0.2, 0.9, (3, 4)), x=rng.uniform(-0.5, 0.9, 4))


def directional_fd(fn, args, name, direction):
    best = None
    for h in (1e-3, 1e-4, 1e-5, 1e-6):
        plus = copy.deepcopy(args)
        minus = copy.deepcopy(args)
        plus[name] = plus[name] + h * direction
        minus[name] = minus[name] - h * direction
        estimate = (fn(**plus) - fn(**minus)) / (2 * h)
        best = estimate if best is None else best
        yield estimate


@pytest.mark.parametrize("name", NAMES)
def test_gradient_against_finite_differences(name):
    fn = getattr(language, name)
    args = inputs()
    value, grads = adjoin.value_and_grad(fn, wrt=("a", "x"))(**copy.deepcopy(args))
    assert value == pytest.approx(fn(**copy.deepcopy(args)), rel=1e-12)
    rng = np.random.default_rng(5)
    for param, g in zip(("a", "x"), grads):
        direction = rng.normal(size=np.shape(args[param]))
        predicted = float(np.sum(g * direction))
        errors = [abs(fd - predicted) / max(abs(predicted), 1e-8)
                  for fd in directional_fd(fn, args, param, direction)]
        assert min(errors) < 1e-6, (param, predicted, errors)


@pytest.mark.parametrize("name", NAMES)
def test_every_placement_gives_the_same_gradient(name):
    fn = getattr(language, name)
    ids = [s.id for s in adjoin.checkpoint_sites(fn)]
    if not ids:
        pytest.skip(f"{name} calls no user function: a single placement")
    reference = adjoin.grad(fn, wrt=("a", "x"))(**inputs())
    other = adjoin.grad(fn, wrt=("a", "x"), placement=adjoin.Placement(ids))(**inputs())
    for g0, g1 in zip(reference, other):
        assert np.allclose(g0, g1, rtol=1e-12, atol=1e-15)


def test_out_argument_is_refused():
    def f(x):
        buffer = np.zeros(1)
        np.sum(x, axis=0, keepdims=True, out=buffer)
        return np.sum(buffer)
    with pytest.raises(adjoin.AdjoinError, match="out="):
        adjoin.value_and_grad(f, wrt="x")(np.ones(3))


def test_sequence_given_as_a_variable_is_refused():
    def f(x):
        pair = (x, x * 2.0)
        return np.sum(np.concatenate(pair))
    with pytest.raises(adjoin.AdjoinError):
        adjoin.value_and_grad(f, wrt="x")(np.ones(3))
