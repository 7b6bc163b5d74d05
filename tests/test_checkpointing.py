"""Checkpointing on the call tree: joint and split modes, snapshots, directives, placements."""
import copy
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adjoin
import conformance_programs
from adjoin.runtime.profiler import BEGIN_ADVANCE, BEGIN_SPLIT, SNAPSHOT_WRITE

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "programs"


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def write_module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return load(path, name)


def conformance(name):
    return conformance_programs.load(name, "ck")


def peak(fn, wrt, args, off):
    return adjoin.adjoint(fn, wrt=wrt, placement=adjoin.Placement(off)).measure(**copy.deepcopy(args)).peak_tape_bytes


@pytest.mark.parametrize("name", ["p22", "p30", "p17", "p18", "p25", "p31"])
def test_checkpointing_everything_lowers_the_peak(name):
    module, args = conformance(name)
    sites = [s.id for s in adjoin.checkpoint_sites(module.HEAD)]
    assert peak(module.HEAD, module.WRT, args, []) < peak(module.HEAD, module.WRT, args, sites)


def snapshot_bytes(recorder):
    """Bytes pushed between each snapshot-write and the begin-advance that follows, per site."""
    out = {}
    pending = {}
    for kind, site, nbytes, _, extra, _ in recorder.events:
        if kind == SNAPSHOT_WRITE:
            pending[site] = nbytes
        elif kind == BEGIN_ADVANCE:      # no snapshot-write before it: an empty snapshot
            out.setdefault(site, []).append(nbytes - pending.pop(site, nbytes))
        elif kind == BEGIN_SPLIT:
            out.setdefault(site, []).append(extra)
    return out


SNAPSHOTS = '''
import numpy as np


def pure(x):
    return np.sin(x) * 2.0


def update(a, b, w):
    a[:] = np.sin(a) * w + b


def fill(out, x):
    out[:] = x * x


def f(a0, b0, w):
    a = a0.copy()
    b = b0.copy()
    out = np.zeros_like(a)
    y = pure(a)
    fill(out, b)
    for k in range(3):
        update(a, b, w)
        b = b * 0.9 + a * 0.1
        w = w * 1.01
    return np.sum(a * b) + w + np.sum(y) + np.sum(out)
'''


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    return write_module(tmp_path_factory.mktemp("snap"), "snapshots_model", SNAPSHOTS)


def snapshot_args():
    rng = np.random.default_rng(3)
    return dict(a0=rng.normal(size=6), b0=rng.normal(size=6), w=0.7)


@pytest.mark.parametrize("off", [[], ["f/update#1", "f/pure#1", "f/fill#1"]])
def test_snapshots_are_minimal(snapshots, off):
    adj = adjoin.adjoint(snapshots.f, wrt=("a0", "b0", "w"), placement=adjoin.Placement(off))
    _, _, recorder, _ = adj.record(**snapshot_args())
    sizes = snapshot_bytes(recorder)
    assert sizes["f/pure#1"] == [0]          # reads a, which nothing overwrites before the reversal
    assert sizes["f/fill#1"] == [0]          # writes out without reading it: nothing to restore
    assert sizes["f/update#1"] == [48] * 3   # exactly the array it overwrites (6 floats); b and w,
                                             # overwritten later, are the caller's own pushes


def test_a_checkpointed_call_runs_its_primal_once_more(tmp_path, capsys):
    module = write_module(tmp_path, "counting_model", '''
import numpy as np


def g(x):
    print("g runs")
    return np.sin(x)


def f(x):
    y = x.copy()
    for k in range(4):
        y = g(y)
    return np.sum(y)
''')
    x = np.linspace(0.1, 0.5, 3)
    capsys.readouterr()
    module.f(x)
    assert capsys.readouterr().out.count("g runs") == 4
    adjoin.value_and_grad(module.f, wrt="x")(x)
    assert capsys.readouterr().out.count("g runs") == 8       # advance, then its own forward sweep
    adjoin.value_and_grad(module.f, wrt="x", placement=adjoin.Placement(["f/g#1"]))(x)
    assert capsys.readouterr().out.count("g runs") == 4       # split: no advance


def test_advance_events_count_instances(snapshots):
    adj = adjoin.adjoint(snapshots.f, wrt=("a0",))
    _, _, recorder, _ = adj.record(**snapshot_args())
    advances = [e for e in recorder.events if e[0] == BEGIN_ADVANCE and e[1] == "f/update#1"]
    assert len(advances) == 3
    adj = adjoin.adjoint(snapshots.f, wrt=("a0",), placement=adjoin.Placement(["f/update#1"]))
    _, _, recorder, _ = adj.record(**snapshot_args())
    assert not [e for e in recorder.events if e[0] == BEGIN_ADVANCE and e[1] == "f/update#1"]


DIRECTIVES = '''
import numpy as np


def step(x, c):
    return x + c * np.roll(x, 1)


def f(x, c):
    # $AD NOCHECKPOINT
    x = step(x, c)
    x = step(x, c)
    # $AD CHECKPOINT-START
    y = np.sin(x)
    x = x * y
    # $AD CHECKPOINT-END
    return np.sum(x)
'''


def test_directives_and_site_ids(tmp_path):
    module = write_module(tmp_path, "directives_model", DIRECTIVES)
    sites = {s.id: s for s in adjoin.checkpoint_sites(module.f)}
    assert set(sites) == {"f/step#1", "f/step#2", "f/fragment#1"}
    assert not sites["f/step#1"].checkpointed
    assert sites["f/step#2"].checkpointed and sites["f/fragment#1"].checkpointed
    assert sites["f/step#1"].line == 11 and sites["f/fragment#1"].line == 13
    by_name = {s.id: s.checkpointed for s in adjoin.checkpoint_sites(module.f, nocheckpoint=["step"])}
    assert by_name == {"f/step#1": False, "f/step#2": False, "f/fragment#1": True}
    moved = write_module(tmp_path, "directives_moved", "# an unrelated comment\n\n" + DIRECTIVES)
    assert {s.id for s in adjoin.checkpoint_sites(moved.f)} == set(sites)


def test_placement_file_wins_over_directives(tmp_path):
    module = write_module(tmp_path, "directives_model2", DIRECTIVES)
    path = tmp_path / "p.toml"
    adjoin.Placement([]).save(path, ["f/step#1", "f/step#2", "f/fragment#1"])
    adj = adjoin.adjoint(module.f, wrt="x", placement=str(path))
    adj(np.linspace(0, 1, 5), 0.3)
    assert "step_fwd" not in adj.source          # the directive's split mode is overridden
    adj = adjoin.adjoint(module.f, wrt="x")
    adj(np.linspace(0, 1, 5), 0.3)
    assert "step_fwd" in adj.source


def test_a_placement_naming_sites_the_program_lacks_is_warned_about(tmp_path):
    module = write_module(tmp_path, "directives_model4", DIRECTIVES)
    x = np.linspace(0, 1, 5)
    with pytest.warns(adjoin.StalePlacementWarning, match=r"1 site\(s\) that f does not have.*f/stpe#1") as caught:
        adjoin.grad(module.f, wrt="x", placement=adjoin.Placement(["f/step#2", "f/stpe#1"]))(x, 0.3)
    assert caught[0].filename == __file__          # the warning names the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoin.StalePlacementWarning)
        adjoin.grad(module.f, wrt="x", placement=adjoin.Placement(["f/step#2"]))(x, 0.3)


def test_every_placement_gives_the_same_gradient_on_a_fragment(tmp_path):
    module = write_module(tmp_path, "directives_model3", DIRECTIVES)
    ids = [s.id for s in adjoin.checkpoint_sites(module.f)]
    x = np.linspace(0.0, 1.0, 5)
    reference = adjoin.grad(module.f, wrt=("x", "c"), placement=adjoin.Placement([]))(x, 0.3)
    for mask in range(2 ** len(ids)):
        off = [i for k, i in enumerate(ids) if mask >> k & 1]
        other = adjoin.grad(module.f, wrt=("x", "c"), placement=adjoin.Placement(off))(x, 0.3)
        assert np.allclose(other[0], reference[0], rtol=1e-12, atol=0)
        assert other[1] == pytest.approx(reference[1], rel=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.data())
def test_placement_invariance_on_mini_ocean(data):
    module, args = conformance("p30")
    ids = [s.id for s in adjoin.checkpoint_sites(module.HEAD)]
    off = data.draw(st.lists(st.sampled_from(ids), unique=True))
    reference = adjoin.grad(module.HEAD, wrt=module.WRT)(**copy.deepcopy(args))
    other = adjoin.grad(module.HEAD, wrt=module.WRT, placement=adjoin.Placement(off))(**copy.deepcopy(args))
    for g0, g1 in zip(reference, other):
        assert np.max(np.abs(np.asarray(g1) - np.asarray(g0))) <= 1e-12 * max(1.0, np.max(np.abs(g0)))
