#!/usr/bin/env python3
"""What the tape's memory guard costs: Tape.push with the limit check against the same push
without it, interleaved in one process (issue 13).

    taskset -c 0 .venv/bin/python benchmarks/bench_tape.py              # micro and core programs
    taskset -c 0 .venv/bin/python benchmarks/bench_tape.py --rounds 21 --json tape.json
    .venv/bin/python benchmarks/bench_tape.py --small                    # a quick smoke run

``UnguardedTape`` below is the push as it was before the guard (the reference); ``Tape`` is
adjoin's.  Each round times both on the same work, alternating which goes first, and the table
gives the medians and the median of the per-round ratios:

* micro: ``tape.push(x)`` then ``tape.pop()`` in a Python loop, as generated code runs them, for a
  float and for a small array (where the check matters most: nothing else is slow);
* core: the three programs of bench_core.py (scalar loop, vectorized PDE, element loops), their
  adjoint run by ``adjoin.value_and_grad`` with the tape class swapped in ``adjoin.api``.

Run it pinned to one core (``taskset -c 0``) on a quiet machine; tests never assert times.
"""
import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import adjoin                                   # noqa: E402
from adjoin import api                          # noqa: E402
from adjoin.runtime import tape as tape_module  # noqa: E402
from adjoin.runtime.tape import SCALAR_BYTES, Tape, size_of, stored  # noqa: E402


class UnguardedTape(Tape):
    """The tape before issue 13: the same push, without the limit's check."""

    __slots__ = ()

    def push(self, value):
        kind = type(value)
        if kind is float or kind is int or kind is bool or kind is np.float64 or value is None:
            size = SCALAR_BYTES
            self._values.append(value)
        elif kind is np.ndarray:
            size = value.nbytes
            self._values.append(value.copy())
        else:
            size = size_of(value)
            self._values.append(stored(value))
        self._sizes.append(size)
        self.bytes += size
        self.pushes += 1
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes


def push_pop(cls, value, count):
    """Seconds per push+pop pair of ``value``, pushing ``count`` values then popping them."""
    tape = cls()
    push, pop = tape.push, tape.pop
    start = time.perf_counter()
    for _ in range(count):
        push(value)
    for _ in range(count):
        pop()
    return (time.perf_counter() - start) / count


def core_run(cls, fn, wrt, args):
    """Seconds of one adjoint run of ``fn`` with ``cls`` as the tape."""
    api.Tape = cls
    try:
        grad = adjoin.value_and_grad(fn, wrt=wrt)
        grad(**copy.deepcopy(args))                  # generation, compilation: not timed
        arguments = copy.deepcopy(args)
        start = time.perf_counter()
        grad(**arguments)
        return time.perf_counter() - start
    finally:
        api.Tape = Tape


def interleaved(work, rounds):
    """{'unguarded': [s...], 'guarded': [s...]}: ``work(cls)`` timed alternately, ``rounds`` each."""
    times = {"unguarded": [], "guarded": []}
    pairs = (("unguarded", UnguardedTape), ("guarded", Tape))
    for k in range(rounds):
        for name, cls in (pairs if k % 2 == 0 else pairs[::-1]):
            times[name].append(work(cls))
    return times


def summary(name, times):
    base, guarded = statistics.median(times["unguarded"]), statistics.median(times["guarded"])
    ratios = [g / u for u, g in zip(times["unguarded"], times["guarded"])]
    return {"work": name, "unguarded_s": base, "guarded_s": guarded,
            "median_ratio": statistics.median(ratios), "rounds": len(ratios)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="rounds of each (default 11)")
    parser.add_argument("--small", action="store_true", help="small sizes, for a quick smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    options = parser.parse_args(argv)
    import bench_core

    count = 20_000 if options.small else 200_000
    rows = []
    for label, value in (("micro: push+pop a float", 1.5), ("micro: push+pop an array of 8", np.ones(8))):
        interleaved(lambda cls: push_pop(cls, value, count // 10), 2)       # warm-up
        rows.append(summary(label, interleaved(lambda cls: push_pop(cls, value, count), options.rounds)))
    for case in bench_core.cases(small=options.small):
        work = (lambda cls, case=case: core_run(cls, case.fn, case.wrt, case.args))
        interleaved(work, 1)                                                   # warm-up
        rows.append(summary(f"core: {case.name} ({case.size})", interleaved(work, options.rounds)))

    print(f"the tape's limit check: medians of {options.rounds} interleaved rounds; default limit "
          f"{tape_module.human(tape_module.default_max_bytes())}")
    print(f"{'work':48} {'unguarded':>12} {'guarded':>12} {'ratio':>8}")
    for row in rows:
        unit, scale = ("ns", 1e9) if row["work"].startswith("micro") else ("ms", 1e3)
        print(f"{row['work']:48} {row['unguarded_s'] * scale:9.1f} {unit} {row['guarded_s'] * scale:9.1f} "
              f"{unit} {row['median_ratio']:8.3f}")
    if options.json:
        from common import environment
        Path(options.json).write_text(json.dumps({"environment": environment(), "results": rows},
                                                 indent=2) + "\n")


if __name__ == "__main__":
    main()
