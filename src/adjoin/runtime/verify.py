"""Verify mode at run time: fingerprints of the values the backward sweep relies on.

The generated code (transform/verify.py) calls ``verify.keep(x, np.shape(y))`` in the forward
sweep where a statement reads values its adjoint will read again, and ``verify.same(k, x,
np.shape(y))`` in the backward sweep just before that adjoint runs.  The fingerprints live on a
stack of their own, not on the tape, so tape bytes stay what they are without verify mode.  A
fingerprint is exact (the bytes of small arrays, a CRC-32 of large ones with their shape and
dtype), so any change of any element is found.
"""
import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import VerifyError

SMALL = 64     # arrays of at most this many elements are kept whole


def fingerprint(value):
    """A hashable summary of ``value`` that changes when any part of it changes."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            return ("objects", value.shape, tuple(fingerprint(v) for v in value.ravel()))
        if value.size <= SMALL:
            return ("array", value.shape, value.dtype.str, value.tobytes())
        data = np.ascontiguousarray(value)
        return ("array", value.shape, value.dtype.str, zlib.crc32(data.view(np.uint8).ravel()))
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (float, np.floating)):
        return ("float", float(value).hex())
    if isinstance(value, (int, np.integer)):
        return ("int", int(value))
    if isinstance(value, (tuple, list)):
        return ("items", tuple(fingerprint(v) for v in value))
    if isinstance(value, range):
        return ("range", value.start, value.stop, value.step)
    if value is None or isinstance(value, str):
        return ("plain", value)
    return ("object", id(value))


NOTHING = ("plain", None)      # the fingerprint of None: nothing to compare


@dataclass(frozen=True)
class Point:
    """One check of the generated code: what it checks and where, for the message."""
    function: str
    path: str
    line: int
    statement: str
    names: tuple          # what each checked value is, e.g. "'T'" or "the shape of 'T'"
    suspects: tuple       # per name: the lines the analyses say may change it, as text

    @property
    def label(self):
        return f"line {self.line} ({self.statement})"

    def message(self, k, found=None):
        where = f"{self.path}:{self.line}"
        return (f"{where}: verify mode: {self.names[k]}, read by the adjoint of '{self.statement}' in "
                f"{self.function}, is not what it was when that line ran; {found or self.static(k)}. The "
                "adjoint assumed it unchanged: this is a bug in adjoin, please report it with this program")

    def static(self, k):
        if self.suspects[k]:
            return f"the lines that may change it: {self.suspects[k]}"
        return "no line of this function is known to change it"


class Watch:
    """Where one value a check found changed was changed: the re-run after a failed check watches
    it from the statement that kept it on, through the rest of that forward sweep."""

    def __init__(self, index, k):
        self.index, self.k = index, k
        self.value = self.before = None
        self.last = None             # the last point whose keep saw the value unchanged
        self.changed = None          # (point before, point after or None) once seen changed
        self.done = False

    def keep(self, index, values):
        if self.done:
            return
        if index == self.index and self.last is None:
            self.value, self.before, self.last = values[self.k], fingerprint(values[self.k]), index
        elif self.last is not None:
            self.look(index)

    def look(self, index):
        if fingerprint(self.value) != self.before:
            self.changed, self.done = (self.last, index), True
        else:
            self.last = index

    def end_of_forward_sweep(self):
        if self.last is not None and not self.done:
            self.look(None)
            self.done = True

    def text(self, points):
        if self.changed is None:
            return (f"it still had that value at the end of the forward sweep of {points[self.index].function}: "
                    "the backward sweep changed it (a value restored from the tape, or an adjoint statement)")
        before, after = self.changed
        then = f"runs before {points[after].label}" if after is not None else "ends the forward sweep"
        return f"it was changed in the forward sweep by {points[before].label} or a line after it that {then}"


class Verifier:
    """The stack of fingerprints one adjoint run keeps and checks; ``watch`` = (point, value) to
    find where a value a check reported was changed."""

    def __init__(self, points, watch=None):
        self.points = points
        self.stack = []
        self.expected = []           # (point, fingerprints) of advances whose re-run is under way
        self.checks = 0
        self.watch = Watch(*watch) if watch is not None else None

    def keep(self, index, *values):
        """Forward sweep: remember what these values are."""
        self.stack.append(tuple(fingerprint(v) for v in values))
        if self.watch is not None:
            self.watch.keep(index, values)

    def same(self, index, *values):
        """Backward sweep: the values must be what ``keep`` saw; raises VerifyError otherwise."""
        if self.watch is not None:
            self.watch.end_of_forward_sweep()
        kept = self.stack.pop()
        self.checks += 1
        for k, (before, value) in enumerate(zip(kept, values)):
            if fingerprint(value) != before:
                found = self.watch.text(self.points) if self.watch is not None and self.watch.index == index \
                    else None
                error = VerifyError(self.points[index].message(k, found))
                error.point = (index, k)
                raise error

    def expect(self, index):
        """Backward sweep, before a checkpointed call's joint adjoint: what its advance left."""
        self.expected.append((index, self.stack.pop()))

    def turn(self, *values):
        """At a joint adjoint's turn: its re-run of the callee must have left what the advance did,
        or the snapshot (or what the caller keeps) missed a value the call reads."""
        if not self.expected:
            return
        index, kept = self.expected.pop()
        point = self.points[index]
        for k, (before, value) in enumerate(zip(kept, values)):
            if before != NOTHING and fingerprint(value) != before:
                raise VerifyError(
                    f"{point.path}:{point.line}: verify mode: the checkpointed call '{point.statement}' in "
                    f"{point.function}, run again by its adjoint, did not compute what its advance did "
                    f"({point.names[k]} differs): its snapshot, or a value its caller keeps, missed "
                    "something the call reads. This is a bug in adjoin, please report it with this program")

    def finite(self, index, *adjoints):
        """Locating mode: the adjoints a statement just computed must be finite."""
        for k, value in enumerate(adjoints):
            if not _finite(value):
                raise NonFinite(self.points[index], k)

    def check_empty(self):
        if self.stack:
            raise VerifyError(f"verify mode: {len(self.stack)} fingerprints were never checked "
                              "(an adjoin bug: please report it)")


class NonFinite(Exception):
    """Raised by the locating run at the first adjoint statement whose result is not finite."""

    def __init__(self, point, k):
        super().__init__(point.message(k))
        self.point, self.k = point, k

    def text(self):
        p = self.point
        return (f"{p.path}:{p.line}: the gradient is not finite; the first adjoint that became infinite "
                f"or NaN is {p.names[self.k]}, computed by the adjoint of '{p.statement}' in {p.function}: "
                "the derivative of this line is singular here (e.g. sqrt or a power below 1 at 0, arcsin at "
                "±1, log at 0)")


def _finite(value):
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    try:
        return bool(np.all(np.isfinite(value)))
    except TypeError:
        return True
