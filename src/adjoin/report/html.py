"""The HTML report of a profile: one self-contained file (figures embedded as PNG, CSS and the
few lines of JavaScript that sort the tables inline; nothing loaded from the network).

It shows the run's summary, the advice for a memory budget (default placement, the paper's
ΔT/ΔPM advice, adjoin's advice), the four figures of plots.py, the paper's table of sites in its
three groups, the Pareto front, and the commands that reproduce it.
"""
import base64
import datetime
import html
import tempfile
from pathlib import Path

from ..errors import UsageError
from ..fileio import write_text_atomic
from ..placement import Placement
from ..version import __version__
from . import plots
from .terminal import human_bytes, human_seconds, loop_decision, site_groups

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0 auto; max-width: 1280px; padding: 0 24px 48px; }
h1 { font-size: 24px; margin: 24px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.subtitle { color: #666; margin: 0 0 16px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e6e6e6; text-align: left; white-space: nowrap; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.list { white-space: normal; min-width: 320px; max-width: 640px; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: #aaa; font-size: 11px; }
table.sortable th[aria-sort="ascending"]::after { content: " \\2191"; color: #333; }
table.sortable th[aria-sort="descending"]::after { content: " \\2193"; color: #333; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.summary dt { color: #666; } dl.summary dd { margin: 0; }
figure { margin: 16px 0 24px; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; max-width: 1000px; }
.yes { color: #2a7a2a; } .no { color: #b22; font-weight: 600; }
.note { background: #f8f8f0; border-left: 3px solid #cc9; padding: 6px 12px; max-width: 1000px; }
details summary { cursor: pointer; color: #446; }
pre { background: #f6f6f6; padding: 10px 14px; overflow-x: auto; }
footer { margin-top: 40px; color: #555; border-top: 1px solid #ddd; }
.scroll { overflow-x: auto; max-width: 100%; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
"""

# sorts a table by the clicked column: numbers by data-value, text otherwise
SCRIPT = """
(function () {
  function key(cell) {
    var value = cell.getAttribute("data-value");
    return value === null ? cell.textContent.trim().toLowerCase() : parseFloat(value);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[index]), y = key(b.cells[index]);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
"""


def write_report(profile, path, budget=None, case=None, profile_path=None, overrides=(),
                 max_tape_bytes=None):
    """Writes the HTML report of ``profile`` to ``path`` (atomically) and returns the path.

    ``budget``: the memory budget in bytes (None: unlimited) the advice is for.  ``case``: a loaded
    case (adjoin.case.Case) of the profiled head: the adjoint is then run with the default and the
    advised placements and their tapes over time are compared; without it the tape figure needs a
    fresh profile's raw events.  ``profile_path`` and ``overrides`` (the case's ``--set KEY=VALUE``)
    only go into the commands that reproduce the report.  ``max_tape_bytes``: the limit of the
    tapes of those runs (adjoin.value_and_grad's)."""
    path = Path(path)
    plots.require_matplotlib()         # before running anything
    if case is not None:
        _check_case(profile, case)
    comparison = plots.compare(profile, budget)
    runs = None
    if case is not None:
        runs = plots.record_runs(case.head, case.wrt, case.build_inputs(), _measured(comparison), profile,
                                 max_tape_bytes=max_tape_bytes)
    with tempfile.TemporaryDirectory(prefix="adjoin-report-") as folder:
        figures = _figures(profile, comparison, runs, Path(folder))
    parts = [_head(profile), _summary(profile, comparison, profile_path, case),
             _advice(comparison, runs, profile), _figures_html(figures), _sites(profile, comparison),
             _front(comparison), _footer(path, budget, case, profile_path, overrides)]
    text = "".join(parts) + f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    write_text_atomic(path, text)
    return path


def _check_case(profile, case):
    if case.head.__name__ != profile.head:
        raise UsageError(f"{case.path}: its head is {case.head.__name__}, the profile's is {profile.head}; "
                         "give the case that was profiled")
    if tuple(case.wrt) != tuple(profile.wrt):
        raise UsageError(f"{case.path}: differentiates with respect to {', '.join(case.wrt)}, the profile "
                         f"with respect to {', '.join(profile.wrt)}; give the case that was profiled")


def _measured(comparison):
    """{label: Placement} of the placements to run: default, the paper's and adjoin's advice
    (one run for placements that are the same)."""
    runs = {"default: every site checkpointed": Placement()}
    paper, advised = comparison.paper.placement, comparison.advised.placement

    def changed(placement):         # not the default (a site off, or a loop site's own schedule)
        return bool(placement.nocheckpoint or placement.loops)
    if advised == paper and changed(advised):
        runs["the paper's advice = adjoin's advice"] = advised
    else:
        if changed(paper):
            runs["the paper's ΔT/ΔPM advice"] = paper
        if changed(advised):
            runs["adjoin's advice"] = advised
    return runs


# ---------------------------------------------------------------------------------------------
# figures

FIGURES = (
    ("tape", "Tape size over the adjoint run",
     "The tape's size in bytes at every profiling event of the run (bins of events reduced to their "
     "minimum and maximum, so that every peak is drawn); dotted lines: the peaks the model predicts, "
     "which equal the measured ones. Below: when checkpointed calls are re-run (advances) and when "
     "their own adjoints run (reversals)."),
    ("deltas", "ΔT against ΔPM, per site",
     "One point per checkpoint site: ΔT, the time spared by not checkpointing it (its advances and "
     "snapshot traffic, summed over its instances) against ΔPM, the change of the run's peak tape if "
     "it alone is not checkpointed. Points left of zero save memory as well as time; points on zero "
     "are free; the best candidates to the right are high and close to zero."),
    ("pareto", "Time/memory Pareto front",
     "Every placement on the front is the fastest the model knows for its peak tape. Marked: the "
     "default placement (every site checkpointed), the paper's advice (sites turned off in "
     "decreasing ΔT/ΔPM order while the budget holds) and adjoin's advice (a search of whole "
     "placements). The shaded region is over the budget."),
    ("tree", "Checkpoint call tree",
     "The checkpoint tree of the profiled run as an icicle: a box per site under each call path "
     "(its instances merged, ×N), as wide as their adjoint time in the model, the lighter left part "
     "being the snapshots and advances that checkpointing costs; children sit under their parent. "
     "Boxes too narrow to see are left out."),
)


def _figures(profile, comparison, runs, folder):
    """{name: (base64 PNG or None, note)}: a figure that cannot be drawn gets a note instead."""
    draw = {"tape": lambda p: plots.plot_tape(profile, p, runs, comparison.budget),
            "deltas": lambda p: plots.plot_deltas(profile, p),
            "pareto": lambda p: plots.plot_pareto(profile, p, comparison),
            "tree": lambda p: plots.plot_tree(profile, p)}
    out = {}
    for name, _, _ in FIGURES:
        try:
            written = draw[name](folder / f"{name}.png")
        except UsageError as error:      # e.g. no raw events for the tape: say why, draw the rest
            out[name] = (None, str(error))
            continue
        out[name] = (base64.b64encode(written.read_bytes()).decode("ascii"), "")
    return out


def _figures_html(figures):
    parts = ["<h2 id=\"figures\">Figures</h2>\n"]
    for name, title, caption in FIGURES:
        data, note = figures[name]
        parts.append(f"<figure id=\"figure-{name}\">\n")
        if data is None:
            parts.append(f"<h3>{_e(title)}</h3>\n<p class=\"note\">{_e(note)}</p>\n")
        else:
            parts.append(f"<img alt=\"{_e(title)}\" src=\"data:image/png;base64,{data}\">\n")
        parts.append(f"<figcaption><b>{_e(title)}.</b> {_e(caption)}</figcaption>\n</figure>\n")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# sections

def _head(profile):
    title = f"adjoin report: adjoint of {profile.head}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<link rel=\"icon\" href=\"data:,\">\n"
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{_e(title)}</h1>\n<p class=\"subtitle\">gradient of <code>{_e(profile.head)}</code> with "
            f"respect to <code>{_e(', '.join(profile.wrt))}</code>: the profile of one adjoint run, "
            "its checkpoint sites and the advised placement</p>\n")


def _summary(profile, comparison, profile_path, case):
    rows = profile.sites
    ran = [r for r in rows if r.instances > 0]
    off = sorted(profile.profiled_off)
    items = [("head", f"<code>{_e(profile.head)}</code>"),
             ("with respect to", f"<code>{_e(', '.join(profile.wrt))}</code>"),
             ("adjoint time (profiled run)", _e(human_seconds(profile.seconds))),
             ("peak tape (profiled run)", f"{_e(human_bytes(profile.peak_tape_bytes))} "
                                          f"({profile.peak_tape_bytes:,} bytes)"),
             ("checkpoint sites", f"{len(rows)}, of which {len(ran)} ran; {sum(r.instances for r in ran):,} "
                                  "instances"),
             ("profiled placement", "every site checkpointed" if not off else
              f"{len(off)} sites not checkpointed: <code>{_e(', '.join(off))}</code>"),
             ("memory budget", _e(_budget_text(comparison.budget)))]
    if profile_path is not None:
        items.append(("profile", f"<code>{_e(_shown(profile_path))}</code>"))
    if case is not None:
        items.append(("case", f"<code>{_e(_shown(case.path))}</code> (run for the tape figure)"))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>\n" for k, v in items)
    return f"<h2 id=\"summary\">Summary</h2>\n<dl class=\"summary\">\n{body}</dl>\n"


def _advice(comparison, runs, profile):
    default, paper, advised = comparison.default, comparison.paper, comparison.advised
    labelled = _measured(comparison)
    measured = {labelled[run.label]: run.peak_tape_bytes for run in runs or () if run.label in labelled}
    rows = [("default", "default: every site checkpointed", default, comparison.fits(default), Placement()),
            ("paper", "the paper's ΔT/ΔPM advice", paper.predicted, paper.feasible, paper.placement),
            ("advised", f"adjoin's advice ({advised.strategy} search)", advised.predicted, advised.feasible,
             advised.placement)]
    columns = ["placement", "predicted time", "vs default", "predicted peak tape"]
    columns += ["measured peak tape"] if measured else []
    columns += ["fits the budget", "sites not checkpointed"]
    body = []
    for key, label, prediction, fits, placement in rows:
        cells = [f"<td>{_swatch(key)}{_e(label)}</td>",
                 _num(prediction.seconds, human_seconds(prediction.seconds)),
                 _speedup(default, prediction, " faster" if key != "default" else None),
                 _num(prediction.peak_tape_bytes, human_bytes(prediction.peak_tape_bytes))]
        if measured:
            value = measured.get(placement)
            cells.append(_num(-1, "—") if value is None else _num(value, human_bytes(value)))
        cells += [_yes_no(fits), _num(len(placement.nocheckpoint), str(len(placement.nocheckpoint)))]
        body.append(cells)
    budget = _budget_text(comparison.budget, "a memory budget of ")
    out = [f"<h2 id=\"advice\">Advice for {_e(budget)}</h2>\n",
           _table("advice-table", columns, ("placement", "fits the budget"), body, sortable=False)]
    if measured:
        out.append("<p>Measured peaks: the adjoint run with each placement on the case's inputs "
                   "(see the tape figure).</p>\n")
    if not advised.feasible:
        out.append("<p class=\"note\">No placement the model knows fits the budget: the advice is the "
                   "placement with the smallest predicted peak. Raise the budget.</p>\n")
    if profile.loops:
        items = "".join(f"<li><code>{_e(loop)}</code>: {_e(loop_decision(profile, advised.placement, loop))}</li>"
                        for loop in sorted(profile.loops))
        out.append(f"<p>Loop sites in adjoin's advice:</p>\n<ul>{items}</ul>\n")
    off = sorted(advised.placement.nocheckpoint)
    if off:
        out.append(f"<details><summary>the {len(off)} sites adjoin's advice does not checkpoint</summary>\n"
                   f"<p class=\"mono\">{_e(', '.join(off))}</p></details>\n")
    if paper.placement != advised.placement:
        only_paper = ", ".join(sorted(paper.placement.nocheckpoint - advised.placement.nocheckpoint))
        only_mine = ", ".join(sorted(advised.placement.nocheckpoint - paper.placement.nocheckpoint))
        out.append("<details><summary>where the paper's advice and adjoin's differ</summary>\n<p>"
                   f"off only in the paper's: <code>{_e(only_paper or 'none')}</code><br>"
                   f"off only in adjoin's: <code>{_e(only_mine or 'none')}</code></p></details>\n")
    return "".join(out)


SITE_COLUMNS = ("site", "callee", "where", "instances", "ΔT", "ΔPM", "ΔPM next turn", "ΔT per KiB",
                "adjoin's advice")
SITE_GROUPS = (("gain", "Peak memory gain (ΔPM < 0): turn these off"),
               ("neutral", "Neutral (ΔPM = 0): turning these off costs no peak memory"),
               ("cost", "Cost (ΔPM > 0), by decreasing ΔT/ΔPM"),
               ("other", "Not candidates: not checkpointed in the profiled run, or never ran"))


def _sites(profile, comparison):
    gain, neutral, cost = site_groups(profile.sites)
    listed = {r.id for r in gain + neutral + cost}
    groups = {"gain": gain, "neutral": neutral, "cost": cost,
              "other": [r for r in profile.sites if r.id not in listed]}
    advised = comparison.advised.placement
    out = ["<h2 id=\"sites\">Checkpoint sites: the paper's table</h2>\n",
           "<p>ΔT: time spared by not checkpointing the site (summed over its instances); ΔPM: change "
           "of the run's peak tape if it alone is not checkpointed; ΔPM next turn: change of the tape at "
           "the turn of the enclosing forward sweep. Click a column to sort.</p>\n"]
    for key, title in SITE_GROUPS:
        rows = groups[key]
        if not rows:
            continue
        columns = [c for c in SITE_COLUMNS if c != "ΔT per KiB" or key == "cost"]   # ΔPM > 0 only
        body = []
        for r in rows:
            where = f"{_shown(r.file)}:{r.line}"
            cells = [f"<td class=\"mono\">{_e(r.id)}</td>", f"<td>{_e(r.callee)}</td>",
                     f"<td class=\"mono\" title=\"{_e(where)}\">{_e(Path(r.file).name)}:{r.line}</td>",
                     _num(r.instances, f"{r.instances:,}"), _num(r.delta_t, human_seconds(r.delta_t)),
                     _num(r.delta_pm, human_bytes(r.delta_pm)),
                     _num(r.delta_pm_turn, human_bytes(r.delta_pm_turn))]
            if key == "cost":
                ratio = r.delta_t / r.delta_pm
                cells.append(_num(ratio, f"{human_seconds(ratio * 1024)}/KiB"))
            decision = (loop_decision(profile, advised, r.id) if r.id in profile.loops else
                        "checkpoint" if advised.checkpointed(r.id) else "off")
            cells.append(f"<td>{_e(decision)}</td>")
            body.append(cells)
        out.append(f"<h3>{_swatch(key)}{_e(title)} ({len(rows)})</h3>\n")
        out.append(_table(f"sites-{key}", columns, ("site", "callee", "where", "adjoin's advice"), body))
    return "".join(out)


def _front(comparison):
    body = []
    for prediction, placement in comparison.front:
        off = sorted(placement.nocheckpoint)
        listing = _e(", ".join(off) or "none") if len(off) <= 6 else (
            f"<details><summary>{len(off)} sites</summary>{_e(', '.join(off))}</details>")
        body.append([_num(prediction.peak_tape_bytes, human_bytes(prediction.peak_tape_bytes)),
                     _num(prediction.seconds, human_seconds(prediction.seconds)),
                     _speedup(comparison.default, prediction, ""), _yes_no(comparison.fits(prediction)),
                     _num(len(off), str(len(off))), f"<td class=\"mono list\">{listing}</td>"])
    columns = ("peak tape", "time", "vs default", "fits the budget", "sites off", "sites not checkpointed")
    return ("<h2 id=\"pareto\">Pareto front (predicted)</h2>\n"
            "<p>The placements no other beats in both time and peak tape, as the model predicts them, "
            "by increasing peak.</p>\n"
            + _table("pareto-table", columns, ("fits the budget", "sites not checkpointed"), body))


def _footer(path, budget, case, profile_path, overrides):
    case_text = _quote(_shown(case.path)) if case is not None else "CASE.toml"
    sets = "".join(f" --set {_quote(o)}" for o in overrides)
    profile_text = _quote(_shown(profile_path)) if profile_path is not None else "profile.json"
    budget_flag = f" --memory-budget {budget}" if budget is not None else ""
    report_case = f" --case {case_text}{sets}" if case is not None else ""
    commands = [f"adjoin profile {case_text}{sets} -o {profile_text}",
                f"adjoin advise {profile_text}{budget_flag} --pareto -o placement.toml",
                f"adjoin report {profile_text}{budget_flag}{report_case} -o {_quote(_shown(path))}"]
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return ("<footer>\n<h2 id=\"reproduce\">How to reproduce</h2>\n"
            "<p>Profile the adjoint, advise a placement (written to <code>placement.toml</code>, to give "
            "to <code>adjoin generate --placement</code> or <code>adjoin.value_and_grad(..., "
            "placement=...)</code>), and write this report:</p>\n"
            f"<pre>{_e(chr(10).join(commands))}</pre>\n"
            f"<p>Written by adjoin {_e(__version__)} on {_e(when)}. Times are of one run on the "
            "machine that profiled it; peak tape bytes are exact and do not depend on the machine.</p>\n"
            "</footer>\n")


# ---------------------------------------------------------------------------------------------
# helpers

def _e(text):
    return html.escape(str(text), quote=True)


def _num(value, text):
    """A numeric cell: shown as ``text``, sorted by ``value`` (JavaScript's spelling of infinities)."""
    value = float(value)
    key = repr(value) if value == value and abs(value) != float("inf") else \
        "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
    return f"<td class=\"num\" data-value=\"{key}\">{_e(text)}</td>"


def _table(table_id, columns, text_columns, rows, sortable=True):
    """A table (in a box that scrolls when too wide) of ``rows``, lists of <td> cells; every
    column but ``text_columns`` holds numbers (right-aligned)."""
    head = "".join(f"<th>{_e(c)}</th>" if c in text_columns else f"<th class=\"num\">{_e(c)}</th>"
                   for c in columns)
    body = "".join("<tr>" + "".join(cells) + "</tr>\n" for cells in rows)
    kind = " class=\"sortable\"" if sortable else ""
    return (f"<div class=\"scroll\"><table{kind} id=\"{table_id}\">\n<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}</tbody>\n</table></div>\n")


def _speedup(default, prediction, suffix):
    """How many times faster than the default a prediction is (suffix None: the default itself)."""
    if suffix is None:
        return _num(1.0, "—")
    ratio = default.seconds / prediction.seconds if prediction.seconds > 0 else float("nan")
    return _num(ratio, f"{ratio:.2f}×{suffix}")


def _swatch(key):
    """A small square of the colour the figures use for ``key``."""
    return f"<span class=\"swatch\" style=\"background:{plots.COLOURS[key]}\"></span>"


def _yes_no(flag):
    return "<td class=\"yes\">yes</td>" if flag else "<td class=\"no\">no</td>"


def _budget_text(budget, prefix=""):
    if budget is None:
        return "an unlimited memory budget" if prefix else "unlimited"
    return f"{prefix}{human_bytes(budget)} ({budget:,} bytes)"


def _shown(path):
    from ..fileio import shown
    return shown(path)


def _quote(text):
    """A shell word: quoted when it holds anything but plain characters."""
    import shlex
    return shlex.quote(str(text))
