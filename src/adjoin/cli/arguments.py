"""The options several commands share, and the argparse types of their values."""
import argparse
import math
import re
from pathlib import Path

from ..errors import UsageError

LOOP_SITE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*/loop#[0-9]+$")
VERIFY_HELP = ("check at run time every value the backward sweep assumes unchanged (slower; for "
               "debugging adjoin)")


def name_list(text):
    """``'a,b'`` -> ``('a', 'b')``, for --wrt and --nocheckpoint."""
    names = tuple(name.strip() for name in text.split(","))
    bad = [name for name in names if not name.isidentifier()]
    if bad:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated names, e.g. a,b "
                                         f"(not a name: {bad[0]!r})")
    return names


def site_list(text):
    """``'f,g,cost/loop#1'`` -> names of functions, and ids of loop sites, for --nocheckpoint."""
    names = tuple(name.strip() for name in text.split(","))
    bad = [name for name in names if not (name.isidentifier() or LOOP_SITE_ID.match(name))]
    if bad:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated function names or loop site ids, "
                                         f"e.g. step,cost/loop#1 (not one: {bad[0]!r})")
    return names


def positive_float(text):
    """argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0.0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive, finite number")
    return value


def _whole_number(text, least):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least {least}")
    return value


def non_negative_int(text):
    """argparse type: a whole number, at least 0."""
    return _whole_number(text, 0)


def positive_int(text):
    """argparse type: a whole number, at least 1."""
    return _whole_number(text, 1)


def set_argument(parser):
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an argument of the case's inputs function; VALUE in TOML "
                             "syntax (0.5, 3, true, [1, 2], '\"a b\"'), a bare word is a string; "
                             "repeatable")


def checkpoint_arguments(parser):
    parser.add_argument("--nocheckpoint", type=site_list, default=(), metavar="F,G",
                        help="do not checkpoint calls to these functions (split mode; Tapenade's "
                             "-nocheckpoint), nor these loop sites (every iteration taped), e.g. cost/loop#1")
    parser.add_argument("--placement", type=Path, metavar="P.toml",
                        help="a placement file deciding every site; wins over --nocheckpoint and "
                             "# $AD NOCHECKPOINT directives")


def force_argument(parser):
    parser.add_argument("--force", action="store_true",
                        help="write the output even over a file this command reads (the model, its "
                             "modules, the case, the placement, the profile); refused otherwise")


def max_tape_argument(parser):
    parser.add_argument("--max-tape", type=max_tape_size, metavar="SIZE",
                        help="stop the adjoint with a message when its tape would pass SIZE (1GiB, "
                             "8e9, 50%% of the available memory, or unlimited); default: "
                             "$ADJOIN_MAX_TAPE, else 80%% of the memory available at start")


def max_tape_size(text):
    """argparse type of --max-tape: bytes (the tape's own sizes: see runtime/tape.parse_limit)."""
    from ..runtime.tape import parse_limit
    try:
        return parse_limit(text, "--max-tape")
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def verify_argument(parser):
    parser.add_argument("--verify", action="store_true", default=None, help=VERIFY_HELP +
                        "; without it, the environment variable ADJOIN_VERIFY decides")


def verify_option(options):
    """True with --verify; else None: the API then reads ADJOIN_VERIFY."""
    return True if options.verify else None


def json_argument(parser):
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--wide", action="store_true",
                        help="print tables as wide as they need (by default paths are shortened to fit "
                             "the terminal; numbers and names never are)")
