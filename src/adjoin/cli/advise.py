"""adjoin advise: the fastest placement that fits a memory budget, from a profile; --verify runs
it, --annotate writes the advice into copies of the sources."""
import copy
import json
from pathlib import Path

from .. import api
from ..case import shown
from ..errors import UsageError
from ..fileio import write_text_atomic
from ..placement import Placement
from .arguments import VERIFY_HELP, force_argument, json_argument, max_tape_argument, set_argument
from .common import (OK, candidate_paths, check_profile_case, load_case_quietly, make_console,
                     model_reads, profile_reads, progress, refuse_overwriting,
                     user_output_to_stderr, warn)


def advise_arguments(parser):
    parser.add_argument("profile", type=Path, metavar="PROFILE.json", help="a profile from 'adjoin profile -o'")
    parser.add_argument("--memory-budget", metavar="SIZE",
                        help="largest peak tape allowed: 512MiB, 2GB, 1e6, or 1.5x (times the peak of "
                             "the default placement, every site checkpointed); default: unlimited")
    parser.add_argument("--strategy", default="auto", choices=("auto", "ratio", "greedy", "exact", "local"),
                        help="search strategy (default: auto = exact up to 2^16 placements, about 16 sites, else local search)")
    parser.add_argument("-o", "--output", type=Path, metavar="P.toml", help="write the advised placement here")
    parser.add_argument("--pareto", action="store_true", help="print the time/memory Pareto front")
    parser.add_argument("--verify", metavar="CASE.toml",
                        help="run the adjoint with the advised placement and print predicted against "
                             "measured; it also runs once in verify mode: " + VERIFY_HELP)
    parser.add_argument("--annotate", type=Path, metavar="DIR",
                        help="write copies of the source files with the advice as # $AD NOCHECKPOINT "
                             "directives, and loop sites' advised numbers in their # $AD BINOMIAL-CKP, "
                             "into DIR (never over your files)")
    set_argument(parser)
    max_tape_argument(parser)
    force_argument(parser)
    json_argument(parser)


def run_advise(options):
    """Finds the fastest placement whose predicted peak tape fits the budget, from one profile;
    compares it with the default (every site checkpointed) and with the paper's ΔT/ΔPM advice."""
    from ..profiling.advisor import advise, pareto
    from ..profiling.profile import Profile
    from ..report.terminal import parse_budget
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
    annotations = (_annotations(options, profile, mine.placement) if options.annotate is not None
                   else [])
    refuse_overwriting(options, [("-o", options.output, "placement.toml")]
                       + [(f"--annotate {shown(options.annotate)} writes", target, None)
                          for target, _, _ in annotations], reads)
    if case is not None:
        check_profile_case(options, profile, case)
    if options.output is not None:
        _save_placement(options, profile, mine, budget)
    result = {"budget": budget, "default": _prediction_json(default), "paper": _advice_json(paper),
              "advised": _advice_json(mine)}
    if options.pareto:
        result["pareto"] = [dict(_prediction_json(p), nocheckpoint=sorted(pl.nocheckpoint),
                                 loops={k: {"snapshots": s, "disk": d} for k, s, d in pl.loops})
                            for p, pl in pareto(profile)]
    if case is not None:
        result["verify"] = _verify(options, profile, mine, case)
    if options.annotate is not None:
        result["annotated"] = [str(p) for p in _annotate(options, annotations, profile, mine.placement)]
    if options.json:
        print(json.dumps(result, indent=2))
        return OK
    _print_advice(make_console(options), options, result, default, paper, mine, budget, profile)
    return OK


def _save_placement(options, profile, advice, budget):
    """Writes the advised placement to -o, every site of the profile decided, with a comment
    saying where it comes from and what it is predicted to cost."""
    from ..report.terminal import human_bytes, human_seconds
    ids = [s.id for s in profile.sites]
    advice.placement.save(options.output, ids, comments=[
        f"advised by adjoin from {options.profile.name} for a budget of "
        f"{human_bytes(budget) if budget is not None else 'unlimited'} ({advice.strategy} search)",
        f"predicted: {human_seconds(advice.predicted.seconds)}, peak tape {advice.predicted.peak_tape_bytes} bytes"])
    progress(options, f"wrote {shown(options.output)}")


def _print_advice(console, options, result, default, paper, mine, budget, profile):
    """The advice on the console: the three placements against the budget, the sites adjoin's
    leaves off, and with the options, the Pareto front and the verification run."""
    from ..report.terminal import advice_table, human_bytes, human_seconds, placement_text
    fits = (lambda p: budget is None or p.peak_tape_bytes <= budget)
    advice_table([("default: every site checkpointed", default, fits(default)),
                  (f"the paper's ΔT/ΔPM advice ({len(paper.placement.nocheckpoint)} sites off)",
                   paper.predicted, paper.feasible),
                  (f"adjoin's advice, {mine.strategy} ({len(mine.placement.nocheckpoint)} sites off)",
                   mine.predicted, mine.feasible)], console, budget)
    if not mine.feasible:
        console.print("[red]no placement fits the budget[/red]: the advice is the one with the "
                      "smallest peak; raise the budget")
    for line in placement_text(mine.placement, profile):
        console.print(line)
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
        if v["disk_bytes"]:
            console.print(f"loop sites' disk snapshots (not on the tape): {human_bytes(v['disk_bytes'])} written, "
                          f"at most {human_bytes(v['disk_peak_bytes'])} on disk at once, "
                          f"{human_seconds(v['disk_seconds'])} writing and reading them")


def _prediction_json(p):
    return {"seconds": p.seconds, "peak_tape_bytes": p.peak_tape_bytes}


def _advice_json(a):
    return dict(_prediction_json(a.predicted), strategy=a.strategy, feasible=a.feasible,
                evaluations=a.evaluations, nocheckpoint=sorted(a.placement.nocheckpoint),
                loops={k: {"snapshots": s, "disk": d} for k, s, d in a.placement.loops})


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
            "measured_peak": measured[0].peak_tape_bytes, "disk_bytes": measured[0].disk_bytes,
            "disk_peak_bytes": measured[0].disk_peak_bytes,
            "disk_seconds": sorted(m.disk_seconds for m in measured)[runs // 2], "verified": True}


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
        if (row.id in placement.nocheckpoint and "/fragment" not in row.id) or row.id in profile.loops:
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


def _annotate(options, annotations, profile, placement):
    """Writes the annotated copies: '# $AD NOCHECKPOINT' above every call site turned off, and
    every loop site's directive with its advised numbers (a loop site not checkpointed loses its
    directive: an ordinary loop, every iteration taped)."""
    from ..fileio import read_text
    written = []
    for target, source, rows in annotations:
        text = read_text(source, "source", "the profile names it as a file of the profiled program")
        lines = text.splitlines(keepends=True)
        loops = [row for row in rows if row.id in profile.loops]
        rows = [row for row in rows if row.id not in profile.loops]
        for row in loops:
            _rewrite_loop_directive(lines, row, placement.schedule(row.id, profile.loops[row.id]), placement, source)
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


def _rewrite_loop_directive(lines, row, schedule, placement, source):
    """Puts the advised schedule of the loop site ``row`` (its loop at row.line) into its
    directive, the nearest '# $AD BINOMIAL-CKP' line above the loop."""
    k = row.line - 2
    while k >= 0 and lines[k].strip().startswith("#") and "BINOMIAL-CKP" not in lines[k].upper():
        k -= 1
    if k < 0 or "BINOMIAL-CKP" not in lines[k].upper():
        warn(f"--annotate: {shown(source)}:{row.line} has no '# $AD BINOMIAL-CKP' above it (the file "
             "changed since it was profiled?); its loop site is not annotated: profile again")
        return
    indent = lines[k][:len(lines[k]) - len(lines[k].lstrip())]
    if not placement.checkpointed(row.id):
        lines[k] = f"{indent}# adjoin advise: not checkpointed, every iteration taped (was: {lines[k].strip()})\n"
        return
    lines[k] = f"{indent}# $AD BINOMIAL-CKP snapshots={schedule[0]} disk={schedule[1]}\n"
