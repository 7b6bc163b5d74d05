"""adjoin report: one self-contained HTML page about a profile."""
import json
from pathlib import Path

from ..case import shown
from ..errors import UsageError
from .arguments import force_argument, json_argument, max_tape_argument, set_argument
from .common import (OK, check_profile_case, load_case_quietly, model_reads, profile_reads,
                     progress, refuse_overwriting, user_output_to_stderr)


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
    from ..profiling.profile import Profile
    from ..report.html import write_report
    from ..report.terminal import parse_budget
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
