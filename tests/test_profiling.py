"""Profiling: the checkpoint tree, ΔT and ΔPM, predictions of every placement, the trace file."""
import copy
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import adjoin
import conformance_programs
from adjoin.profiling.profile import Profile

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "programs"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

HAND = '''
import numpy as np


def f(x):
    t = np.sin(x)
    t = t * t
    return np.sum(t)


def g(y):
    s = np.cos(y)
    s = s * s
    return np.sum(s)


def h(x):
    a = f(x)
    b = g(x)
    return a + b


def inner(x):
    u = np.sin(x)
    u = u * u
    return u


def middle(x):
    v = inner(x)
    return np.sum(v)


def outer(x):
    w = middle(x)
    return w * 2.0


def nested(x):
    return outer(x)


def looped(x, n):
    total = 0.0
    for k in range(n):
        total = total + f(x)
    return total


def fragment(x):
    y = x * 2.0
    # $AD CHECKPOINT-START
    z = np.sin(y)
    z = z * z
    # $AD CHECKPOINT-END
    return np.sum(z)
'''


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    path = tmp_path_factory.mktemp("hand") / "hand_model.py"
    path.write_text(HAND)
    spec = importlib.util.spec_from_file_location("hand_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["hand_model"] = module
    spec.loader.exec_module(module)
    return module


X = np.linspace(0.1, 1.0, 10)        # one array: 80 bytes on the tape
ARRAY = 80


def measured(fn, wrt, args, off):
    return adjoin.adjoint(fn, wrt=wrt, placement=adjoin.Placement(off)).measure(**copy.deepcopy(args)).peak_tape_bytes


def by_id(profile):
    return {row.id: row for row in profile.sites}


def test_head_calling_f_then_g(hand):
    # f and g each push their array once (t = t * t needs the old t): Tj = 80.  A split forward
    # sweep also pushes the array alive at its turn (np.sum(t) needs t in the backward sweep):
    # Ts = 160.  Snapshots are empty (they only read x).  All checkpointed: each reversal peaks
    # at 80 on an empty tape -> 80.  f split: its 160 stay on the tape while g reverses (80) -> 240,
    # ΔPM(f) = 160.  g split: 160 at the head's turn -> ΔPM(g) = 80.
    profile = adjoin.adjoint(hand.h, wrt="x").profile(x=X)
    rows = by_id(profile)
    assert profile.peak_tape_bytes == ARRAY
    assert rows["h/f#1"].delta_pm == 2 * ARRAY
    assert rows["h/g#1"].delta_pm == ARRAY
    assert rows["h/f#1"].instances == rows["h/g#1"].instances == 1
    assert measured(hand.h, "x", dict(x=X), ["h/f#1"]) == 3 * ARRAY
    assert measured(hand.h, "x", dict(x=X), ["h/g#1"]) == 2 * ARRAY
    # ΔT: the advance and snapshot traffic of its one instance, less the time its split forward
    # sweep would spend pushing t (and its backward sweep popping it), which joint mode does not
    nodes = {child.node.site: child.node for child in profile.tree.children}
    for row in profile.sites:
        node = nodes[row.id]
        assert node.L > 0
        assert row.delta_t == pytest.approx(node.W + node.P + node.R - node.L, rel=1e-9)


def test_nested_calls(hand):
    # inner pushes u (80) when joint; split adds nothing at its turn (result = u needs no value).
    # middle: its turn needs v (np.sum's shape) -> split pushes 80.  outer works on scalars.
    profile = adjoin.adjoint(hand.nested, wrt="x").profile(x=X)
    rows = by_id(profile)
    assert set(rows) == {"nested/outer#1", "outer/middle#1", "middle/inner#1"}
    assert profile.peak_tape_bytes == ARRAY
    for site, row in rows.items():
        assert row.delta_pm == measured(hand.nested, "x", dict(x=X), [site]) - ARRAY, site
    # inner off alone: inner_fwd leaves u (80) on the tape, popped by inner_bwd before anything else
    # pushes: peak 80, ΔPM 0.  middle off alone: middle_fwd ends by pushing v (80), which
    # middle_bwd pops before inner's joint reversal pushes its own 80: peak 80, ΔPM 0, but the
    # tape at outer's turn grows by 80 (ΔPM at the next turn).
    assert rows["middle/inner#1"].delta_pm == 0
    assert rows["outer/middle#1"].delta_pm == 0
    assert rows["outer/middle#1"].delta_pm_turn == ARRAY


def test_site_in_a_loop(hand):
    n = 5
    profile = adjoin.adjoint(hand.looped, wrt="x").profile(x=X, n=n)
    row = by_id(profile)["looped/f#1"]
    assert row.instances == n
    # split: every instance keeps its Ts = 160 on the tape until the loop is reversed; the last
    # instance's reversal happens on top of the 4 others: 4 * 160 + 160 = 800
    assert profile.peak_tape_bytes == ARRAY
    assert row.delta_pm == n * 2 * ARRAY - ARRAY
    assert measured(hand.looped, "x", dict(x=X, n=n), ["looped/f#1"]) == n * 2 * ARRAY
    # ΔT sums the instances: for n instances, the advance time spared less the pushes of the
    # locals a split f must save (t, 80 bytes) and pop
    leaf = profile.tree.children[0]
    assert leaf.count == n and leaf.node.L > 0
    assert row.delta_t == pytest.approx(n * (leaf.node.W + leaf.node.P + leaf.node.R - leaf.node.L), rel=1e-9)


def test_fragment_site(hand):
    profile = adjoin.adjoint(hand.fragment, wrt="x").profile(x=X)
    rows = by_id(profile)
    assert list(rows) == ["fragment/fragment#1"]
    row = rows["fragment/fragment#1"]
    # the fragment reads y, which nothing overwrites: empty snapshot.  Joint or split it pushes z
    # once (z = z * z needs the old z); nothing of it is alive at its turn (its result z is the
    # head's, which the head keeps), so Tj = Ts = 80 and turning it off changes no peak: ΔPM = 0
    assert profile.peak_tape_bytes == ARRAY
    assert row.delta_pm == measured(hand.fragment, "x", dict(x=X), [row.id]) - ARRAY == 0
    assert row.instances == 1 and row.delta_t > 0
    assert profile.tree.children[0].node.L == 0.0       # no split locals: nothing to time


def _conformance(name):
    module, args = conformance_programs.load(name, "prof")
    return module.HEAD, module.WRT, args


def _example(name, size):
    from adjoin.case import load_case
    case = load_case(EXAMPLES / name / "case.toml", [f"size={size}"])
    return case.head, case.wrt, case.build_inputs()


PROGRAMS = [("conformance", p) for p in ("p16", "p17", "p18", "p19", "p22", "p23", "p24", "p25", "p26",
                                         "p30", "p31")]
PROGRAMS += [("example", ("burgers", 0.3)), ("example", ("lorenz96", 0.3)), ("example", ("shallow_water", 0.15))]


@pytest.mark.parametrize("kind, which", PROGRAMS, ids=[str(w) for _, w in PROGRAMS])
def test_delta_pm_is_the_measured_change_and_predictions_are_exact(kind, which):
    head, wrt, args = _conformance(which) if kind == "conformance" else _example(*which)
    ids = [s.id for s in adjoin.checkpoint_sites(head)]
    profile = adjoin.adjoint(head, wrt=wrt).profile(**copy.deepcopy(args), warmup=False)
    base = profile.peak_tape_bytes
    assert profile.predict(adjoin.Placement()).peak_tape_bytes == base
    rng = np.random.default_rng(7)
    for row in profile.sites[:12]:
        assert row.delta_pm == measured(head, wrt, args, [row.id]) - base, row.id
    for _ in range(3):
        off = [i for i in ids if rng.random() < 0.5]
        assert profile.predict(adjoin.Placement(off)).peak_tape_bytes == measured(head, wrt, args, off)
    split = adjoin.adjoint(head, wrt=wrt, placement=adjoin.Placement(ids)).profile(**copy.deepcopy(args),
                                                                                   warmup=False)
    assert split.predict(adjoin.Placement()).peak_tape_bytes == base
    assert split.predict(adjoin.Placement(ids)).peak_tape_bytes == split.peak_tape_bytes


def test_profile_file_round_trip_and_trace(hand, tmp_path):
    profile = adjoin.adjoint(hand.h, wrt="x").profile(x=X)
    path = tmp_path / "profile.json"
    profile.save(path)
    again = Profile.load(path)
    assert [r.id for r in again.sites] == [r.id for r in profile.sites]
    for off in ([], ["h/f#1"], ["h/g#1"], ["h/f#1", "h/g#1"]):
        assert again.predict(adjoin.Placement(off)) == profile.predict(adjoin.Placement(off))
    data = json.loads(path.read_text())
    assert data["format"] == "adjoin-profile" and data["version"] == 6
    from adjoin.profiling.trace import write_trace
    trace_path = tmp_path / "trace.json"
    write_trace(trace_path, profile.events, "h")
    trace = json.loads(trace_path.read_text())
    events = trace["traceEvents"]
    assert all({"ph", "pid", "tid"} <= set(e) for e in events)
    assert all(isinstance(e["ts"], float) for e in events if e["ph"] in ("X", "C", "i"))
    slices = [e for e in events if e["ph"] == "X"]
    assert any(e["name"].startswith("reverse h/f#1") for e in slices)
    assert all(e["dur"] >= 0 for e in slices)
    counters = [e for e in events if e["ph"] == "C"]
    assert max(e["args"]["bytes"] for e in counters) <= profile.peak_tape_bytes


def test_bad_profile_files(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{")
    with pytest.raises(adjoin.AdjoinError, match="invalid JSON"):
        Profile.load(path)
    path.write_text(json.dumps({"format": "adjoin-profile", "version": 99}))
    with pytest.raises(adjoin.AdjoinError, match="version 99"):
        Profile.load(path)
    with pytest.raises(adjoin.AdjoinError, match="no such profile"):
        Profile.load(tmp_path / "missing.json")


def test_the_tree_stays_small_on_long_runs(hand):
    # 400 instances of f in a loop: the builder merges each finished instance into the run of its
    # identical successors, so the tree holds one node for them, not 400
    profile = adjoin.adjoint(hand.looped, wrt="x").profile(x=X, n=400, keep_events=False)
    assert profile.events is None
    assert len(profile.tree.children) == 1 and profile.tree.children[0].count == 400
    assert by_id(profile)["looped/f#1"].instances == 400


def test_a_local_bound_in_a_branch_not_taken_is_profiled(tmp_path):
    """The turn's profiling hook measures the locals a split forward sweep would push; one bound
    only in a branch that did not run was read unbound there (an internal UnboundLocalError in
    every profile of such a function: found by the random programs with loop sites)."""
    path = tmp_path / "branchy.py"
    path.write_text("import numpy as np\n\n\ndef step(x, n):\n    if n == 1:\n        u = np.tanh(x)\n"
                    "        x = x + u\n    return np.sum(x * x)\n\n\n"
                    "def f(x, n):\n    y = x.copy()\n    if n == 1:\n        u = np.tanh(y)\n        y = y + u\n"
                    "    return np.sum(y * y) + step(y, n)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import branchy
    finally:
        sys.path.remove(str(tmp_path))
    for off in ([], ["f/step#1"]):
        adj = adjoin.adjoint(branchy.f, wrt="x", placement=adjoin.Placement(off))
        for n in (1, 2):
            profile = adj.profile(x=np.linspace(0.1, 1.0, 5), n=n)
            run = adj.measure(x=np.linspace(0.1, 1.0, 5), n=n)
            assert profile.predict(adjoin.Placement(off)).peak_tape_bytes == run.peak_tape_bytes
