"""adjoin profile: one profiled run of the adjoint, ΔT and ΔPM of every checkpoint site."""
import functools
import json
import sys
from pathlib import Path

from .. import api
from ..case import shown
from .arguments import (checkpoint_arguments, force_argument, json_argument, max_tape_argument,
                        positive_int, set_argument, verify_argument, verify_option)
from .common import (OK, PLACEMENT_READ, load_case_quietly, load_placement, make_console,
                     model_reads, placement_reads, progress, refuse_overwriting,
                     user_output_to_stderr, warn_checkpoint_choices)


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
    parser.add_argument("--repeat", type=positive_int, default=None, metavar="N",
                        help="time the adjoint without hooks N times and fit the profile's times "
                             "to the median (default: up to 5 times, until 1 s)")
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
        from ..profiling.trace import write_trace
        write_trace(options.trace, profile.events, case.head.__name__)
        progress(options, f"wrote {shown(options.trace)} (open it in Perfetto: ui.perfetto.dev)")
    if options.json:
        data = profile.to_json()
        data.pop("tree")
        print(json.dumps(data, indent=2))
        return OK
    from ..report.terminal import profile_tables
    profile_tables(profile, make_console(options), shown)
    return OK
