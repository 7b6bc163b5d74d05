"""What the commands share: the exit statuses, loading a TARGET, a case or a placement, the rule
that no command writes over a file it reads (:func:`refuse_overwriting`), the warnings about
checkpoint choices, and progress on stderr and tables on stdout."""
import contextlib
import dataclasses
import difflib
import os
import sys
from pathlib import Path
from typing import Callable

from .. import api
from ..case import find_function, load_case, load_module, shown
from ..errors import UsageError
from ..fileio import check_writable
from ..placement import read_placement

# the exit statuses (docs/files-and-status.md); main adds 128 + N for a stop by signal N
OK, DISAGREE, USAGE, BUG, NOISY, INTERRUPTED = 0, 1, 2, 3, 4, 130


# -- loading what a command works on ------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Subject:
    """What a TARGET argument names: a head function, from a module file or from a case."""
    head: Callable
    path: Path                # the module file, or the case file
    case: object = None       # the Case when TARGET is a case file


def load_subject(text, overrides):
    """Loads TARGET: ``MODULE.py:HEAD`` or ``CASE.toml``."""
    if text.endswith(".toml"):
        case = load_case_quietly(text, overrides)
        return Subject(head=case.head, path=Path(text), case=case)
    module_text, colon, name = text.rpartition(":")
    if not colon or not module_text or not name.isidentifier():
        if text.endswith(".py"):
            raise UsageError(f"{text!r} names no function; write {text}:HEAD, e.g. {text}:cost")
        raise UsageError(f"{text!r}: expected MODULE.py:HEAD (e.g. model.py:cost) or a case "
                         "file CASE.toml")
    path = Path(module_text)
    with user_output_to_stderr():
        module = load_module(path)
    head = find_function(module, name, path.name, f"{text}: ")
    return Subject(head=head, path=path)


def load_case_quietly(path, overrides):
    """load_case, with anything the model prints while importing sent to stderr."""
    with user_output_to_stderr():
        return load_case(path, overrides)


def load_placement(path):
    """(Placement, the site ids its file lists) of --placement, or (None, None) without it."""
    return (None, None) if path is None else read_placement(path)


def load_program_quietly(head, example=None):
    """The checked program of ``head`` (frontend.load_program) specialized on the functions among
    ``example`` (the head's arguments): its functions, their files, its sites.  Refusals are
    AdjoinErrors, as generating the adjoint would raise them."""
    from ..frontend.program import load_program
    with user_output_to_stderr():
        return load_program(head, example)


def case_inputs(case):
    """The head's arguments a case builds (they decide which functions a scheme argument calls),
    or None without a case."""
    if case is None:
        return None
    with user_output_to_stderr():
        return case.build_inputs()


def check_profile_case(options, profile, case):
    """A case given with a profile (advise --verify, report --case) must be the profiled one;
    sites the profile and the case do not share are warned about (the code changed since)."""
    option = "--verify" if getattr(options, "verify", None) else "--case"
    if case.head.__name__ != profile.head:
        raise UsageError(f"{option} {shown(case.path)}: its head is {case.head.__name__}, the "
                         f"profile's is {profile.head}; give the case that was profiled")
    now = {site.id for site in api.checkpoint_sites(case.head, example=case_inputs(case))}
    then = {site.id for site in profile.site_info}
    if now != then:
        gone, new = sorted(then - now), sorted(now - then)
        warn(f"{shown(options.profile)} and {shown(case.path)} do not have the same sites (the code "
             "changed since it was profiled?)"
             + (f"; gone: {site_list(gone)}" if gone else "") + (f"; new: {site_list(new)}" if new else "")
             + "; profile again")


# -- what a command reads, and never writes over ------------------------------------------------

PLACEMENT_READ = "the placement file"


def model_reads(head, module_path=None, case=None, case_option=None):
    """The files a command reads for the model: [(path, what)]: the case file, the module given
    as TARGET, every file of the program reached from the head, and every module imported from
    the model's folders or below them (siblings, packages beside it)."""
    reads = []
    if case is not None:
        reads.append((Path(case.path), "the case file"))
        reads.append((Path(case.module.__file__), "your model"))
    if case_option is not None:
        reads.append((Path(case_option), "the case file"))
    if module_path is not None:
        reads.append((Path(module_path), "your model"))
    reads.append((Path(head.__code__.co_filename), "your model"))
    program = load_program_quietly(head)
    files = {Path(function.path) for function in program.functions.values()}
    reads += [(path, "a module of your model") for path in sorted(files)]
    folders = {Path(path).resolve().parent for path, _ in reads}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not file.endswith(".py"):
            continue
        if folders & set(Path(file).resolve().parents):
            reads.append((Path(file), "a module your model imports"))
    return reads


def placement_reads(path):
    return [] if path is None else [(Path(path), PLACEMENT_READ)]


def profile_reads(path, profile):
    """The profile and every source file it names: [(path, what)].  A file an old profile names
    by a relative path is protected both against the working folder and the profile's folder."""
    reads = [(Path(path), "the profile")]
    for file in sorted(profile.source_files()):
        reads += [(candidate, "a file the profile was made from")
                  for candidate in candidate_paths(file, path)]
    return reads


def candidate_paths(file, profile_path):
    """Where a source file a profile names may be: itself when absolute (profiles since format
    4), else against the working folder, then against the profile's folder."""
    file = Path(file)
    if file.is_absolute():
        return [file]
    return list(dict.fromkeys([file, Path(profile_path).parent / file]))


def refuse_overwriting(options, outputs, reads):
    """The one rule of every command that writes: an output path (``outputs``: [(option, path or
    None, a suggested name)]) never names a file the command reads (``reads``: [(path, what)]),
    nor another output, unless --force; a folder, a path under a file, a read-only file or a
    folder adjoin may not write in is refused before anything runs.  Paths are compared where
    they really are: symlinks followed, hard links recognised."""
    force = getattr(options, "force", False)
    taken = []
    for option, output, suggestion in outputs:
        if output is None:
            continue
        output = Path(output)
        label = f"{option} {shown(output)}"
        check_writable(output, label)
        if not force:
            for path, what in reads:
                if same_file(output, path):
                    instead = f" (e.g. {option} {suggestion})" if suggestion else ""
                    raise UsageError(f"{label}: would overwrite your own file {shown(path)} "
                                     f"({what}), which this command reads; write elsewhere"
                                     f"{instead}, or add --force to replace it anyway")
        for other_option, other in taken:
            if same_file(output, other):
                raise UsageError(f"{label}: {other_option} writes the same file; give them "
                                 "different paths")
        taken.append((option, output))


def same_file(a, b):
    """True when paths ``a`` and ``b`` name one file: after symlinks, or as hard links."""
    a, b = Path(os.path.realpath(a)), Path(os.path.realpath(b))
    try:
        return os.path.samefile(a, b)
    except OSError:             # one of them does not exist (yet)
        return a == b


# -- warnings, progress and the console -----------------------------------------------------------

def warn(message):
    """A warning on stderr (also with -q: it is about the user's input, not progress)."""
    print(f"adjoin: warning: {message}", file=sys.stderr)


def warn_checkpoint_choices(options, head, placement, listed, example=None):
    """Warns about --nocheckpoint names that match no call reached from the head (with the
    closest name), and about a placement that is stale: naming sites that do not exist, or not
    listing some that do (they are checkpointed).  ``example``: the head's arguments, which
    decide what a function passed as an argument calls."""
    from ..transform.loopsite import find_loop_sites
    from ..transform.module import find_sites
    if not getattr(options, "nocheckpoint", ()) and placement is None:
        return
    program = load_program_quietly(head, example)
    sites, _ = find_sites(program)
    sites = sites + find_loop_sites(program)[0]
    names = {site.id for site in sites if site.callee == "loop"}
    for site in sites:
        if site.callee == "loop":
            continue
        names.add(site.id.split("/", 1)[1].rsplit("#", 1)[0])
        names.add(site.callee)
        function = program.functions.get(site.callee)
        if function is not None:
            names.add(function.name)
    for name in getattr(options, "nocheckpoint", ()):
        if name not in names:
            close = difflib.get_close_matches(name, sorted(names), n=1)
            hint = (f"did you mean {close[0]!r}?" if close else
                    f"its sites call {', '.join(sorted(names))}" if names else
                    f"{head.__name__} calls no function of yours")
            warn(f"--nocheckpoint {name!r} matches no call reached from {head.__name__}; {hint}")
    if placement is None:
        return
    ids = [site.id for site in sites]
    stale = sorted(set(listed) - set(ids))
    where = shown(options.placement)
    if stale:
        close = {site: difflib.get_close_matches(site, ids, n=1) for site in stale}
        hints = [f"{site} (now {close[site][0]}?)" if close[site] else site for site in stale]
        warn(f"{where} names {sites_text(len(stale))} that {head.__name__} no longer has (the code "
             f"changed since the placement was written?): {site_list(hints)}; they are ignored")
    unlisted = [site for site in ids if site not in listed]
    if unlisted and listed:
        warn(f"{where} does not list {len(unlisted)} of the {sites_text(len(ids))} of {head.__name__}: "
             f"{site_list(unlisted)}; they are checkpointed (advise again for a placement that "
             "decides every site)")


def sites_text(count):
    return f"{count} site" if count == 1 else f"{count} sites"


def site_list(ids, shown_at_most=4):
    if not ids:
        return "none"
    more = len(ids) - shown_at_most
    return ", ".join(ids[:shown_at_most]) + (f" and {more} more" if more > 0 else "")


@contextlib.contextmanager
def user_output_to_stderr():
    """Sends what the user's code prints to stderr: stdout holds only adjoin's results."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def progress(options, message):
    if not options.quiet:
        print(f"adjoin: {message}", file=sys.stderr)


def make_console(options=None):
    """The console tables are printed on: as wide as the terminal (paths give way first), or, with
    --wide, as wide as the tables need."""
    from rich.console import Console
    console = Console(file=sys.stdout, highlight=False)
    if getattr(options, "wide", False):
        console.width = 1000
    elif not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, 120)
    return console
