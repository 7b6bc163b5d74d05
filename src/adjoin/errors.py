"""Errors adjoin raises on purpose.

Every refusal is an :class:`AdjoinError` whose message names where (file:line:col), what, and
what to do.  Nothing else should escape to a user.
"""


class AdjoinError(Exception):
    """Base class of every refusal and usage error raised by adjoin."""


class UnsupportedError(AdjoinError):
    """The differentiated code uses a construct outside adjoin's input language."""


class UsageError(AdjoinError):
    """The caller asked for something impossible (bad wrt, bad placement, bad case file)."""


class TapeError(AdjoinError):
    """The tape was left unbalanced by an adjoint run (an internal bug, reported clearly)."""


class TapeMemoryError(AdjoinError):
    """The adjoint stopped before exhausting memory: its tape would pass its limit
    (``max_tape_bytes=``, ``--max-tape``, ``$ADJOIN_MAX_TAPE``), or NumPy could not allocate.  The
    message names where the adjoint was, the tape's bytes, and how to make the run fit."""


class VerifyError(AdjoinError):
    """Verify mode found a value the backward sweep relied on changed (an adjoin bug, reported
    with the variable, where it was assumed unchanged and what changed it)."""


class NonFiniteGradientWarning(RuntimeWarning):
    """A gradient came out infinite or NaN from finite inputs; the message names the first line of
    the source whose adjoint became non-finite (where the derivative really is singular)."""


class StalePlacementWarning(UserWarning):
    """A placement names checkpoint sites the program does not have (a typo, or the code or the
    functions passed as arguments changed since it was written): those names are ignored."""


def located(path, line, col, what, hint=None):
    """Formats a message as 'path:line:col: what; hint'."""
    where = f"{path}:{line}:{col}" if col is not None else f"{path}:{line}"
    text = f"{where}: {what}"
    if hint:
        text += f"; {hint}"
    return text


def _source_line(source_lines, lineno, after):
    """The line of the user's source a generated line comes from: its '# line N' comment, else the
    nearest one above it (a backward sweep's statements follow the comment naming their line) or,
    ``after``, below it (a tangent's statements end with the one that carries it)."""
    import re
    steps = range(lineno - 1, len(source_lines)) if after else range(min(lineno, len(source_lines)) - 1, -1, -1)
    for k in steps:
        found = re.search(r"# line (\d+)\b", source_lines[k])
        if found:
            return int(found.group(1))
        if source_lines[k].lstrip().startswith("def "):
            return None
    return None


def refused_where_it_ran(error, source, paths, tangent=False):
    """A refusal raised while generated code ran (a rule's runtime check: np.linalg.norm's ord, an
    einsum's subscripts), prefixed with the user's file and line; ``paths`` maps generated
    function names to the user's files.  The error itself when it names no generated line."""
    entry, tb = None, error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(("<adjoint of", "<tangent of")):
            entry = tb
        tb = tb.tb_next
    if entry is None:
        return error
    path = paths.get(entry.tb_frame.f_code.co_name)
    line = _source_line(source.splitlines(), entry.tb_lineno, after=tangent)
    if path is None or line is None or str(error).startswith(f"{path}:"):
        return error
    return type(error)(located(path, line, None, str(error)))


def generated_paths(ctx):
    """Generated function name -> the file of the user function it comes from (an adjoint's or a
    tangent's context)."""
    paths = {}
    for k, name in ctx.names.items():
        func = ctx.program.functions.get(k[0] if isinstance(k, tuple) else k)
        if func is not None:
            paths[name] = func.user.path
    return paths
