"""adjoin check: the adjoint's gradient against central finite differences, per parameter; the
dot-product test against the tangent; with --placements, the same gradient under other
placements."""
import copy
import itertools
import json
import time
from pathlib import Path

import numpy as np

from .. import api
from ..case import call_text, describe_exception, shown
from ..errors import UsageError
from ..placement import Placement
from .arguments import (checkpoint_arguments, json_argument, max_tape_argument, non_negative_int,
                        positive_float, set_argument, verify_argument, verify_option)
from .common import (DISAGREE, NOISY, OK, load_case_quietly, load_placement, make_console, progress,
                     site_list, user_output_to_stderr, warn_checkpoint_choices)
from .differences import central_differences, judge, plateau, resolved, step_text

VALUE_RTOL = 1e-12       # the adjoint's value must be the primal's
PLACEMENT_RTOL = 1e-12   # every placement gives the same gradient (DESIGN.md, invariant 2)
DOT_RTOL = 1e-10         # the tangent's and the adjoint's directional derivatives agree this well


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


def run_check(options):
    """Compares the adjoint gradient with central finite differences, per parameter, and reports
    their own spread; with --placements, also checks that other placements give the same
    gradient."""
    case, placement, inputs = check_inputs(options)
    head, wrt = case.head, case.wrt
    verify = verify_option(options)
    verify_on = api.verify_default(verify)
    primal_value, primal_seconds = run_primal(options, head, inputs)
    run, prepare_seconds, given = run_adjoint(options, case, placement, inputs, verify, verify_on)
    value, grads = float(run.value), tuple(run.grads)
    if len(grads) != len(wrt):
        raise RuntimeError(f"the adjoint returned {len(grads)} gradients "
                           f"for {len(wrt)} parameters")
    problems = run_problems(value, primal_value, inputs, given)

    rng = np.random.default_rng(options.seed)
    directions = [random_direction(rng, inputs[name]) for name in wrt]
    rows, fd_seconds = timed(lambda: finite_difference_rows(options, head, inputs, wrt, grads,
                                                            directions))
    seconds = {"primal": primal_seconds, "prepare": prepare_seconds, "adjoint": run.seconds,
               "finite_differences": fd_seconds}
    dot = None
    if options.dot is not False:
        progress(options, "generating and running the tangent for the dot-product test")
        dot = dot_products(head, wrt, inputs, grads, directions, required=bool(options.dot))
        problems += merge_dot_products(dot, rows, seconds)
    placements = None
    if options.placements is not None:
        placements, seconds["placements"] = timed(lambda: check_placements(
            options, head, wrt, inputs, value, grads, placement, verify))

    status, exit_status = verdict(rows, problems, placements)
    if options.json:
        print(json.dumps({"case": str(case.path), "head": head.__name__, "status": status,
                          "ok": status == "ok", "value": value, "primal_value": primal_value,
                          "rtol": options.rtol, "seed": options.seed,
                          "verify": verify_on,
                          "parameters": rows, "problems": problems, "placements": placements, "dot": dot,
                          "peak_tape_bytes": run.peak_tape_bytes, "seconds": seconds}, indent=2))
    else:
        print_check(case, rows, problems, placements, dot, value, run.peak_tape_bytes, seconds,
                    options.rtol, verify_on, console=make_console(options))
    return exit_status


def check_inputs(options):
    """The case, its placement (None without --placement) and the head's inputs the case builds;
    warns about checkpoint choices that name nothing."""
    if not str(options.case).endswith(".toml"):
        raise UsageError(f"{options.case}: check needs a case file (CASE.toml), which says how to "
                         "build the head's inputs; see docs/case-format.md")
    case = load_case_quietly(options.case, options.set)
    placement, listed = load_placement(options.placement)
    progress(options, f"building the inputs: {call_text(case.inputs_function, case.inputs_args)}")
    with user_output_to_stderr():
        inputs = case.build_inputs()
    warn_checkpoint_choices(options, case.head, placement, listed, inputs)
    return case, placement, inputs


def run_primal(options, head, inputs):
    """(The head's value on a copy of the inputs, the seconds it took.)"""
    progress(options, f"running the primal {head.__name__}")
    arguments = copy.deepcopy(inputs)
    return timed(lambda: evaluate(head, arguments))


def run_adjoint(options, case, placement, inputs, verify, verify_on):
    """Generates, compiles and runs the adjoint on a copy of the inputs.  Returns (its run, the
    seconds spent preparing it, the copy as the adjoint left it)."""
    progress(options, f"generating and running the adjoint with respect to {', '.join(case.wrt)}"
                      + (" (verify mode)" if verify_on else ""))
    adj = api.adjoint(case.head, wrt=case.wrt, placement=placement, nocheckpoint=options.nocheckpoint,
                      verify=verify, max_tape_bytes=options.max_tape)
    given = copy.deepcopy(inputs)
    with user_output_to_stderr():
        run, total_seconds = timed(lambda: adj.measure(**given))   # generates, compiles, then times
    return run, max(total_seconds - run.seconds, 0.0), given


def run_problems(value, primal_value, inputs, given):
    """What is wrong with the adjoint's run besides its gradient: a value other than the primal's,
    the arguments it modified (``given``: its copy of ``inputs`` after the run)."""
    problems = []
    if not np.isclose(value, primal_value, rtol=VALUE_RTOL, atol=0.0):
        problems.append(f"the adjoint's value {value!r} differs from the primal's {primal_value!r}")
    problems += [f"the adjoint modified the argument {name!r}" for name in inputs
                 if not same_value(given[name], inputs[name])]
    return problems


def verdict(rows, problems, placements):
    """(The check's status, its exit status): fail on any disagreement or problem, else noisy when
    the finite differences could not judge some parameter, else ok."""
    statuses = {row["status"] for row in rows}
    if "fail" in statuses or problems or (placements is not None and not placements["ok"]):
        return "fail", DISAGREE
    if "noisy" in statuses:
        return "noisy", NOISY
    return "ok", OK


def timed(thunk):
    """(What ``thunk()`` returns, the seconds it took.)"""
    start = time.perf_counter()
    result = thunk()
    return result, time.perf_counter() - start


def same_value(a, b):
    """True when an argument is unchanged (arrays compared element by element, NaN equal to NaN)."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.array_equal(a, b, equal_nan=np.asarray(a).dtype.kind in "fc")
        return bool(a == b)
    except (TypeError, ValueError):   # values == cannot compare: nothing to report
        return True


# -- the dot-product test -----------------------------------------------------------------------

def dot_products(head, wrt, inputs, grads, directions, required):
    """The dot-product test of the adjoint against the tangent, per parameter: the tangent's
    derivative along that parameter's direction (the others fixed) against <direction, gradient>.
    Returns {"ok", "relative_error" (the largest), "rtol", "seconds", "parameters": [rows]}, or
    {"ok": None, "refusal": why} when the tangent cannot be generated and the test was not
    ``required`` (--dot)."""
    from ..errors import UnsupportedError
    from ..tangent_api import jvp
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


def merge_dot_products(dot, rows, seconds):
    """Adds the dot-product test's results to the rows (their tangent and dot error columns) and
    its time to ``seconds``; returns its problems: one per parameter beyond DOT_RTOL."""
    if dot["ok"] is not None:
        seconds["tangent"] = dot["seconds"]
        for row, tangent_row in zip(rows, dot["parameters"]):
            row["tangent"], row["dot_error"] = tangent_row["tangent"], tangent_row["relative_error"]
    if dot["ok"] is not False:
        return []
    return [f"dot-product test, {r['parameter']}: the tangent gives {r['tangent']!r}, the adjoint "
            f"{r['adjoint']!r} (relative difference {r['relative_error']:.1e} > {DOT_RTOL:g})"
            for r in dot["parameters"] if not r["relative_error"] <= DOT_RTOL]


def relative_difference(a, b):
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def random_direction(rng, value):
    """A random direction in a parameter's space (the same stream for the adjoint, the tangent
    and the finite differences)."""
    return float(rng.normal()) if np.shape(value) == () else rng.normal(size=np.shape(value))


# -- finite differences, one row per parameter --------------------------------------------------

def finite_difference_rows(options, head, inputs, wrt, grads, directions):
    """The check's rows, one per parameter: its gradient along its direction against finite
    differences (see compare)."""
    rows = []
    for name, gradient, direction in zip(wrt, grads, directions):
        progress(options, f"finite differences for {name}")
        rows.append(compare(head, inputs, name, gradient, direction, options.rtol))
    return rows


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


# -- other placements ---------------------------------------------------------------------------

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


# -- printing -----------------------------------------------------------------------------------

STATUS_TEXT = {"ok": "[green]ok[/green]", "fail": "[bold red]FAIL[/bold red]",
               "noisy": "[bold yellow]noisy[/bold yellow]"}


def print_check(case, rows, problems, placements, dot, value, peak_tape_bytes, seconds, rtol, verify, console=None):
    from ..report.terminal import KEEP, readable_table
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
    from ..report.terminal import human_bytes
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


def number(value, spec=".9e"):
    return "-" if value is None else format(value, spec)


def duration(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"
