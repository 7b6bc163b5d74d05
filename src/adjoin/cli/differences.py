"""The check's central finite differences: taken at decreasing steps, their converged plateau
found, and the adjoint's derivative judged against it and against the plateau's own spread."""
import numpy as np

FD_STEPS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)   # the same steps as the conformance suite
FD_SMALLER_STEPS = (1e-8, 1e-9, 1e-10)      # tried in turn while the differences still converge
PLATEAU_WIDTH = 3        # a plateau has at least this many consecutive steps (when so many are finite)
PLATEAU_GROWTH = 2.0     # it takes in neighbours while its spread stays within this factor of its start's
SMALLER_STEPS_UNTIL = 0.1   # smaller steps are tried until the differences agree to this times rtol
SEEN_BEYOND_SPREAD = 10.0   # an ok row whose adjoint is this many spreads away gets a note
CONVERGED = 1e-4         # finite differences no PLATEAU_WIDTH consecutive steps of which agree this well
                         # judge nothing (or rtol, when larger)
FLOOR = 1e-8             # relative errors and spreads are taken against max(|value|, FLOOR)


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


def step_text(h):
    """A finite-difference step, short: 1e-05, 8.3e-06."""
    mantissa, exponent = f"{h:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"
