"""The kinds lattice: what sort of value a name or expression holds, and how kinds combine.

Plain data and the operations on it (the join of two kinds, the kind of an element-wise operation
or a matrix product, the kind of a run-time value); kinds.py infers them through a program.
"""
import types
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Kind:
    """A value's sort: cat in float int bool str none array tuple module unknown."""
    cat: str
    rank: int | None = None       # arrays
    dtype: str | None = None      # arrays: "f", "i", "b" or None (unknown)
    items: tuple = ()             # tuples

    def __str__(self):
        if self.cat == "array":
            return f"array(rank {self.rank if self.rank is not None else '?'})"
        if self.cat == "tuple":
            return "tuple(" + ", ".join(str(i) for i in self.items) + ")"
        return self.cat

    @property
    def scalar(self):
        return self.cat in ("float", "int", "bool")

    @property
    def array(self):
        return self.cat == "array"

    @property
    def maybe_array(self):
        return self.cat in ("array", "unknown")

    @property
    def numeric(self):
        """Could carry a derivative (a float, or an array of floats, or unknown)."""
        if self.cat == "array":
            return self.dtype in ("f", None)
        return self.cat in ("float", "unknown")


FLOAT = Kind("float")
INT = Kind("int")
BOOL = Kind("bool")
STR = Kind("str")
NONE = Kind("none")
UNKNOWN = Kind("unknown")
MODULE = Kind("module")
FUNCTION = Kind("function")
BOTTOM = Kind("bottom")     # not known yet (a callee's result before its first analysis)


def array(rank=None, dtype="f"):
    return Kind("array", rank, dtype)


def of_value(value):
    """The kind of a run-time value."""
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    if isinstance(value, str):
        return STR
    if value is None:
        return NONE
    if isinstance(value, np.ndarray):
        code = value.dtype.kind
        return array(value.ndim, "f" if code == "f" else "i" if code in "iu" else "b" if code == "b" else None)
    if isinstance(value, tuple):
        return Kind("tuple", items=tuple(of_value(v) for v in value))
    if isinstance(value, types.ModuleType):
        return MODULE
    if isinstance(value, types.FunctionType):
        return FUNCTION           # a scheme passed as a value: the calls are specialized on it
    return UNKNOWN


def join(a, b):
    """Least upper bound of two kinds."""
    if a is None or a == BOTTOM:
        return b
    if b is None or b == BOTTOM or a == b:
        return a
    if a.scalar and b.scalar:
        if "float" in (a.cat, b.cat):
            return FLOAT
        return INT
    if a.array and b.array:
        return array(a.rank if a.rank == b.rank else None, a.dtype if a.dtype == b.dtype else None)
    if a.cat == "tuple" and b.cat == "tuple" and len(a.items) == len(b.items):
        return Kind("tuple", items=tuple(join(x, y) for x, y in zip(a.items, b.items)))
    return UNKNOWN


def broadcast(kinds):
    """Kind of an element-wise operation on values of these kinds."""
    if any(k == BOTTOM for k in kinds):
        return BOTTOM
    arrays = [k for k in kinds if k.maybe_array]
    if not arrays:
        if all(k.cat in ("int", "bool") for k in kinds):
            return INT
        return FLOAT
    if any(k.cat == "unknown" for k in arrays):
        if len(arrays) == len([k for k in kinds if not k.scalar]) and all(k.cat == "unknown" for k in arrays):
            return UNKNOWN
    ranks = [k.rank for k in arrays if k.array]
    if any(k.cat == "unknown" for k in arrays) or any(r is None for r in ranks):
        rank = None
    else:
        rank = max(ranks)
    dtypes = {k.dtype for k in arrays if k.array}
    scalars_float = any(k.cat == "float" for k in kinds)
    dtype = "f" if ("f" in dtypes or scalars_float or None in dtypes) else ("i" if dtypes <= {"i", "b"} else None)
    if any(k.cat == "unknown" for k in arrays) and all(not k.array for k in arrays):
        return UNKNOWN
    return array(rank, dtype)



def matmul_kind(a, b):
    if a.array and b.array and a.rank is not None and b.rank is not None:
        if a.rank == 1 and b.rank == 1:
            return FLOAT
        if a.rank == 1:
            return array(b.rank - 1)
        if b.rank == 1:
            return array(a.rank - 1)
        return array(max(a.rank, b.rank))
    if a.scalar or b.scalar:
        return broadcast([a, b])
    return UNKNOWN
