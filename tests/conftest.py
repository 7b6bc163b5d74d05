"""Shared pytest configuration: the marker of tests that need the adjoint transformer, and how a
child process is given the signals of a terminal."""
import signal

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "adjoint: needs the adjoint transformer (real generate/check/sites output); "
                   "deselect with -m 'not adjoint'")


def _signals_of_a_terminal():
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


@pytest.fixture
def like_a_terminal():
    """Keyword arguments for subprocess.Popen giving the child the signals of a terminal: a suite
    started in the background (``cmd &`` in a script) inherits SIGINT ignored, and Python then
    never raises KeyboardInterrupt; under nohup it inherits SIGHUP ignored, which adjoin keeps."""
    return dict(preexec_fn=_signals_of_a_terminal)
