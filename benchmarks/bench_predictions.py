"""Predicted against measured time of many placements, from profiles taken under several (issue 16).

For each model: the placements are the default (every call site checkpointed), every call site
off and --random random ones (each site off with a probability drawn per placement, seeded per
model).  Only the sites a profile models are placed (call sites): loop sites are left off in
every run, profiled or measured (profiling refuses them checkpointed), and listed.  Three profiles are taken, under the default,
under every site off and under the advice for 1.5x the default's peak (found from the default's
profile); each is checked to have run the placement asked for, and predicts every placement.
The placements are then run in turn, in a new shuffled order each round, after one warm-up run
each, at least --runs times (short adjoints more, up to --min-seconds per placement), and each
prediction is compared with the median measured time.

Three errors per prediction:

* **absolute**: predicted / measured median - 1, what issue 16 asks for;
* **self**: the absolute error of the profiled placement itself.  A perfect model has none: it
  is the drift of the machine between the profile's plain runs (the time the tree is fitted to,
  taken before the measurements) and the measurements, plus what differs between those runs;
* **relative**: (predicted X / predicted profiled) / (measured X / measured profiled) - 1, the
  model's error on how X compares with the profiled placement, free of that drift.  The
  profiled placement's own relative error is 0 by construction and left out of its summary.

Per model and profile: median, 90th percentile and largest |error| (absolute and relative) and
the share within 3 % and 6 %; peaks are compared too (they must be exact).  The same predictions
with the traffic term as calibrated (scale 1) and with none are pooled only over profiles that
have a traffic term: when no placement's tape is deeper than traffic.SHALLOW nothing is
calibrated and the three are the same simulator (the line says so).

    taskset -c 1 .venv/bin/python benchmarks/bench_predictions.py [--ocean-size 0.5] [--runs 5]
        [--size burgers=0.5,lorenz96=0.5] [--models burgers,shallow_water,...]
        [--json out.json] [--markdown table.md]

Pin it to one core (taskset): profiles then build their tree in this process (no helper on
another core), which changes nothing that is predicted (the tree's times are fitted to a plain
run), and the measurements do not move between cores.
"""
import argparse
import copy
import json
import math
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))
sys.path.insert(0, str(ROOT))

import adjoin  # noqa: E402
from adjoin.profiling.model import Simulator  # noqa: E402
from adjoin.profiling.traffic import SHALLOW, deepest_episode  # noqa: E402
from common import environment, load_conformance, load_example  # noqa: E402

EXAMPLES = ("burgers", "competition", "lorenz96", "shallow_water", "ocean")
CONFORMANCE = ("p22_heat_model", "p30_mini_ocean")
VARIANTS = ("fitted", "calibrated", "no traffic")


def parse_sizes(text):
    """'burgers=0.5,lorenz96=0.5' -> {'burgers': 0.5, 'lorenz96': 0.5}."""
    sizes = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, _, value = item.partition("=")
        sizes[name.strip()] = float(value)
    return sizes


def load(name, sizes):
    """(head, wrt, inputs, label) of an example (at ``sizes[name]``, else its case's size) or a
    conformance program."""
    if name in EXAMPLES:
        head, wrt, inputs, size = load_example(name, sizes.get(name))
        return head, wrt, inputs, f"{name} (size {size})"
    head, wrt, inputs = load_conformance(name)
    return head, wrt, inputs, name.split("_")[0]


def placements(ids, count, rng):
    """{label: frozenset of sites off}: the default, every site off, ``count`` random ones
    (distinct; fewer when there are not so many)."""
    out = {"default": frozenset(), "every site off": frozenset(ids)}
    seen = set(out.values())
    tries = 0
    while len(out) < count + 2 and tries < 100 * count:
        tries += 1
        q = rng.uniform(0.1, 0.9)
        off = frozenset(i for i in ids if rng.random() < q)
        if off not in seen:
            seen.add(off)
            out[f"random {len(out) - 1}"] = off
    return out


def measure_in_turn(head, wrt, inputs, offs, runs, min_seconds, rng, always_off=frozenset()):
    """{off: (median seconds, peak bytes, runs, spread)}: each placement run once unmeasured and once to
    count rounds, then all in turn (a new shuffled order each round: none always follows the
    same other one), at least ``runs`` times and until each has had ``min_seconds`` (at most 400
    rounds).  Hooks off: Adjoint.measure times the plain adjoint, as a profile's plain runs.
    ``always_off``: sites off in every placement (loop sites), not part of the keys.  ``spread``:
    the interquartile range of the runs over their median, the noise a prediction is judged in."""
    adjoints = {}
    one = {}
    for off in offs:
        adj = adjoin.adjoint(head, wrt=wrt, placement=adjoin.Placement(off | always_off))
        adj(**copy.deepcopy(inputs))
        adjoints[off] = adj
        one[off] = adj.measure(**copy.deepcopy(inputs)).seconds
    rounds = max(runs, min(400, math.ceil(min_seconds / max(min(one.values()), 1e-6))))
    times = {off: [] for off in offs}
    peaks = {}
    order = list(adjoints)
    for _ in range(rounds):
        rng.shuffle(order)
        for off in order:
            run = adjoints[off].measure(**copy.deepcopy(inputs))
            times[off].append(run.seconds)
            peaks[off] = run.peak_tape_bytes
    return {off: (statistics.median(times[off]), peaks[off], rounds, spread(times[off])) for off in offs}


def spread(times):
    """(third quartile - first quartile) / median of ``times``."""
    q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
    return (q3 - q1) / statistics.median(times)


def profile_under(head, wrt, inputs, off, always_off=frozenset()):
    """(profile of the placement ``off`` (and ``always_off``), seconds it took); refused unless the
    profile ran it and its tree is fitted to its plain run (it predicts its own placement at it)."""
    adj = adjoin.adjoint(head, wrt=wrt, placement=adjoin.Placement(off | always_off))
    start = time.perf_counter()
    profile = adj.profile(**copy.deepcopy(inputs), keep_events=False)
    if profile.profiled_off != frozenset(off):
        raise AssertionError(f"profiled {sorted(profile.profiled_off)}, asked for {sorted(off)}")
    own = profile.predict(adjoin.Placement(off)).seconds
    if not math.isclose(own, profile.seconds, rel_tol=1e-9):      # tree.fit_to_plain_run did not apply
        raise AssertionError(f"the profiled placement is predicted at {own:.6f} s, its plain run took "
                             f"{profile.seconds:.6f} s")
    return profile, time.perf_counter() - start


def traffic_of(profile):
    """What the profile's traffic term is: the deepest episode any placement makes, the depths
    calibrated, the scale fitted; ``term`` False when there is none (every variant the same)."""
    t = profile.traffic
    return {"deepest_episode": deepest_episode(profile.tree), "depths": len(t.depths),
            "scale": t.scale, "seconds": t.seconds, "term": bool(t.depths)}


def variants(profile):
    """{name: Simulator} of the same tree with the traffic term fitted (the profile's own), as
    calibrated (scale 1, not fitted to a run of the other extreme placement) and none (the model
    before issue 16).  Without calibrated depths the three are the same model."""
    return {"fitted": profile.simulator,
            "calibrated": Simulator(profile.tree, replace(profile.traffic, scale=1.0), profile.profiled_off),
            "no traffic": Simulator(profile.tree, None, profile.profiled_off)}


def percentile(values, q):
    """The q-th percentile (0-100) of values, linear between order statistics."""
    x = sorted(values)
    if not x:
        return math.nan
    k = (len(x) - 1) * q / 100
    low = math.floor(k)
    high = min(low + 1, len(x) - 1)
    return x[low] + (k - low) * (x[high] - x[low])


def stats(errors):
    """median, 90th percentile, max of |errors|, shares within 3 % and 6 % (NaN when none)."""
    e = [abs(x) for x in errors]
    if not e:
        return {"n": 0, "median": math.nan, "p90": math.nan, "max": math.nan,
                "within_3": math.nan, "within_6": math.nan}
    return {"n": len(e), "median": statistics.median(e), "p90": percentile(e, 90), "max": max(e),
            "within_3": sum(x <= 0.03 for x in e) / len(e), "within_6": sum(x <= 0.06 for x in e) / len(e)}


def take_profiles(head, wrt, inputs, always_off=frozenset()):
    """({kind: (profile, seconds it took, sites off)}, the sites placed): profiles under the
    default, every site off and the advice for 1.5x the default's peak (found from the default's
    profile).  The sites placed are those the default's profile models (Profile.site_info)."""
    default, seconds = profile_under(head, wrt, inputs, frozenset(), always_off)
    ids = [s.id for s in default.site_info]
    budget = int(1.5 * default.predict(adjoin.Placement()).peak_tape_bytes)
    advice = frozenset(default.advise(budget).placement.nocheckpoint)
    profiles = {"default": (default, seconds, frozenset())}
    for kind, off in (("every site off", frozenset(ids)), ("advice 1.5x", advice)):
        profiles[kind] = (*profile_under(head, wrt, inputs, off, always_off), off)
    return profiles, ids


def predicted(profiles, offs):
    """{kind: {variant: {off: Prediction}}} for every placement of ``offs`` and the profiled ones."""
    wanted = set(offs) | {off for _, _, off in profiles.values()}
    return {kind: {name: {off: simulator.evaluate(off) for off in wanted}
                   for name, simulator in variants(profile).items()}
            for kind, (profile, _, _) in profiles.items()}


def row_of(label, off, measured, profiles, predictions):
    """One placement: its measured median and peak, and per profile the predictions and errors."""
    seconds, peak, runs, noise = measured[off]
    row = {"placement": label, "sites_off": len(off), "measured_seconds": seconds, "measured_peak": peak,
           "runs": runs, "spread": noise, "predicted": {}}
    for kind, (_, _, profiled) in profiles.items():
        measured_profiled = measured[profiled][0]
        by_variant = {}
        for name, by_off in predictions[kind].items():
            p, p0 = by_off[off], by_off[profiled]
            by_variant[name] = {"seconds": p.seconds, "error": p.seconds / seconds - 1,
                                "relative": (p.seconds / p0.seconds) / (seconds / measured_profiled) - 1}
        fitted = predictions[kind]["fitted"][off]
        row["predicted"][kind] = by_variant["fitted"] | {
            "peak": fitted.peak_tape_bytes, "peak_exact": fitted.peak_tape_bytes == peak,
            "profiled": off == profiled, "variants": by_variant}
    return row


def summarise(rows, kind, profile):
    """Per profile: absolute errors over every placement, relative ones over the others, the
    profiled placement's own (self) error, the same for each traffic variant."""
    cells = [r["predicted"][kind] for r in rows]
    others = [c for c in cells if not c["profiled"]]
    own = [c["error"] for c in cells if c["profiled"]]
    return {"absolute": stats([c["error"] for c in cells]), "relative": stats([c["relative"] for c in others]),
            "self": own[0] if own else math.nan, "peaks_exact": all(c["peak_exact"] for c in cells),
            "traffic": traffic_of(profile) | {"cost": profile.traffic.to_json()},
            "variants": {name: {"absolute": stats([c["variants"][name]["error"] for c in cells]),
                                "relative": stats([c["variants"][name]["relative"] for c in others])}
                         for name in VARIANTS}}


def traffic_text(t):
    if not t["term"]:
        return (f"no traffic term (deepest episode {t['deepest_episode']:,d} B <= {SHALLOW:,d}: "
                "nothing calibrated, the variants are the same model)")
    return f"traffic: {t['depths']} depths to {t['deepest_episode']:,d} B, scale {t['scale']:.2f}"


def print_row(row):
    print(f"  {row['placement']:>15} ({row['sites_off']:2d} off): measured {row['measured_seconds'] * 1e3:9.2f} ms "
          f"({row['runs']} runs, IQR {row['spread']:.0%}), peak {row['measured_peak']:>11,d}; errors (absolute / relative) " + ", ".join(
              f"{k} {v['error']:+.1%}/{v['relative']:+.1%}{'*' if v['profiled'] else ''}"
              f"{'' if v['peak_exact'] else ' PEAK DIFFERS'}" for k, v in row["predicted"].items()), flush=True)


def print_summary(kind, s):
    a, r = s["absolute"], s["relative"]
    line = (f"  from the {kind} profile: self {s['self']:+.1%}; |absolute| median {a['median']:.1%}, "
            f"p90 {a['p90']:.1%}, max {a['max']:.1%} (within 3 %: {a['within_3']:.0%}, 6 %: {a['within_6']:.0%}); "
            f"|relative| median {r['median']:.1%}, p90 {r['p90']:.1%}, max {r['max']:.1%}; "
            f"peaks exact: {s['peaks_exact']}; {traffic_text(s['traffic'])}")
    if s["traffic"]["term"]:
        line += "; " + ", ".join(f"{n}: relative median {v['relative']['median']:.1%}, max {v['relative']['max']:.1%}"
                                 for n, v in s["variants"].items())
    print(line, flush=True)


def model(name, options):
    rng = random.Random(f"{options.seed}/{name}")      # a model's placements: not those of the others'
    head, wrt, inputs, label = load(name, {"ocean": options.ocean_size} | options.sizes)
    sites = adjoin.checkpoint_sites(head, example=inputs)
    loops = frozenset(s.id for s in sites if not isinstance(s, adjoin.Site))
    profiles, modelled = take_profiles(head, wrt, inputs, loops)
    unplaced = sorted({s.id for s in sites} - set(modelled))
    offs = placements(modelled, options.random, rng)
    advice = profiles["advice 1.5x"][2]
    if advice not in offs.values():
        offs["advice 1.5x"] = advice
    print(f"{label}: {len(modelled)} sites placed" + (f" ({', '.join(unplaced)} off in every run)"
                                                      if unplaced else "")
          + f", {len(offs)} placements; profiles took "
          + ", ".join(f"{k} {s:.1f} s" for k, (_, s, _) in profiles.items()), flush=True)
    predictions = predicted(profiles, offs.values())
    measured = measure_in_turn(head, wrt, inputs, list(offs.values()), options.runs, options.min_seconds, rng,
                               loops)
    rows = [row_of(lab, off, measured, profiles, predictions) for lab, off in offs.items()]
    for row in rows:
        print_row(row)
    summary = {kind: summarise(rows, kind, profile) for kind, (profile, _, _) in profiles.items()}
    noise = statistics.median(r["spread"] for r in rows)
    print(f"  measured runs: median IQR/median {noise:.1%}" + ("  (noisier than the 3 % a prediction is "
                                                               "judged in: a loaded machine)" if noise > 0.03 else ""))
    for kind, s in summary.items():
        print_summary(kind, s)
    return {"model": label, "sites": len(modelled), "unplaced": unplaced, "noise": noise, "rows": rows,
            "summary": summary}


def pct(x, digits=1):
    return "–" if isinstance(x, float) and math.isnan(x) else f"{x:.{digits}%}"


def markdown(results):
    lines = ["| model | sites | placements | noise | profiled under | self | median | 90th pct | max | within 3 % | "
             "within 6 % | rel. median | rel. 90th pct | rel. max | rel. within 3 % | traffic term |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        for kind, s in result["summary"].items():
            a, r = s["absolute"], s["relative"]
            lines.append(f"| {result['model']} | {result['sites']} | {len(result['rows'])} | "
                         f"{result['noise']:.1%} | {kind} | "
                         f"{s['self']:+.1%} | {pct(a['median'])} | {pct(a['p90'])} | {pct(a['max'])} | "
                         f"{pct(a['within_3'], 0)} | {pct(a['within_6'], 0)} | {pct(r['median'])} | "
                         f"{pct(r['p90'])} | {pct(r['max'])} | {pct(r['within_3'], 0)} | "
                         f"{'yes' if s['traffic']['term'] else 'none'} |")
    lines += ["", "noise: the median over the placements of the interquartile range of their runs over their "
              "median; absolute: predicted / measured − 1; self: that of the profiled placement (the drift between "
              "the profile's plain runs and the measurements); relative: of predicted / predicted profiled "
              "against measured / measured profiled (the profiled placement left out)."]
    lines += variants_table(results)
    return "\n".join(lines) + "\n"


def variants_table(results):
    """The same predictions with each traffic term, pooled over the profiles that have one."""
    cells = [(r["predicted"][kind], kind) for res in results for r in res["rows"]
             for kind in r["predicted"] if res["summary"][kind]["traffic"]["term"]]
    if not cells:
        return ["", "No profile had a traffic term (no placement's tape deeper than "
                f"{SHALLOW:,d} B): fitted, calibrated and no traffic are the same model here."]
    lines = ["", f"The same predictions with other traffic terms ({len(cells)} predictions from the profiles "
             "that have one, pooled):", "",
             "| traffic term | median | 90th pct | max | rel. median | rel. 90th pct | rel. max |", "|---|---|---|---|---|---|---|"]
    for name in VARIANTS:
        a = stats([c["variants"][name]["error"] for c, _ in cells])
        r = stats([c["variants"][name]["relative"] for c, _ in cells if not c["profiled"]])
        lines.append(f"| {name} | {pct(a['median'])} | {pct(a['p90'])} | {pct(a['max'])} | {pct(r['median'])} | "
                     f"{pct(r['p90'])} | {pct(r['max'])} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(EXAMPLES + CONFORMANCE))
    parser.add_argument("--ocean-size", type=float, default=0.5)
    parser.add_argument("--size", type=parse_sizes, default={}, dest="sizes",
                        help="sizes of other examples, e.g. burgers=0.5,lorenz96=0.5 (default: their case's)")
    parser.add_argument("--random", type=int, default=10, help="random placements per model")
    parser.add_argument("--runs", type=int, default=5, help="runs per placement at least (median)")
    parser.add_argument("--min-seconds", type=float, default=0.5,
                        help="short adjoints run until each placement had this long (default 0.5 s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args()
    out = {"environment": environment(), "options": vars(options) | {"json": None, "markdown": None},
           "results": []}
    for name in options.models.split(","):
        out["results"].append(model(name.strip(), options))
        if options.json:
            options.json.write_text(json.dumps(out, indent=1, default=str))
    table = markdown(out["results"])
    print(table)
    if options.markdown:
        options.markdown.write_text(table)


if __name__ == "__main__":
    main()
