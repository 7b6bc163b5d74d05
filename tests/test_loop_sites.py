"""Loop sites (issue 17): '# $AD BINOMIAL-CKP' loops reversed by a binomial schedule.

The invariant: every schedule (snapshots in memory and on disk, any count) gives the gradient of
the same program without the directive, to 1e-12, with every placement of the call sites; on
programs written by hand in the shapes time loops have, on every loop of the conformance programs
that can carry the directive, and on random programs (tests/programgen.py) with the directive put
before each of their loops that can carry it.
"""
import ast
import importlib.util
import itertools
import os
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from checkpoint_schedules.multistage import optimal_steps_binomial
from hypothesis import HealthCheck, Phase, assume, event, given, note, settings
from hypothesis import strategies as st

import adjoin
from adjoin.placement import Placement
from adjoin.runtime import loops as runtime_loops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conformance_programs import CONFORMANCE  # noqa: E402
from programgen import arguments, programs  # noqa: E402

RTOL = 1e-12
LOOP_SITE_REFUSALS = ("restoring the loop state would separate them",
                      "a loop site's state is made of arrays, numbers")
SCHEDULES = [(1, 0), (2, 0), (3, 1), (8, 0), (0, 2)]


# -- putting the directive into a source --------------------------------------------------------

def eligible_loops(source):
    """Line numbers of the 'for NAME in range(...)' loops that run to their end (no break or
    return of their own): the loops a directive may go before."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Call)
                and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "range"
                and not _leaves_early(node.body)):
            found.append(node.lineno)
    return sorted(found)


def _leaves_early(stmts):
    for stmt in stmts:
        if isinstance(stmt, (ast.Break, ast.Return)):
            return True
        if isinstance(stmt, ast.If) and _leaves_early(stmt.body + stmt.orelse):
            return True
        if isinstance(stmt, (ast.For, ast.While)) and any(isinstance(n, ast.Return) for n in ast.walk(stmt)):
            return True
    return False


def with_directives(source, lines, snapshots, disk):
    """``source`` with '# $AD BINOMIAL-CKP' on the line before each of ``lines``."""
    text = source.splitlines()
    for line in sorted(lines, reverse=True):
        indent = text[line - 1][: len(text[line - 1]) - len(text[line - 1].lstrip())]
        text.insert(line - 1, f"{indent}# $AD BINOMIAL-CKP snapshots={snapshots} disk={disk}")
    return "\n".join(text) + "\n"


_serial = itertools.count()


def load_text(source, directory, extra_path=None):
    name = f"adjoin_loops_{next(_serial)}_{zlib.crc32(source.encode()):08x}"
    path = Path(directory) / f"{name}.py"
    path.write_text(source)
    if extra_path and extra_path not in sys.path:
        sys.path.insert(0, extra_path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def gradient(fn, wrt, args, placement=None, verify=False):
    value, grads = adjoin.value_and_grad(fn, wrt=wrt, placement=placement, verify=verify)(
        **{k: _copy(v) for k, v in args.items()})
    return value, [np.asarray(g, dtype=float) for g in (grads if isinstance(grads, tuple) else (grads,))]


def _copy(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def assert_same(got, want, what):
    assert got[0] == pytest.approx(want[0], rel=1e-14, abs=0), what
    for g, w in zip(got[1], want[1]):
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        error = float(np.max(np.abs(g - w))) / scale if w.size else 0.0
        assert error <= RTOL, f"{what}: relative error {error:.2e}"


def call_site_placements(fn, limit=8):
    """Placements of the call sites (all of them when few, else a sample), the loop sites left on."""
    ids = [s.id for s in adjoin.checkpoint_sites(fn) if s.callee != "loop"]
    subsets = [c for r in range(len(ids) + 1) for c in itertools.combinations(ids, r)]
    if len(subsets) > limit:
        subsets = subsets[:: max(1, len(subsets) // limit)][:limit] + [tuple(ids)]
    return subsets


def check_schedules(plain_fn, looped_fn, wrt, args, schedules=SCHEDULES):
    """Every schedule and call-site placement of ``looped_fn`` against ``plain_fn`` (no directive)."""
    loop_ids = [s.id for s in adjoin.checkpoint_sites(looped_fn) if s.callee == "loop"]
    assert loop_ids, "the directive made no loop site"
    for off in call_site_placements(plain_fn):
        want = gradient(plain_fn, wrt, args, Placement(off))
        for snapshots, disk in schedules:
            placement = Placement(off, loops={i: (snapshots, disk) for i in loop_ids})
            got = gradient(looped_fn, wrt, args, placement, verify=True)    # verify mode: no broken assumption
            assert_same(got, want, f"placement off={off}, snapshots={snapshots}, disk={disk}")
        # placed nocheckpoint: every iteration taped by the loop site's own code, about as the loop
        # without the directive tapes it (the schedule itself is 8 bytes on the tape per run; the
        # loop site's iterations pushed the names they write again, 68 % more on the ocean)
        got = gradient(looped_fn, wrt, args, Placement(list(off) + loop_ids), verify=True)
        assert_same(got, want, f"placement off={off}, loop sites not checkpointed")
        peaks = [adjoin.adjoint(fn, wrt=wrt, placement=Placement(list(off) + ids)).measure(
            **{k: _copy(v) for k, v in args.items()}).peak_tape_bytes for fn, ids in ((plain_fn, []), (looped_fn, loop_ids))]
        assert peaks[1] <= 1.05 * peaks[0] + 256, f"placement off={off}: the loop site tapes {peaks} bytes"
    # with the profiling hooks: as a profile runs it (every iteration taped, a few advanced first
    # from what they change, set aside and set back), and under the directive's schedule
    for placement, what in ((Placement(loop_ids), "as profiled"), (None, "recorded")):
        adj = adjoin.adjoint(looped_fn, wrt=wrt, placement=placement)
        value, grads, _, _ = adj.record(**{k: _copy(v) for k, v in args.items()})
        grads = grads if isinstance(grads, tuple) else (grads,)
        assert_same((value, [np.asarray(g, dtype=float) for g in grads]), gradient(plain_fn, wrt, args), what)


# -- programs written by hand -------------------------------------------------------------------

HAND = {
    # a work array rebound early in every iteration, not part of the state, whose value from the
    # iteration before an ordinary loop pushes for that iteration's reversal (a profiled run that
    # advanced an iteration first and set back only the state pushed the wrong one: found by the
    # conformance program p13 with every loop a loop site)
    "work_array_pushed_for_the_previous_iteration": """
        import numpy as np

        def f(u0, k, nsteps):
            u = u0.copy()
            for n in range(nsteps):
                old = u.copy()
                for i in range(1, u.size - 1):
                    u[i] = old[i] + k * (old[i - 1] - 2.0 * old[i] + old[i + 1])
            return np.sum(u * u)
    """,
    # a state updated in place by a call, a scalar carried, a rebound array
    "in_place_and_rebound": """
        import numpy as np

        def diffuse(u, k):
            u[1:-1] = u[1:-1] + 0.1 * k * (u[:-2] - 2.0 * u[1:-1] + u[2:])

        def f(u0, k, nsteps):
            u = u0.copy()
            t = 0.0
            for n in range(nsteps):
                diffuse(u, k)
                u = u + 0.01 * np.sin(u) * t
                t = t + 0.5
            return np.sum(u * u) + t * t
        """,
    # integer index arithmetic at the top of the body, a two-level scheme (Adams-Bashforth)
    "indices_and_history": """
        import numpy as np

        def f(u0, k, nsteps):
            u = u0.copy()
            g_old = np.zeros_like(u)
            for n in range(nsteps):
                i = n % 3
                j = (n + 1) % 3
                g = -k * u + 0.1 * np.roll(u, 1)
                u[i] = u[i] + 0.05 * u[j]
                u = u + 0.1 * (1.5 * g - 0.5 * g_old)
                g_old = g
            return np.sum(np.tanh(u)) + np.sum(g_old)
        """,
    # an array the code before the loop reads, overwritten (write only) by every iteration
    "written_only_needed_before": """
        import numpy as np

        def f(u0, k, nsteps):
            u = u0.copy()
            out = np.sin(u0) * k
            c = np.sum(out * out)
            for n in range(nsteps):
                out[:] = u * 0.5
                u = np.tanh(u + 0.1 * k * out)
            return c + np.sum(u) + np.sum(out * u)
        """,
    # a view of the state, and a loop site in a helper called from a loop of its own
    "views_and_nesting": """
        import numpy as np

        def relax(T, k, m):
            inner = T[1:-1]
            for n in range(m):
                inner += 0.1 * k * (T[:-2] - 2.0 * inner + T[2:])

        def f(u0, k, nsteps):
            T = u0.copy()
            s = 0.0
            for n in range(nsteps):
                relax(T, k, 3)
                s = s + np.sum(T * T) * 0.01
            return s + np.sum(T ** 3)
        """,
    # branches on the iteration, a nested loop, a value set in the loop and read after it
    "branches_nested_after": """
        import numpy as np

        def f(u0, k, nsteps):
            u = u0.copy()
            acc = np.zeros_like(u)
            last = 0.0
            for n in range(nsteps):
                if n % 2 == 0:
                    u = u * (1.0 + 0.1 * k)
                else:
                    u = np.sin(u) + k
                for m in range(2):
                    acc += u * 0.5
                last = np.sum(u) * k
            return np.sum(acc * acc) + last
        """,
    # a range with a start and a step, and a loop state that is only a scalar
    "scalar_state_strided": """
        import numpy as np

        def f(u0, k, nsteps):
            x = float(np.sum(u0))
            for n in range(2, 2 + 3 * nsteps, 3):
                x = x + 0.1 * np.sin(x * k) + 0.01 * n
            return x * x
        """,
}


@pytest.mark.parametrize("name", sorted(HAND))
@pytest.mark.parametrize("nsteps", [0, 1, 2, 7])
def test_every_schedule_gives_the_gradient_without_the_directive(name, nsteps, tmp_path):
    source = textwrap.dedent(HAND[name])
    plain = load_text(source, tmp_path)
    looped = load_text(with_directives(source, eligible_loops(source), 2, 0), tmp_path)
    rng = np.random.default_rng(nsteps)
    args = dict(u0=rng.normal(size=9), k=0.7, nsteps=nsteps)
    check_schedules(plain.f, looped.f, ("u0", "k"), args)


def test_the_gradient_is_that_of_converged_finite_differences(tmp_path):
    source = textwrap.dedent(HAND["in_place_and_rebound"])
    looped = load_text(with_directives(source, eligible_loops(source), 2, 1), tmp_path)
    rng = np.random.default_rng(3)
    u0, k = rng.normal(size=9), 0.7
    _, (g_u, g_k) = adjoin.value_and_grad(looped.f, wrt=("u0", "k"))(u0, k, 6)
    direction = rng.normal(size=9)
    def along(h):
        return looped.f(u0 + h * direction, k, 6)
    estimates = [(along(h) - along(-h)) / (2 * h) for h in (1e-4, 1e-5)]
    assert abs(estimates[0] - estimates[1]) <= 1e-7 * abs(estimates[0])       # converged
    assert float(g_u @ direction) == pytest.approx(estimates[1], rel=1e-7)


# -- what the schedule runs -----------------------------------------------------------------------

@pytest.mark.parametrize("nsteps, snapshots", [(6, 2), (10, 3), (20, 4), (16, 8), (5, 10)])
def test_iterations_run_are_the_librarys_binomial_count(nsteps, snapshots, tmp_path, monkeypatch):
    source = textwrap.dedent(HAND["in_place_and_rebound"])
    looped = load_text(with_directives(source, eligible_loops(source), snapshots, 0), tmp_path)
    made = []
    original = runtime_loops.LoopSchedule.__init__
    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(runtime_loops.LoopSchedule, "__init__", record)
    adjoin.value_and_grad(looped.f, wrt=("u0", "k"))(np.ones(9), 0.5, nsteps)
    [schedule] = made
    assert schedule.advances + schedule.taped == optimal_steps_binomial(nsteps, min(snapshots, nsteps - 1))
    assert schedule.taped == nsteps


def test_fewer_snapshots_make_a_smaller_tape(tmp_path):
    source = textwrap.dedent(HAND["in_place_and_rebound"])
    plain = load_text(source, tmp_path)
    looped = load_text(with_directives(source, eligible_loops(source), 2, 0), tmp_path)
    args = (np.ones(1000), 0.5, 40)
    peak = {}
    peak["taped"] = adjoin.adjoint(plain.f, wrt=("u0", "k")).measure(*args).peak_tape_bytes
    for s in (1, 2, 4, 8):
        run = adjoin.adjoint(looped.f, wrt=("u0", "k"), placement=Placement(loops={"f/loop#1": (s, 0)})).measure(*args)
        peak[s] = run.peak_tape_bytes
    assert peak[1] < peak[2] < peak[4] < peak[8] < peak["taped"]
    # one more snapshot in memory costs the loop state (u and t: 8000 + 8 bytes) and no more
    assert peak[2] - peak[1] == 8008


def test_disk_snapshots_leave_the_tape_small_and_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.setenv(runtime_loops.SNAPSHOT_DIR_ENV, str(tmp_path / "snapshots"))
    (tmp_path / "snapshots").mkdir()
    source = textwrap.dedent(HAND["in_place_and_rebound"])
    looped = load_text(with_directives(source, eligible_loops(source), 1, 6), tmp_path)
    made = []
    original = runtime_loops.LoopSchedule.__init__
    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(runtime_loops.LoopSchedule, "__init__", record)
    run = adjoin.adjoint(looped.f, wrt=("u0", "k")).measure(np.ones(2000), 0.5, 60)
    [schedule] = made
    budget = 3 * (16000 + 8)            # three loop states' worth of memory
    assert run.peak_tape_bytes <= budget < schedule.disk_bytes
    assert os.listdir(tmp_path / "snapshots") == []
    # reported apart from the tape, as the run's own figures
    assert (run.disk_bytes, run.disk_peak_bytes) == (schedule.disk_bytes, schedule.disk_peak) and run.disk_seconds > 0
    assert budget < run.disk_peak_bytes <= run.disk_bytes


def test_an_interrupted_adjoint_leaves_no_snapshot_file(tmp_path, monkeypatch):
    monkeypatch.setenv(runtime_loops.SNAPSHOT_DIR_ENV, str(tmp_path / "snapshots"))
    (tmp_path / "snapshots").mkdir()
    source = textwrap.dedent(HAND["in_place_and_rebound"])
    looped = load_text(with_directives(source, eligible_loops(source), 1, 4), tmp_path)
    original = runtime_loops.LoopSchedule._act
    def act(self, action):
        for pair in original(self, action):
            if pair[0] is runtime_loops.REVERSE and pair[1] == 20:
                assert os.listdir(tmp_path / "snapshots")
                raise KeyboardInterrupt
            yield pair
    monkeypatch.setattr(runtime_loops.LoopSchedule, "_act", act)
    with pytest.raises(KeyboardInterrupt):
        adjoin.value_and_grad(looped.f, wrt=("u0", "k"))(np.ones(50), 0.5, 40)
    assert os.listdir(tmp_path / "snapshots") == []


# -- the directive -------------------------------------------------------------------------------

@pytest.mark.parametrize("loop, message, line", [
    ("while t < nsteps:\n        t = t + 1\n        u = u * k", "not 'for n in range(...)'", 8),
    ("for n in range(nsteps):\n        u = u * k\n        if np.sum(u) > 10.0:\n            break",
     "must run all its iterations", 11),
])
def test_a_directive_on_a_loop_it_cannot_drive_is_refused_with_its_place(loop, message, line, tmp_path):
    source = (f"import numpy as np\n\n\ndef f(u0, k, nsteps):\n    u = u0.copy()\n    t = 0\n"
              f"    # $AD BINOMIAL-CKP\n    {loop}\n    return np.sum(u)\n")
    module = load_text(source, tmp_path)
    with pytest.raises(adjoin.AdjoinError) as error:
        adjoin.value_and_grad(module.f, wrt=("u0",))(np.ones(3), 0.5, 3)
    assert message in str(error.value) and f"{Path(module.__file__).name}:{line}:" in str(error.value)


def test_directive_words_are_read_and_checked(tmp_path):
    base = "import numpy as np\n\n\ndef f(u0, k, nsteps):\n    u = u0.copy()\n    # $AD BINOMIAL-CKP {}\n" \
           "    for n in range(nsteps):\n        u = u * k\n    return np.sum(u)\n"
    for words, numbers in (("", (runtime_loops.DEFAULT_SNAPSHOTS, 0)), ("5", (5, 0)),
                           ("snapshots=3 disk=2", (3, 2)), ("disk=4 snapshots=0", (0, 4))):
        module = load_text(base.format(words), tmp_path)
        [site] = adjoin.checkpoint_sites(module.f)
        assert (site.id, site.callee, site.snapshots, site.disk) == ("f/loop#1", "loop") + numbers
    for words in ("snapshots=x", "memory=3", "snapshots=0 disk=0"):
        module = load_text(base.format(words), tmp_path)
        with pytest.raises(adjoin.AdjoinError) as error:
            adjoin.checkpoint_sites(module.f)
        assert ":6:" in str(error.value) or ":6 " in str(error.value) or f".py:6" in str(error.value)


def test_placement_files_carry_loop_schedules(tmp_path):
    placement = Placement(["f/g#1"], loops={"f/loop#1": (5, 2)})
    path = tmp_path / "placement.toml"
    placement.save(path)
    assert "[loops." in path.read_text()
    again = Placement.load(path)
    assert again == placement and again.schedule("f/loop#1", (8, 0)) == (5, 2)
    assert again.schedule("f/loop#2", (8, 0)) == (8, 0) and again.checkpointed("f/loop#1")


# -- the conformance programs and random programs ------------------------------------------------

def conformance_with_loops():
    if not CONFORMANCE.exists():
        return []
    return [p.name for p in sorted(CONFORMANCE.glob("p*.py")) if eligible_loops(p.read_text())]


@pytest.mark.parametrize("name", conformance_with_loops())
def test_conformance_programs_with_every_loop_a_loop_site(name, tmp_path):
    path = CONFORMANCE / name
    source = path.read_text()
    lines = eligible_loops(source)
    sys.path.insert(0, str(CONFORMANCE))
    try:
        plain = load_text(source, tmp_path)
        looped = load_text(with_directives(source, lines, 2, 0), tmp_path)
        args = plain.inputs(np.random.default_rng(0))
        made = adjoin.checkpoint_sites(looped.HEAD)
        if not any(s.callee == "loop" for s in made):
            pytest.skip(f"{name}: its loops are not reached from the head")
        check_schedules(plain.HEAD, getattr(looped, plain.HEAD.__name__), plain.WRT, args,
                        schedules=[(1, 0), (2, 1), (5, 0)])
    finally:
        sys.path.remove(str(CONFORMANCE))


@settings(max_examples=80, deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
          phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(program=programs(statements=(2, 6)), args=arguments(), schedule=st.sampled_from(SCHEDULES))
def test_random_programs_with_loop_sites(program, args, schedule, tmp_path_factory):
    lines = eligible_loops(program.source)
    assume(lines)
    directory = tmp_path_factory.mktemp("loops")
    looped_source = with_directives(program.source, lines, *schedule)
    note(looped_source)
    plain = load_text(program.source, directory)
    looped = load_text(looped_source, directory)
    x, a, n = args
    try:
        want = gradient(plain.f, ("x", "a"), dict(x=x, a=a, n=n))
    except adjoin.AdjoinError:
        return                          # refused without loop sites: test_random_programs covers it
    try:
        got = gradient(looped.f, ("x", "a"), dict(x=x, a=a, n=n))
    except adjoin.AdjoinError as error:
        # the refusals a loop site adds: a rebound name of its state sharing memory with another
        # name of the state that the loop updates in place (programgen's 'second_names' family),
        # and a list of the state that the loop changes through its items ('lists')
        assert any(why in str(error) for why in LOOP_SITE_REFUSALS), str(error)
        event("refused by the loop site: " + next(why for why in LOOP_SITE_REFUSALS if why in str(error)))
        return
    event("loop sites differentiated")
    assert_same(got, want, f"schedule {schedule}")
    # as a profile runs it: every iteration taped, a few advanced first and set back
    loop_ids = [s.id for s in adjoin.checkpoint_sites(looped.f) if s.callee == "loop"]
    adj = adjoin.adjoint(looped.f, wrt=("x", "a"), placement=Placement(loop_ids))
    value, grads, _, _ = adj.record(x=_copy(x), a=_copy(a), n=n)
    assert_same((value, [np.asarray(g, dtype=float) for g in grads]), want, "as profiled")

