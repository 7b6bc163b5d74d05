"""The ``adjoin`` command (docs/cli.md, docs/files-and-status.md).

One module per subcommand (generate, check, sites, profile, advise, report), each with
``run_<name>(options) -> exit status`` and ``<name>_arguments`` declaring its options;
:data:`COMMANDS` registers them.  ``arguments`` holds the options several commands share,
``common`` what they share besides (loading, refusing to overwrite, progress, the exit statuses),
``differences`` the check's finite differences.  Exit statuses: 0 success, 1 a check
found disagreements, 2 a usage or input error (any :class:`AdjoinError`: a bad option, a file
that cannot be read or written, a damaged file, a refusal, the tape's limit, memory exhausted),
3 a bug in adjoin (also a :class:`VerifyError`), 4 a check whose finite differences are too
noisy to judge, 130 interrupted (Ctrl-C), 128 + N stopped by signal N (SIGTERM, SIGHUP).
Results go to stdout, progress, warnings and errors to stderr; output printed by the user's own
code goes to stderr too, so that stdout holds only results (e.g. the generated source).

No command writes over a file it reads for the job (the model and every module of it, the case,
the placement, the profile) unless given --force: see :func:`common.refuse_overwriting`.
"""
import argparse
import contextlib
import dataclasses
import inspect
import os
import signal
import sys
import traceback
import warnings
from typing import Callable

from ..case import shown
from ..errors import AdjoinError, StalePlacementWarning, VerifyError
from ..version import __version__
from .advise import advise_arguments, run_advise
from .check import check_arguments, run_check
from .common import BUG, DISAGREE, INTERRUPTED, NOISY, OK, USAGE
from .generate import generate_arguments, run_generate
from .profile import profile_arguments, run_profile
from .report import report_arguments, run_report
from .sites import run_sites, sites_arguments

__all__ = ["COMMANDS", "Command", "build_parser", "main",
           "OK", "DISAGREE", "USAGE", "BUG", "NOISY", "INTERRUPTED"]


@dataclasses.dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, examples, arguments and the function running it."""
    name: str
    summary: str
    examples: str
    arguments: Callable
    run: Callable


COMMANDS = (
    Command("generate", "write the adjoint module of a function",
            "examples:\n"
            "  adjoin generate model.py:cost --wrt h0,kappa -o cost_adjoint.py\n"
            "  adjoin generate case.toml --nocheckpoint step\n"
            "  adjoin generate model.py:cost --case case.toml --placement placement.toml",
            generate_arguments, run_generate),
    Command("check", "compare the adjoint gradient with finite differences",
            "examples:\n"
            "  adjoin check case.toml\n"
            "  adjoin check case.toml --set size=0.5 --rtol 1e-5 --nocheckpoint step\n"
            "  adjoin check case.toml --placements 5 --verify\n\n"
            "exit status: 0 when every parameter agrees (and every placement), 1 when some\n"
            "disagree, 2 on a usage error, 3 on a bug in adjoin (a verify-mode failure too),\n"
            "4 when the finite differences are too noisy to judge some parameter and none disagrees",
            check_arguments, run_check),
    Command("sites", "list the checkpoint sites of a function",
            "examples:\n"
            "  adjoin sites model.py:cost\n"
            "  adjoin sites case.toml --placement placement.toml --json",
            sites_arguments, run_sites),
    Command("profile", "profile the adjoint: ΔT and ΔPM of every checkpoint site",
            "examples:\n"
            "  adjoin profile case.toml -o profile.json\n"
            "  adjoin profile case.toml --set size=0.5 --trace trace.json",
            profile_arguments, run_profile),
    Command("advise", "advise a placement for a memory budget, from a profile",
            "examples:\n"
            "  adjoin advise profile.json --memory-budget 512MiB -o placement.toml\n"
            "  adjoin advise profile.json --pareto\n"
            "  adjoin advise profile.json --memory-budget 2GB --verify case.toml",
            advise_arguments, run_advise),
    Command("report", "write an HTML report of a profile: advice and figures",
            "examples:\n"
            "  adjoin report profile.json -o report.html --memory-budget 512MiB\n"
            "  adjoin report profile.json --memory-budget 1.5x --case case.toml --set size=0.5",
            report_arguments, run_report),
)


def build_parser():
    """The argument parser of ``adjoin``, one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="adjoin", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Adjoints (reverse-mode derivatives) of Python/NumPy programs by source\n"
                    "transformation, with checkpointing on the call tree.",
        epilog="Run 'adjoin COMMAND --help' for a command's options; docs/cli.md has them all.\n"
               "exit status: 0 success, 1 check found disagreements, 2 usage error or refusal, "
               "3 bug in adjoin\n(set ADJOIN_DEBUG=1 to see its traceback), 4 check's finite "
               "differences too noisy to judge")
    parser.add_argument("--version", action="version", version=f"adjoin {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command",
                                     required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.summary,
                                  description=inspect.cleandoc(command.run.__doc__), epilog=command.examples,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        command.arguments(sub)
        sub.add_argument("-q", "--quiet", action="store_true",
                         help="print no progress messages on stderr")
        sub.set_defaults(run=command.run)
    return parser


def main(argv=None):
    """Runs ``adjoin`` with ``argv`` (default: the command line); returns the exit status."""
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as stop:   # --help, --version, or a usage error argparse has printed
        return stop.code if isinstance(stop.code, int) else USAGE
    debug = os.environ.get("ADJOIN_DEBUG") == "1"
    with signals_as_exceptions(), warnings.catch_warnings():
        # the commands say which sites a placement names in vain, with the closest ids
        # (warn_checkpoint_choices): the API's warning would repeat it
        warnings.simplefilter("ignore", StalePlacementWarning)
        try:
            return options.run(options)
        except VerifyError as error:     # an assumption of the generated code broke: adjoin's bug
            if debug:
                traceback.print_exc()
            print(f"adjoin: error: {error}", file=sys.stderr)
            print("adjoin: this is a bug in adjoin, not in your code: verify mode found a value the "
                  "backward sweep relied on changed; please report it with the command you ran",
                  file=sys.stderr)
            return BUG
        except AdjoinError as error:
            if debug:
                traceback.print_exc()
            print(f"adjoin: error: {error}", file=sys.stderr)
            return USAGE
        except KeyboardInterrupt:
            print("adjoin: interrupted", file=sys.stderr)
            return INTERRUPTED
        except Stopped as stop:
            print(f"adjoin: stopped by {signal.Signals(stop.signal).name}", file=sys.stderr)
            return 128 + stop.signal
        except BrokenPipeError:   # stdout closed early, e.g. `adjoin generate ... | head`
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
        except MemoryError as error:     # outside an adjoint run (those are TapeMemoryErrors)
            if debug:
                traceback.print_exc()
            detail = f" ({error})" if str(error) else ""
            print(f"adjoin: error: out of memory{detail}; run a smaller problem (e.g. --set "
                  "size=... in a case), or on a machine with more memory", file=sys.stderr)
            return USAGE
        except OSError as error:
            if error.filename is None:   # not about a file: unexpected
                return internal_error(error, debug)
            if debug:
                traceback.print_exc()
            print(f"adjoin: error: {shown(error.filename)}: {error.strerror or error}; check the "
                  "path and its permissions", file=sys.stderr)
            return USAGE
        except Exception as error:
            return internal_error(error, debug)


def internal_error(error, debug):
    """Status 3: a bug in adjoin, said so, with the exception's one-line summary."""
    if debug:
        traceback.print_exc()
    print("adjoin: internal error: this is a bug in adjoin, please report it with the command "
          "you ran (run it again with ADJOIN_DEBUG=1 for the traceback)", file=sys.stderr)
    print(f"  {type(error).__name__}: {error}" if str(error) else f"  {type(error).__name__}",
          file=sys.stderr)
    return BUG


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so that temporary files are removed and
    the profiler's helper process is stopped on the way out."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signal = signum


@contextlib.contextmanager
def signals_as_exceptions():
    """While the command runs: SIGTERM and SIGHUP raise Stopped, unless they were ignored when it
    started (``nohup`` ignores SIGHUP), and SIGXFSZ (a file past ``ulimit -f``) is ignored, so that
    the write fails with EFBIG and is reported instead of killing the process.  The previous
    handlers are restored (cli.main may run in a program)."""
    def stop(signum, frame):
        raise Stopped(signum)
    wanted = {signum: stop for signum in (signal.SIGTERM, signal.SIGHUP)
              if signal.getsignal(signum) is not signal.SIG_IGN}
    if hasattr(signal, "SIGXFSZ"):
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    previous = {}
    try:
        for signum, handler in wanted.items():
            previous[signum] = signal.signal(signum, handler)
    except ValueError:           # not the main thread: leave the handlers alone
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
