"""The finite-difference oracle of the random-program tests and of benchmarks/fuzz.py: a
derivative just above the absolute floor, that rounding noise hides from every central
difference, is judged by the converged Richardson reference instead (fuzz seed 10016650: every
central difference misses it by at least 1.1e-6 relative, the reference by 1.6e-8)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_for_tests", ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rounding_noise_in_every_central_difference_is_not_a_wrong_gradient(tmp_path):
    fuzz = fuzz_module()
    record = fuzz.run_one(("fd", 10016650, 1.0, "rotate", 120, str(tmp_path), 0))
    assert record["outcome"] == "ok", record["message"]
