"""Loading the customer's conformance programs (../shared/conformance/programs) in tests."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "programs"


def load(name, prefix="conf"):
    """(module, inputs) of the conformance program whose file starts with ``name``."""
    if not CONFORMANCE.exists():
        pytest.skip("the conformance suite (../shared) is not beside this repository")
    # the programs import their helpers from a package named 'support': drop any other one
    for key in [k for k in sys.modules if k == "support" or k.startswith("support.")]:
        module = sys.modules[key]
        if not str(getattr(module, "__file__", "") or "").startswith(str(CONFORMANCE)):
            del sys.modules[key]
    if str(CONFORMANCE) in sys.path:
        sys.path.remove(str(CONFORMANCE))
    sys.path.insert(0, str(CONFORMANCE))
    path = next(CONFORMANCE.glob(f"{name}*.py"))
    spec = importlib.util.spec_from_file_location(f"{prefix}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, module.inputs(np.random.default_rng(0))
