"""Writing the user's files: atomic, through symlinks, never a temporary left behind.

The kill -9 test is issue 13's: a large write killed outright leaves the old file whole, and the
next write removes the temporary it left.
"""
import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adjoin import fileio
from adjoin.errors import UsageError
from adjoin.fileio import read_text, remove_stale_temporaries, write_text_atomic

FIXTURE = Path(__file__).parent / "fixtures" / "quadratic"
SCRIPT = Path(sys.executable).with_name("adjoin")


def temporaries(folder):
    return sorted(p.name for p in Path(folder).glob(".*.adjoin-*.tmp"))


def test_a_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "deep" / "er" / "out.txt"
    write_text_atomic(target, "first\n")
    write_text_atomic(target, "second\n")
    assert target.read_text() == "second\n"
    assert not temporaries(target.parent)


def test_a_write_takes_chunks(tmp_path):
    write_text_atomic(tmp_path / "out.txt", (f"{k}\n" for k in range(1000)))
    assert (tmp_path / "out.txt").read_text().splitlines()[-1] == "999"


def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "real.txt").write_text("old\n")
    (tmp_path / "link.txt").symlink_to("real.txt")
    write_text_atomic(tmp_path / "link.txt", "new\n")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new\n"


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    write_text_atomic(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_umask_permissions(tmp_path):
    umask = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "out.txt", "new\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o640


def test_a_read_only_file_is_refused(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(0o444)
    with pytest.raises(UsageError, match="read-only"):
        write_text_atomic(target, "new\n")
    assert target.read_text() == "old\n"


@pytest.mark.parametrize("code, words", [
    (errno.ENOSPC, "no space left"), (errno.EFBIG, "ulimit -f"), (errno.EACCES, "permission denied"),
    (errno.EROFS, "read-only file system"), (errno.EIO, "write elsewhere"),
])
def test_a_failed_write_is_a_usage_error_and_removes_its_temporary(tmp_path, monkeypatch, code, words):
    target = tmp_path / "out.txt"
    target.write_text("old\n")

    def failing(*args):
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(fileio.os, "replace", failing)
    with pytest.raises(UsageError, match=words) as raised:
        write_text_atomic(target, "new\n")
    assert "out.txt" in str(raised.value)
    assert target.read_text() == "old\n"
    assert not temporaries(tmp_path)


def test_an_interrupted_write_removes_its_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")

    def chunks():
        yield "half"
        assert temporaries(tmp_path)
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, chunks())
    assert target.read_text() == "old\n"
    assert not temporaries(tmp_path)


def test_only_adjoins_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    names = {f".out.txt.adjoin-{dead}-abc_123.tmp": False,          # a dead writer's: removed
             f".out.txt.adjoin-{os.getppid()}-abc123.tmp": True,    # a live process's
             f".other.txt.adjoin-{dead}-abc123.tmp": True,          # another file's
             ".out.txt.abc12345": True,                              # not adjoin's naming
             ".out.txt.swp": True}
    for name in names:
        (tmp_path / name).write_text("x")
    remove_stale_temporaries(tmp_path / "out.txt")
    assert {name: (tmp_path / name).exists() for name in names} == names


def test_reading_names_the_file_and_what_is_wrong(tmp_path):
    (tmp_path / "binary.json").write_bytes(b"\x00\xff")
    (tmp_path / "folder.json").mkdir()
    for name, words in (("missing.json", "no such profile file"), ("folder.json", "is a folder"),
                        ("binary.json", "not UTF-8 text (byte 0xff at offset 1)")):
        with pytest.raises(UsageError) as raised:
            read_text(tmp_path / name, "profile", "make one")
        assert words in str(raised.value)
        assert name in str(raised.value) and "make one" in str(raised.value)


# -- killed, interrupted, stopped: the real thing ----------------------------------------------------

SLOW_WRITER = """\
import sys, time
from adjoin.fileio import write_text_atomic

def chunks():
    for k in range(256):                  # up to 256 MiB
        yield "x" * (1 << 20)
        if k == 16:
            print("writing", flush=True)
            time.sleep(600)

write_text_atomic(sys.argv[1], chunks())
"""


def wait_for_line(process, text, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if text in line:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"{text!r} never printed: {process.stderr.read()}")


def test_a_large_write_killed_outright_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    proj = tmp_path / "proj"
    target = proj / "adjoint.py"
    target.write_text("the old adjoint\n")
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(target)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(writer, "writing")
        [temporary] = temporaries(proj)
        assert (proj / temporary).stat().st_size >= 8 << 20        # megabytes on disk already
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.stdout.close()
        writer.stderr.close()
    assert target.read_text() == "the old adjoint\n"              # never a damaged target
    assert temporaries(proj) == [temporary]                       # kill -9 cannot clean up...
    result = subprocess.run([str(SCRIPT), "generate", "case.toml", "-o", "adjoint.py", "-q"], cwd=proj,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "def cost_b" in target.read_text()
    assert temporaries(proj) == []                                # ...the next write does


STOPPABLE_COMMAND = """\
import os, sys, time
from adjoin import cli
from adjoin.cli import generate      # run_generate looks write_text_atomic up in its module

real = generate.write_text_atomic

def slow(path, text):                     # the real write, its text arriving slowly
    def chunks():
        yield text[:100]
        print("writing", flush=True)
        time.sleep(float(os.environ.get("PAUSE", "600")))
        yield text[100:]
    return real(path, chunks())

generate.write_text_atomic = slow
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum, status, words", [
    (signal.SIGTERM, 143, "stopped by SIGTERM"), (signal.SIGHUP, 129, "stopped by SIGHUP"),
    (signal.SIGINT, 130, "interrupted"),
])
def test_a_write_stopped_by_a_signal_leaves_the_old_file_and_no_temporary(tmp_path, signum, status, words,
                                                                          like_a_terminal):
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    proj = tmp_path / "proj"
    target = proj / "adjoint.py"
    target.write_text("the old adjoint\n")
    command = subprocess.Popen([sys.executable, "-c", STOPPABLE_COMMAND, "generate", "case.toml", "-o",
                                "adjoint.py", "-q"], cwd=proj, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, **like_a_terminal)
    try:
        wait_for_line(command, "writing")
        assert temporaries(proj)
        command.send_signal(signum)
        _, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == status, err
    assert words in err and "Traceback" not in err
    assert target.read_text() == "the old adjoint\n"
    assert temporaries(proj) == []


def _ignore_hangups():
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_a_command_under_nohup_goes_on_after_a_hangup(tmp_path):
    """nohup leaves SIGHUP ignored: the command must not take it back to stop on a hang-up."""
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    proj = tmp_path / "proj"
    command = subprocess.Popen([sys.executable, "-c", STOPPABLE_COMMAND, "generate", "case.toml", "-o",
                                "adjoint.py", "-q"], cwd=proj, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=dict(os.environ, PAUSE="1"), preexec_fn=_ignore_hangups)
    try:
        wait_for_line(command, "writing")
        command.send_signal(signal.SIGHUP)
        _, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 0, err
    assert "def cost_b" in (proj / "adjoint.py").read_text()
    assert temporaries(proj) == []
