"""Figures and the HTML report: every plot is a real PNG/SVG; the report is one self-contained page
that headless Chromium renders without a console message and whose tables sort; `adjoin report`.

The Chromium test needs Debian's chromium (apt-get install -y chromium) and is skipped without it.
"""
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="figures need matplotlib: pip install -e '.[plots]'")

import adjoin  # noqa: E402
from adjoin.case import load_case  # noqa: E402
from adjoin.cli import main  # noqa: E402
from adjoin.errors import UsageError  # noqa: E402
from adjoin.placement import Placement  # noqa: E402
from adjoin.profiling.profile import Profile  # noqa: E402
from adjoin.report import plots  # noqa: E402
from adjoin.report.html import write_report  # noqa: E402
from adjoin.runtime import profiler as ev  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BURGERS = EXAMPLES / "burgers" / "case.toml"
SIZE = "size=0.3"
PNG = b"\x89PNG\r\n\x1a\n"
pytestmark = pytest.mark.filterwarnings("error::UserWarning")     # matplotlib's complaints fail

NO_SITES = '''
import numpy as np


def alone(x):
    return np.sum(np.sin(x) ** 2)


def calls(x):
    return np.sum(square(x))


def square(x):
    return x * x
'''


@pytest.fixture(scope="module")
def case():
    return load_case(BURGERS, [SIZE])


@pytest.fixture(scope="module")
def profile(case):
    """A fresh profile of burgers at size 0.3 (about 30 ms of adjoint): it has its raw events."""
    return adjoin.adjoint(case.head, wrt=case.wrt).profile(**case.build_inputs())


@pytest.fixture(scope="module")
def comparison(profile):
    return plots.compare(profile, int(profile.peak_tape_bytes * 1.2))


@pytest.fixture(scope="module")
def profile_file(profile, tmp_path_factory):
    path = tmp_path_factory.mktemp("profile") / "burgers.json"
    profile.save(path)
    return path


def assert_image(path, suffix):
    data = Path(path).read_bytes()
    assert len(data) > 5000, f"{path} is only {len(data)} bytes"
    if suffix == ".png":
        assert data.startswith(PNG)
    else:
        assert data.lstrip().startswith(b"<?xml") and b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>")


# ---------------------------------------------------------------------------------------------
# figures

@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_every_figure_is_written(profile, comparison, tmp_path, suffix):
    written = [plots.plot_tape(profile, tmp_path / f"tape{suffix}", budget=comparison.budget),
               plots.plot_deltas(profile, tmp_path / f"deltas{suffix}"),
               plots.plot_pareto(profile, tmp_path / f"pareto{suffix}", comparison),
               plots.plot_tree(profile, tmp_path / f"tree{suffix}")]
    for path in written:
        assert path.suffix == suffix
        assert_image(path, suffix)


def test_svg_figures_have_titles_and_axis_labels(profile, comparison, tmp_path):
    path = plots.plot_pareto(profile, tmp_path / "pareto.svg", comparison)
    text = path.read_text()
    for words in ("Time/memory trade-off", "predicted peak tape", "predicted adjoint time"):
        assert words in text or words.replace(" ", "") in text


def test_measured_placements_overlaid_and_their_peaks_predicted(profile, comparison, case, tmp_path):
    placements = {"default": Placement(), "advised": comparison.advised.placement}
    runs = plots.record_runs(case.head, case.wrt, case.build_inputs(), placements, profile)
    assert [run.label for run in runs] == ["default", "advised"]
    for run in runs:
        assert run.events and run.peak_tape_bytes == run.predicted_peak   # DESIGN.md invariant 5
    path = plots.plot_tape(profile, tmp_path / "placements.png", runs, comparison.budget)
    assert_image(path, ".png")
    path = plots.plot_placements_tape(profile, tmp_path / "again.svg", case.head, case.build_inputs(),
                                      placements, comparison.budget)
    assert_image(path, ".svg")


def test_tape_curve_keeps_every_peak_of_a_long_run():
    events = [(ev.SNAPSHOT_WRITE, "s", (k % 1000) * 8, k * 1e-6, 0, 0.0) for k in range(100_000)]
    events[54_321] = (ev.TURN, "f", 10**9, 54_321e-6, 0, 0.0)
    t, b = plots.tape_curve(events)
    assert len(t) <= plots.TAPE_POINTS + 2
    assert b.max() == 10**9 and b.min() == 0
    assert list(t) == sorted(t)
    short_t, short_b = plots.tape_curve(events[:100])
    assert len(short_t) == 101 and short_b[0] == 0        # short runs: every event, from 0


def test_spans_are_outermost_and_joined_when_close():
    def e(kind, t):
        return (kind, "s", 0, t, 0, 0.0)
    B, E = ev.BEGIN_REVERSE, ev.END_REVERSE
    events = [e(B, 0.0), e(B, 0.1), e(E, 0.2), e(E, 0.3),            # nested: one span
              e(B, 0.3000001), e(E, 0.4),                            # closer than 1/1500: joined
              e(B, 0.6), e(E, 0.7), e(ev.TURN, 1.0)]
    spans = plots.spans(events, B, E)
    assert [(round(a, 6), round(w, 6)) for a, w in spans] == [(0.0, 0.4), (0.6, 0.1)]
    assert plots.spans(events, ev.BEGIN_ADVANCE, ev.END_ADVANCE) == []


def test_call_frames_count_every_instance_and_sum_to_the_model(profile):
    root = plots.call_frames(profile)
    counted = {}

    def walk(frame):
        for child in frame.children.values():
            counted[child.site] = counted.get(child.site, 0) + child.instances
            assert child.seconds >= child.advance >= 0
            assert sum(c.seconds for c in child.children.values()) <= child.seconds - child.advance + 1e-12
            walk(child)
    walk(root)
    assert counted == {row.id: row.instances for row in profile.sites if row.instances}
    assert root.seconds == pytest.approx(profile.predict(profile.profiled_off).seconds, rel=1e-9)


def test_site_labels_tell_sites_apart():
    class Row:
        def __init__(self, id, callee):
            self.id, self.callee = id, callee
    rows = [Row("a/f#1", "f"), Row("a/g#1", "g"), Row("a/g#2", "g"), Row("b/g#1", "g")]
    assert plots.site_labels(rows) == {"a/f#1": "f", "a/g#1": "a/g#1", "a/g#2": "g#2", "b/g#1": "b/g#1"}


def test_figure_refusals(profile_file, tmp_path):
    loaded = Profile.load(profile_file)
    with pytest.raises(UsageError, match="raw events"):
        plots.plot_tape(loaded, tmp_path / "tape.png")
    with pytest.raises(UsageError, match=r"\.png or \.svg"):
        plots.plot_tree(loaded, tmp_path / "tree.pdf")


# ---------------------------------------------------------------------------------------------
# the HTML report

def chromium(*arguments, tmp_path):
    """Runs headless Chromium; returns its stderr (where --enable-logging puts console messages)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("headless Chromium is not installed: apt-get install -y chromium")
    profile_dir = tmp_path / "chromium-profile"
    result = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile_dir}", "--enable-logging=stderr", "--v=0", *arguments],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def console_messages(stderr):
    """Chromium logs every console message (errors, uncaught exceptions) as INFO:CONSOLE lines."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_report_is_self_contained_and_renders_without_console_errors(profile, case, tmp_path):
    budget = int(profile.peak_tape_bytes * 1.2)
    path = write_report(profile, tmp_path / "report.html", budget, case=case, overrides=[SIZE])
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', text)) == 4
    assert not re.search(r'(src|href)="(?!data:|#)', text), "the report must load nothing from outside"
    assert "<script src" not in text and "<link rel=\"stylesheet\"" not in text
    for words in ("Summary", "Advice for a memory budget", "the paper's ΔT/ΔPM advice", "adjoin's advice",
                  "Pareto front", "How to reproduce", "adjoin profile", "--set size=0.3", "measured peak tape"):
        assert words in html.unescape(text)
    for row in profile.sites:
        assert row.id in text

    screenshot = tmp_path / "report.png"
    result = chromium(f"--screenshot={screenshot}", "--window-size=1400,2000", path.as_uri(), tmp_path=tmp_path)
    assert console_messages(result.stderr) == []
    assert_image(screenshot, ".png")
    assert screenshot.stat().st_size > 50_000          # a rendered page, not a blank one

    # the tables sort: click a header, then read the order back from the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", """<script>
var table = document.getElementById("pareto-table");
table.tHead.rows[0].cells[1].click();            // time, ascending
var times = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
  return parseFloat(r.cells[1].getAttribute("data-value")); });
document.body.setAttribute("data-sorted", JSON.stringify(times));
</script></body>"""))
    result = chromium("--dump-dom", probe.as_uri(), tmp_path=tmp_path)
    assert console_messages(result.stderr) == []
    times = json.loads(re.search(r'data-sorted="([^"]*)"', result.stdout).group(1).replace("&quot;", '"'))
    assert len(times) > 1 and times == sorted(times)


def test_report_without_events_explains_the_missing_figure(profile_file, tmp_path):
    path = write_report(Profile.load(profile_file), tmp_path / "report.html", profile_path=profile_file)
    text = path.read_text()
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 3
    assert "give the case to run (--case)" in text
    assert "an unlimited memory budget" in text


def test_report_of_heads_with_no_site_or_one(tmp_path):
    module = tmp_path / "no_sites.py"
    module.write_text(NO_SITES)
    namespace = {}
    exec(compile(NO_SITES, str(module), "exec"), namespace)
    for name, sites in (("alone", 0), ("calls", 1)):
        profile = adjoin.adjoint(namespace[name], wrt="x").profile(np.linspace(0.0, 1.0, 5))
        assert len(profile.sites) == sites
        text = write_report(profile, tmp_path / f"{name}.html", budget=100).read_text()
        assert len(re.findall(r'src="data:image/png;base64,', text)) == 4


# ---------------------------------------------------------------------------------------------
# adjoin report

def test_cli_report(profile_file, tmp_path, capsys):
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(profile_file), "-o", str(out), "--memory-budget", "1.2x", "--json",
                 "--case", str(BURGERS), "--set", SIZE]) == 0
    assert json.loads(capsys.readouterr().out) == {"report": str(out)}
    text = out.read_text()
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 4
    assert f"--memory-budget {int(1.2 * Profile.load(profile_file).predict(Placement()).peak_tape_bytes)}" in text
    # default output: beside the profile
    assert main(["report", str(profile_file), "-q"]) == 0
    assert profile_file.with_suffix(".html").exists()


@pytest.mark.parametrize("arguments, message", [
    (["missing.json", "-o", "{out}"], "no such profile file"),
    (["{profile}", "-o", "{out}", "--set", SIZE], "give the case with --case"),
    (["{profile}", "-o", "{profile}"], "would overwrite your own file"),
    (["{profile}", "-o", "{out}", "--memory-budget", "lots"], "not a size"),
    (["{profile}", "-o", "{out}", "--memory-budget", "twox"], "a factor of the default"),
    (["{profile}", "-o", "{out}", "--case", str(EXAMPLES / "lorenz96" / "case.toml")],
     "give the case that was profiled"),
])
def test_cli_report_errors(profile_file, tmp_path, capsys, arguments, message):
    arguments = [a.format(profile=profile_file, out=tmp_path / "r.html") for a in arguments]
    assert main(["report", *arguments]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_the_report_shows_loop_sites_with_their_advised_schedule(tmp_path):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_loop_model import LOOP, PROGRAM, inputs
    from test_loop_sites import load_text
    model = load_text(PROGRAM, tmp_path)
    profile = adjoin.adjoint(model.cost, wrt=("u0", "k")).profile(**inputs(nsteps=20))
    budget = profile.predict(Placement()).peak_tape_bytes
    advice = profile.advise(memory_budget=budget)
    (_, snapshots, disk), = advice.placement.loops
    text = write_report(profile, tmp_path / "report.html", budget=budget).read_text()
    shown = f"binomial, {snapshots} snapshots in memory" + (f" + {disk} on disk" if disk else "")
    assert f"<code>{LOOP}</code>: {shown}" in text
