"""The ``adjoin`` command (docs/cli.md, docs/files-and-status.md).

One function per subcommand, ``run_<name>(options) -> exit status``, with ``<name>_arguments``
declaring its options; :data:`COMMANDS` registers them.  Exit statuses: 0 success, 1 a check
found disagreements, 2 a usage or input error (any :class:`AdjoinError`: a bad option, a file
that cannot be read or written, a damaged file, a refusal, the tape's limit, memory exhausted),
3 a bug in adjoin (also a :class:`VerifyError`), 4 a check whose finite differences are too
noisy to judge, 130 interrupted (Ctrl-C), 128 + N stopped by signal N (SIGTERM, SIGHUP).
Results go to stdout, progress, warnings and errors to stderr; output printed by the user's own
code goes to stderr too, so that stdout holds only results (e.g. the generated source).

No command writes over a file it reads for the job (the model and every module of it, the case,
the placement, the profile) unless given --force: see :func:`refuse_overwriting`.
"""
import argparse
import contextlib
import copy
import dataclasses
import functools
import inspect
import itertools
import difflib
import json
import math
import os
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from . import api
from .case import (call_text, check_wrt, describe_exception, find_function, load_case, load_module,
                   shown)
from .errors import AdjoinError, StalePlacementWarning, UsageError, VerifyError
from .fileio import check_writable, write_text_atomic
from .placement import Placement, read_placement
from .version import __version__

OK, DISAGREE, USAGE, BUG, NOISY, INTERRUPTED = 0, 1, 2, 3, 4, 130
FD_STEPS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)   # the same steps as the conformance suite
FD_SMALLER_STEPS = (1e-8, 1e-9, 1e-10)      # tried in turn while the differences still converge
PLATEAU_WIDTH = 3        # a plateau has at least this many consecutive steps (when so many are finite)
PLATEAU_GROWTH = 2.0     # it takes in neighbours while its spread stays within this factor of its start's
SMALLER_STEPS_UNTIL = 0.1   # smaller steps are tried until the differences agree to this times rtol
SEEN_BEYOND_SPREAD = 10.0   # an ok row whose adjoint is this many spreads away gets a note
CONVERGED = 1e-4         # finite differences no PLATEAU_WIDTH consecutive steps of which agree this well
                         # judge nothing (or rtol, when larger)
FLOOR = 1e-8             # relative errors and spreads are taken against max(|value|, FLOOR)
VALUE_RTOL = 1e-12       # the adjoint's value must be the primal's
PLACEMENT_RTOL = 1e-12   # every placement gives the same gradient (DESIGN.md, invariant 2)
VERIFY_HELP = ("check at run time every value the backward sweep assumes unchanged (slower; for "
               "debugging adjoin)")


# ---------------------------------------------------------------------------------------------
# generate

def generate_arguments(parser):
    parser.add_argument("target", metavar="TARGET",
                        help="the function to differentiate: MODULE.py:HEAD, or a case file CASE.toml")
    parser.add_argument("--wrt", type=name_list, metavar="A,B",
                        help="parameters of the head to differentiate with respect to, "
                             "comma-separated (default: the case's wrt)")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT.py",
                        help="write the adjoint module to this file (default: print it to stdout)")
    parser.add_argument("--case", type=Path, metavar="CASE.toml",
                        help="a case for the same head: its inputs fix the kinds of the "
                             "arguments (float or int, array rank) the adjoint is written for")
    set_argument(parser)
    checkpoint_arguments(parser)
    force_argument(parser)
    json_argument(parser)


def run_generate(options):
    """Writes the adjoint module of a head: to stdout, or atomically to -o OUT.py."""
    subject = load_subject(options.target, options.set)
    case = subject.case
    if options.case is not None:
        if case is not None:
            raise UsageError(f"{options.target} is already a case file; drop --case {options.case}")
        case = load_case_quietly(options.case, options.set)
        if not same_function(case.head, subject.head):
            raise UsageError(f"--case {shown(options.case)} differentiates "
                             f"{shown(case.head.__code__.co_filename)}:{case.head.__name__}, not "
                             f"{options.target}; give a case for the same head")
    elif options.set and case is None:
        raise UsageError("--set changes a case's [inputs_args]; give a case with --case CASE.toml")
    head = case.head if case is not None else subject.head
    if options.wrt is not None:
        wrt = options.wrt
        check_wrt(head, wrt, "--wrt")
    elif case is not None:
        wrt = case.wrt
    else:
        raise UsageError(f"{options.target}: say what to differentiate with respect to, e.g. "
                         f"--wrt {next(iter(inspect.signature(head).parameters), 'x')}")
    placement, listed = load_placement(options.placement)
    if options.output is not None:
        refuse_overwriting(options, [("-o", options.output, f"{head.__name__}_adjoint.py")],
                           model_reads(head, subject.path if case is None else None, case,
                                       options.case) + placement_reads(options.placement))
    example = None
    if case is not None:
        progress(options, f"building the example inputs: {call_text(case.inputs_function, case.inputs_args)}")
        with user_output_to_stderr():
            example = dataclasses.replace(case, wrt=wrt).build_inputs()   # checks --wrt's kinds
    warn_checkpoint_choices(options, head, placement, listed, example)
    progress(options, f"generating the adjoint of {head.__name__} with respect to {', '.join(wrt)}")
    source = api.generate_source(head, wrt, placement=placement, nocheckpoint=options.nocheckpoint,
                                 example=example)
    if options.output is not None:
        write_text_atomic(options.output, source)
        progress(options, f"wrote {shown(options.output)} ({len(source.splitlines())} lines)")
    if options.json:
        print(json.dumps({"head": head.__name__, "wrt": list(wrt), "output": str(options.output)
                          if options.output else None, "lines": len(source.splitlines()),
                          "source": None if options.output else source}, indent=2))
    elif options.output is None:
        sys.stdout.write(source if source.endswith("\n") else source + "\n")
    return OK


# ---------------------------------------------------------------------------------------------
# check

def check_arguments(parser):
    parser.add_argument("case", metavar="CASE.toml", type=Path,
                        help="the case: module, head, wrt and how to build the inputs")
    set_argument(parser)
    parser.add_argument("--rtol", type=positive_float, default=1e-6, metavar="R",
                        help="largest relative error accepted between the adjoint and finite "
                             "differences (default: %(default)g)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                        help="seed of the random directions and placements (default: %(default)s)")
    parser.add_argument("--placements", type=non_negative_int, metavar="N",
                        help="also run the adjoint under every site checkpointed, every site off "
                             f"and N random placements: each gradient must agree with the checked "
                             f"one to {PLACEMENT_RTOL:g} (default: no placement check)")
    dot = parser.add_mutually_exclusive_group()
    dot.add_argument("--dot", action="store_true", default=None,
                     help="require the dot-product test (the default when the tangent can be "
                          "generated): the tangent (forward mode) along each parameter's random "
                          "direction must agree with the adjoint, <J xd, 1> = <xd, gradient>, to "
                          f"{DOT_RTOL:g} relative; a tangent that cannot be generated is then an error")
    dot.add_argument("--no-dot", dest="dot", action="store_false",
                     help="skip the tangent and the dot-product test: finite differences only")
    checkpoint_arguments(parser)
    max_tape_argument(parser)
    verify_argument(parser)
    json_argument(parser)


DOT_RTOL = 1e-10


def dot_products(head, wrt, inputs, grads, directions, required):
    """The dot-product test of the adjoint against the tangent, per parameter: the tangent's
    derivative along that parameter's direction (the others fixed) against <direction, gradient>.
    Returns {"ok", "relative_error" (the largest), "rtol", "seconds", "parameters": [rows]}, or
    {"ok": None, "refusal": why} when the tangent cannot be generated and the test was not
    ``required`` (--dot)."""
    from .errors import UnsupportedError
    from .tangent_api import jvp
    tangent = jvp(head, wrt=tuple(wrt))
    rows, start = [], time.perf_counter()
    for k, name in enumerate(wrt):
        tangents = tuple(directions[k] if j == k else np.zeros_like(directions[j]) for j in range(len(wrt)))
        given = copy.deepcopy(inputs)
        try:
            with user_output_to_stderr():
                _, value_d = tangent(**given, tangents=tangents)
        except UnsupportedError as refusal:
            if required:
                raise
            return {"ok": None, "refusal": str(refusal)}
        forward = float(np.sum(value_d))
        backward = float(np.sum(np.asarray(grads[k]) * directions[k]))
        rows.append({"parameter": name, "tangent": forward, "adjoint": backward,
                     "relative_error": relative_difference(forward, backward)})
    error = max((row["relative_error"] for row in rows), default=0.0)
    return {"ok": bool(error <= DOT_RTOL), "relative_error": error, "rtol": DOT_RTOL,
            "seconds": time.perf_counter() - start, "parameters": rows}


def relative_difference(a, b):
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def random_direction(rng, value):
    """A random direction in a parameter's space (the same stream for the adjoint, the tangent
    and the finite differences)."""
    return float(rng.normal()) if np.shape(value) == () else rng.normal(size=np.shape(value))


def run_check(options):
    """Compares the adjoint gradient with central finite differences, per parameter, and reports
    their own spread; with --placements, also checks that other placements give the same
    gradient."""
    if not str(options.case).endswith(".toml"):
        raise UsageError(f"{options.case}: check needs a case file (CASE.toml), which says how to "
                         "build the head's inputs; see docs/case-format.md")
    case = load_case_quietly(options.case, options.set)
    placement, listed = load_placement(options.placement)
    progress(options, f"building the inputs: {call_text(case.inputs_function, case.inputs_args)}")
    with user_output_to_stderr():
        inputs = case.build_inputs()
    warn_checkpoint_choices(options, case.head, placement, listed, inputs)
    head = case.head
    verify = verify_option(options)
    verify_on = api.verify_default(verify)

    progress(options, f"running the primal {head.__name__}")
    arguments = copy.deepcopy(inputs)
    primal_value, primal_seconds = timed(lambda: evaluate(head, arguments))

    progress(options, f"generating and running the adjoint with respect to {', '.join(case.wrt)}"
                      + (" (verify mode)" if verify_on else ""))
    adj = api.adjoint(head, wrt=case.wrt, placement=placement, nocheckpoint=options.nocheckpoint,
                      verify=verify, max_tape_bytes=options.max_tape)
    given = copy.deepcopy(inputs)
    with user_output_to_stderr():
        run, total_seconds = timed(lambda: adj.measure(**given))   # generates, compiles, then times
    value, grads = float(run.value), tuple(run.grads)
    if len(grads) != len(case.wrt):
        raise RuntimeError(f"the adjoint returned {len(grads)} gradients "
                           f"for {len(case.wrt)} parameters")

    problems = []
    if not np.isclose(value, primal_value, rtol=VALUE_RTOL, atol=0.0):
        problems.append(f"the adjoint's value {value!r} differs from the primal's {primal_value!r}")
    problems += [f"the adjoint modified the argument {name!r}" for name in inputs
                 if not same_value(given[name], inputs[name])]

    rng = np.random.default_rng(options.seed)
    directions = [random_direction(rng, inputs[name]) for name in case.wrt]
    rows = []
    start = time.perf_counter()
    for name, gradient, direction in zip(case.wrt, grads, directions):
        progress(options, f"finite differences for {name}")
        rows.append(compare(head, inputs, name, gradient, direction, options.rtol))
    fd_seconds = time.perf_counter() - start
    seconds = {"primal": primal_seconds, "prepare": max(total_seconds - run.seconds, 0.0),
               "adjoint": run.seconds, "finite_differences": fd_seconds}

    dot = None
    if options.dot is not False:
        progress(options, "generating and running the tangent for the dot-product test")
        dot = dot_products(head, case.wrt, inputs, grads, directions, required=bool(options.dot))
        if dot["ok"] is not None:
            seconds["tangent"] = dot["seconds"]
            for row, tangent_row in zip(rows, dot["parameters"]):
                row["tangent"], row["dot_error"] = tangent_row["tangent"], tangent_row["relative_error"]
        if dot["ok"] is False:
            problems += [f"dot-product test, {r['parameter']}: the tangent gives {r['tangent']!r}, the adjoint "
                         f"{r['adjoint']!r} (relative difference {r['relative_error']:.1e} > {DOT_RTOL:g})"
                         for r in dot["parameters"] if not r["relative_error"] <= DOT_RTOL]

    placements = None
    if options.placements is not None:
        start = time.perf_counter()
        placements = check_placements(options, head, case.wrt, inputs, value, grads, placement,
                                      verify)
        seconds["placements"] = time.perf_counter() - start

    statuses = {row["status"] for row in rows}
    if "fail" in statuses or problems or (placements is not None and not placements["ok"]):
        status, exit_status = "fail", DISAGREE
    elif "noisy" in statuses:
        status, exit_status = "noisy", NOISY
    else:
        status, exit_status = "ok", OK
    if options.json:
        print(json.dumps({"case": str(case.path), "head": head.__name__, "status": status,
                          "ok": status == "ok", "value": value, "primal_value": primal_value,
                          "rtol": options.rtol, "seed": options.seed,
                          "verify": verify_on,
                          "parameters": rows, "problems": problems, "placements": placements, "dot": dot,
                          "peak_tape_bytes": run.peak_tape_bytes, "seconds": seconds}, indent=2))
    else:
        console = make_console(options)
        print_check(case, rows, problems, placements, dot, value, run.peak_tape_bytes, seconds,
                    options.rtol, verify_on, console=console)
    return exit_status


def compare(head, inputs, name, gradient, direction, rtol):
    """One row of the check: the directional derivative along a random direction, by the adjoint
    and by central finite differences over several steps, judged against rtol and the
    differences' own spread (see judge)."""
    base = inputs[name]
    shape = np.shape(base)
    row = {"parameter": name, "shape": list(shape), "adjoint": None, "finite_differences": None,
           "relative_error": None, "spread": None, "plateau_steps": None, "differences": None,
           "tangent": None, "dot_error": None, "status": "fail", "ok": False, "problem": None, "note": None}
    if np.shape(gradient) != shape:
        row["problem"] = f"gradient has shape {np.shape(gradient)}, the parameter {shape}"
        return row
    if not np.all(np.isfinite(gradient)):
        row["problem"] = "gradient is not finite"
        return row
    predicted = float(np.sum(np.asarray(gradient) * direction))
    row["adjoint"] = predicted

    def difference(h):
        plus = evaluate(head, moved(inputs, name, base + h * direction), name)
        minus = evaluate(head, moved(inputs, name, base - h * direction), name)
        return (plus - minus) / (2.0 * h)
    # steps relative to the parameter's size: a diffusivity of 8000 is not moved by 1e-7
    scale = max(1.0, float(np.sqrt(np.mean(np.square(base)))) if np.size(base) else 1.0)
    steps, values = central_differences(difference, scale, rtol)
    row["differences"] = [{"step": h, "value": d if np.isfinite(d) else None}
                          for h, d in zip(steps, values)]
    values = resolved(values)
    found = plateau(values)
    if found is None:
        row["problem"] = "finite differences are not finite"
        return row
    row.update(judge(predicted, steps, values, *found, rtol))
    row["ok"] = row["status"] == "ok"
    return row


def central_differences(difference, scale, rtol):
    """``difference(h)`` at the steps FD_STEPS times ``scale``, then at smaller ones (FD_SMALLER_STEPS)
    while the narrowest plateau candidate that agrees best ends at the smallest step and does not
    agree to SMALLER_STEPS_UNTIL * rtol yet: the truncation error is still going down.  Returns
    (steps, values)."""
    steps = [step * scale for step in FD_STEPS]
    values = [difference(h) for h in steps]
    for step in FD_SMALLER_STEPS:
        runs = candidate_runs(resolved(values))
        if not runs:
            break
        spread, _, stop = min(runs)
        if stop != len(values) or not spread > SMALLER_STEPS_UNTIL * rtol:
            break
        steps.append(step * scale)
        values.append(difference(step * scale))
    return steps, values


def resolved(values):
    """``values`` with the exact zeros made NaN unless every value is zero: a central difference is
    exactly zero when the cost did not change at all between p - hv and p + hv, which below some
    step is what a cost computed in lower precision (float32) does; such zeros agree with each
    other perfectly, and say nothing about the derivative."""
    values = np.asarray(values, dtype=float)
    if np.all(values == 0.0):
        return values
    return np.where(values == 0.0, np.nan, values)


def relative_spread(values):
    """(max - min) / max(|values|, FLOOR): how far apart ``values`` are, relatively."""
    values = np.asarray(values, dtype=float)
    return float((values.max() - values.min()) / max(float(np.abs(values).max()), FLOOR))


def candidate_runs(values):
    """The narrowest plateau candidates: every run of PLATEAU_WIDTH consecutive finite values
    (fewer when no run is that long, but at least two), as (relative spread, start, stop)."""
    finite = np.isfinite(values)
    longest = run = 0
    for ok in finite:
        run = run + 1 if ok else 0
        longest = max(longest, run)
    width = min(PLATEAU_WIDTH, longest)
    if width < 2:
        return []
    return [(relative_spread(values[a:a + width]), a, a + width)
            for a in range(len(values) - width + 1) if finite[a:a + width].all()]


def plateau(values):
    """The converged plateau of central differences taken at decreasing steps: the run
    ``values[start:stop]`` of PLATEAU_WIDTH consecutive values that agree best (the truncation
    error has gone, round-off has not come yet), grown by its neighbours while its spread stays
    within PLATEAU_GROWTH times theirs.  Three values, not two: two values of a cost computed in
    low precision can agree exactly by chance.  Returns (start, stop, closest: the best
    candidate's spread), or None when no two consecutive values are finite."""
    runs = candidate_runs(values)
    if not runs:
        return None
    closest, start, stop = min(runs)
    limit = PLATEAU_GROWTH * closest
    while True:
        grown = [(relative_spread(values[a:b]), a, b)
                 for a, b in ((start - 1, stop), (start, stop + 1))
                 if a >= 0 and b <= len(values) and np.all(np.isfinite(values[a:b]))]
        grown = [g for g in grown if g[0] <= limit]
        if not grown:
            return start, stop, closest
        _, start, stop = min(grown)


def judge(predicted, steps, values, start, stop, closest, rtol):
    """Row fields for the adjoint's ``predicted`` derivative against the plateau values[start:stop].

    The estimate is the plateau's median and its spread its relative spread.  The row is "fail"
    when the adjoint differs from the estimate by more than rtol and more than the spread (the
    finite differences can tell), "ok" when it differs by at most rtol and the spread is at most
    rtol, and "noisy" otherwise, or when no PLATEAU_WIDTH consecutive steps agree to
    max(CONVERGED, rtol)."""
    run = values[start:stop]
    estimate = float(np.median(run))
    spread_abs = float(np.max(run) - np.min(run))
    spread = relative_spread(run)
    difference = abs(predicted - estimate)
    error = difference / max(abs(predicted), FLOOR)
    fields = {"finite_differences": estimate, "relative_error": error, "spread": spread,
              "plateau_steps": steps[start:stop]}
    converged = max(CONVERGED, rtol)
    if closest > converged:
        fields["status"] = "noisy"
        fields["problem"] = (f"finite differences too noisy to judge: their values at "
                             f"consecutive steps never agree to {converged:g} (at best "
                             f"{closest:.1e}, over h = {step_text(steps[start])} to "
                             f"{step_text(steps[stop - 1])}); is the cost noisy (float32 "
                             "arithmetic, a solver's tolerance, a kink near the point)?")
    elif error > rtol and difference > spread_abs:
        fields["status"] = "fail"
    elif error <= rtol and spread <= rtol:
        fields["status"] = "ok"
        if difference > SEEN_BEYOND_SPREAD * spread_abs and error > rtol / 1000:
            fields["note"] = (f"within rtol {rtol:g}, but the adjoint is {error:.1e} from the "
                              f"finite differences, {difference / max(spread_abs, 1e-300):.0f}× "
                              f"their spread: a small error they can see (--rtol {error / 2:.0e} "
                              "would fail it)")
    else:
        fields["status"] = "noisy"
        fields["problem"] = (f"finite differences too noisy to judge at rtol {rtol:g}: they "
                             f"spread by {spread:.1e} over h = {step_text(steps[start])} to "
                             f"{step_text(steps[stop - 1])}, and the adjoint is within that spread "
                             f"(rel. error {error:.1e})")
    return fields


def moved(inputs, name, value):
    """A deep copy of ``inputs`` with ``name`` set to ``value``: the head may update it in place."""
    arguments = copy.deepcopy(inputs)
    arguments[name] = float(value) if np.ndim(value) == 0 else value
    return arguments


def evaluate(head, arguments, moved_name=None):
    """The head's scalar value on ``arguments`` (which it may modify: give it a copy)."""
    try:
        with user_output_to_stderr():
            result = head(**arguments)
    except (Exception, SystemExit) as error:
        how = f" with {moved_name} moved by finite differences" if moved_name else ""
        raise UsageError(f"{head.__name__}{how} raised {describe_exception(error)}") from None
    if np.ndim(result) == 0 and np.isrealobj(result):
        try:
            return float(result)
        except (TypeError, ValueError):
            pass
    raise UsageError(f"{head.__name__} returned {type(result).__name__} of shape "
                     f"{np.shape(result)}; the head must return a real scalar (e.g. np.sum(...))")


def check_placements(options, head, wrt, inputs, value, grads, placement, verify):
    """Runs the adjoint under every site checkpointed, every site off and --placements random
    placements (each site off with probability 1/2, seeded by --seed, all distinct); each gradient
    must agree with the checked one to PLACEMENT_RTOL, relative to its largest entry."""
    # the sites of the functions the case passes (a scheme given as an argument), not the defaults
    sites = list(api.checkpoint_sites(head, nocheckpoint=options.nocheckpoint, example=inputs))
    ids = [site.id for site in sites]
    if placement is not None:
        checked = frozenset(placement.nocheckpoint & set(ids))
    else:
        checked = frozenset(site.id for site in sites if not site.checkpointed)
    result = {"tolerance": PLACEMENT_RTOL, "sites": len(ids), "random": options.placements,
              "checked": placement_label(checked, ids, "the checked placement"),
              "checked_nocheckpoint": sorted(checked), "runs": [], "worst": None, "ok": True,
              "note": None}
    if not ids:
        result["note"] = f"{head.__name__} has no checkpoint sites: every placement is the same"
        return result
    fixed = [frozenset(), frozenset(ids)]
    rng = np.random.default_rng((options.seed, 1))   # not the directions' stream: they stay the same
    drawn = draw_placements(ids, options.placements, rng, set(fixed) | {checked})
    if len(drawn) < options.placements:
        result["note"] = (f"{len(ids)} sites have only {len(drawn)} other placements; "
                          "all of them were run")
    candidates = [(placement_label(off, ids), off) for off in fixed if off != checked]
    candidates += [(f"random {k + 1}", off) for k, off in enumerate(drawn)]
    for label, off in candidates:
        progress(options, f"running the adjoint under {label} ({len(off)} of {len(ids)} sites off)")
        adj = api.adjoint(head, wrt=wrt, placement=Placement(off), verify=verify,
                          max_tape_bytes=options.max_tape)
        with user_output_to_stderr():
            run = adj.measure(**copy.deepcopy(inputs))
        worst, where = gradient_disagreement(wrt, value, grads, float(run.value), tuple(run.grads))
        result["runs"].append({"label": label, "nocheckpoint": sorted(off),
                               "disagreement": worst if np.isfinite(worst) else None,   # JSON
                               "where": where, "ok": worst <= PLACEMENT_RTOL})
    result["worst"] = max(result["runs"], key=lambda r: np.inf if r["disagreement"] is None
                          else r["disagreement"], default=None)
    result["ok"] = all(r["ok"] for r in result["runs"])
    return result


def placement_label(off, ids, other=None):
    """How a placement (its sites off, among ``ids``) is named in the check's output."""
    if not off:
        return "every site checkpointed"
    if off == frozenset(ids):
        return "every site off"
    return other or f"{len(off)} of {len(ids)} sites off"


def draw_placements(ids, count, rng, exclude):
    """``count`` distinct random placements (frozensets of the sites off) not in ``exclude``; fewer
    when fewer exist."""
    n = len(ids)
    if n <= 16 and 2 ** n <= 4 * count + 16:      # few placements: draw from all of them
        every = [frozenset(i for i, off in zip(ids, bits) if off)
                 for bits in itertools.product((False, True), repeat=n)]
        every = [off for off in every if off not in exclude]
        return [every[k] for k in rng.permutation(len(every))[:count]]
    drawn, seen = [], set(exclude)
    while len(drawn) < count:                     # many more placements than count: few repeats
        off = frozenset(i for i, bit in zip(ids, rng.random(n) < 0.5) if bit)
        if off not in seen:
            seen.add(off)
            drawn.append(off)
    return drawn


def gradient_disagreement(wrt, value, grads, other_value, other_grads):
    """The largest relative disagreement between two adjoint runs, and where: per parameter
    max|g' - g| / max|g| (absolute when g is zero), and the value's relative difference."""
    worst, where = abs(other_value - value) / (abs(value) or 1.0), "value"
    if not np.isfinite(worst):
        worst = 0.0 if other_value == value or (np.isnan(value) and np.isnan(other_value)) else np.inf
    for name, g, other in zip(wrt, grads, other_grads):
        g, other = np.asarray(g, dtype=float), np.asarray(other, dtype=float)
        if g.shape != other.shape:
            return np.inf, name
        same = (g == other) | (np.isnan(g) & np.isnan(other))
        gap = np.nan_to_num(np.where(same, 0.0, np.abs(other - g)), nan=np.inf)
        largest = float(np.max(np.abs(g), initial=0.0))
        disagreement = float(np.max(gap, initial=0.0)) / (largest if largest > 0 else 1.0)
        if not disagreement <= worst:
            worst, where = disagreement, name
    return worst, where


STATUS_TEXT = {"ok": "[green]ok[/green]", "fail": "[bold red]FAIL[/bold red]",
               "noisy": "[bold yellow]noisy[/bold yellow]"}


def print_check(case, rows, problems, placements, dot, value, peak_tape_bytes, seconds, rtol, verify, console=None):
    from .report.terminal import KEEP, readable_table
    tangent = dot is not None and dot["ok"] is not None
    cells = [check_cells(row, tangent) for row in rows]
    names = (("parameter", "shape", "adjoint", "finite\ndifferences", "rel. error", "spread", "steps")
             + (("dot\nerror",) if tangent else ()) + ("",))
    columns = [(c, "left" if c in ("parameter", "shape") else "right", KEEP) for c in names]
    console = console or make_console()
    console.print(readable_table(f"adjoin check {shown(case.path)}: {case.head.__name__}, directional "
                                 "derivatives along random directions", columns, cells, console.width))
    for row in rows:
        if row["problem"]:
            console.print(f"{STATUS_TEXT[row['status']]} {row['parameter']}: {row['problem']}")
        if row["note"]:
            console.print(f"[yellow]note[/yellow] {row['parameter']}: {row['note']}")
    for problem in problems:
        console.print(f"{STATUS_TEXT['fail']} {problem}")
    if placements is not None:
        print_placements(console, placements)
    print_dot(console, dot)
    print_run(console, value, peak_tape_bytes, seconds, verify)
    print_verdict(console, rows, problems, placements, dot, rtol)


def print_verdict(console, rows, problems, placements, dot, rtol):
    tangent = dot is not None and dot["ok"] is not None
    failed = sum(row["status"] == "fail" for row in rows)
    noisy = sum(row["status"] == "noisy" for row in rows)
    if failed:
        console.print(f"[bold red]{failed} of {len(rows)} parameters disagree[/bold red] "
                      f"with finite differences (rtol {rtol:g})")
    elif tangent and not dot["ok"]:
        console.print("[bold red]the adjoint disagrees with the tangent[/bold red] (dot-product test): "
                      "an error finite differences cannot see, a bug in adjoin")
    elif problems:
        console.print("[bold red]the gradients agree, but the adjoint run has problems[/bold red]")
    elif placements is not None and not placements["ok"]:
        console.print("[bold red]the gradient depends on the placement[/bold red]: a bug in adjoin")
    elif noisy:
        console.print(f"[bold yellow]{noisy} of {len(rows)} parameters cannot be judged[/bold yellow]"
                      f": finite differences too noisy (rtol {rtol:g}); "
                      f"{len(rows) - noisy} agree with them")
    else:
        console.print(f"[green]all {len(rows)} parameters agree[/green] with finite "
                      f"differences (rtol {rtol:g})"
                      + (", the adjoint with the tangent (dot-product test)" if tangent else "")
                      + (", and every placement run gives the same gradient"
                         if placements is not None and placements["runs"] else ""))


def check_cells(row, tangent):
    shape = "scalar" if not row["shape"] else "×".join(map(str, row["shape"]))
    steps = row["plateau_steps"]
    steps = "-" if not steps else f"{step_text(steps[0])}…{step_text(steps[-1])}"
    return ((row["parameter"], shape, number(row["adjoint"]), number(row["finite_differences"]),
             number(row["relative_error"], ".1e"), number(row["spread"], ".1e"), steps)
            + ((number(row["dot_error"], ".1e"),) if tangent else ())
            + (STATUS_TEXT[row["status"]],))


def print_dot(console, dot):
    if dot is None:
        return
    if dot["ok"] is None:
        console.print(f"[yellow]note[/yellow] no dot-product test: the tangent cannot be generated "
                      f"({dot['refusal']}); finite differences only")
        return
    verdict = STATUS_TEXT["ok" if dot["ok"] else "fail"]
    console.print(f"dot-product test {verdict}: the tangent and the adjoint agree to "
                  f"{dot['relative_error']:.1e} (the largest of the dot error column: relative difference "
                  f"of their directional derivatives, limit {dot['rtol']:g})")


def print_run(console, value, peak_tape_bytes, seconds, verify):
    from .report.terminal import human_bytes
    ratio = seconds["adjoint"] / seconds["primal"] if seconds["primal"] > 0 else float("nan")
    console.print(f"value {value:.10e}   peak tape {human_bytes(peak_tape_bytes)}"
                  + ("   verify mode" if verify else ""))
    console.print(f"time: primal {duration(seconds['primal'])}, adjoint "
                  f"{duration(seconds['adjoint'])} ({ratio:.1f}× primal), prepare "
                  f"{duration(seconds['prepare'])} (generate, compile), finite differences "
                  f"{duration(seconds['finite_differences'])}"
                  + (f", tangent {duration(seconds['tangent'])}" if "tangent" in seconds else "")
                  + (f", placements {duration(seconds['placements'])}" if "placements" in seconds
                     else ""))


def print_placements(console, placements):
    runs = placements["runs"]
    if not runs:
        console.print(f"placements: {placements['note']}")
        return
    tolerance = placements["tolerance"]
    checked = placements["checked"]
    if checked == "the checked placement":
        checked += f" ({len(placements['checked_nocheckpoint'])} of {placements['sites']} sites off)"
    failed = [run for run in runs if not run["ok"]]
    for run in failed[:3]:
        what = "value" if run["where"] == "value" else f"gradient of {run['where']}"
        console.print(f"{STATUS_TEXT['fail']} placements: under {run['label']} (off: "
                      f"{site_list(run['nocheckpoint'])}) the {what} differs from its value "
                      f"under {checked} by {disagreement_text(run)} relative to its "
                      f"largest entry, more than {tolerance:g}")
    if len(failed) > 3:
        console.print(f"{STATUS_TEXT['fail']} placements: {len(failed) - 3} more placements "
                      "disagree (--json lists them)")
    labels = [run["label"] for run in runs]
    drawn = sum(label.startswith("random") for label in labels)
    named = [label for label in labels if not label.startswith("random")]
    if drawn:
        named.append(f"{drawn} random placement{'s' if drawn > 1 else ''}")
    worst = placements["worst"]
    if worst["disagreement"] == 0.0:
        largest = "identical gradients and values"
    else:
        what = "the value" if worst["where"] == "value" else worst["where"]
        largest = (f"largest relative difference {disagreement_text(worst)} ({what}, under "
                   f"{worst['label']})")
    runs_text = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    console.print(f"placements: {runs_text} against {checked}, {placements['sites']} sites: "
                  f"{largest}; tolerance {tolerance:g}")
    if placements["note"]:
        console.print(f"placements: {placements['note']}")


def disagreement_text(run):
    return "a non-finite amount" if run["disagreement"] is None else f"{run['disagreement']:.1e}"


def step_text(h):
    """A finite-difference step, short: 1e-05, 8.3e-06."""
    mantissa, exponent = f"{h:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


def site_list(ids, shown_at_most=4):
    if not ids:
        return "none"
    more = len(ids) - shown_at_most
    return ", ".join(ids[:shown_at_most]) + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# sites

def sites_arguments(parser):
    parser.add_argument("target", metavar="TARGET",
                        help="the head: MODULE.py:HEAD, or a case file CASE.toml")
    checkpoint_arguments(parser)
    json_argument(parser)


def run_sites(options):
    """Lists the checkpoint sites reachable from the head, with file:line and their decision."""
    subject = load_subject(options.target, ())
    placement, listed = load_placement(options.placement)
    example = case_inputs(subject.case)
    warn_checkpoint_choices(options, subject.head, placement, listed, example)
    sites = list(api.checkpoint_sites(subject.head, nocheckpoint=options.nocheckpoint, example=example))
    decided = [(site, placement.checkpointed(site.id) if placement else site.checkpointed)
               for site in sites]
    if options.json:
        print(json.dumps([{"id": site.id, "caller": site.caller, "callee": site.callee,
                           "file": site.file, "line": site.line, "checkpointed": checkpointed}
                          for site, checkpointed in decided], indent=2))
        return OK
    from .report.terminal import KEEP, PATH, readable_table
    console = make_console(options)
    if not sites:
        console.print(f"{subject.head.__name__} calls no user functions: no checkpoint sites")
        return OK
    # the site id names caller and callee already: the call column only when there is room (--wide)
    wide = getattr(options, "wide", False)
    cells = [(site.id,) + ((f"{site.caller} → {site.callee}",) if wide else ()) +
             (f"{shown(site.file)}:{site.line}",
              "checkpoint (joint)" if checkpointed else "[yellow]nocheckpoint (split)[/yellow]")
             for site, checkpointed in decided]
    columns = (("site", "left", KEEP),) + ((("call", "left", PATH),) if wide else ()) + (
        ("where", "left", PATH), ("decision", "left", KEEP))
    console.print(readable_table(f"checkpoint sites of {subject.head.__name__}", columns, cells, console.width))
    off = sum(not checkpointed for _, checkpointed in decided)
    console.print(f"{len(sites)} sites, {len(sites) - off} checkpointed, {off} not")
    return OK


# ---------------------------------------------------------------------------------------------
# profile

def profile_arguments(parser):
    parser.add_argument("case", metavar="CASE.toml", help="the case to profile")
    set_argument(parser)
    parser.add_argument("-o", "--output", type=Path, metavar="PROFILE.json",
                        help="write the profile (JSON, docs/profile-format.md) to this file")
    parser.add_argument("--trace", type=Path, metavar="TRACE.json",
                        help="write a Chrome trace-event file of the run (open it in Perfetto)")
    parser.add_argument("--no-background", dest="background", action="store_false", default=None,
                        help="build the checkpoint tree in this process (by default a helper "
                             "process builds it on another core, when there are two or more)")
    parser.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                        help="time the adjoint without hooks N times and fit the profile's times "
                             "to the median (default 1; more runs, steadier predicted times)")
    checkpoint_arguments(parser)
    max_tape_argument(parser)
    force_argument(parser)
    verify_argument(parser)
    json_argument(parser)


def run_profile(options):
    """Runs the adjoint once with light profiling; prints the peak tape, the time and, per
    checkpoint site, the time spared by not checkpointing it (ΔT) and its cost in peak tape (ΔPM)."""
    case = load_case_quietly(options.case, options.set)
    placement, listed = load_placement(options.placement)
    reads = []
    if options.output is not None or options.trace is not None:
        reads = model_reads(case.head, None, case) + placement_reads(options.placement)
    refuse_overwriting(options, [("-o", options.output, "profile.json"),
                                 ("--trace", options.trace, "trace.json")], reads)
    with user_output_to_stderr():
        inputs = case.build_inputs()
    warn_checkpoint_choices(options, case.head, placement, listed, inputs)
    adj = api.adjoint(case.head, wrt=case.wrt, placement=placement, nocheckpoint=options.nocheckpoint,
                      verify=verify_option(options), max_tape_bytes=options.max_tape)
    with user_output_to_stderr():
        keep = options.trace is not None        # raw events only for a trace: memory stays bounded
        run = functools.partial(adj.profile, **inputs, keep_events=keep, background=options.background,
                                repeat=options.repeat)
        if options.quiet or options.json:
            profile = run()
        else:
            from rich.console import Console
            what = f"profiling the adjoint of {case.head.__name__} with respect to {', '.join(case.wrt)}"
            with Console(file=sys.stderr).status(what + "...") as status:
                profile = run(progress=lambda step: status.update(f"{what}: {step}..."))
    # the files the run was made from, kept so that advise and report never write over them
    profile.add_sources(sorted({str(path) for path, what in reads if what != PLACEMENT_READ}))
    if options.output is not None:
        profile.save(options.output)
        progress(options, f"wrote {shown(options.output)}")
    if options.trace is not None:
        from .profiling.trace import write_trace
        write_trace(options.trace, profile.events, case.head.__name__)
        progress(options, f"wrote {shown(options.trace)} (open it in Perfetto: ui.perfetto.dev)")
    if options.json:
        data = profile.to_json()
        data.pop("tree")
        print(json.dumps(data, indent=2))
        return OK
    from .report.terminal import profile_tables
    profile_tables(profile, make_console(options), shown)
    return OK


# ---------------------------------------------------------------------------------------------
# advise

def advise_arguments(parser):
    parser.add_argument("profile", type=Path, metavar="PROFILE.json", help="a profile from 'adjoin profile -o'")
    parser.add_argument("--memory-budget", metavar="SIZE",
                        help="largest peak tape allowed: 512MiB, 2GB, 1e6, or 1.5x (times the peak of "
                             "the default placement, every site checkpointed); default: unlimited")
    parser.add_argument("--strategy", default="auto", choices=("auto", "ratio", "greedy", "exact", "local"),
                        help="search strategy (default: auto = exact for <= 16 sites, else local search)")
    parser.add_argument("-o", "--output", type=Path, metavar="P.toml", help="write the advised placement here")
    parser.add_argument("--pareto", action="store_true", help="print the time/memory Pareto front")
    parser.add_argument("--verify", metavar="CASE.toml",
                        help="run the adjoint with the advised placement and print predicted against "
                             "measured; it also runs once in verify mode: " + VERIFY_HELP)
    parser.add_argument("--annotate", type=Path, metavar="DIR",
                        help="write copies of the source files with the advice as # $AD NOCHECKPOINT "
                             "directives into DIR (never over your files)")
    set_argument(parser)
    max_tape_argument(parser)
    force_argument(parser)
    json_argument(parser)


def run_advise(options):
    """Finds the fastest placement whose predicted peak tape fits the budget, from one profile;
    compares it with the default (every site checkpointed) and with the paper's ΔT/ΔPM advice."""
    from .profiling.advisor import advise, pareto
    from .profiling.profile import Profile
    from .report.terminal import advice_table, human_bytes, human_seconds, parse_budget
    profile = Profile.load(options.profile)
    default = profile.predict(Placement())
    budget = parse_budget(options.memory_budget, profile)
    if options.set and options.verify is None:
        raise UsageError("--set changes a case's [inputs_args]; give the case with --verify CASE.toml")
    reads = profile_reads(options.profile, profile)
    case = None
    if options.verify is not None:
        case = load_case_quietly(options.verify, options.set)
        reads += model_reads(case.head, None, case)
    paper = advise(profile, budget, "ratio")
    mine = advise(profile, budget, options.strategy)
    ids = [s.id for s in profile.sites]
    annotations = (_annotations(options, profile, mine.placement) if options.annotate is not None
                   else [])
    refuse_overwriting(options, [("-o", options.output, "placement.toml")]
                       + [(f"--annotate {shown(options.annotate)} writes", target, None)
                          for target, _, _ in annotations], reads)
    if case is not None:
        check_profile_case(options, profile, case)
    if options.output is not None:
        mine.placement.save(options.output, ids, comments=[
            f"advised by adjoin from {options.profile.name} for a budget of "
            f"{human_bytes(budget) if budget is not None else 'unlimited'} ({mine.strategy} search)",
            f"predicted: {human_seconds(mine.predicted.seconds)}, peak tape {mine.predicted.peak_tape_bytes} bytes"])
        progress(options, f"wrote {shown(options.output)}")
    result = {"budget": budget, "default": _prediction_json(default), "paper": _advice_json(paper),
              "advised": _advice_json(mine)}
    if options.pareto:
        result["pareto"] = [dict(_prediction_json(p), nocheckpoint=sorted(pl.nocheckpoint))
                            for p, pl in pareto(profile)]
    if case is not None:
        result["verify"] = _verify(options, profile, mine, case)
    if options.annotate is not None:
        result["annotated"] = [str(p) for p in _annotate(options, annotations)]
    if options.json:
        print(json.dumps(result, indent=2))
        return OK
    console = make_console(options)
    fits = (lambda p: budget is None or p.peak_tape_bytes <= budget)
    advice_table([("default: every site checkpointed", default, fits(default)),
                  (f"the paper's ΔT/ΔPM advice ({len(paper.placement.nocheckpoint)} sites off)",
                   paper.predicted, paper.feasible),
                  (f"adjoin's advice, {mine.strategy} ({len(mine.placement.nocheckpoint)} sites off)",
                   mine.predicted, mine.feasible)], console, budget)
    if not mine.feasible:
        console.print("[red]no placement fits the budget[/red]: the advice is the one with the "
                      "smallest peak; raise the budget")
    off = sorted(mine.placement.nocheckpoint)
    console.print(f"not checkpointed: {', '.join(off) if off else 'none'}")
    if options.pareto:
        from rich.table import Table
        table = Table(title="time/memory Pareto front (predicted)", title_justify="left")
        for column in ("peak tape", "time", "sites off"):
            table.add_column(column, justify="right")
        for point in result["pareto"]:
            table.add_row(human_bytes(point["peak_tape_bytes"]), human_seconds(point["seconds"]),
                          str(len(point["nocheckpoint"])))
        console.print(table)
    if options.verify:
        v = result["verify"]
        console.print(f"verified on {v['case']}: predicted {human_seconds(v['predicted_seconds'])}, "
                      f"peak {v['predicted_peak']} bytes; measured {human_seconds(v['measured_seconds'])} "
                      f"(median of {v['runs']}), peak {v['measured_peak']} bytes"
                      + ("" if v["measured_peak"] == v["predicted_peak"] else " [red](peaks differ)[/red]")
                      + "; verify mode found no broken assumption")
    return OK


def _prediction_json(p):
    return {"seconds": p.seconds, "peak_tape_bytes": p.peak_tape_bytes}


def _advice_json(a):
    return dict(_prediction_json(a.predicted), strategy=a.strategy, feasible=a.feasible,
                evaluations=a.evaluations, nocheckpoint=sorted(a.placement.nocheckpoint))


def _verify(options, profile, advice, case, runs=3):
    """Runs the advised placement on the case: once in verify mode (a broken assumption of the
    generated code is a VerifyError), then plainly, timed ``runs`` times after a warm-up."""
    with user_output_to_stderr():
        inputs = case.build_inputs()
    progress(options, "running the advised placement in verify mode")
    with user_output_to_stderr():
        api.adjoint(case.head, wrt=case.wrt, placement=advice.placement, verify=True,
                    max_tape_bytes=options.max_tape).measure(**copy.deepcopy(inputs))
    adj = api.adjoint(case.head, wrt=case.wrt, placement=advice.placement, verify=False,
                      max_tape_bytes=options.max_tape)
    progress(options, f"timing the advised placement ({runs} runs)")
    with user_output_to_stderr():
        adj(**copy.deepcopy(inputs))
        measured = [adj.measure(**copy.deepcopy(inputs)) for _ in range(runs)]
    seconds = sorted(m.seconds for m in measured)[runs // 2]
    return {"case": str(options.verify), "runs": runs, "predicted_seconds": advice.predicted.seconds,
            "predicted_peak": advice.predicted.peak_tape_bytes, "measured_seconds": seconds,
            "measured_peak": measured[0].peak_tape_bytes, "verified": True}


def _annotations(options, profile, placement):
    """What --annotate DIR writes: [(DIR/name, source file, its lines to mark)] for every source
    file with a call site the advice turns off (fragments are not annotated).  The source files
    are found where the profile says they are (absolute paths; an old profile's relative paths
    against the working folder, then the profile's folder)."""
    folder = options.annotate
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--annotate {shown(folder)}: is a file, not a folder; give a folder for "
                         "the annotated copies")
    by_file = {}
    for row in profile.sites:
        if row.id in placement.nocheckpoint and "/fragment" not in row.id:
            by_file.setdefault(row.file, []).append(row)
    found = []
    for file, rows in sorted(by_file.items()):
        source = next((path for path in candidate_paths(file, options.profile) if path.is_file()), None)
        if source is None:
            raise UsageError(f"--annotate: {shown(options.profile)} names the source file "
                             f"{rows[0].file_given or file}, which is not at "
                             f"{' nor at '.join(shown(p) for p in candidate_paths(file, options.profile))}"
                             "; run advise from the folder it was profiled in, or profile again")
        found.append((folder / source.name, source, rows))
    names = {}
    for target, source, _ in found:
        if target.name in names:
            raise UsageError(f"--annotate {shown(folder)}: {shown(names[target.name])} and "
                             f"{shown(source)} would both be written to {shown(target)}; annotate "
                             "them one at a time, or copy them by hand")
        names[target.name] = source
    return found


def _annotate(options, annotations):
    """Writes the annotated copies: '# $AD NOCHECKPOINT' above every call site turned off."""
    from .fileio import read_text
    written = []
    for target, source, rows in annotations:
        text = read_text(source, "source", "the profile names it as a file of the profiled program")
        lines = text.splitlines(keepends=True)
        for row in rows:
            line = lines[row.line - 1] if 0 < row.line <= len(lines) else ""
            if "(" not in line:       # no call there: the file changed since it was profiled
                warn(f"--annotate: {shown(source)}:{row.line} holds no call (to {row.callee}, the "
                     "profile says); the file changed since it was profiled? Its annotation may "
                     "be misplaced: profile again")
        marked = {row.line for row in rows}
        result = []
        for number, line in enumerate(lines, start=1):
            previous = result[-1].strip() if result else ""
            if number in marked and previous.upper() != "# $AD NOCHECKPOINT":
                indent = line[:len(line) - len(line.lstrip())]
                result.append(f"{indent}# $AD NOCHECKPOINT\n")
            result.append(line)
        write_text_atomic(target, "".join(result))
        written.append(target)
        progress(options, f"wrote {shown(target)}")
    return written


# ---------------------------------------------------------------------------------------------
# report

def report_arguments(parser):
    parser.add_argument("profile", type=Path, metavar="PROFILE.json", help="a profile from 'adjoin profile -o'")
    parser.add_argument("-o", "--output", type=Path, metavar="REPORT.html",
                        help="write the report here (default: PROFILE with the suffix .html)")
    parser.add_argument("--memory-budget", metavar="SIZE",
                        help="the budget the advice is for: 512MiB, 2GB, 1e6, or 1.5x (times the peak of "
                             "the default placement, every site checkpointed); default: unlimited")
    parser.add_argument("--case", type=Path, metavar="CASE.toml",
                        help="the profiled case: run its adjoint with the default and the advised "
                             "placements and compare their tapes over time (a profile file keeps no "
                             "raw events, so without it that figure is left out)")
    set_argument(parser)
    max_tape_argument(parser)
    force_argument(parser)
    json_argument(parser)


def run_report(options):
    """Writes one self-contained HTML page about a profile: summary, the advice for a memory
    budget (default, the paper's, adjoin's), figures (tape over time, ΔT against ΔPM, the Pareto
    front, the call tree), the paper's table of sites, and the commands that reproduce it."""
    from .profiling.profile import Profile
    from .report.html import write_report
    from .report.terminal import parse_budget
    profile = Profile.load(options.profile)
    budget = parse_budget(options.memory_budget, profile)
    if options.set and options.case is None:
        raise UsageError("--set changes a case's [inputs_args]; give the case with --case CASE.toml")
    case = load_case_quietly(options.case, options.set) if options.case is not None else None
    output = options.output if options.output is not None else options.profile.with_suffix(".html")
    reads = profile_reads(options.profile, profile)
    if case is not None:
        reads += model_reads(case.head, None, case)
    refuse_overwriting(options, [("-o", output, "report.html")], reads)
    if case is not None:
        check_profile_case(options, profile, case)
        progress(options, f"running the adjoint of {case.head.__name__} with the default and the "
                          "advised placements")
    with user_output_to_stderr():
        write_report(profile, output, budget, case=case, profile_path=options.profile,
                     overrides=options.set, max_tape_bytes=options.max_tape)
    progress(options, f"wrote {shown(output)}")
    if options.json:
        print(json.dumps({"report": str(output)}))
    return OK


# ---------------------------------------------------------------------------------------------
# the command table

@dataclasses.dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, examples, arguments and the function running it."""
    name: str
    summary: str
    examples: str
    arguments: Callable
    run: Callable


COMMANDS = (
    Command("generate", "write the adjoint module of a function",
            "examples:\n"
            "  adjoin generate model.py:cost --wrt h0,kappa -o cost_adjoint.py\n"
            "  adjoin generate case.toml --nocheckpoint step\n"
            "  adjoin generate model.py:cost --case case.toml --placement placement.toml",
            generate_arguments, run_generate),
    Command("check", "compare the adjoint gradient with finite differences",
            "examples:\n"
            "  adjoin check case.toml\n"
            "  adjoin check case.toml --set size=0.5 --rtol 1e-5 --nocheckpoint step\n"
            "  adjoin check case.toml --placements 5 --verify\n\n"
            "exit status: 0 when every parameter agrees (and every placement), 1 when some\n"
            "disagree, 2 on a usage error, 3 on a bug in adjoin (a verify-mode failure too),\n"
            "4 when the finite differences are too noisy to judge some parameter and none disagrees",
            check_arguments, run_check),
    Command("sites", "list the checkpoint sites of a function",
            "examples:\n"
            "  adjoin sites model.py:cost\n"
            "  adjoin sites case.toml --placement placement.toml --json",
            sites_arguments, run_sites),
    Command("profile", "profile the adjoint: ΔT and ΔPM of every checkpoint site",
            "examples:\n"
            "  adjoin profile case.toml -o profile.json\n"
            "  adjoin profile case.toml --set size=0.5 --trace trace.json",
            profile_arguments, run_profile),
    Command("advise", "advise a placement for a memory budget, from a profile",
            "examples:\n"
            "  adjoin advise profile.json --memory-budget 512MiB -o placement.toml\n"
            "  adjoin advise profile.json --pareto\n"
            "  adjoin advise profile.json --memory-budget 2GB --verify case.toml",
            advise_arguments, run_advise),
    Command("report", "write an HTML report of a profile: advice and figures",
            "examples:\n"
            "  adjoin report profile.json -o report.html --memory-budget 512MiB\n"
            "  adjoin report profile.json --memory-budget 1.5x --case case.toml --set size=0.5",
            report_arguments, run_report),
)


def build_parser():
    """The argument parser of ``adjoin``, one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="adjoin", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Adjoints (reverse-mode derivatives) of Python/NumPy programs by source\n"
                    "transformation, with checkpointing on the call tree.",
        epilog="Run 'adjoin COMMAND --help' for a command's options; docs/cli.md has them all.\n"
               "exit status: 0 success, 1 check found disagreements, 2 usage error or refusal, "
               "3 bug in adjoin\n(set ADJOIN_DEBUG=1 to see its traceback), 4 check's finite "
               "differences too noisy to judge")
    parser.add_argument("--version", action="version", version=f"adjoin {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command",
                                     required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.summary,
                                  description=inspect.cleandoc(command.run.__doc__), epilog=command.examples,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        command.arguments(sub)
        sub.add_argument("-q", "--quiet", action="store_true",
                         help="print no progress messages on stderr")
        sub.set_defaults(run=command.run)
    return parser


def main(argv=None):
    """Runs ``adjoin`` with ``argv`` (default: the command line); returns the exit status."""
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as stop:   # --help, --version, or a usage error argparse has printed
        return stop.code if isinstance(stop.code, int) else USAGE
    debug = os.environ.get("ADJOIN_DEBUG") == "1"
    with signals_as_exceptions(), warnings.catch_warnings():
        # the commands say which sites a placement names in vain, with the closest ids
        # (warn_checkpoint_choices): the API's warning would repeat it
        warnings.simplefilter("ignore", StalePlacementWarning)
        try:
            return options.run(options)
        except VerifyError as error:     # an assumption of the generated code broke: adjoin's bug
            if debug:
                traceback.print_exc()
            print(f"adjoin: error: {error}", file=sys.stderr)
            print("adjoin: this is a bug in adjoin, not in your code: verify mode found a value the "
                  "backward sweep relied on changed; please report it with the command you ran",
                  file=sys.stderr)
            return BUG
        except AdjoinError as error:
            if debug:
                traceback.print_exc()
            print(f"adjoin: error: {error}", file=sys.stderr)
            return USAGE
        except KeyboardInterrupt:
            print("adjoin: interrupted", file=sys.stderr)
            return INTERRUPTED
        except Stopped as stop:
            print(f"adjoin: stopped by {signal.Signals(stop.signal).name}", file=sys.stderr)
            return 128 + stop.signal
        except BrokenPipeError:   # stdout closed early, e.g. `adjoin generate ... | head`
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
        except MemoryError as error:     # outside an adjoint run (those are TapeMemoryErrors)
            if debug:
                traceback.print_exc()
            detail = f" ({error})" if str(error) else ""
            print(f"adjoin: error: out of memory{detail}; run a smaller problem (e.g. --set "
                  "size=... in a case), or on a machine with more memory", file=sys.stderr)
            return USAGE
        except OSError as error:
            if error.filename is None:   # not about a file: unexpected
                return internal_error(error, debug)
            if debug:
                traceback.print_exc()
            print(f"adjoin: error: {shown(error.filename)}: {error.strerror or error}; check the "
                  "path and its permissions", file=sys.stderr)
            return USAGE
        except Exception as error:
            return internal_error(error, debug)


def internal_error(error, debug):
    """Status 3: a bug in adjoin, said so, with the exception's one-line summary."""
    if debug:
        traceback.print_exc()
    print("adjoin: internal error: this is a bug in adjoin, please report it with the command "
          "you ran (run it again with ADJOIN_DEBUG=1 for the traceback)", file=sys.stderr)
    print(f"  {type(error).__name__}: {error}" if str(error) else f"  {type(error).__name__}",
          file=sys.stderr)
    return BUG


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so that temporary files are removed and
    the profiler's helper process is stopped on the way out."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signal = signum


@contextlib.contextmanager
def signals_as_exceptions():
    """While the command runs: SIGTERM and SIGHUP raise Stopped, unless they were ignored when it
    started (``nohup`` ignores SIGHUP), and SIGXFSZ (a file past ``ulimit -f``) is ignored, so that
    the write fails with EFBIG and is reported instead of killing the process.  The previous
    handlers are restored (cli.main may run in a program)."""
    def stop(signum, frame):
        raise Stopped(signum)
    wanted = {signum: stop for signum in (signal.SIGTERM, signal.SIGHUP)
              if signal.getsignal(signum) is not signal.SIG_IGN}
    if hasattr(signal, "SIGXFSZ"):
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    previous = {}
    try:
        for signum, handler in wanted.items():
            previous[signum] = signal.signal(signum, handler)
    except ValueError:           # not the main thread: leave the handlers alone
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# ---------------------------------------------------------------------------------------------
# shared by the subcommands

@dataclasses.dataclass(frozen=True)
class Subject:
    """What a TARGET argument names: a head function, from a module file or from a case."""
    head: Callable
    path: Path                # the module file, or the case file
    case: object = None       # the Case when TARGET is a case file


def load_subject(text, overrides):
    """Loads TARGET: ``MODULE.py:HEAD`` or ``CASE.toml``."""
    if text.endswith(".toml"):
        case = load_case_quietly(text, overrides)
        return Subject(head=case.head, path=Path(text), case=case)
    module_text, colon, name = text.rpartition(":")
    if not colon or not module_text or not name.isidentifier():
        if text.endswith(".py"):
            raise UsageError(f"{text!r} names no function; write {text}:HEAD, e.g. {text}:cost")
        raise UsageError(f"{text!r}: expected MODULE.py:HEAD (e.g. model.py:cost) or a case "
                         "file CASE.toml")
    path = Path(module_text)
    with user_output_to_stderr():
        module = load_module(path)
    head = find_function(module, name, path.name, f"{text}: ")
    return Subject(head=head, path=path)


def load_case_quietly(path, overrides):
    """load_case, with anything the model prints while importing sent to stderr."""
    with user_output_to_stderr():
        return load_case(path, overrides)


def load_placement(path):
    """(Placement, the site ids its file lists) of --placement, or (None, None) without it."""
    return (None, None) if path is None else read_placement(path)


def load_program_quietly(head, example=None):
    """The checked program of ``head`` (frontend.load_program) specialized on the functions among
    ``example`` (the head's arguments): its functions, their files, its sites.  Refusals are
    AdjoinErrors, as generating the adjoint would raise them."""
    from .frontend.program import load_program
    with user_output_to_stderr():
        return load_program(head, example)


# -- what a command reads, and never writes over ------------------------------------------------

PLACEMENT_READ = "the placement file"


def model_reads(head, module_path=None, case=None, case_option=None):
    """The files a command reads for the model: [(path, what)]: the case file, the module given
    as TARGET, every file of the program reached from the head, and every module imported from
    the model's folders or below them (siblings, packages beside it)."""
    reads = []
    if case is not None:
        reads.append((Path(case.path), "the case file"))
        reads.append((Path(case.module.__file__), "your model"))
    if case_option is not None:
        reads.append((Path(case_option), "the case file"))
    if module_path is not None:
        reads.append((Path(module_path), "your model"))
    reads.append((Path(head.__code__.co_filename), "your model"))
    program = load_program_quietly(head)
    files = {Path(function.path) for function in program.functions.values()}
    reads += [(path, "a module of your model") for path in sorted(files)]
    folders = {Path(path).resolve().parent for path, _ in reads}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not file.endswith(".py"):
            continue
        if folders & set(Path(file).resolve().parents):
            reads.append((Path(file), "a module your model imports"))
    return reads


def placement_reads(path):
    return [] if path is None else [(Path(path), PLACEMENT_READ)]


def profile_reads(path, profile):
    """The profile and every source file it names: [(path, what)].  A file an old profile names
    by a relative path is protected both against the working folder and the profile's folder."""
    reads = [(Path(path), "the profile")]
    for file in sorted(profile.source_files()):
        reads += [(candidate, "a file the profile was made from")
                  for candidate in candidate_paths(file, path)]
    return reads


def candidate_paths(file, profile_path):
    """Where a source file a profile names may be: itself when absolute (profiles since format
    4), else against the working folder, then against the profile's folder."""
    file = Path(file)
    if file.is_absolute():
        return [file]
    return list(dict.fromkeys([file, Path(profile_path).parent / file]))


def refuse_overwriting(options, outputs, reads):
    """The one rule of every command that writes: an output path (``outputs``: [(option, path or
    None, a suggested name)]) never names a file the command reads (``reads``: [(path, what)]),
    nor another output, unless --force; a folder, a path under a file, a read-only file or a
    folder adjoin may not write in is refused before anything runs.  Paths are compared where
    they really are: symlinks followed, hard links recognised."""
    force = getattr(options, "force", False)
    taken = []
    for option, output, suggestion in outputs:
        if output is None:
            continue
        output = Path(output)
        label = f"{option} {shown(output)}"
        check_writable(output, label)
        if not force:
            for path, what in reads:
                if same_file(output, path):
                    instead = f" (e.g. {option} {suggestion})" if suggestion else ""
                    raise UsageError(f"{label}: would overwrite your own file {shown(path)} "
                                     f"({what}), which this command reads; write elsewhere"
                                     f"{instead}, or add --force to replace it anyway")
        for other_option, other in taken:
            if same_file(output, other):
                raise UsageError(f"{label}: {other_option} writes the same file; give them "
                                 "different paths")
        taken.append((option, output))


def warn(message):
    """A warning on stderr (also with -q: it is about the user's input, not progress)."""
    print(f"adjoin: warning: {message}", file=sys.stderr)


def warn_checkpoint_choices(options, head, placement, listed, example=None):
    """Warns about --nocheckpoint names that match no call reached from the head (with the
    closest name), and about a placement that is stale: naming sites that do not exist, or not
    listing some that do (they are checkpointed).  ``example``: the head's arguments, which
    decide what a function passed as an argument calls."""
    from .transform.module import find_sites
    if not getattr(options, "nocheckpoint", ()) and placement is None:
        return
    program = load_program_quietly(head, example)
    sites, _ = find_sites(program)
    names = set()
    for site in sites:
        names.add(site.id.split("/", 1)[1].rsplit("#", 1)[0])
        names.add(site.callee)
        function = program.functions.get(site.callee)
        if function is not None:
            names.add(function.name)
    for name in getattr(options, "nocheckpoint", ()):
        if name not in names:
            close = difflib.get_close_matches(name, sorted(names), n=1)
            hint = (f"did you mean {close[0]!r}?" if close else
                    f"its sites call {', '.join(sorted(names))}" if names else
                    f"{head.__name__} calls no function of yours")
            warn(f"--nocheckpoint {name!r} matches no call reached from {head.__name__}; {hint}")
    if placement is None:
        return
    ids = [site.id for site in sites]
    stale = sorted(set(listed) - set(ids))
    where = shown(options.placement)
    if stale:
        close = {site: difflib.get_close_matches(site, ids, n=1) for site in stale}
        hints = [f"{site} (now {close[site][0]}?)" if close[site] else site for site in stale]
        warn(f"{where} names {sites_text(len(stale))} that {head.__name__} no longer has (the code "
             f"changed since the placement was written?): {site_list(hints)}; they are ignored")
    unlisted = [site for site in ids if site not in listed]
    if unlisted and listed:
        warn(f"{where} does not list {len(unlisted)} of the {sites_text(len(ids))} of {head.__name__}: "
             f"{site_list(unlisted)}; they are checkpointed (advise again for a placement that "
             "decides every site)")


def case_inputs(case):
    """The head's arguments a case builds (they decide which functions a scheme argument calls),
    or None without a case."""
    if case is None:
        return None
    with user_output_to_stderr():
        return case.build_inputs()


def sites_text(count):
    return f"{count} site" if count == 1 else f"{count} sites"


def check_profile_case(options, profile, case):
    """A case given with a profile (advise --verify, report --case) must be the profiled one;
    sites the profile and the case do not share are warned about (the code changed since)."""
    option = "--verify" if getattr(options, "verify", None) else "--case"
    if case.head.__name__ != profile.head:
        raise UsageError(f"{option} {shown(case.path)}: its head is {case.head.__name__}, the "
                         f"profile's is {profile.head}; give the case that was profiled")
    now = {site.id for site in api.checkpoint_sites(case.head, example=case_inputs(case))}
    then = {site.id for site in profile.site_info}
    if now != then:
        gone, new = sorted(then - now), sorted(now - then)
        warn(f"{shown(options.profile)} and {shown(case.path)} do not have the same sites (the code "
             "changed since it was profiled?)"
             + (f"; gone: {site_list(gone)}" if gone else "") + (f"; new: {site_list(new)}" if new else "")
             + "; profile again")


def same_function(a, b):
    """True when ``a`` and ``b`` are the same source function, maybe from two loads of its file."""
    return a is b or (a.__name__ == b.__name__ and same_file(a.__code__.co_filename,
                                                             b.__code__.co_filename))


def same_file(a, b):
    """True when paths ``a`` and ``b`` name one file: after symlinks, or as hard links."""
    a, b = Path(os.path.realpath(a)), Path(os.path.realpath(b))
    try:
        return os.path.samefile(a, b)
    except OSError:             # one of them does not exist (yet)
        return a == b


def same_value(a, b):
    """True when an argument is unchanged (arrays compared element by element, NaN equal to NaN)."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.array_equal(a, b, equal_nan=np.asarray(a).dtype.kind in "fc")
        return bool(a == b)
    except (TypeError, ValueError):   # values == cannot compare: nothing to report
        return True


def timed(thunk):
    start = time.perf_counter()
    result = thunk()
    return result, time.perf_counter() - start


@contextlib.contextmanager
def user_output_to_stderr():
    """Sends what the user's code prints to stderr: stdout holds only adjoin's results."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def progress(options, message):
    if not options.quiet:
        print(f"adjoin: {message}", file=sys.stderr)


def make_console(options=None):
    """The console tables are printed on: as wide as the terminal (paths give way first), or, with
    --wide, as wide as the tables need."""
    from rich.console import Console
    console = Console(file=sys.stdout, highlight=False)
    if getattr(options, "wide", False):
        console.width = 1000
    elif not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, 120)
    return console


def number(value, spec=".9e"):
    return "-" if value is None else format(value, spec)


def duration(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def name_list(text):
    """``'a,b'`` -> ``('a', 'b')``, for --wrt and --nocheckpoint."""
    names = tuple(name.strip() for name in text.split(","))
    bad = [name for name in names if not name.isidentifier()]
    if bad:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated names, e.g. a,b "
                                         f"(not a name: {bad[0]!r})")
    return names


def positive_float(text):
    """argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0.0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive, finite number")
    return value


def non_negative_int(text):
    """argparse type: a whole number, at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 0")
    return value


def positive_int(text):
    """argparse type: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def set_argument(parser):
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an argument of the case's inputs function; VALUE in TOML "
                             "syntax (0.5, 3, true, [1, 2], '\"a b\"'), a bare word is a string; "
                             "repeatable")


def checkpoint_arguments(parser):
    parser.add_argument("--nocheckpoint", type=name_list, default=(), metavar="F,G",
                        help="do not checkpoint calls to these functions (split mode); "
                             "Tapenade's -nocheckpoint")
    parser.add_argument("--placement", type=Path, metavar="P.toml",
                        help="a placement file deciding every site; wins over --nocheckpoint and "
                             "# $AD NOCHECKPOINT directives")


def force_argument(parser):
    parser.add_argument("--force", action="store_true",
                        help="write the output even over a file this command reads (the model, its "
                             "modules, the case, the placement, the profile); refused otherwise")


def max_tape_argument(parser):
    parser.add_argument("--max-tape", type=max_tape_size, metavar="SIZE",
                        help="stop the adjoint with a message when its tape would pass SIZE (1GiB, "
                             "8e9, 50%% of the available memory, or unlimited); default: "
                             "$ADJOIN_MAX_TAPE, else 80%% of the memory available at start")


def max_tape_size(text):
    """argparse type of --max-tape: bytes (the tape's own sizes: see runtime/tape.parse_limit)."""
    from .runtime.tape import parse_limit
    try:
        return parse_limit(text, "--max-tape")
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def verify_argument(parser):
    parser.add_argument("--verify", action="store_true", default=None, help=VERIFY_HELP +
                        "; without it, the environment variable ADJOIN_VERIFY decides")


def verify_option(options):
    """True with --verify; else None: the API then reads ADJOIN_VERIFY."""
    return True if options.verify else None


def json_argument(parser):
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--wide", action="store_true",
                        help="print tables as wide as they need (by default paths are shortened to fit "
                             "the terminal; numbers and names never are)")


if __name__ == "__main__":       # python -m adjoin.cli, as the adjoin command
    sys.exit(main())
