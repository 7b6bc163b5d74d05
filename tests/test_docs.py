"""The generated code shown in the docs is what adjoin generates today (docs/examples/generate.py)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_docs_examples_are_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "generate.py"), "--check"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
