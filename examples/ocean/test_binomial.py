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


@pytest.mark.adjoint
def test_one_profile_predicts_every_schedule_to_the_byte_and_advises_one_that_fits(models):
    _, binomial = models
    inputs = binomial.make_inputs(size=0.08, seed=0)
    wrt = ("T0", "kappa", "tau0")
    profile = adjoin.adjoint(binomial.cost, wrt=wrt).profile(**inputs)
    calls = [s.id for s in adjoin.checkpoint_sites(binomial.cost) if s.id != LOOP]
    placements = [adjoin.Placement(loops={LOOP: (s, d)}) for s, d in ((1, 0), (4, 0), (2, 2))]
    placements += [adjoin.Placement(calls[:3], loops={LOOP: (3, 0)}), adjoin.Placement([LOOP])]
    budget = profile.predict(adjoin.Placement()).peak_tape_bytes
    advice = profile.advise(memory_budget=budget)
    for placement in placements + [advice.placement]:
        run = adjoin.adjoint(binomial.cost, wrt=wrt, placement=placement).measure(**inputs)
        assert run.peak_tape_bytes == profile.predict(placement).peak_tape_bytes, placement
    assert advice.feasible and advice.placement.checkpointed(LOOP)
