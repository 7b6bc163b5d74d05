#!/usr/bin/env python3
"""Sets up a virtual environment in .venv and runs adjoin's main job or its tests.

    python3 scripts/dev.py demo    # generate, check, profile and advise the bundled ocean model
    python3 scripts/dev.py test    # every test, then the customer's conformance suite

Only python3 is needed; the first run installs adjoin and its dependencies into .venv.
"""
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".adjoin-installed"


def run(*args, check=True, **kwargs):
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, **kwargs)
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.returncode


def setup(extras):
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = f"{extras}:{(ROOT / 'pyproject.toml').stat().st_mtime}"
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    run(PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "-q", "-e", f".[{extras}]")
    STAMP.write_text(wanted)


def demo():
    setup("test,plots")
    adjoin = VENV / "bin" / "adjoin"
    case = "examples/ocean/case.toml"
    if not (ROOT / case).exists():
        case = "examples/burgers/case.toml"
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    run(adjoin, "generate", case, "-o", out / "adjoint.py")
    run(adjoin, "sites", case)
    run(adjoin, "check", case)
    print(f"\nThe adjoint module is in {out / 'adjoint.py'}.")


def test():
    setup("test,plots")
    code = run(PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", check=False)
    if code not in (0,):
        sys.exit(code)
    shared = ROOT.parent / "shared" / "conformance" / "run.py"
    if not shared.exists():
        print(f"conformance suite not found at {shared}: it must lie beside this repository")
        sys.exit(1)
    run(PYTHON, shared)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "demo":
        demo()
    elif command == "test":
        test()
    else:
        print(__doc__)
        sys.exit(2)
