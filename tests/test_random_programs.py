"""Gradients of random programs: invariants 1, 2 and 7 of DESIGN.md, checked with hypothesis.

tests/programgen.py writes random programs ``f(x, a, n)`` in adjoin's input language. For each:

- the adjoint returns the primal's value, leaves its arguments unchanged, gives gradients shaped
  like ``x`` and ``a``, and its directional derivatives agree with central finite differences
  (best of h in 1e-3..1e-7, relative 1e-6, with an absolute floor for derivatives near zero);
- the adjoint agrees with the tangent (forward mode) along the same directions to 1e-10 relative:
  the dot-product test, exact up to rounding and far more sensitive than finite differences;
- every placement of the checkpoint sites gives the same gradient (relative 1e-12);
- the generator itself writes programs that run, and are smooth enough at the drawn point for
  finite differences to be a valid oracle (this one needs no adjoint).

Each property runs on programs drawn with every shape of the generator, and again per family of
the aliasing shapes of issue 12 (``programgen.FAMILIES``: row and slice views passed to calls,
second names, several arrays returned, lists, call results, axis reductions fed to reshape, a
subroutine rebinding its parameter, an element passed beside its array), each family first in
every program of its test. Every adjoint runs in verify mode (``verify=True``): an
``adjoin.VerifyError`` is a failure. A refusal (``adjoin.AdjoinError``) is accepted only for a
program whose aliasing DESIGN.md lets adjoin refuse (``Program.may_refuse``); refusing any other
program is a failure too.

Runs are deterministic (``derandomize=True``, no example database). A failure prints the
program's source (``note``) and the arguments; paste them into a file to reproduce it.
``benchmarks/fuzz.py`` runs the same checks on thousands of fresh programs, outside CI, and writes
every failure as a standalone reproducer.

Shrinking is off by default: the programs are large and each attempt runs the adjoint, so
hypothesis would spend its five minutes and still leave a large program. To shrink a failure to
a small program, run with ``ADJOIN_SHRINK=1``:

    ADJOIN_SHRINK=1 .venv/bin/pytest tests/test_random_programs.py -k placement
"""
import importlib.util
import itertools
import math
import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, reject, settings
from hypothesis import strategies as st

import adjoin

sys.path.insert(0, str(Path(__file__).resolve().parent))
from programgen import FAMILIES, arguments, programs  # noqa: E402

FD_STEPS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
FD_RTOL = 1e-6
DOT_RTOL = 1e-10
DOT_FLOOR = 1e-6         # relative to the cost: derivatives below it are compared to 1e-16 of the cost
PLACEMENT_RTOL = 1e-12
MAX_PLACEMENTS = 8       # every subset of the sites when there are at most 3, a sample beyond
# Examples per test: programs of every shape, and programs of each family of FAMILIES (first in
# every program; smaller programs for placements, which run the adjoint up to MAX_PLACEMENTS
# times). Fewer programs than the 250 per property of the file before the families and verify mode,
# so that its run time stays about what it was (about 95 s here); most programs of every shape
# have some family too.
FD_EXAMPLES = 130
PLACEMENT_EXAMPLES = 110
FAMILY_FD_EXAMPLES = 10
FAMILY_PLACEMENT_EXAMPLES = 8
FAMILY_PLACEMENT_STATEMENTS = (1, 3)

SHRINK = os.environ.get("ADJOIN_SHRINK", "") not in ("", "0")
# report_multiple_bugs=False: one failure is reported (and shrunk), which keeps a failing run short
SETTINGS = dict(deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
                phases=tuple(Phase) if SHRINK else (Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])

_serial = itertools.count()
# Programs that passed, per test. Hypothesis often draws a program again (different draws can
# write the same text); running it again proves nothing, so such an example is rejected and
# hypothesis draws another: every run covers max_examples distinct programs. A failing program
# is never in here, so replaying and shrinking a failure work as usual.
_passed = {}


def skip_if_passed(test, program):
    if program.source in _passed.setdefault(test, set()):
        reject()


def passed(test, program):
    _passed[test].add(program.source)


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    """Where generated programs are written, so that adjoin can read their source."""
    return tmp_path_factory.mktemp("random_programs")


class Loaded:
    """A generated program imported as a module under a unique name; removed from sys.modules on exit."""

    def __init__(self, program, directory):
        self.name = f"adjoin_random_{next(_serial)}_{zlib.crc32(program.source.encode()):08x}"
        self.path = Path(directory) / f"{self.name}.py"
        self.path.write_text(program.source)

    def __enter__(self):
        spec = importlib.util.spec_from_file_location(self.name, self.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.name] = module
        spec.loader.exec_module(module)
        return module

    def __exit__(self, *exc):
        sys.modules.pop(self.name, None)
        return False


def describe(program, x, a, n):
    """The program and its arguments, for hypothesis' report and for assertion messages."""
    text = f"{program.source}\n# arguments\nx = np.array({x.tolist()!r})\na = {a!r}\nn = {n!r}\n"
    note(text)
    return text


def primal(module, x, a, n):
    """The primal's value; f may update its argument x in place, so it gets a copy."""
    return float(module.f(x.copy(), a, n))


def central_differences(fun):
    """Central differences (fun(h) - fun(-h)) / 2h for every h in FD_STEPS."""
    return [(fun(h) - fun(-h)) / (2.0 * h) for h in FD_STEPS]


def five_point(fun, h):
    """A fourth-order difference quotient of fun at 0."""
    return (-fun(2 * h) + 8.0 * fun(h) - 8.0 * fun(-h) + fun(-2 * h)) / (12.0 * h)


def floor_for(value):
    """Below this, a directional derivative is compared absolutely: rounding noise in the cost
    divided by the step makes relative errors of tiny derivatives meaningless."""
    return 1e-4 * max(1.0, abs(value))


def relative_errors(predicted, estimates, floor):
    return [abs(fd - predicted) / max(abs(predicted), floor) for fd in estimates]


def reference_derivative(fun, floor):
    """(derivative, smooth): a Richardson-extrapolated fourth-order difference of fun at 0, and
    whether the two differences it extrapolates agree (no kink or jump between them). Tries steps
    1e-4 then 1e-5: the larger is less noisy, the smaller sees past a kink 4e-4 away."""
    for h in (1e-4, 1e-5):
        near, far = five_point(fun, h), five_point(fun, 2 * h)
        if abs(near - far) <= 1e-7 * max(abs(near), floor):
            return near + (near - far) / 15.0, True
    return near, False


def directions(program, length):
    rng = np.random.default_rng(zlib.crc32(program.source.encode()))
    return rng.normal(size=length)


def tangent_derivatives(module, x, a, n, dx):
    """The tangent's derivatives of f along x's direction dx and along a: what the adjoint's
    <g_x, dx> and g_a must equal to rounding (the dot-product test)."""
    jvp = adjoin.jvp(module.f, wrt=("x", "a"))
    along_x = jvp(x, a, n, tangents=(dx, 0.0))[1]
    along_a = jvp(x, a, n, tangents=(np.zeros_like(x), 1.0))[1]
    return {"x": float(along_x), "a": float(along_a)}


def dot_floor(value):
    """Below this, the two derivatives of the dot-product test are compared absolutely (to
    DOT_RTOL times it): a derivative that is zero up to rounding (1e-21 against a cost of 0.6) is
    rounding noise on both sides, whose relative difference means nothing."""
    return DOT_FLOOR * max(1.0, abs(value))


def dot_error(tangent, adjoint, floor=0.0):
    """The dot-product identity's relative error: the tangent's and the adjoint's derivative."""
    scale = max(abs(tangent), abs(adjoint), floor)
    return abs(tangent - adjoint) / scale if scale else 0.0


def check_dot(module, program, x, a, n, dx, predicted, text):
    """The adjoint's directional derivatives against the tangent's, to DOT_RTOL; a tangent that
    refuses what the adjoint accepted is a failure."""
    try:
        tangent = tangent_derivatives(module, x, a, n, dx)
    except adjoin.AdjoinError as error:
        raise AssertionError(f"the tangent refused a program the adjoint differentiates: {error}\n{text}") from error
    floor = dot_floor(primal(module, x, a, n))
    for name, value in tangent.items():
        error = dot_error(value, predicted[name], floor)
        assert error <= DOT_RTOL, (
            f"dot-product test along {name}: the tangent gives {value!r}, the adjoint {predicted[name]!r} "
            f"(relative error {error:.2e} > {DOT_RTOL:.0e})\n{text}")


class Refused(Exception):
    """adjoin refused a program whose aliasing DESIGN.md allows it to refuse."""


def differentiate(module, program, x, a, n, text, placement=None):
    """value_and_grad of f at (x, a, n), in verify mode. A broken assumption found by verify mode
    is a failure; so is a refusal, unless the program's aliasing may be refused (then Refused)."""
    try:
        return adjoin.value_and_grad(module.f, wrt=("x", "a"), placement=placement, verify=True)(x, a, n)
    except adjoin.VerifyError as error:
        raise AssertionError(f"verify mode found a broken assumption: {error}\n{text}") from error
    except adjoin.AdjoinError as error:
        if program.may_refuse:
            event("refused, as it may: two live names share memory")
            raise Refused(str(error)) from error
        raise AssertionError(f"adjoin refused a program of its input language: {error}\n{text}") from error


def record(program):
    for construct in sorted(program.constructs):
        event(construct)
    for family in sorted(program.families):
        event(f"family {family}")


@pytest.mark.adjoint
@settings(max_examples=FD_EXAMPLES, **SETTINGS)
@given(program=programs(), args=arguments())
def test_gradient_matches_finite_differences(program_dir, program, args):
    check_gradient("fd", program_dir, program, args)


@pytest.mark.adjoint
@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=FAMILY_FD_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_gradient_matches_finite_differences_per_family(program_dir, family, data):
    program = data.draw(programs(focus=family), label="program")
    check_gradient(f"fd {family}", program_dir, program, data.draw(arguments(), label="args"))


def check_gradient(test, program_dir, program, args):
    skip_if_passed(test, program)
    x, a, n = args
    text = describe(program, x, a, n)
    record(program)
    with Loaded(program, program_dir) as module:
        expected = primal(module, x, a, n)
        before = (x.copy(), a, n)
        try:
            value, grads = differentiate(module, program, x, a, n, text)
        except Refused:
            passed(test, program)
            return

        assert np.array_equal(x, before[0]) and x.dtype == before[0].dtype, \
            f"value_and_grad modified its argument x\n{text}"
        assert (a, n) == before[1:], f"value_and_grad modified a or n\n{text}"
        assert np.ndim(value) == 0, f"the value has shape {np.shape(value)}\n{text}"
        assert math.isclose(float(value), expected, rel_tol=1e-12, abs_tol=1e-300), \
            f"value {float(value)!r} differs from the primal's {expected!r}\n{text}"
        grads = tuple(grads)
        assert len(grads) == 2, f"{len(grads)} gradients for wrt=('x', 'a')\n{text}"
        g_x, g_a = grads
        assert np.shape(g_x) == x.shape, f"gradient of x has shape {np.shape(g_x)}, x has {x.shape}\n{text}"
        assert np.shape(g_a) == (), f"gradient of a has shape {np.shape(g_a)}, a is a float\n{text}"
        assert np.all(np.isfinite(g_x)) and math.isfinite(float(g_a)), f"gradient is not finite\n{text}"

        dx = directions(program, x.size)
        checks = {
            "x": (lambda h: primal(module, x + h * dx, a, n), float(np.dot(np.asarray(g_x), dx))),
            "a": (lambda h: primal(module, x, a + h, n), float(g_a)),
        }
        check_dot(module, program, x, a, n, dx, {name: c[1] for name, c in checks.items()}, text)
        floor = floor_for(expected)
        for name, (fun, predicted) in checks.items():
            estimates = central_differences(fun)
            errors = relative_errors(predicted, estimates, floor)
            if min(errors) <= FD_RTOL:
                continue
            reference, smooth = reference_derivative(fun, floor)
            if not smooth:
                # finite differences are no oracle across a kink: this example proves nothing
                event("rejected: the primal has a kink next to the drawn point")
                reject()
            if relative_errors(predicted, [reference], floor)[0] <= FD_RTOL:
                continue    # rounding noise in every central difference; the converged reference agrees
            best = int(np.argmin(errors))
            raise AssertionError(
                f"directional derivative along {name} is {predicted!r}, finite differences give "
                f"{estimates[best]!r} (h={FD_STEPS[best]:g}, best relative error {errors[best]:.2e} > "
                f"{FD_RTOL:.0e}); all estimates: {estimates}\n{text}")
    passed(test, program)


def placements(ids, rng):
    """Sets of sites not to checkpoint: all subsets when few, else none, all, each one alone, and
    random subsets up to MAX_PLACEMENTS (deterministic: rng is seeded by the program)."""
    if 2 ** len(ids) <= MAX_PLACEMENTS:
        return [list(c) for k in range(len(ids) + 1) for c in itertools.combinations(ids, k)]
    chosen = [[], list(ids)] + [[i] for i in ids]
    while len(chosen) < MAX_PLACEMENTS:
        mask = rng.random(len(ids)) < 0.5
        chosen.append([i for i, m in zip(ids, mask) if m])
    return chosen


@pytest.mark.adjoint
@settings(max_examples=PLACEMENT_EXAMPLES, **SETTINGS)
@given(program=programs(min_helpers=1, statements=(1, 5)), args=arguments())
def test_every_placement_gives_the_same_gradient(program_dir, program, args):
    check_placements("placements", program_dir, program, args)


@pytest.mark.adjoint
@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=FAMILY_PLACEMENT_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_every_placement_gives_the_same_gradient_per_family(program_dir, family, data):
    program = data.draw(programs(min_helpers=1, statements=FAMILY_PLACEMENT_STATEMENTS, focus=family),
                        label="program")
    check_placements(f"placements {family}", program_dir, program, data.draw(arguments(), label="args"))


def check_placements(test, program_dir, program, args):
    skip_if_passed(test, program)
    x, a, n = args
    text = describe(program, x, a, n)
    record(program)
    with Loaded(program, program_dir) as module:
        sites = list(adjoin.checkpoint_sites(module.f))
        ids = [site.id for site in sites]
        note(f"checkpoint sites: {ids}")
        assert len(set(ids)) == len(ids), f"site ids are not unique: {ids}\n{text}"
        assert len(ids) == program.sites, \
            f"{len(ids)} checkpoint sites found, the program has {program.sites} calls: {ids}\n{text}"
        event(f"{len(ids)} checkpoint sites")
        try:
            value0, grads0 = differentiate(module, program, x, a, n, text, adjoin.Placement())
        except Refused:
            passed(test, program)
            return
        rng = np.random.default_rng(zlib.crc32(program.source.encode()))
        for off in placements(ids, rng)[1:]:     # the first is [], the reference itself
            try:
                value, grads = differentiate(module, program, x.copy(), a, n, text,
                                             adjoin.Placement(nocheckpoint=off))
            except Refused:
                continue      # allowed (this program's aliasing may be refused), if odd

            assert math.isclose(float(value), float(value0), rel_tol=PLACEMENT_RTOL, abs_tol=1e-300), \
                f"the value changes when not checkpointing {off}: {float(value)!r} != {float(value0)!r}\n{text}"
            for name, g0, g1 in zip(("x", "a"), grads0, grads):
                scale = max(1.0, float(np.max(np.abs(g0))))
                diff = float(np.max(np.abs(np.asarray(g1) - np.asarray(g0))))
                assert diff <= PLACEMENT_RTOL * scale, (
                    f"the gradient of {name!r} changes by {diff:.3e} (scale {scale:.3e}) when not "
                    f"checkpointing {off}\n{text}")
    passed(test, program)


@settings(max_examples=50, **SETTINGS)
@given(program=programs(), args=arguments())
def test_generated_programs_run_and_are_smooth(program_dir, program, args):
    """The generator's promise: valid programs, a finite float cost, deterministic, and smooth at
    the drawn point, so that finite differences (best of FD_STEPS) can judge an exact gradient."""
    check_primal("primal", program_dir, program, args)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=10, **SETTINGS)
@given(data=st.data())
def test_generated_programs_run_and_are_smooth_per_family(program_dir, family, data):
    program = data.draw(programs(focus=family), label="program")
    assert family in program.families, f"a program focused on {family} has none of it\n{program.source}"
    check_primal(f"primal {family}", program_dir, program, data.draw(arguments(), label="args"))


def check_primal(test, program_dir, program, args):
    skip_if_passed(test, program)
    x, a, n = args
    text = describe(program, x, a, n)
    record(program)
    with Loaded(program, program_dir) as module:
        value = module.f(x.copy(), a, n)
        assert isinstance(value, (float, np.floating)) and np.ndim(value) == 0, \
            f"the cost is a {type(value).__name__}, not a scalar float\n{text}"
        assert math.isfinite(value), f"the cost is {value}\n{text}"
        assert primal(module, x, a, n) == float(value), f"the program is not deterministic\n{text}"
        dx = directions(program, x.size)
        floor = floor_for(value)
        for name, fun in (("x", lambda h: primal(module, x + h * dx, a, n)),
                          ("a", lambda h: primal(module, x, a + h, n))):
            exact, smooth = reference_derivative(fun, floor)
            assert smooth, f"the cost is not smooth along {name} at the drawn point\n{text}"
            error = min(relative_errors(exact, central_differences(fun), floor))
            assert error <= FD_RTOL / 10, (
                f"central differences miss the derivative along {name} ({exact!r}) by {error:.1e}, "
                f"too close to the tolerance {FD_RTOL:.0e}\n{text}")
    passed(test, program)
