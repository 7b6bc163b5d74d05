"""Profiles of random programs (tests/programgen.py): the invariant the advisor stands on.

For each program: one profile (of the default placement, or of every site off) predicts the peak
tape of every placement to the byte (all subsets of the sites when there are at most 3, a sample
beyond), and running with the profiling hooks gives the gradient of the plain run (1e-12). The
hand-written and example models are checked the same way in tests/test_profiling.py and
tests/test_checkpointing.py; here the program shapes are the generator's: branches that bind a
local or not, loops, views passed to calls, several arrays returned.
"""
import itertools
import sys
from pathlib import Path

import numpy as np
from hypothesis import assume, event, given, note, settings
from hypothesis import strategies as st

import adjoin

sys.path.insert(0, str(Path(__file__).resolve().parent))
from programgen import arguments, programs  # noqa: E402
from test_random_programs import SETTINGS, Loaded, program_dir  # noqa: E402,F401

EXAMPLES = 50
MAX_PLACEMENTS = 8
RTOL = 1e-12


def placements(ids):
    subsets = [c for r in range(len(ids) + 1) for c in itertools.combinations(ids, r)]
    if len(subsets) > MAX_PLACEMENTS:
        subsets = subsets[:: max(1, len(subsets) // MAX_PLACEMENTS)][:MAX_PLACEMENTS] + [tuple(ids)]
    return [adjoin.Placement(off) for off in subsets]


def same(got, want):
    for g, w in zip(got, want):
        g, w = np.asarray(g, dtype=float), np.asarray(w, dtype=float)
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        assert (float(np.max(np.abs(g - w))) / scale if w.size else 0.0) <= RTOL


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(program=programs(statements=(2, 6)), args=arguments(), every_site_off=st.booleans())
def test_one_profile_predicts_every_placements_peak(program_dir, program, args, every_site_off):
    x, a, n = args
    note(program.source)
    with Loaded(program, program_dir) as module:
        ids = [s.id for s in adjoin.checkpoint_sites(module.f)]
        assume(ids)                     # a program with no site has one placement
        profiled = adjoin.Placement(ids if every_site_off else ())
        adj = adjoin.adjoint(module.f, wrt=("x", "a"), placement=profiled)
        try:
            plain = adj.measure(x=x.copy(), a=a, n=n)
        except adjoin.AdjoinError:
            event("refused")
            return
        value, grads, _, _ = adj.record(x=x.copy(), a=a, n=n)
        assert value == plain.value
        same(grads, plain.grads)
        profile = adj.profile(x=x.copy(), a=a, n=n, background=False, repeat=1)
        event(f"{len(ids)} sites")
        for placement in placements(ids):
            run = adjoin.adjoint(module.f, wrt=("x", "a"), placement=placement).measure(x=x.copy(), a=a, n=n)
            assert profile.predict(placement).peak_tape_bytes == run.peak_tape_bytes, sorted(placement.nocheckpoint)
