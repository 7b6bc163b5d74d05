"""Loop sites in the model (issue 17, item 4): one profile, taken with every iteration taped,
predicts the peak tape of any schedule combined with any call-site placement to the byte, the
schedule's plan counts what the run does, and the advisor chooses schedules that fit.

Times are not asserted here (benchmarks/bench_loops.py measures them); peaks and counts are exact.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import adjoin
from adjoin.placement import Placement
from adjoin.profiling.loops import plan
from adjoin.profiling.profile import Profile
from adjoin.runtime.loops import ADVANCE, RESTORE, STORE, LoopSchedule
from adjoin.runtime.tape import Tape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_loop_sites import load_text  # noqa: E402

# a time step with a call inside (a call site within the loop site), a scalar carried, an array
# rebound and one updated in place, an iteration that differs (the branch at n == 2)
PROGRAM = """
import numpy as np


def diffuse(u, k):
    u[1:-1] = u[1:-1] + k * (u[:-2] - 2.0 * u[1:-1] + u[2:])


def cost(u0, k, nsteps):
    u = u0.copy()
    v = np.zeros_like(u0)
    energy = 0.0
    # $AD BINOMIAL-CKP snapshots=3
    for n in range(nsteps):
        diffuse(u, k)
        if n == 2:
            u = u * 1.01
        v += 0.1 * u ** 2
        energy = energy + 0.5 * np.sum(u * v)
    return energy
"""
SCHEDULES = [(1, 0), (2, 0), (3, 0), (5, 0), (11, 0), (1, 2), (0, 3), (2, 4)]
LOOP = "cost/loop#1"
CALL = "cost/diffuse#1"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_text(PROGRAM, tmp_path_factory.mktemp("loop_model"))


def inputs(nsteps=12, size=300):
    return dict(u0=np.linspace(0.0, 1.0, size) ** 2, k=0.2, nsteps=nsteps)


def measured(fn, placement, args):
    return adjoin.adjoint(fn, wrt=("u0", "k"), placement=placement).measure(**args)


@pytest.mark.parametrize("call_off", [(), (CALL,)])
def test_every_schedule_peaks_as_predicted_to_the_byte(model, call_off):
    args = inputs()
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k")).profile(**args)
    assert LOOP in profile.profiled_off and profile.loops == {LOOP: (3, 0)}
    placements = [Placement(call_off, loops={LOOP: s}) for s in SCHEDULES] + [Placement(call_off + (LOOP,))]
    for placement in placements:
        run = measured(model.cost, placement, args)
        assert profile.predict(placement).peak_tape_bytes == run.peak_tape_bytes, placement
    # a placement naming no schedule gets the directive's
    default = Placement(call_off)
    assert profile.predict(default) == profile.predict(Placement(call_off, loops={LOOP: (3, 0)}))


def test_a_profile_under_a_schedule_is_taken_with_every_iteration_taped(model):
    args = inputs()
    placement = Placement([CALL], loops={LOOP: (2, 1)})
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k"), placement=placement).profile(**args)
    assert profile.profiled_off == {CALL, LOOP}
    assert profile.loops == {LOOP: (2, 1)}                 # the profiled placement's schedule
    taped = measured(model.cost, Placement([CALL, LOOP]), args)
    assert profile.peak_tape_bytes == taped.peak_tape_bytes
    assert profile.predict(placement).peak_tape_bytes == measured(model.cost, placement, args).peak_tape_bytes


def test_the_plan_counts_what_the_schedule_does():
    for n in (1, 2, 5, 13, 40):
        for snapshots, disk in [(1, 0), (2, 0), (3, 1), (0, 2), (7, 0), (2, 5)]:
            schedule = LoopSchedule(Tape(), range(n), snapshots, disk)
            actions = [a for a, _ in schedule.forward()] + [a for a, _ in schedule.backward()]
            p = plan(n, snapshots, disk)
            assert sum(p.advances) == schedule.advances == actions.count(ADVANCE), (n, snapshots, disk)
            assert schedule.taped == n
            assert sum(p.ram_stores) + sum(p.disk_stores) == actions.count(STORE)
            assert sum(map(sum, p.ram_restores)) + sum(map(sum, p.disk_restores)) == actions.count(RESTORE)
            assert all(len(m) <= snapshots for m in p.in_memory)


def test_profiles_with_loop_sites_save_and_predict_alike(model, tmp_path):
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k")).profile(**inputs())
    path = tmp_path / "profile.json"
    profile.save(path)
    data = json.loads(path.read_text())
    assert data["loops"][LOOP]["snapshots"] == 3 and data["loops"][LOOP]["disk_bytes"] > 0
    again = Profile.load(path)
    for placement in [Placement(), Placement([CALL], loops={LOOP: (2, 3)}), Placement([LOOP])]:
        assert again.predict(placement) == profile.predict(placement)
    with pytest.raises(adjoin.AdjoinError, match="does not have"):
        profile.predict(Placement(loops={"cost/loop#9": (2, 0)}))


def test_the_advice_chooses_a_schedule_that_fits_and_runs_as_predicted(model):
    args = inputs(nsteps=30)
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k")).profile(**args)
    default = profile.predict(Placement())
    for factor in (0.5, 1.0, 3.0):
        budget = int(default.peak_tape_bytes * factor)
        advice = profile.advise(memory_budget=budget)
        assert advice.feasible and advice.predicted.peak_tape_bytes <= budget
        run = measured(model.cost, advice.placement, args)
        assert run.peak_tape_bytes == advice.predicted.peak_tape_bytes
        assert advice.placement.checkpointed(LOOP)         # every iteration taped does not fit
    # unlimited: nothing checkpointed, the loop site included (no recomputation at all)
    advice = profile.advise()
    assert not advice.placement.checkpointed(LOOP)


def test_loop_sites_are_rows_of_the_table_against_their_default_schedule(model):
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k")).profile(**inputs())
    row = next(r for r in profile.sites if r.id == LOOP)
    on = profile.predict(Placement())
    off = profile.predict(Placement([LOOP]))
    assert row.delta_pm == off.peak_tape_bytes - on.peak_tape_bytes > 0
    assert row.delta_t == pytest.approx(on.seconds - off.seconds)
    assert row.instances == 1 and profile.simulator.iterations(LOOP) == 12


@pytest.mark.parametrize("nsteps", [0, 1])
def test_a_loop_that_runs_no_or_one_iteration_is_predicted(model, nsteps):
    """A loop run of no iteration is a node without children (its evaluation read the last
    iteration's tape, which there is not)."""
    args = inputs(nsteps=nsteps)
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k")).profile(**args)
    for placement in (Placement(), Placement(loops={LOOP: (2, 1)}), Placement([LOOP]), Placement([CALL])):
        assert profile.predict(placement).peak_tape_bytes == measured(model.cost, placement, args).peak_tape_bytes
