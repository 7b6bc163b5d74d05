"""The ocean with its time loop a loop site (binomial.py) gives ocean.py's cost and gradient."""
import sys
from pathlib import Path

import numpy as np
import pytest

import adjoin

HERE = Path(__file__).resolve().parent
LOOP = "the_main_loop/loop#1"


@pytest.fixture(scope="module")
def models():
    sys.path.insert(0, str(HERE))
    try:
        import binomial
        import ocean
    finally:
        sys.path.remove(str(HERE))
    return ocean, binomial


@pytest.mark.adjoint
def test_every_schedule_gives_the_gradient_of_the_plain_model(models):
    ocean, binomial = models
    inputs = ocean.make_inputs(size=0.1, seed=0)
    wrt = ("T0", "kappa", "tau0")
    want = adjoin.value_and_grad(ocean.cost, wrt=wrt)(**inputs)
    assert binomial.cost(**inputs) == ocean.cost(**inputs)
    sites = [s.id for s in adjoin.checkpoint_sites(binomial.cost)]
    assert LOOP in sites
    for placement in (adjoin.Placement(), adjoin.Placement([s for s in sites if s != LOOP], loops={LOOP: (2, 1)})):
        value, grads = adjoin.value_and_grad(binomial.cost, wrt=wrt, placement=placement)(**inputs)
        assert value == want[0]
        for got, ref in zip(grads, want[1]):
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.max(np.abs(ref)))
