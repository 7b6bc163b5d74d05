"""The time model's tape-traffic term (profiling/traffic.py): its arithmetic, its calibration, and
the simulator charging it to each placement's stack episodes.  No wall-clock time is asserted:
calibrated costs are only checked to be finite, non-negative and non-decreasing."""
import copy
import json
import math

import numpy as np
import pytest

import adjoin
from adjoin.profiling import traffic as tr
from adjoin.profiling.model import Simulator
from adjoin.profiling.profile import Profile
from adjoin.profiling.traffic import TrafficCost
from adjoin.profiling.tree import Child, Node

MiB = 1 << 20


def test_per_byte_is_zero_below_the_first_depth_interpolated_in_log_and_flat_beyond():
    cost = TrafficCost(8, (MiB, 4 * MiB, 16 * MiB), (0.0, 1e-9, 3e-9))
    assert cost.per_byte(1000) == 0.0 and cost.per_byte(MiB) == 0.0
    assert cost.per_byte(2 * MiB) == pytest.approx(0.5e-9)          # half way in log(depth)
    assert cost.per_byte(4 * MiB) == pytest.approx(1e-9)
    assert cost.per_byte(8 * MiB) == pytest.approx(2e-9)
    assert cost.per_byte(64 * MiB) == 3e-9
    assert cost(8 * MiB) == pytest.approx(8 * MiB * 2e-9)
    assert TrafficCost()(10 ** 9) == 0.0
    assert TrafficCost.from_json(json.loads(json.dumps(cost.to_json()))) == cost


def test_depths_to_calibrate():
    assert tr.depths_to_calibrate(tr.SHALLOW - 1) == ()
    depths = tr.depths_to_calibrate(100 * MiB)
    assert depths[0] == tr.HOT_DEPTH and depths[-1] == 100 * MiB
    assert all(b == a * tr.FACTOR for a, b in zip(depths[:-2], depths[1:-1]))
    assert depths[-2] < depths[-1] <= depths[-2] * tr.FACTOR
    assert tr.depths_to_calibrate(10 ** 12)[-1] == tr.MAX_DEPTH
    # never more than a share of the memory available
    assert tr.depths_to_calibrate(10 ** 12, memory=64 * MiB)[-1] == 16 * MiB
    assert tr.depths_to_calibrate(10 ** 12, memory=8 * MiB) == ()


@pytest.mark.parametrize("value_bytes", [8, 4096])
def test_calibration_gives_finite_non_negative_non_decreasing_costs(value_bytes):
    cost = tr.calibrate(8 * MiB, value_bytes, rounds=1)
    assert cost.depths == tr.depths_to_calibrate(8 * MiB)
    assert cost.value_bytes == value_bytes
    assert len(cost.extra) == len(cost.depths) and cost.extra[0] == 0.0
    assert all(math.isfinite(x) and x >= 0 for x in cost.extra)
    assert list(cost.extra) == sorted(cost.extra)
    assert cost.seconds > 0
    assert tr.calibrate(MiB, 4096) == TrafficCost(4096)          # shallow: nothing to measure


def _tree():
    """root (own 100 bytes, 1 s) -> a (site "r/a#1", twice; S 10, Tj 1000, Ts 1500) -> b (site
    "a/b#1"; S 5, Tj 200, Ts 300)."""
    b = Node("a/b#1", "b", S=5, Tj=200, Ts=300, P=0.1, F=0.1, B=0.1, L=0.01)
    a = Node("r/a#1", "a", S=10, Tj=1000, Ts=1500, P=0.5, F=0.5, B=0.5, L=0.05,
             children=[Child(b, 50)])
    return Node("", "root", Tj=100, Ts=100, F=1.0, B=1.0, children=[Child(a, 100, count=2)])


# one second per byte of every episode (every depth above 1 byte)
LINEAR = TrafficCost(8, (1, 10 ** 15), (1.0, 1.0))


def _episodes(off):
    """Bytes of the stack episodes of each placement, by hand: the root, and each checkpointed
    instance's own forward sweep (its Tape in joint mode)."""
    a_off, b_off = "r/a#1" in off, "a/b#1" in off
    tape_b_split = 300
    tape_a = (1500 if a_off else 1000) + (tape_b_split if b_off else 5)
    episodes = {"root": 100 + 2 * (tape_a if a_off else 10)}
    b_episodes_per_a = 0 if b_off else 200
    if not a_off:
        episodes["a"] = 2 * tape_a
    episodes["b"] = 2 * b_episodes_per_a
    return sum(episodes.values())


@pytest.mark.parametrize("profiled", [(), ("r/a#1",), ("a/b#1",), ("r/a#1", "a/b#1")])
def test_the_simulator_charges_each_episode_its_tape_and_takes_the_profiled_ones_out(profiled):
    plain = Simulator(_tree())
    charged = Simulator(_tree(), LINEAR, frozenset(profiled))
    assert charged.profiled_traffic == _episodes(set(profiled))
    for off in ((), ("r/a#1",), ("a/b#1",), ("r/a#1", "a/b#1")):
        expected = plain.evaluate(set(off)).seconds + _episodes(set(off)) - _episodes(set(profiled))
        assert charged.traffic_seconds(set(off)) == _episodes(set(off))
        assert charged.evaluate(set(off)).seconds == pytest.approx(expected)
        assert charged.evaluate(set(off)).peak_tape_bytes == plain.evaluate(set(off)).peak_tape_bytes
    # the profiled placement is predicted at the time measured (the tree's)
    assert charged.evaluate(set(profiled)).seconds == pytest.approx(plain.evaluate(set(profiled)).seconds)


def test_a_shallow_cost_changes_nothing():
    shallow = TrafficCost(8, (10 ** 9, 10 ** 10), (0.0, 1.0))        # every episode shallower
    for off in ((), ("r/a#1",), ("r/a#1", "a/b#1")):
        assert Simulator(_tree(), shallow, ("a/b#1",)).evaluate(set(off)) == Simulator(_tree()).evaluate(set(off))


SOURCE = '''
import numpy as np

def step(u, c):
    w = np.sin(u) * c
    return u + 0.1 * w * w

def run(u0, c, n):
    u = u0.copy()
    for k in range(n):
        u = step(u, c)
    return np.sum(u * u)
'''


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    import importlib.util
    import sys
    path = tmp_path_factory.mktemp("traffic") / "traffic_model.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("traffic_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["traffic_model"] = module
    spec.loader.exec_module(module)
    return module


def test_profiles_calibrate_save_and_predict_alike_from_any_placement(model, tmp_path):
    # 64 steps of a 16 KiB state, every site off: a tape of a few MiB, deeper than SHALLOW
    args = dict(u0=np.linspace(0, 1, 2048), c=0.5, n=600)
    ids = [s.id for s in adjoin.checkpoint_sites(model.run, example=args)]
    profiles = {}
    for name, off in (("default", []), ("off", ids)):
        adj = adjoin.adjoint(model.run, wrt="u0", placement=adjoin.Placement(off))
        profiles[name] = adj.profile(**copy.deepcopy(args))
    for name, profile in profiles.items():
        cost = profile.traffic
        assert cost.value_bytes == 2048 * 8, name         # the state: most of the tape's bytes
        assert cost.depths and all(math.isfinite(x) and x >= 0 for x in cost.extra)
        path = tmp_path / f"{name}.json"
        profile.save(path)
        again = Profile.load(path)
        assert json.loads(path.read_text())["version"] == 6 and again.traffic == cost
        for off in ([], ids):
            prediction = profile.predict(adjoin.Placement(off))
            assert again.predict(adjoin.Placement(off)) == prediction
            assert math.isfinite(prediction.seconds) and prediction.seconds > 0
    # peaks are exact from either profile
    for off in ([], ids):
        peaks = {p.predict(adjoin.Placement(off)).peak_tape_bytes for p in profiles.values()}
        assert len(peaks) == 1
    # the every-site-off episode is the deepest: it is charged, and the default's much less
    off_profile = profiles["off"]
    assert off_profile.simulator.traffic_seconds(set(ids)) >= off_profile.simulator.traffic_seconds(set())


def test_every_site_off_estimates_primal_times_from_the_heads_primal():
    from adjoin.profiling.tree import advances_measured, estimate_unmeasured
    b = Node("a/b#1", "b", measured_joint=False, S=5, Tj=200, Ts=300, F=0.2, B=0.1)
    a = Node("r/a#1", "a", measured_joint=False, S=10, Tj=1000, Ts=1500, F=0.5, B=0.5,
             children=[Child(b, 50)])
    root = Node("", "root", Tj=100, Ts=100, F=0.3, B=1.0, children=[Child(a, 100, count=2)])
    assert not advances_measured(root)
    forward = 0.3 + 2 * (0.5 + 0.2)            # the root's whole forward sweep
    ratio = estimate_unmeasured(root, primal_seconds=0.7)
    assert ratio == pytest.approx(0.7 / forward)
    assert a.P == pytest.approx(ratio * 0.7) and b.P == pytest.approx(ratio * 0.2)
    assert not a.P_measured and a.R == a.W
    assert estimate_unmeasured(root) == 1.0 and a.P == pytest.approx(0.7)    # nothing to go by
    a.measured_joint, a.P = True, 0.35
    assert advances_measured(root)
    # an advance measured: its ratio P / forward sweep wins over the head's primal
    assert estimate_unmeasured(root, primal_seconds=10.0) == pytest.approx(0.35 / 0.7)


def test_a_profile_under_every_site_off_times_the_primal(model):
    args = dict(u0=np.linspace(0, 1, 64), c=0.5, n=20)
    ids = [s.id for s in adjoin.checkpoint_sites(model.run, example=args)]
    profile = adjoin.adjoint(model.run, wrt="u0", placement=adjoin.Placement(ids)).profile(**args)
    assert profile.primal_ratio != 1.0 and 0 < profile.primal_ratio < math.inf


def test_median_tree_takes_each_nodes_median_time_over_runs():
    from adjoin.profiling.tree import median_tree
    trees = []
    for k, scale in enumerate((1.0, 3.0, 2.0)):
        tree = _tree()
        a = tree.children[0].node
        a.P, a.children[0].node.B, tree.F = scale, 10 * scale, 100 * scale
        trees.append(tree)
    merged = median_tree(trees)
    assert merged is trees[0]
    a = merged.children[0].node
    assert (a.P, a.children[0].node.B, merged.F) == (2.0, 20.0, 200.0)
    other = _tree()
    other.children[0].node.Tj += 8                      # another structure: left alone
    assert median_tree([other, _tree()]).children[0].node.P == 0.5
    assert median_tree([other]) is other


def test_the_traffic_scale_is_fitted_to_a_run_of_the_other_extreme():
    from dataclasses import replace
    cost = replace(LINEAR, extra=(1e-3, 1e-3))          # a millisecond a byte
    simulator = Simulator(_tree(), cost, frozenset())
    every = frozenset({"r/a#1", "a/b#1"})
    assert tr.other_extreme(simulator, frozenset(), sorted(every)) == every
    difference = (_episodes(every) - _episodes(set())) * 1e-3
    without = Simulator(_tree()).evaluate(every).seconds
    for scale in (0.0, 0.5, 2.0):
        fitted = tr.fit_scale(cost, simulator, every, without + scale * difference)
        assert fitted.scale == pytest.approx(scale)
        again = Simulator(_tree(), fitted, frozenset()).evaluate(every).seconds
        assert again == pytest.approx(without + scale * difference)
    assert tr.fit_scale(cost, simulator, every, without - difference).scale == tr.SCALE_RANGE[0]
    assert tr.fit_scale(cost, simulator, every, without + 9 * difference).scale == tr.SCALE_RANGE[1]
    # nothing to learn when the placements' traffic is the same
    assert tr.fit_scale(TrafficCost(), simulator, every, 5.0) == TrafficCost()
    assert TrafficCost.from_json(replace(cost, scale=2.5).to_json()).scale == 2.5
    assert replace(cost, scale=2.0)(10) == pytest.approx(2 * cost(10))


def test_the_traffic_scale_is_not_fitted_to_a_difference_within_the_noise_of_the_run():
    """Shallow water at size 0.3: the traffic of every site off differs from the default's by
    2.2-2.8 % of its time, and four profiles in a row fitted scales 4.00, 4.00, 0.99 and 3.23 (a
    loaded machine, paired runs spread by more than that): the fit learnt the noise."""
    from dataclasses import replace
    cost = replace(LINEAR, extra=(1e-3, 1e-3))
    simulator = Simulator(_tree(), cost, frozenset())
    every = frozenset({"r/a#1", "a/b#1"})
    difference = (_episodes(every) - _episodes(set())) * 1e-3
    without = Simulator(_tree()).evaluate(every).seconds
    other = without + 2.0 * difference
    share = difference / other                          # the traffic's share of the other's time
    assert tr.fit_scale(cost, simulator, every, other, noise=share / 2).scale == pytest.approx(2.0)
    assert tr.fit_scale(cost, simulator, every, other, noise=2 * share) == cost      # within the noise
    # the noise of paired runs: half the range of the ratios other / profiled, over their median
    assert tr.pair_noise([1.0, 1.0, 1.0], [2.0, 2.2, 1.8]) == pytest.approx(0.1)
    assert tr.pair_noise([1.0, 2.0], [2.0, 4.0]) == 0.0                 # drift shared by a pair
    assert tr.pair_noise([1.0], [2.0]) == 0.0                           # one pair: unknown


@pytest.mark.parametrize("name, size", [("burgers", 0.3), ("shallow_water", 0.15)])
def test_profiles_under_the_default_every_site_off_and_the_advice_predict_each_other(name, size):
    from pathlib import Path
    from adjoin.case import load_case
    case = load_case(Path(__file__).resolve().parents[1] / "examples" / name / "case.toml", [f"size={size}"])
    args = case.build_inputs()
    ids = [s.id for s in adjoin.checkpoint_sites(case.head, example=args)]

    def profile_of(off):
        adj = adjoin.adjoint(case.head, wrt=case.wrt, placement=adjoin.Placement(sorted(off)))
        return adj.profile(**copy.deepcopy(args), keep_events=False)
    default = profile_of(())
    advice = frozenset(default.advise(int(1.5 * default.peak_tape_bytes)).placement.nocheckpoint)
    profiles = [default, profile_of(ids), profile_of(advice)]
    rng = np.random.default_rng(3)
    placements = [frozenset(), frozenset(ids), advice] + [frozenset(i for i in ids if rng.random() < 0.5)
                                                         for _ in range(3)]
    for off in placements:
        run = adjoin.adjoint(case.head, wrt=case.wrt, placement=adjoin.Placement(sorted(off))).measure(
            **copy.deepcopy(args))
        predictions = [p.predict(adjoin.Placement(off)) for p in profiles]
        assert {p.peak_tape_bytes for p in predictions} == {run.peak_tape_bytes}, sorted(off)
        assert all(math.isfinite(p.seconds) and p.seconds > 0 for p in predictions)
    for profile in profiles:        # the profiled placement: at the plain run it was fitted to
        assert profile.predict(adjoin.Placement(profile.profiled_off)).seconds == pytest.approx(profile.seconds)
