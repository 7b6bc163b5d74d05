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
