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
    """The main job on the bundled ocean model: generate, check, profile, advise, report."""
    setup("test,plots")
    adjoin = VENV / "bin" / "adjoin"
    case = "examples/ocean/case.toml"
    size = ["--set", "size=0.5"]          # a few minutes on a 2-core machine; size=1 is the default
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    run(adjoin, "generate", case, *size, "-o", out / "adjoint.py")
    run(adjoin, "sites", case)
    run(adjoin, "check", case, *size)
    run(adjoin, "profile", case, *size, "-o", out / "profile.json", "--trace", out / "trace.json")
    run(adjoin, "advise", out / "profile.json", "--memory-budget", "1.5x", "--pareto",
        "-o", out / "placement.toml")
    report = [adjoin, "report", out / "profile.json", "-o", out / "report.html", "--memory-budget", "1.5x",
              "--case", case, *size]
    if subprocess.run([str(adjoin), "report", "--help"], cwd=ROOT, capture_output=True).returncode == 0:
        run(*report)
    print(f"\nIn {out}: adjoint.py (the generated module), profile.json, trace.json (open it in "
          "Perfetto), placement.toml (the advice) and report.html.")


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
