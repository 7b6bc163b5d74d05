"""The run-time side of loop sites (runtime/loops.py): a loop's adjoint written by hand in the
shape the generated code has, driven by LoopSchedule, against the adjoint that tapes every step."""
import glob
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from checkpoint_schedules.multistage import optimal_steps_binomial
from hypothesis import given, settings, strategies as st

from adjoin.runtime import loops as ad
from adjoin.runtime.tape import Tape


def step(x, a):
    return x + 0.1 * np.sin(x) * a


def step_b(x, a, x_b):
    """Adjoints of x and a of one step, x its input."""
    return x_b * (1.0 + 0.1 * np.cos(x) * a), np.sum(x_b * 0.1 * np.sin(x))


def taped_gradient(x0, a, n):
    """Every step taped: the reference."""
    xs, x = [], x0.copy()
    for _ in range(n):
        xs.append(x)
        x = step(x, a)
    x_b, a_b = 2.0 * x, 0.0
    for x in reversed(xs):
        x_b, da = step_b(x, a, x_b)
        a_b += da
    return x_b, a_b


def scheduled_gradient(x0, a, steps, snapshots, disk=0, tape=None, stop_at=None):
    """The loop's adjoint as generated code writes it; the state is (x, t), t a float the loop
    also carries, so that restores of arrays and of scalars are both exercised."""
    tape = tape if tape is not None else Tape(max_bytes=float("inf"))
    x, t = x0.copy(), 0.0
    loop = ad.LoopSchedule(tape, steps, snapshots=snapshots, disk=disk)
    for action, n in loop.forward():
        if action is ad.STORE:
            loop.store(x, t)
        elif action is ad.ADVANCE:
            x, t = step(x, a), t + 1.0
        else:
            tape.push(x)
            x, t = step(x, a), t + 1.0
    assert t == len(steps)
    tape.push(loop)
    x_b, a_b = 2.0 * x, 0.0
    loop = tape.pop()
    for action, n in loop.backward():
        if action is ad.STORE:
            loop.store(x, t)
        elif action is ad.RESTORE:
            x, t = loop.restore()
        elif action is ad.ADVANCE:
            x, t = step(x, a), t + 1.0
        elif action is ad.TAPE:
            tape.push(x)
            x, t = step(x, a), t + 1.0
        else:
            assert t == steps.index(n) + 1          # the state is the one after iteration n
            if stop_at is not None and n == stop_at:
                raise KeyboardInterrupt
            x = tape.pop()
            x_b, da = step_b(x, a, x_b)
            a_b += da
    return x_b, a_b, loop


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), snapshots=st.integers(1, 12), disk=st.integers(0, 3))
def test_every_schedule_gives_the_taped_gradient(n, snapshots, disk):
    rng = np.random.default_rng(n)
    x0, a = rng.normal(size=5), 0.7
    x_b, a_b, loop = scheduled_gradient(x0, a, range(n), snapshots, disk)
    ref_x, ref_a = taped_gradient(x0, a, n)
    np.testing.assert_allclose(x_b, ref_x, rtol=1e-14, atol=0)
    assert a_b == pytest.approx(ref_a, rel=1e-12, abs=1e-300)
    assert loop.taped == n


@pytest.mark.parametrize("n, snapshots", [(6, 2), (10, 3), (20, 4), (16, 8), (50, 5), (7, 10)])
def test_steps_run_are_the_librarys_optimal_count(n, snapshots):
    _, _, loop = scheduled_gradient(np.ones(3), 0.5, range(n), snapshots)
    assert loop.advances + loop.taped == optimal_steps_binomial(n, min(snapshots, n - 1))


def test_snapshots_in_memory_are_on_the_tape_and_counted():
    tape = Tape(max_bytes=float("inf"))
    x0 = np.ones(100)
    scheduled_gradient(x0, 0.5, range(30), 4, tape=tape)
    state = x0.nbytes + 8               # x and t
    # at most 4 snapshots, the schedule object, and the one taped step's x at a time
    assert tape.peak_bytes == 4 * state + 8 + x0.nbytes
    assert len(tape) == 0 and tape.bytes == 0


def test_a_range_with_a_start_and_a_step_gives_its_own_values():
    seen = []
    tape = Tape(max_bytes=float("inf"))
    loop = ad.LoopSchedule(tape, range(3, 20, 4), snapshots=2)
    for action, n in loop.forward():
        if action is ad.STORE:
            loop.store(0.0)
        seen.append(n)
    for action, n in loop.backward():
        if action is ad.STORE:
            loop.store(0.0)
        elif action is ad.RESTORE:
            loop.restore()
        elif action is ad.REVERSE:
            seen.append(-n)
    assert set(seen) == {3, 7, 11, 15, 19, -3, -7, -11, -15, -19}
    assert [-s for s in seen if s < 0] == [19, 15, 11, 7, 3]


def test_disk_snapshots_keep_the_tape_small_and_leave_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv(ad.SNAPSHOT_DIR_ENV, str(tmp_path))
    x0 = np.ones(1000)
    tape = Tape(max_bytes=float("inf"))
    x_b, a_b, loop = scheduled_gradient(x0, 0.5, range(40), 1, disk=5, tape=tape)
    ref_x, ref_a = taped_gradient(x0, 0.5, 40)
    np.testing.assert_allclose(x_b, ref_x, rtol=1e-14)
    assert loop.disk_bytes > 5 * x0.nbytes > tape.peak_bytes
    assert tape.peak_bytes == (x0.nbytes + 8) + 8 + x0.nbytes      # one snapshot in memory
    assert loop.disk_peak >= 5 * x0.nbytes
    assert os.listdir(tmp_path) == []


def test_disk_snapshots_are_removed_when_the_backward_sweep_is_interrupted(tmp_path, monkeypatch):
    monkeypatch.setenv(ad.SNAPSHOT_DIR_ENV, str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        scheduled_gradient(np.ones(10), 0.5, range(30), 1, disk=4, stop_at=12)
    assert os.listdir(tmp_path) == []


def test_disk_snapshots_are_removed_when_the_process_is_interrupted(tmp_path):
    """Ctrl-C in the middle of a backward sweep, in a process of its own."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import numpy as np
        from test_loop_schedule import scheduled_gradient, ad
        original = ad.LoopSchedule._act
        def act(self, action):
            for pair in original(self, action):
                if pair[0] is ad.REVERSE and pair[1] == 10:
                    assert os.listdir({str(tmp_path)!r})      # the snapshots are on disk
                    os.kill(os.getpid(), signal.SIGINT)
                yield pair
        ad.LoopSchedule._act = act
        scheduled_gradient(np.ones(10), 0.5, range(30), 1, disk=4)
    """)
    env = {**os.environ, ad.SNAPSHOT_DIR_ENV: str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "KeyboardInterrupt" in done.stderr
    assert glob.glob(str(tmp_path / "*")) == []


def test_snapshots_never_used_are_removed_with_the_schedule(tmp_path, monkeypatch):
    """A forward sweep whose backward sweep never runs (an error in between)."""
    monkeypatch.setenv(ad.SNAPSHOT_DIR_ENV, str(tmp_path))
    loop = ad.LoopSchedule(Tape(max_bytes=float("inf")), range(20), snapshots=1, disk=3)
    for action, n in loop.forward():
        if action is ad.STORE:
            loop.store(np.ones(4))
    assert os.listdir(tmp_path)
    del loop
    assert os.listdir(tmp_path) == []
