"""Figures of a profile (matplotlib, PNG or SVG by the file's suffix).

* :func:`plot_tape`: the tape's size over the adjoint's run, advances and reversals shaded, for
  one run (a fresh profile's raw events) or several placements overlaid (:func:`record_runs`
  measures them by running the adjoint);
* :func:`plot_deltas`: the paper's ΔT against ΔPM, one point per site;
* :func:`plot_pareto`: the predicted time/memory Pareto front, with the default placement, the
  paper's advice and adjoin's advice marked;
* :func:`plot_tree`: the checkpoint call tree as an icicle, widths in adjoint time, colours by
  decision.

Each takes a Profile (and what else it shows) and a path, writes the file and returns the path.
matplotlib is an optional dependency (``pip install adjoin[plots]``): it is imported when a
figure is drawn, and figures are drawn on the Agg canvas directly, so that importing adjoin never
changes the backend of a user's pyplot session.
"""
import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..placement import Placement
from ..runtime import profiler as ev
from .terminal import human_bytes, human_seconds, site_groups

SUFFIXES = (".png", ".svg")
TAPE_POINTS = 4000          # the tape curve is drawn with at most this many points per run
SPAN_RESOLUTION = 1500      # advances/reversals closer than run time / this are drawn as one
TREE_RESOLUTION = 2000      # call-tree boxes narrower than run time / this are not drawn
LABELLED_SITES = 24         # the ΔT/ΔPM scatter labels at most this many points

# one colour per meaning, the same in every figure and in the HTML report
COLOURS = {"checkpointed": "#4c72b0", "split": "#dd8452", "head": "#8c8c8c",
           "advance": "#55a868", "reverse": "#c44e52",
           "gain": "#55a868", "neutral": "#4c72b0", "cost": "#dd8452", "other": "#8c8c8c",
           "default": "#4c72b0", "paper": "#dd8452", "advised": "#c44e52", "budget": "#7f7f7f"}
RUN_COLOURS = ("#4c72b0", "#c44e52", "#dd8452", "#55a868", "#8172b3", "#937860")


# ---------------------------------------------------------------------------------------------
# what the figures compare

@dataclass(frozen=True)
class Comparison:
    """The placements a report compares for one budget, as the model predicts them."""
    budget: object            # bytes, or None: unlimited
    default: object           # Prediction of every site checkpointed
    paper: object             # Advice, strategy "ratio" (the paper's ΔT/ΔPM order)
    advised: object           # Advice, strategy "auto" (adjoin's search)
    front: list               # [(Prediction, Placement)] on the Pareto front

    def fits(self, prediction):
        return self.budget is None or prediction.peak_tape_bytes <= self.budget


def compare(profile, budget=None):
    """The default placement, the paper's advice and adjoin's advice for ``budget``, and the front."""
    from ..profiling.advisor import advise, pareto
    return Comparison(budget, profile.predict(Placement()), advise(profile, budget, "ratio"),
                      advise(profile, budget, "auto"), pareto(profile))


@dataclass(frozen=True)
class TapeRun:
    """The raw profiling events of one adjoint run, and what to call it."""
    label: str
    events: list
    peak_tape_bytes: object = None       # measured, when known
    predicted_peak: object = None        # the model's, when known


def record_events(head, wrt, placement, inputs, max_tape_bytes=None):
    """Runs the adjoint of ``head`` with ``placement`` once, recording its events: a TapeRun.

    The adjoint is generated before the recorded run so that the run's clock does not count it.
    ``max_tape_bytes``: the tape's limit (adjoin.value_and_grad's)."""
    from .. import api
    adj = api.adjoint(head, wrt=wrt, placement=placement, max_tape_bytes=max_tape_bytes)
    arguments = copy.deepcopy(inputs)
    # Adjoint.record starts its clock before generating the module; generate it first
    # (the same specialization record uses: profiling hooks on).
    adj._specialize(adj._bind((), arguments), hooks=True)
    _, _, recorder, tape = adj.record(**arguments)
    return recorder.events, tape.peak_bytes


def record_runs(head, wrt, inputs, placements, profile=None, repeats=3, quick=1.0, max_tape_bytes=None):
    """TapeRuns of ``placements`` ({label: Placement}), measured by running the adjoint of ``head``
    on ``inputs``; with ``profile``, each carries the model's predicted peak too.

    A run shorter than ``quick`` seconds is repeated ``repeats`` times and the run of median time
    kept, so that one pause of the machine does not decide a comparison of short runs."""
    runs = []
    for label, placement in placements.items():
        recorded = [record_events(head, wrt, placement, inputs, max_tape_bytes)]
        if recorded[0][0] and recorded[0][0][-1][3] < quick:
            recorded += [record_events(head, wrt, placement, inputs, max_tape_bytes)
                         for _ in range(repeats - 1)]
            recorded.sort(key=lambda r: r[0][-1][3] if r[0] else 0.0)
        events, peak = recorded[len(recorded) // 2]
        predicted = profile.predict(placement).peak_tape_bytes if profile is not None else None
        runs.append(TapeRun(label, events, peak, predicted))
    return runs


def plot_placements_tape(profile, path, head, inputs, placements, budget=None):
    """Runs the adjoint once per placement ({label: Placement}) and plots their tapes overlaid."""
    runs = record_runs(head, profile.wrt, inputs, placements, profile)
    return plot_tape(profile, path, runs, budget)


# ---------------------------------------------------------------------------------------------
# tape over time

def tape_curve(events, points=TAPE_POINTS):
    """(seconds, bytes) arrays of the tape's size at the events, from 0 at the start; longer runs
    are reduced to the minimum and maximum of each time bin, so that every peak stays drawn."""
    t = np.fromiter((e[3] for e in events), dtype=float, count=len(events))
    b = np.fromiter((e[2] for e in events), dtype=float, count=len(events))
    t = np.concatenate(([0.0], t))
    b = np.concatenate(([0.0], b))
    if len(t) <= points:
        return t, b
    edges = np.linspace(t[0], t[-1], points // 2 + 1)[:-1]
    starts = np.unique(np.searchsorted(t, edges, side="left"))
    starts = starts[starts < len(t)]
    ends = np.concatenate((starts[1:], [len(t)])) - 1
    low = np.minimum.reduceat(b, starts)
    high = np.maximum.reduceat(b, starts)
    # each bin: its maximum at its first event, its minimum at its last (an envelope, below a pixel)
    times = np.column_stack((t[starts], t[ends])).ravel()
    sizes = np.column_stack((high, low)).ravel()
    return times, sizes


def spans(events, begin, end, resolution=SPAN_RESOLUTION):
    """[(start, width)] of the outermost begin..end intervals, those closer than the run's time /
    ``resolution`` joined: what is shaded as advances or reversals."""
    out = []
    depth = 0
    start = 0.0
    for kind, _, _, t, _, _ in events:
        if kind == begin:
            if depth == 0:
                start = t
            depth += 1
        elif kind == end and depth > 0:
            depth -= 1
            if depth == 0:
                out.append((start, t))
    if not out:
        return []
    total = events[-1][3] if events else 0.0
    gap = total / resolution
    joined = [list(out[0])]
    for a, b in out[1:]:
        if a - joined[-1][1] <= gap:
            joined[-1][1] = b
        else:
            joined.append([a, b])
    return [(a, max(b - a, gap / 2)) for a, b in joined]


def plot_tape(profile, path, runs=None, budget=None):
    """The tape's size over the adjoint's run time: one curve per run (default: the profile's own
    raw events), with the budget and the model's predicted peaks as lines; below, on the same time
    axis, each run's advances and reversals of checkpointed calls shaded."""
    runs = _runs_to_draw(profile, runs)
    plt = _matplotlib()
    fig = plt.Figure(figsize=(11, 5.6 + 0.4 * len(runs)), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=(5, 0.3 + 0.55 * len(runs)))
    ax = fig.add_subplot(grid[0])
    lanes = fig.add_subplot(grid[1], sharex=ax)
    end = max(run.events[-1][3] for run in runs)
    peak = max(max(e[2] for e in run.events) for run in runs)
    peak = max([peak, budget or 0] + [run.predicted_peak or 0 for run in runs])
    scale, unit = _byte_unit(peak)
    time_scale, time_unit = _time_unit(end)
    for k, run in enumerate(runs):
        colour = RUN_COLOURS[k % len(RUN_COLOURS)]
        t, b = tape_curve(run.events)
        measured = run.peak_tape_bytes if run.peak_tape_bytes is not None else int(b.max())
        ax.plot(t / time_scale, b / scale, color=colour, linewidth=1.0,
                label=f"{run.label}: measured peak {human_bytes(measured)}")
        if run.predicted_peak is not None:
            ax.axhline(run.predicted_peak / scale, color=colour, linestyle=":", linewidth=1.0)
        y = len(runs) - 1 - k
        for kind, (begin, finish), bottom in (("advance", (ev.BEGIN_ADVANCE, ev.END_ADVANCE), y + 0.5),
                                              ("reverse", (ev.BEGIN_REVERSE, ev.END_REVERSE), y + 0.1)):
            lanes.broken_barh([(a / time_scale, w / time_scale) for a, w in spans(run.events, begin, finish)],
                              (bottom, 0.38), facecolors=COLOURS[kind], linewidth=0)
    if budget is not None:
        ax.axhline(budget / scale, color=COLOURS["budget"], linestyle="--", linewidth=1.2)
    _tape_legend(ax, runs, budget)
    ax.set_ylim(0, peak / scale * 1.08 or 1.0)
    ax.set_xlim(0, end / time_scale or 1.0)
    ax.set_ylabel(f"tape size ({unit})")
    ax.grid(alpha=0.3)
    ax.tick_params(labelbottom=False)
    compared = ", placements compared (measured)" if len(runs) > 1 else ""
    ax.set_title(f"Tape size over the adjoint run of {profile.head}{compared}")
    _label_lanes(lanes, runs, time_unit)
    return _save(fig, path)


def _runs_to_draw(profile, runs):
    """The runs plot_tape draws: ``runs`` (default: the profile's own), those with events."""
    if runs is None:
        if profile.events is None:
            raise UsageError("the tape over time needs the raw events of a run: a profile read from "
                             "a file has none; profile again, or give the case to run (--case)")
        runs = [TapeRun("profiled run", profile.events, profile.peak_tape_bytes,
                        profile.predict(profile.profiled_off).peak_tape_bytes)]
    runs = [run for run in runs if run.events]
    if not runs:
        raise UsageError("the runs have no profiling events (the head calls no user function)")
    return runs


def _tape_legend(ax, runs, budget):
    """The tape axis' legend: the runs' curves, then the predicted peaks' and the budget's lines."""
    from matplotlib.lines import Line2D
    handles, labels = ax.get_legend_handles_labels()
    if any(run.predicted_peak is not None for run in runs):
        handles.append(Line2D([], [], color="black", linestyle=":", linewidth=1.0))
        labels.append("predicted peak (the model), in the run's colour")
    if budget is not None:
        handles.append(Line2D([], [], color=COLOURS["budget"], linestyle="--"))
        labels.append(f"memory budget {human_bytes(budget)}")
    ax.legend(handles, labels, loc="upper right", fontsize=8, framealpha=0.9)


def _label_lanes(lanes, runs, time_unit):
    """Names the lanes of advances and reversals below the tape, one per run, and their legend."""
    from matplotlib.patches import Patch
    lanes.set_yticks([len(runs) - 1 - k + 0.5 for k in range(len(runs))],
                     [_short(run.label, 30) for run in runs], fontsize=8)
    lanes.set_ylim(0, len(runs))
    lanes.set_xlabel(f"adjoint run time ({time_unit})")
    lanes.grid(axis="x", alpha=0.3)
    lanes.legend([Patch(color=COLOURS["advance"]), Patch(color=COLOURS["reverse"])],
                 ["advances: checkpointed calls re-run in the forward sweep (upper half)",
                  "reversals: a checkpointed call's own adjoint (lower half)"],
                 fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.45 - 0.3 / len(runs)), ncol=2,
                 frameon=False)


# ---------------------------------------------------------------------------------------------
# ΔT against ΔPM

def plot_deltas(profile, path):
    """The paper's table as a scatter: per site, ΔT (time spared by not checkpointing it) against
    ΔPM (its cost in peak tape), coloured by the paper's group, labelled by callee."""
    plt = _matplotlib()
    rows = [r for r in profile.sites if r.instances > 0]
    gain, neutral, cost = site_groups(rows)
    grouped = {id(r): name for name, group in (("gain", gain), ("neutral", neutral), ("cost", cost))
               for r in group}
    fig = plt.Figure(figsize=(11, 6), layout="constrained")
    ax = fig.add_subplot()
    time_scale, time_unit = _time_unit(max([abs(r.delta_t) for r in rows] + [1e-9]))
    group_names = {"gain": "gain: ΔPM < 0 (turn off)", "neutral": "neutral: ΔPM = 0",
                   "cost": "cost: ΔPM > 0", "other": "not checkpointed in the profiled run"}
    for name in ("gain", "neutral", "cost", "other"):
        chosen = [r for r in rows if grouped.get(id(r), "other") == name]
        if chosen:
            ax.scatter([r.delta_pm for r in chosen], [r.delta_t / time_scale for r in chosen],
                       s=[18 + 10 * math.log10(max(r.instances, 1)) for r in chosen],
                       color=COLOURS[name], alpha=0.85, edgecolors="white", linewidths=0.5,
                       label=f"{group_names[name]} ({len(chosen)})", zorder=3)
    nonzero = [abs(r.delta_pm) for r in rows if r.delta_pm != 0]
    # linear within ±linthresh: below a KiB, a difference of peaks is not worth a decade
    linthresh = max(min(nonzero), 1024) if nonzero else 1024
    ax.set_xscale("symlog", linthresh=linthresh)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.axhline(0, color="black", linewidth=0.6)
    from matplotlib.ticker import FuncFormatter
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human_bytes(v)))
    ax.set_xlabel(f"ΔPM: change of peak tape if the site is not checkpointed (bytes; symlog scale, "
                  f"linear within ±{human_bytes(linthresh)})")
    ax.set_ylabel(f"ΔT: time spared if the site is not checkpointed ({time_unit})")
    labelled = _label_sites(ax, rows, time_scale)
    more = "" if labelled == len(rows) else f"; {labelled} of {len(rows)} labelled"
    ax.set_title(f"Checkpoint sites of {profile.head}: time spared against peak memory cost, "
                 f"per site{more}")
    ax.grid(alpha=0.3)
    if rows:
        ax.legend(fontsize=8, loc="best", title="the paper's groups (marker size: instances)",
                  title_fontsize=8)
    else:
        ax.text(0.5, 0.5, "no checkpoint site ran", transform=ax.transAxes, ha="center", va="center")
    return _save(fig, path)


def _label_sites(ax, rows, time_scale):
    """Labels the scatter's points by callee, the most telling first (largest ΔT, extreme ΔPM),
    at most LABELLED_SITES and never one over another; returns how many were labelled."""
    by_time = sorted(rows, key=lambda r: -r.delta_t)
    by_memory = sorted(rows, key=lambda r: -abs(r.delta_pm))
    order = []
    for r in [x for pair in zip(by_time, by_memory) for x in pair]:
        if r not in order:
            order.append(r)
    ax.autoscale_view()
    to_pixels = ax.transData.transform
    names = site_labels(rows)
    taken = []                 # label boxes in pixels: (x0, y0, x1, y1)
    for r in order:
        if len(taken) >= LABELLED_SITES:
            break
        x, y = to_pixels((r.delta_pm, r.delta_t / time_scale))
        text = names[r.id]
        box = (x + 4, y - 2, x + 4 + 5.5 * len(text), y + 11)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
            continue
        taken.append(box)
        ax.annotate(text, (r.delta_pm, r.delta_t / time_scale), fontsize=7, xytext=(4, 2),
                    textcoords="offset points", zorder=4)
    return len(taken)


# ---------------------------------------------------------------------------------------------
# the Pareto front

def plot_pareto(profile, path, comparison=None, budget=None):
    """The predicted time/memory Pareto front, with the default placement (every site
    checkpointed), the paper's advice and adjoin's advice marked, and the budget."""
    if comparison is None:
        comparison = compare(profile, budget)
    budget = comparison.budget
    plt = _matplotlib()
    fig = plt.Figure(figsize=(11, 5.5), layout="constrained")
    ax = fig.add_subplot()
    front = comparison.front
    marked = [("default: every site checkpointed", comparison.default, "s", COLOURS["default"], 90),
              (f"the paper's ΔT/ΔPM advice ({len(comparison.paper.placement.nocheckpoint)} off)",
               comparison.paper.predicted, "^", COLOURS["paper"], 110),
              (f"adjoin's advice, {comparison.advised.strategy} "
               f"({len(comparison.advised.placement.nocheckpoint)} off)",
               comparison.advised.predicted, "*", COLOURS["advised"], 200)]
    peaks = [p.peak_tape_bytes for p, _ in front] + [p.peak_tape_bytes for _, p, *_ in marked]
    seconds = [p.seconds for p, _ in front] + [p.seconds for _, p, *_ in marked]
    scale, unit = _byte_unit(max(peaks + [budget or 0]))
    time_scale, time_unit = _time_unit(max(seconds))
    xs = [p.peak_tape_bytes / scale for p, _ in front]
    ys = [p.seconds / time_scale for p, _ in front]
    right = max(peaks + [budget or 0]) / scale * 1.05 or 1.0
    ax.step(xs + [right], ys + [ys[-1]], where="post", color="black", linewidth=1.0, alpha=0.6)
    ax.scatter(xs, ys, color="black", s=18, zorder=3, label=f"Pareto front ({len(front)} placements)")
    for label, prediction, marker, colour, size in marked:
        ax.scatter([prediction.peak_tape_bytes / scale], [prediction.seconds / time_scale], marker=marker,
                   s=size, color=colour, edgecolors="black", linewidths=0.6, zorder=4, alpha=0.9,
                   label=f"{label}: {human_seconds(prediction.seconds)}, "
                         f"{human_bytes(prediction.peak_tape_bytes)}")
    if budget is not None:
        ax.axvline(budget / scale, color=COLOURS["budget"], linestyle="--", linewidth=1.2,
                   label=f"memory budget {human_bytes(budget)}")
        ax.axvspan(budget / scale, right, color=COLOURS["budget"], alpha=0.08)
    smallest = min(peaks) / scale
    if smallest > 0 and right / smallest > 20:        # a wide range of peaks: log scale
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        ax.set_xscale("log")
        ax.set_xlim(smallest / 1.3, right)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(0, right)
    low = min(seconds) / time_scale
    high = max(seconds) / time_scale
    pad = (high - low) * 0.08 or high * 0.05 or 1.0
    ax.set_ylim(max(low - pad, 0), high + pad)
    ax.set_xlabel(f"predicted peak tape ({unit}{', log scale' if ax.get_xscale() == 'log' else ''})")
    ax.set_ylabel(f"predicted adjoint time ({time_unit})")
    ax.set_title(f"Time/memory trade-off of checkpoint placements for {profile.head} "
                 "(the model's predictions)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------
# the call tree

@dataclass
class Frame:
    """The instances of one site under one call path, merged: the icicle's boxes."""
    site: str
    callee: str
    checkpointed: bool
    instances: int = 0
    seconds: float = 0.0       # their whole adjoint time: advances, snapshots and own adjoint
    advance: float = 0.0       # of which snapshot writes, advances and snapshot reads
    children: dict = None      # site -> Frame, in call order

    def __post_init__(self):
        if self.children is None:
            self.children = {}


def site_labels(rows):
    """{site id: short label}: the callee; ``tendency#2`` when a callee has several sites, the
    whole id when that is still ambiguous (the same callee from several callers)."""
    by_callee = {}
    for row in rows:
        by_callee.setdefault(row.callee, []).append(row.id)
    labels = {}
    for callee, ids in by_callee.items():
        tails = [i.rpartition("/")[2] for i in ids]
        for i, tail in zip(ids, tails):
            labels[i] = callee if len(ids) == 1 else tail if tails.count(tail) == 1 else i
    return labels


def call_frames(profile):
    """The checkpoint tree with the instances of a site under one call path merged (repeated
    children counted ``count`` times): the root Frame, whose seconds is the model's time of the
    profiled placement."""
    callee = {row.id: row.callee for row in profile.sites}
    joint_time = {}

    def adjoint_time(node):          # J(n) of the profiled placement (DESIGN.md, "The model")
        found = joint_time.get(id(node))
        if found is None:
            found = node.F + node.B + (0.0 if node.measured_joint else node.L) + sum(
                child.count * (adjoint_time(child.node) + _advance(child.node)) for child in node.children)
            joint_time[id(node)] = found
        return found

    def walk(node, frame, multiplicity):
        for child in node.children:
            c = child.node
            n = multiplicity * child.count
            sub = frame.children.get(c.site)
            if sub is None:
                sub = frame.children[c.site] = Frame(c.site, callee.get(c.site, c.function or c.site),
                                                     c.measured_joint)
            sub.instances += n
            sub.advance += n * _advance(c)
            sub.seconds += n * (_advance(c) + adjoint_time(c))
            walk(c, sub, n)
    root = Frame("", profile.head, True, 1, adjoint_time(profile.tree))
    walk(profile.tree, root, 1)
    return root


def _advance(node):
    """Snapshot write, advance and snapshot read of a checkpointed instance; 0 for a split one."""
    return node.W + node.P + node.R if node.measured_joint else 0.0


def plot_tree(profile, path):
    """The checkpoint call tree as an icicle: a box per site under each call path, as wide as its
    adjoint time (advance included), coloured by its decision in the profiled run."""
    plt = _matplotlib()
    root = call_frames(profile)
    total = root.seconds or 1.0
    boxes, advances = icicle_boxes(root, total)
    depth = max(b[1] for b in boxes) + 1
    time_scale, time_unit = _time_unit(total)
    fig = plt.Figure(figsize=(13, 1.6 + 0.42 * depth), layout="constrained")
    ax = fig.add_subplot()
    from matplotlib.collections import PolyCollection

    def polygons(items):
        return [[(x / time_scale, -d), ((x + w) / time_scale, -d), ((x + w) / time_scale, -d - 0.92),
                 (x / time_scale, -d - 0.92)] for x, d, w, *_ in items]
    ax.add_collection(PolyCollection(polygons(boxes), facecolors=[b[3] for b in boxes],
                                     edgecolors="white", linewidths=0.4))
    ax.add_collection(PolyCollection(polygons(advances), facecolors="white", alpha=0.45,
                                     edgecolors="none", hatch=None))
    ax.set_xlim(0, total / time_scale)
    ax.set_ylim(-depth - 0.1, 0.1)
    width_px = fig.get_figwidth() * fig.dpi * 0.9
    shown = 0
    for x, d, w, _, label in sorted(boxes, key=lambda b: -b[2]):
        if w / total * width_px > 6.2 * len(label) + 6 and shown < 400:
            ax.text((x + w / 2) / time_scale, -d - 0.46, label, ha="center", va="center", fontsize=7,
                    color="white", clip_on=True)
            shown += 1
    ax.set_yticks([-k - 0.46 for k in range(depth)], [str(k) for k in range(depth)])
    ax.set_ylabel("call depth (0: the head)")
    ax.set_xlabel(f"adjoint time of the profiled placement ({time_unit}); box width = time of the "
                  "call's instances, advance included")
    ax.set_title(f"Checkpoint call tree of {profile.head}: calls merged per call path, "
                 "width = adjoint time, colour = decision in the profiled run")
    _tree_legend(ax, depth)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def icicle_boxes(root, total):
    """The icicle of the Frame ``root``: ([(x, depth, width, colour, label)] of its boxes,
    [(x, depth, width)] of their advances), boxes narrower than ``total`` / TREE_RESOLUTION
    left out with what is below them."""
    boxes = []
    names = {}
    advances = []

    def place(frame, x, depth):
        colour = COLOURS["head"] if depth == 0 else COLOURS["checkpointed" if frame.checkpointed else "split"]
        label = names.get(frame.site, frame.callee)
        label = label if frame.instances == 1 else f"{label} ×{frame.instances}"
        boxes.append((x, depth, frame.seconds, colour, label))
        if frame.advance > 0:
            advances.append((x, depth, frame.advance))
        inner = x + frame.advance
        callees = [child.callee for child in frame.children.values()]
        for child in frame.children.values():
            if callees.count(child.callee) > 1:      # siblings tell apart by the site's ordinal
                names[child.site] = f"{child.callee}#{child.site.rpartition('#')[2]}"
            if child.seconds >= total / TREE_RESOLUTION:
                place(child, inner, depth + 1)
            inner += child.seconds
    place(root, 0.0, 0)
    return boxes, advances


def _tree_legend(ax, depth):
    """The icicle's legend, below a tree ``depth`` calls deep."""
    from matplotlib.patches import Patch
    ax.legend([Patch(color=COLOURS["checkpointed"]), Patch(color=COLOURS["split"]),
               Patch(facecolor=COLOURS["checkpointed"], edgecolor="none", alpha=0.55),
               Patch(color=COLOURS["head"])],
              ["checkpointed (joint)", "not checkpointed (split)",
               "lighter part: snapshot + advance (recomputation)", "the head"],
              fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.5 / depth - 0.12), ncol=4,
              frameon=False)


# ---------------------------------------------------------------------------------------------
# helpers

def require_matplotlib():
    """Refuses clearly when matplotlib, an optional dependency, is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("figures need matplotlib: pip install 'adjoin[plots]' "
                         "(or pip install matplotlib)") from None


def _matplotlib():
    """matplotlib's figure module: figures are drawn without pyplot (no global backend switch)."""
    require_matplotlib()
    from matplotlib import figure
    return figure


def _save(fig, path):
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"{path}: figures are written as .png or .svg; name the file so")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Date": None} if path.suffix.lower() == ".svg" else {"Software": None}
    fig.savefig(path, dpi=110, metadata=metadata)
    return path


def _byte_unit(largest):
    """(scale, name) of a binary unit for an axis whose values go up to ``largest`` bytes."""
    for k, name in enumerate(("bytes", "KiB", "MiB", "GiB")):
        if largest < 1024 ** (k + 1) * 2 or name == "GiB":
            return 1024 ** k, name
    return 1, "bytes"


def _time_unit(largest):
    """(scale, name) of a time unit for an axis whose values go up to ``largest`` seconds."""
    if largest >= 2.0:
        return 1.0, "s"
    if largest >= 2e-3:
        return 1e-3, "ms"
    return 1e-6, "µs"


def _short(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"
