"""The tape's memory guard (issue 13): a limit in the API, the CLI and the environment; a run that
would pass it stops with a TapeMemoryError saying where, how much and what to do, as does a
MemoryError NumPy raises during the run; no profiling helper process is left behind.

The programs here would need several GiB of tape; they are stopped at a limit of a few MiB, so
no test allocates more than that.
"""
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import adjoin
from adjoin.cli import main
from adjoin.errors import TapeMemoryError, UsageError
from adjoin.runtime import tape as tape_module
from adjoin.runtime.tape import Tape, available_memory, default_max_bytes, max_tape_bytes

SCRIPT = Path(sys.executable).with_name("adjoin")

BIG = """\
import numpy as np


def step(u, nu):
    return u + nu * (np.roll(u, 1) - 2.0 * u + np.roll(u, -1))


def cost(u0, nu, nsteps):
    u = u0.copy()
    for n in range(nsteps):
        u = step(u, nu)
        u = np.sin(u)
    return np.sum(u * u)


def make_inputs(n=131072, nsteps=5000):
    return {"u0": np.linspace(0.0, 1.0, n), "nu": 0.1, "nsteps": nsteps}
"""

HUNGRY = """\
import numpy as np


def grow(u, n):
    w = np.zeros(n) + u[0]
    return np.sum(w)


def cost(u, n):
    return grow(u, n) * 2.0


def make_inputs():
    return {"u": np.ones(3), "n": 10 ** 13}
"""

CASE = 'module = "{module}"\nhead = "cost"\nwrt = {wrt}\ninputs = "make_inputs"\n'
MiB = 2 ** 20


def write_model(folder, name, text, wrt):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(text)
    (folder / f"{name}.toml").write_text(CASE.format(module=f"{name}.py", wrt=wrt))
    return folder / f"{name}.toml"


@pytest.fixture
def big(tmp_path):
    """The BIG model, loaded, and its case file: 1 MiB per step, 5000 steps."""
    from adjoin.case import load_case
    case = load_case(write_model(tmp_path, "big", BIG, '["u0", "nu"]'))
    return case


def test_the_big_program_would_need_several_gib(big):
    inputs = big.build_inputs()
    small = dict(inputs, nsteps=8)
    adj = adjoin.adjoint(big.head, wrt=big.wrt, nocheckpoint=["step"])
    per_step = adj.measure(**small).peak_tape_bytes / 8
    assert per_step * inputs["nsteps"] > 4 * 2 ** 30


@pytest.mark.parametrize("make", ["value_and_grad", "grad", "adjoint"])
def test_the_api_stops_at_the_limit_with_where_how_much_and_what_to_do(big, make):
    f = getattr(adjoin, make)(big.head, wrt=big.wrt, max_tape_bytes=8 * MiB)
    with pytest.raises(TapeMemoryError) as raised:
        f(**big.build_inputs())
    message = str(raised.value)
    assert isinstance(raised.value, adjoin.AdjoinError)
    assert "the tape would pass its limit of 8.0 MiB" in message
    assert "it holds 8.0 MiB" in message and "pushing 1.0 MiB more" in message
    assert "big.py:11" in message and "cost" in message         # the line of the call to step
    assert "adjoin profile" in message and "adjoin advise" in message and "--memory-budget 8MiB" in message
    assert "--max-tape" in message and "max_tape_bytes=" in message and "ADJOIN_MAX_TAPE" in message


SPLIT = """\
import numpy as np


def step(u):
    w = np.sin(u)
    w = w * u
    return w


def cost(u0, nsteps):
    u = u0.copy()
    for n in range(nsteps):
        u = step(u)
    return np.sum(u * u)


def make_inputs():
    return {"u0": np.linspace(0.0, 1.0, 131072), "nsteps": 5000}
"""


def test_the_limit_names_the_function_whose_sweep_pushes(tmp_path):
    from adjoin.case import load_case
    case = load_case(write_model(tmp_path, "split", SPLIT, '["u0"]'))
    f = adjoin.value_and_grad(case.head, wrt=case.wrt, nocheckpoint=["step"], max_tape_bytes=2 * MiB)
    with pytest.raises(TapeMemoryError, match=r"at \S*split\.py:5, in the forward sweep \(split mode\) "
                                              r"of step, called from cost"):
        f(**case.build_inputs())


def test_a_refused_push_saves_nothing_and_frees_the_tape():
    tape = Tape(100)
    tape.push(np.zeros(10))
    with pytest.raises(TapeMemoryError, match="limit of 100 B"):
        tape.push(np.zeros(10))
    assert tape.bytes == 80 and tape.peak_bytes == 80 and len(tape) == 0


def test_scalars_cannot_pass_the_limit_either():
    tape = Tape(20)
    tape.push(1.0)
    tape.push(2)
    with pytest.raises(TapeMemoryError):
        tape.push(3.0)
    assert tape.bytes == 16 and tape.peak_bytes == 16


def test_the_default_is_80_percent_of_the_memory_available_at_start(monkeypatch):
    monkeypatch.delenv("ADJOIN_MAX_TAPE", raising=False)
    available = available_memory()
    assert available is not None and available > 0
    assert Tape().max_bytes == default_max_bytes() == int(0.8 * available)


@pytest.mark.parametrize("text, expected", [
    ("8MiB", 8 * MiB), ("1e6", 10 ** 6), ("unlimited", tape_module.NO_LIMIT), ("none", tape_module.NO_LIMIT),
])
def test_the_environment_sets_the_limit(monkeypatch, text, expected):
    monkeypatch.setenv("ADJOIN_MAX_TAPE", text)
    assert Tape().max_bytes == expected
    assert Tape(1234).max_bytes == 1234                        # the argument wins


def test_a_percentage_of_the_available_memory(monkeypatch):
    monkeypatch.setenv("ADJOIN_MAX_TAPE", "50%")
    assert Tape().max_bytes == int(available_memory() * 0.5)


@pytest.mark.parametrize("value", [0, -1, "1GiB", True, math.nan, None.__class__])
def test_bad_limits_are_refused_when_the_adjoint_is_made(big, value):
    with pytest.raises(UsageError, match="max_tape_bytes"):
        adjoin.value_and_grad(big.head, wrt=big.wrt, max_tape_bytes=value)


def test_a_bad_environment_limit_is_refused(big, monkeypatch):
    monkeypatch.setenv("ADJOIN_MAX_TAPE", "lots")
    with pytest.raises(UsageError, match=r"\$ADJOIN_MAX_TAPE 'lots'"):
        adjoin.value_and_grad(big.head, wrt=big.wrt)


def test_no_limit_runs_as_before(big):
    inputs = dict(big.build_inputs(), u0=np.linspace(0.0, 1.0, 16), nsteps=3)
    value, grads = adjoin.value_and_grad(big.head, wrt=big.wrt, max_tape_bytes=math.inf)(**inputs)
    again = adjoin.value_and_grad(big.head, wrt=big.wrt)(**inputs)
    assert value == again[0] and np.array_equal(grads[0], again[1][0])


def test_numpy_out_of_memory_is_the_same_kind_of_error(tmp_path):
    from adjoin.case import load_case
    case = load_case(write_model(tmp_path, "hungry", HUNGRY, '["u"]'))
    with pytest.raises(TapeMemoryError) as raised:
        adjoin.value_and_grad(case.head, wrt="u")(**case.build_inputs())
    message = str(raised.value)
    assert "out of memory: NumPy could not allocate" in message
    assert "hungry.py:5 (grow)" in message and "the adjoint of cost" in message
    assert "does not fit" in message and "smaller problem" in message


def test_out_of_memory_with_a_full_tape_gives_the_checkpointing_advice():
    tape = Tape(10 * MiB)
    tape.push(np.zeros(2 ** 17))
    failure = tape.exhausted(MemoryError("Unable to allocate 8 MiB"))
    assert isinstance(failure, TapeMemoryError)
    assert "the tape held 1.0 MiB" in str(failure) and "adjoin advise" in str(failure)
    assert len(tape) == 0


# -- the command line ----------------------------------------------------------------------------

def test_check_stops_at_max_tape_with_the_message(big, capsys):
    status = main(["check", str(big.path), "--max-tape", "8MiB", "-q"])
    err = capsys.readouterr().err
    assert status == 2
    assert "adjoin: error: the tape would pass its limit of 8.0 MiB" in err and "big.py:11" in err
    assert "Traceback" not in err


def test_the_cli_reports_numpy_out_of_memory_in_the_adjoint_with_exit_2(tmp_path, capsys):
    case = write_model(tmp_path, "hungry", HUNGRY, '["u"]')
    status = main(["profile", str(case), "--no-background", "-q"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "out of memory: NumPy could not allocate" in err and "hungry.py:5" in err
    assert "Traceback" not in err


def helpers_of(pid):
    """The profiling helper processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if int(stat[1]) == pid and "adjoin.profiling.worker" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_profile_stopped_by_the_limit_leaves_no_helper_process(big):
    adj = adjoin.adjoint(big.head, wrt=big.wrt, max_tape_bytes=4 * MiB)
    for _ in range(3):
        with pytest.raises(TapeMemoryError):
            adj.profile(**big.build_inputs(), background=True)
    assert helpers_of(os.getpid()) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_profile_command_stopped_by_the_limit_leaves_no_process(big):
    result = subprocess.Popen([str(SCRIPT), "profile", str(big.path), "--max-tape", "4MiB", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    _, err = result.communicate(timeout=300)
    assert result.returncode == 2, err
    assert "the tape would pass its limit of 4.0 MiB" in err and "Traceback" not in err
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _session(result.pid):
        time.sleep(0.1)
    left = _session(result.pid)
    assert left == [], [_command_line(pid) for pid in left]


def _command_line(pid):
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"


def _session(sid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == sid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_max_tape_bytes_of_none_and_inf():
    assert max_tape_bytes(math.inf) == tape_module.NO_LIMIT
    assert max_tape_bytes(12.0) == 12
