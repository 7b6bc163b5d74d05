"""The tape: the stack the forward sweep pushes and the backward sweep pops.

Its size in bytes is adjoin's measure of memory.  Accounting (docs/how-it-works.md, "The tape"):

* an ndarray pushed costs its ``nbytes`` (the tape always stores a copy, so later in-place
  writes to the array cannot change what was saved);
* a float, int, bool, NumPy scalar or ``None`` costs :data:`SCALAR_BYTES` (8);
* a control value (a branch taken, a trip count) is an int and costs 8 as well; the iterations
  of a loop left by ``break`` are saved as a ``range`` and cost 24 (start, stop, step);
* a tuple or a list costs the sum of its items (and its arrays are copied too).
"""
import numpy as np

from ..errors import TapeError

SCALAR_BYTES = 8


def size_of(value):
    """Bytes that ``value`` occupies on the tape."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(size_of(item) for item in value)
    if isinstance(value, range):
        return 3 * SCALAR_BYTES
    return SCALAR_BYTES


def stored(value):
    """What the tape keeps for ``value``: a private copy of arrays, the value itself otherwise."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(stored(item) for item in value)
    return value


class Tape:
    """A stack of saved values with exact byte accounting (current size and peak)."""

    __slots__ = ("_values", "_sizes", "bytes", "peak_bytes", "pushes")

    def __init__(self):
        self._values = []
        self._sizes = []
        self.bytes = 0
        self.peak_bytes = 0
        self.pushes = 0

    def push(self, value):
        """Saves ``value`` (arrays are copied)."""
        kind = type(value)
        if kind is float or kind is int or kind is bool or kind is np.float64 or value is None:
            size = SCALAR_BYTES
            self._values.append(value)
        elif kind is np.ndarray:
            size = value.nbytes
            self._values.append(value.copy())
        else:
            size = size_of(value)
            self._values.append(stored(value))
        self._sizes.append(size)
        self.bytes += size
        self.pushes += 1
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes

    def pop(self):
        """Returns the last value pushed and removes it."""
        if not self._values:
            raise TapeError("the backward sweep popped an empty tape (an adjoin bug: please report it)")
        self.bytes -= self._sizes.pop()
        return self._values.pop()

    def __len__(self):
        return len(self._values)

    def check_empty(self):
        """Raises TapeError unless every push was popped."""
        if self._values:
            raise TapeError(f"the tape still holds {len(self._values)} values ({self.bytes} bytes) "
                            "after the adjoint run (an adjoin bug: please report it)")
