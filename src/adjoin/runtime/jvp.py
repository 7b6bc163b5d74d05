"""Helpers for tangent-mode code (imported as ``ad`` in a generated tangent module).

A tangent has its value's shape, dtype float, and shares memory exactly where its value does:
``x_d[1:]`` is a view of ``x_d`` because ``x[1:]`` is one of ``x``, and a value that is a new
array gets a new tangent (``fresh``), so that a later in-place update of one name changes the
tangents of the names sharing its memory and no others.  The adjoint helpers the tangent
templates reuse (the gradient of one reduced group, ``div``'s guard) come from ``vjp``.
"""
import numpy as np

_trapezoid = getattr(np, "trapezoid", None) or getattr(np, "trapz")    # NumPy 2 renamed trapz

from ..errors import UnsupportedError
# vjp first: it imports vjp_arrays, which imports vjp back (vjp_arrays first would find vjp half
# made, as when a tangent is the first thing a process runs)
from .vjp import (chosen, clip_high,  # noqa: F401
                  clip_low, clip_passes, div, interp_slope, max_adjoint, median_adjoint, norm_adjoint, pow_base,
                  pow_exponent, prod_adjoint, roll, std_adjoint, var_adjoint)
from .vjp_arrays import _COPYING_PAD_MODES, _LINEAR_PAD_MODES, _MIRROR_PAD_MODES


# ---------------------------------------------------------------------------------------------
# making tangents

def zero_of(value):
    """The zero tangent of ``value``: 0.0 for a number, float zeros laid out like an array, and
    item by item for a tuple or list."""
    if isinstance(value, (tuple, list)):
        return type(value)(zero_of(item) for item in value)
    if isinstance(value, np.ndarray):
        return np.zeros_like(value, dtype=float)
    return 0.0


def fresh(t):
    """A tangent that shares no memory: the value it belongs to is a new array."""
    return t.copy() if isinstance(t, np.ndarray) else t


def widen(t, *operands):
    """``t`` broadcast to the shape of an element-wise result of ``operands`` (a new array): the
    tangent of ``x + c`` for an array ``c`` without a derivative is ``x_d`` made as big as ``c``."""
    shape = np.broadcast_shapes(np.shape(t), *(np.shape(o) for o in operands))
    if shape == np.shape(t):
        return t
    return np.broadcast_to(t, shape).astype(float)


def fill_zeros(d, values):
    """A tangent of a sequence or display with None (an item without a derivative) made zeros."""
    if d is None:
        return zero_of(values)
    if isinstance(d, (tuple, list)):
        return type(d)(fill_zeros(t, v) for t, v in zip(d, values))
    return d


def ones_like(ans):
    """Ones shaped like a reduction's result: the seed that gives each group's gradient."""
    return np.ones(np.shape(ans)) if np.ndim(ans) else 1.0


def like_view(t, d, ans, a):
    """``t`` (a reshape of the tangent ``d``) sharing memory with ``d`` exactly when the reshape of
    the value ``a`` shares memory with ``a`` (NumPy copies when the layout requires it)."""
    if np.may_share_memory(ans, a):
        if not np.may_share_memory(t, d):
            raise UnsupportedError("a reshape that is a view of its array while its tangent is a copy "
                                   "(their memory layouts differ); reshape a copy: x.copy().reshape(...)")
        return t
    return t.copy() if np.may_share_memory(t, d) else t


# ---------------------------------------------------------------------------------------------
# primitives whose tangent is not their adjoint read forwards

def reduce_tangent(d, weights, axis, keepdims):
    """Tangent of a reduction: ``d`` weighted by the gradient of each reduced group, summed."""
    return np.sum(d * weights, axis=axis, keepdims=keepdims)


def diff_tangent(d, a, n, axis, prepend, append, part):
    """Tangent of ``np.diff`` along the argument ``part`` ('a', 'prepend' or 'append'); diff is
    linear in the three together, so the others are zeros."""
    values = {"a": a, "prepend": prepend, "append": append}
    given = {name: (d if name == part else zero_of(np.asarray(v, dtype=float)))
             for name, v in values.items() if v is not None}
    extra = {name: v for name, v in given.items() if name != "a"}
    return np.diff(given["a"], n, axis, **extra)


def sort_tangent(d, a, axis):
    """Tangent of ``np.sort``: ``d`` in the order of the sorted values (ties in stable order, as
    the adjoint sends them back)."""
    if axis is None:
        return np.ravel(d)[np.argsort(a, axis=None, kind="stable")]
    return np.take_along_axis(np.asarray(d), np.argsort(a, axis=axis, kind="stable"), axis=axis)


def pad_tangent(d, pad_width, mode, reflect_type, stat_length):
    """Tangent of ``np.pad`` along the array: the modes the adjoint accepts are linear in it."""
    if mode in ("constant", "empty"):
        return np.pad(d, pad_width)
    if mode in _COPYING_PAD_MODES:
        return np.pad(d, pad_width, mode)
    if mode in _MIRROR_PAD_MODES:
        return np.pad(d, pad_width, mode, reflect_type=reflect_type)
    if mode == "linear_ramp":
        return np.pad(d, pad_width, mode, end_values=0.0)
    if mode == "mean":
        return np.pad(d, pad_width, mode, stat_length=stat_length)
    raise UnsupportedError(f"cannot differentiate np.pad with mode={mode!r}; use 'constant', 'edge', "
                           "'reflect', 'symmetric', 'wrap', 'linear_ramp' or 'mean'")


def pad_values_tangent(d, array, pad_width, mode, keyword):
    """Tangent of ``np.pad`` along its ``constant_values`` or ``end_values``."""
    return np.pad(np.zeros(np.shape(array)), pad_width, mode, **{keyword: d})


def nan_to_num_tangent(d, x, copy):
    """Tangent of ``np.nan_to_num``: zero where x is not finite; in place when the call is."""
    if copy:
        return d * np.isfinite(x)
    d *= np.isfinite(x)
    return d


def einsum_tangent(d, operands):
    """Tangent of ``np.einsum(subscripts, *arrays)``: it is linear in each array, so one einsum
    per array that has a tangent, with that array replaced by it."""
    total = 0.0
    for k, t in enumerate(d):
        if t is not None and k > 0:
            total = total + np.einsum(*operands[:k], t, *operands[k + 1:])
    return total


def first_extreme_tangent(d, items, ans):
    """Tangent of builtin max/min over items: that of the first item equal to the result."""
    k = next(k for k in range(len(items)) if np.all(items[k] == ans))
    if isinstance(d, (tuple, list)):
        return 0.0 if d[k] is None else d[k]
    return d[k]


def astype_tangent(d, dtype):
    """Tangent of ``a.astype(dtype)``: ``d`` for a floating dtype, zeros for the others."""
    if np.issubdtype(np.dtype(dtype), np.inexact):
        return np.asarray(d).astype(dtype)
    return np.zeros(np.shape(d))


def widen_copy(t, *operands):
    """``widen`` that always makes a new array: ``t`` is the tangent of another name."""
    out = widen(t, *operands)
    return out.copy() if out is t and isinstance(t, np.ndarray) else out


def solve_tangent_a(d, a, b, ans):
    """Tangent of ``x = np.linalg.solve(a, b)`` along ``a``'s tangent ``d``: ``solve(a, -d x)``."""
    if np.ndim(b) == 1:
        return np.linalg.solve(a, -(d @ np.asarray(ans)[..., None]))[..., 0]
    return np.linalg.solve(a, -(d @ ans))


def solve_tangent_b(d, a, b):
    """Tangent of ``x = np.linalg.solve(a, b)`` along ``b``'s tangent ``d``: ``solve(a, d)``."""
    if np.ndim(b) == 1:
        return np.linalg.solve(a, np.asarray(d)[..., None])[..., 0]
    return np.linalg.solve(a, d)


def interp_values_tangent(d, x, xp, left, right, period):
    """Tangent of ``np.interp(x, xp, fp)`` along ``fp``'s tangent ``d`` (interp is linear in fp;
    a constant ``left``/``right`` has no tangent)."""
    if period is not None:
        raise UnsupportedError("np.interp with period: differentiate it without a period")
    return np.interp(x, xp, d, None if left is None else 0.0, None if right is None else 0.0)



def trapezoid_tangent(d, y, x, dx, axis, part):
    """Tangent of ``np.trapezoid(y, x, dx, axis)`` along ``part`` ('y', 'x' or 'dx'): linear in y,
    and in dx; along x, the adjoint's weights applied to the direction."""
    if part == "y":
        return _trapezoid(d, x, dx, axis)
    if part == "dx":
        return _trapezoid(y, None, 1.0, axis) * d
    y = np.asarray(y, dtype=float)
    ax = axis % y.ndim
    d = np.asarray(d, dtype=float)
    if d.ndim == 1 and y.ndim > 1:                  # points along the axis, shared by every row
        shape = [1] * y.ndim
        shape[ax] = -1
        d = np.reshape(d, shape)
    sums = y[tuple(slice(1, None) if k == ax else slice(None) for k in range(y.ndim))] + \
        y[tuple(slice(None, -1) if k == ax else slice(None) for k in range(y.ndim))]
    widths = np.diff(d, axis=ax)
    return np.sum(0.5 * widths * sums, axis=ax)
