"""Helpers for the benchmarks: the environment a result depends on, loading the models, comparing
gradients, printing bytes.  Nothing here times or asserts anything."""
import datetime
import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "programs"


def environment():
    """What a result depends on: versions, commit, machine."""
    import adjoin
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True,
                                    text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = None, None
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "adjoin": getattr(adjoin, "__version__", None),
        "commit": commit,
        "src_modified": dirty,
        "cpus": os.cpu_count(),
        # the CPUs this process may run on (taskset): a timing's own core, or shared
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "machine": platform.processor() or platform.machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def load_example(name, size=None):
    """(head, wrt, args, size used) of examples/<name>/case.toml, at ``size`` or the case's own."""
    from adjoin.case import load_case
    overrides = [f"size={size}"] if size is not None else []
    case = load_case(EXAMPLES / name / "case.toml", overrides)
    return case.head, tuple(case.wrt), case.build_inputs(), case.inputs_args.get("size")


def load_conformance(stem):
    """(head, wrt, args) of a conformance program: HEAD, WRT and inputs(default_rng(0))."""
    if str(CONFORMANCE) not in sys.path:
        sys.path.insert(0, str(CONFORMANCE))     # programs import their siblings (support/)
    path = CONFORMANCE / f"{stem}.py"
    name = "bench_conformance_" + stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.HEAD, tuple(module.WRT), module.inputs(np.random.default_rng(0))


def relative_difference(a, b):
    """max |a - b| / max(|a|, |b|, tiny) over the leaves of two gradient tuples."""
    worst = 0.0
    for x, y in zip(a, b):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        scale = max(float(np.max(np.abs(x), initial=0.0)), float(np.max(np.abs(y), initial=0.0)), 1e-300)
        worst = max(worst, float(np.max(np.abs(x - y), initial=0.0)) / scale)
    return worst


def human_bytes(n):
    """1234567 -> '1.18 MiB' (binary units; exact bytes are in the JSON)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024.0 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024.0
