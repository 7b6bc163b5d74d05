"""Shared pytest configuration: the marker of tests that need the adjoint transformer."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "adjoint: needs the adjoint transformer (real generate/check/sites output); "
                   "deselect with -m 'not adjoint'")
