"""The profiling recorder: its own time left out of the clocks, batches, the helper process, times fitted to a plain run."""
import copy
import importlib.util
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adjoin
from adjoin.profiling.worker import TreeProcess
from adjoin.runtime.profiler import Recorder

ALTERNATING = '''
import numpy as np


def f(x):
    return np.sum(np.sin(x) ** 2)


def g(x):
    return np.sum(np.cos(x) ** 2)


def alternating(x, n):
    total = 0.0
    for k in range(n):
        total = total + f(x)
        total = total + g(x)
    return total


def looped(x, n):
    total = 0.0
    for k in range(n):
        total = total + f(x)
    return total


def quartic(x):
    t = x * x
    return np.sum(t * t)


def quartics(x, n):
    total = 0.0
    for k in range(n):
        total = total + quartic(x)
    return total


def bump(a):
    a[:] = np.sin(a) * 2.0


def both(x):
    y = x * 1.0
    bump(y)
    return f(y) + np.sum(y)
'''


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("alternating") / "alternating_model.py"
    path.write_text(ALTERNATING)
    spec = importlib.util.spec_from_file_location("alternating_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["alternating_model"] = module
    spec.loader.exec_module(module)
    return module


class TickingClock:
    """A clock that moves only when read: every hook then costs the same, and nothing else runs."""

    def __init__(self, tick):
        self.now = 1000.0
        self.tick = tick

    def __call__(self):
        self.now += self.tick
        return self.now


class Tape:
    bytes = 0


# hook calls, and the kinds generated code records inline
HOOKS = ["end_advance", "end_reverse", "turn", "begin_split", "end_split", "split_turn", "end_split_reverse",
         "snapshot-write", "begin-advance", "snapshot-read", "begin-reverse", "begin-split-reverse",
         "turn-inline", "split-turn-inline"]


def record(recorder, hook, tape):
    """Records one event as generated code does: an inline statement or a hook call."""
    from adjoin.runtime.profiler import INLINE_STATEMENT
    if "_" in hook:
        arguments = ("site", tape, (np.zeros(3),)) if hook in ("turn", "split_turn", "begin_split") else ("site", tape)
        getattr(recorder, hook)(*arguments)
    else:
        exec(INLINE_STATEMENT.format(kind=hook.replace("-inline", ""), site="site"),
             {"prof": recorder, "tape": tape})


class Batches:
    def __init__(self):
        self.batches = []

    def feed(self, events, header):
        self.batches.append((list(events), header))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(HOOKS), min_size=1, max_size=60), st.integers(1, 7),
       st.sampled_from([1e-6, 3e-7, 0.25]))
def test_time_stamps_leave_the_recorder_out(hooks, batch, tick):
    # nothing runs between the hooks: every time stamp, with the recorder's own time left out
    # (calls, measurements in hooks, batches handed over), is the same, whatever the batch size
    clock = TickingClock(tick)
    sink = Batches()
    recorder = Recorder(clock=clock, sink=sink, keep=True, batch=batch)
    tape = Tape()
    for hook in hooks:
        record(recorder, hook, tape)
    recorder.flush()
    stamps = [event[3] for event in recorder.events]
    assert len(stamps) == len(hooks)
    # what is not left out: a tick or two of calibration, and one read of the clock per batch
    # handed over (a tick here, some 50 ns per batch on a real clock)
    slack = (2 + len(sink.batches)) * tick
    assert max(stamps) - min(stamps) <= slack
    assert abs(recorder.elapsed() - stamps[-1]) <= slack
    # the sink saw every event once, in order; a batch is handed over at the end of an instance
    # once it holds ``batch`` events (the last one when the run is over)
    seen = [event for events, _ in sink.batches for event in events]
    assert [e[0] for e in seen] == [e[0] for e in recorder.events]
    for events, _ in sink.batches[:-1]:
        assert len(events) >= batch and events[-1][0].startswith("end-")
        assert not any(e[0].startswith("end-") for e in events[batch - 1:-1])


def shape(node):
    return (node.site, node.S, node.Tj, node.Ts,
            tuple((shape(c.node), c.own_before, c.count) for c in node.children))


def test_the_helper_process_builds_the_same_tree(model):
    adj = adjoin.adjoint(model.alternating, wrt="x")
    x = np.linspace(0.1, 1.0, 10)
    here = adj.profile(x=x, n=5, background=False)
    there = adj.profile(x=x, n=5, background=True)
    assert shape(here.tree) == shape(there.tree)
    assert [(r.id, r.delta_pm, r.instances) for r in here.sites] == \
        [(r.id, r.delta_pm, r.instances) for r in there.sites]


def test_identical_subtrees_are_one_node(model):
    # f, g, f, g, ...: no run of identical siblings to merge, but every f is the same subtree
    profile = adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(4), n=30)
    children = profile.tree.children
    assert len(children) == 60
    assert len({id(c.node) for c in children}) == 2
    rows = {r.id: r for r in profile.sites}
    assert rows["alternating/f#1"].instances == 30


def test_a_failing_helper_is_reported():
    sink = TreeProcess()
    try:
        sink.process.kill()
        sink.process.wait()
        with pytest.raises(adjoin.AdjoinError, match="helper process failed.*background=False"):
            sink.feed([("turn", "h", 0, 0.0, 0, 0.0)] * 20000, (0.0, 0.0, 0, 0.0))
            sink.finish(1.0)
    finally:
        sink.close()


def test_in_process_and_helper_trees_predict_the_same_peaks(model):
    adj = adjoin.adjoint(model.looped, wrt="x")
    x = np.ones(8)
    for background in (False, True):
        profile = adj.profile(x=copy.deepcopy(x), n=50, background=background, keep_events=False)
        assert profile.tree.children[0].count == 50
        measured = adjoin.adjoint(model.looped, wrt="x", placement=adjoin.Placement(["looped/f#1"]))
        assert profile.predict(adjoin.Placement(["looped/f#1"])).peak_tape_bytes == \
            measured.measure(x=x, n=50).peak_tape_bytes


def test_profile_files_hold_each_distinct_node_once_and_versions_1_and_2_still_read(model, tmp_path):
    import json
    from adjoin.profiling.profile import Profile
    profile = adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(4), n=30)
    path = tmp_path / "profile.json"
    profile.save(path)
    data = json.loads(path.read_text())
    assert data["version"] == 6
    assert len(data["tree"]["nodes"]) == 3              # f, g and the head
    placements = ([], ["alternating/f#1"], ["alternating/g#1"], ["alternating/f#1", "alternating/g#1"])
    again = Profile.load(path)
    for off in placements:
        assert again.predict(adjoin.Placement(off)) == profile.predict(adjoin.Placement(off))

    # versions 1 and 2 have no L (split locals' pushes): read as 0
    for node in data["tree"]["nodes"]:
        node["L"] = 0.0
    zero = tmp_path / "zero.json"
    zero.write_text(json.dumps(data))
    expected = [Profile.load(zero).predict(adjoin.Placement(off)) for off in placements]
    for node in data["tree"]["nodes"]:
        del node["L"]
    del data["loops"]                                   # version 6's loop sites (none here)
    del data["traffic"]                                 # version 5's tape traffic (none here)
    del data["sources"]                                 # version 4's absolute paths
    for row in data["sites"]:
        del row["file_given"]
    data["version"] = 2
    old = tmp_path / "version2.json"
    old.write_text(json.dumps(data))
    assert [Profile.load(old).predict(adjoin.Placement(off)) for off in placements] == expected

    def nested(index):
        node = dict(data["tree"]["nodes"][index])
        node["children"] = [[own, count, nested(k)] for own, count, k in node["children"]]
        return node
    data["version"] = 1
    data["tree"] = nested(data["tree"]["root"])
    old = tmp_path / "version1.json"
    old.write_text(json.dumps(data))
    assert [Profile.load(old).predict(adjoin.Placement(off)) for off in placements] == expected


def test_a_damaged_profile_file_is_a_usage_error(model, tmp_path):
    import json
    from adjoin.profiling.profile import Profile
    path = tmp_path / "profile.json"
    adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(4), n=3).save(path)
    data = json.loads(path.read_text())
    del data["tree"]["nodes"][0]["F"]
    path.write_text(json.dumps(data))
    with pytest.raises(adjoin.AdjoinError, match=r"tree\.nodes\[0\]: missing key 'F'"):
        Profile.load(path)


def test_only_non_empty_snapshots_have_snapshot_events(model):
    # bump updates y after reading it: its snapshot is y; f's snapshot is empty (y is not
    # written after it), so f has no snapshot events, and both have W = R = 0 only for f
    adj = adjoin.adjoint(model.both, wrt="x")
    _, _, recorder, _ = adj.record(x=np.ones(5))
    kinds = {}
    for kind, site, *_ in recorder.events:
        kinds.setdefault(site, []).append(kind)
    assert kinds["both/bump#1"].count("snapshot-write") == 1
    assert kinds["both/bump#1"].count("snapshot-read") == 1
    assert "snapshot-write" not in kinds["both/f#1"] and "snapshot-read" not in kinds["both/f#1"]
    assert kinds["both/f#1"].count("begin-advance") == 1
    profile = adj.profile(x=np.ones(5))
    nodes = {c.node.site: c.node for c in profile.tree.children}
    assert nodes["both/bump#1"].S == 40 and nodes["both/f#1"].S == 0
    assert nodes["both/f#1"].W == 0.0 and nodes["both/f#1"].R == 0.0


def test_fitting_to_a_plain_run_takes_the_overhead_from_the_sweeps():
    from adjoin.profiling.tree import Child, Node, fit_to_plain_run
    leaf = Node("h/f#1", P=2.0, W=0.25, R=0.25, F=0.5, B=0.5, L=0.125)
    split = Node("h/g#1", measured_joint=False, P=1.0, P_measured=False, W=0.1, F=0.5, B=0.5, L=0.5)
    root = Node("", F=1.0, B=1.0, children=[Child(leaf, 0, 2), Child(split, 0)])
    # sweeps: root 2 + f 2 x 1 + g 1 = 5 s; advances and copies of f: 2 x 2.5 = 5 s; g ran split,
    # its locals' pushes took 0.5 s (f's L is what they would take split: not in this run)
    assert fit_to_plain_run(root, 8.0) == pytest.approx(0.5)
    assert (root.F, root.B, leaf.F, leaf.B, split.F) == pytest.approx((0.5, 0.5, 0.25, 0.25, 0.25))
    assert (leaf.P, leaf.W, leaf.R, split.W) == pytest.approx((2.0, 0.25, 0.25, 0.1))
    assert (leaf.L, split.L) == (0.125, 0.5)
    assert split.P == pytest.approx(0.5)          # estimated from sweep times: scaled with them
    # a plain run faster than the advances alone (noise): every time scaled alike
    leaf = Node("h/f#1", P=2.0, F=1.0, B=1.0)
    root = Node("", F=1.0, B=1.0, children=[Child(leaf, 0)])
    assert fit_to_plain_run(root, 1.5) == pytest.approx(0.25)
    assert (leaf.P, leaf.F, root.B) == pytest.approx((0.5, 0.25, 0.25))


def test_the_profiled_placement_is_predicted_at_the_plain_run_time(model):
    profile = adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(50), n=20)
    assert profile.predict(adjoin.Placement()).seconds == pytest.approx(profile.seconds, rel=1e-9)
    # profiled split: the split locals' pushes (t) ran and were timed (L), and F is left as a
    # joint sweep's
    off = adjoin.Placement(["quartics/quartic#1"])
    profile = adjoin.adjoint(model.quartics, wrt="x", placement=off).profile(x=np.ones(50), n=20)
    assert profile.predict(off).seconds == pytest.approx(profile.seconds, rel=1e-9)
    (child,) = profile.tree.children
    assert child.count == 20 and not child.node.measured_joint
    assert child.node.Ts == child.node.Tj + 400 and child.node.L > 0


def test_the_split_locals_pushes_are_timed_on_a_few_turns_per_function():
    from adjoin.runtime.profiler import LOCALS_SAMPLES
    recorder = Recorder(sink=None, keep=True)
    tape = Tape()
    big, small = np.ones(200_000), np.ones(10)
    for _ in range(3 * LOCALS_SAMPLES):
        recorder.turn("f", tape, (big, big))
        recorder.turn("g", tape, (small,))
        recorder.turn("h", tape, ())
    recorder.split_turn("f", tape, (big, big))
    events = recorder.events
    pushing = {site: [e[5] for e in events if e[1] == site] for site in "fgh"}
    # the first LOCALS_SAMPLES turns are timed, the later ones get their median
    assert pushing["f"][LOCALS_SAMPLES:] == [sorted(pushing["f"][:LOCALS_SAMPLES])[LOCALS_SAMPLES // 2]] * \
        (2 * LOCALS_SAMPLES + 1)
    assert min(pushing["f"]) > 0 and min(pushing["g"]) > 0
    assert sum(pushing["f"]) > sum(pushing["g"])         # 3.2 MB copied against 80 bytes
    assert pushing["h"] == [0.0] * (3 * LOCALS_SAMPLES)  # nothing to push
    assert all(e[4] == big.nbytes * 2 for e in events if e[1] == "f")


def test_the_model_charges_split_locals_pushes_to_split_mode_only():
    from adjoin.profiling.model import Simulator
    from adjoin.profiling.tree import Child, Node
    leaf = Node("h/f#1", P=2.0, W=0.25, R=0.125, F=0.5, B=0.5, L=0.75, Tj=8, Ts=16)
    root = Node("", F=1.0, B=1.0, children=[Child(leaf, 0, 3)])
    simulator = Simulator(root)
    on, off = simulator.evaluate(set()), simulator.evaluate({"h/f#1"})
    assert on.seconds == pytest.approx(2.0 + 3 * (2.0 + 0.25 + 0.125 + 1.0))
    assert off.seconds == pytest.approx(2.0 + 3 * (1.0 + 0.75))
    assert on.seconds - off.seconds == pytest.approx(3 * (2.0 + 0.25 + 0.125 - 0.75))


def test_profile_times_the_plain_adjoint_repeat_times(model):
    steps = []
    adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(5), n=3, repeat=3, progress=steps.append)
    # a short adjoint is profiled five times (each node's times the median over the runs)
    assert steps == ["warm-up run"] + [f"timing the adjoint without hooks ({k}/3)" for k in (1, 2, 3)] + \
        ["profiled run"] + [f"profiled run ({k}/5)" for k in (2, 3, 4, 5)]
    steps.clear()       # by default, a short adjoint's plain run is timed five times too
    adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(5), n=3, progress=steps.append)
    assert steps.count("timing the adjoint without hooks") == 5
    for bad in (0, -1, 1.5, True):
        with pytest.raises(adjoin.AdjoinError, match="repeat must be a whole number"):
            adjoin.adjoint(model.alternating, wrt="x").profile(x=np.ones(5), n=3, repeat=bad)


def test_one_stalled_instance_among_identical_ones_does_not_make_delta_t():
    # 50 instances of f alternate with g (merged only when the tree is unified); the machine
    # stalls one advance of f for 0.5 s: f's P stays that of the others
    from adjoin.profiling.tree import TreeBuilder
    from adjoin.runtime import profiler as ev
    events, t = [], 0.0

    def at(kind, site, dt):
        nonlocal t
        t += dt
        events.append((kind, site, 0, t, 0, 0.0))
    at(ev.TURN, "head", 0.0)
    order = []
    for k in range(50):
        for site in ("h/f#1", "h/g#1"):
            at(ev.BEGIN_ADVANCE, site, 1e-6)
            at(ev.END_ADVANCE, site, 0.5 if (site, k) == ("h/f#1", 17) else 2e-5)
            order.append(site)
    builder = TreeBuilder()
    builder.root.turn_t = 0.0
    for site in reversed(order):
        at(ev.BEGIN_REVERSE, site, 1e-6)
        at(ev.TURN, site, 1e-5)
        at(ev.END_REVERSE, site, 1e-5)
    for event in events[1:]:
        builder(*event)
    root, _ = builder.finish(t + 1e-6)
    f = next(c.node for c in root.children if c.node.site == "h/f#1")
    # the stalled instance counts at 10 times the median (2e-5 s) plus 1 ms; the plain mean would
    # be 0.01 s per instance
    assert f.P == pytest.approx((49 * 2e-5 + 10 * 2e-5 + 1e-3) / 50, rel=1e-6)
    g = next(c.node for c in root.children if c.node.site == "h/g#1")
    assert g.P == pytest.approx(2e-5)
