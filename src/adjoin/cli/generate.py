"""adjoin generate: writes the adjoint module of a head."""
import dataclasses
import inspect
import json
import sys
from pathlib import Path

from .. import api
from ..case import call_text, check_wrt, shown
from ..errors import UsageError
from ..fileio import write_text_atomic
from .arguments import checkpoint_arguments, force_argument, json_argument, name_list, set_argument
from .common import (OK, load_case_quietly, load_placement, load_subject, model_reads,
                     placement_reads, progress, refuse_overwriting, same_file,
                     user_output_to_stderr, warn_checkpoint_choices)


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


def same_function(a, b):
    """True when ``a`` and ``b`` are the same source function, maybe from two loads of its file."""
    return a is b or (a.__name__ == b.__name__ and same_file(a.__code__.co_filename,
                                                             b.__code__.co_filename))
