"""Helpers for the longer adjoints of the derivative table (imported as ``ad`` in generated code).

Each helper returns one argument's adjoint contribution in that argument's exact shape (a scalar
for a scalar argument), unless its docstring says the contribution is elementwise (then it may
come back in the broadcast shape of the result, and the engine sums it with ``sum_to``).
Conventions where a derivative does not exist (ties of max/min, clip boundaries) are stated on
the helper that implements them.
"""
import math

import numpy as np

from ..errors import UnsupportedError
from .loops import ADVANCE, RESTORE, REVERSE, STORE, TAPE, LoopSchedule  # noqa: F401  (for loop sites)
from .support import add_at, add_items, dense, items, kept, nonzero, restore, shaped, sum_to  # noqa: F401  (re-exported for generated code)


# ---------------------------------------------------------------------------------------------
# moving elements

def roll(a, shift, axis=None):
    """``np.roll(a, shift, axis)``, the same array, about three times quicker for the shape of
    stencil code (one whole shift along one axis, or none: the array rolled flat): two slice
    copies, without np.roll's general handling of axes and shifts, which costs as much as eight
    element-wise operations on a small grid.  Anything else goes to np.roll."""
    if type(a) is not np.ndarray or not (type(shift) is int or _whole(shift)):
        return np.roll(a, shift, axis)
    if axis is None:                     # rolled flat, as np.roll does
        if a.ndim != 1:
            return roll(a.reshape(-1), shift, 0).reshape(a.shape)
        axis = 0
    elif not (_whole(axis) and -a.ndim <= axis < a.ndim):
        return np.roll(a, shift, axis)
    n = a.shape[axis]
    s = shift % n if n else 0
    if s == 0:
        return a.copy()
    out = np.empty_like(a)
    lead = (slice(None),) * (axis % a.ndim)
    out[lead + (slice(s, None),)] = a[lead + (slice(None, n - s),)]
    out[lead + (slice(None, s),)] = a[lead + (slice(n - s, None),)]
    return out


def unroll(g, shift, axis=None):
    """Adjoint of ``np.roll(a, shift, axis)``: ``g`` rolled back."""
    if _whole(shift):
        return roll(g, -int(shift), axis)
    return np.roll(g, np.negative(shift), axis)


def _whole(n):
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


# ---------------------------------------------------------------------------------------------
# shapes and axes

def _axes(axis, ndim):
    """``axis`` of a reduction (None, an int or a tuple, negatives allowed) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if np.ndim(axis) == 0:
        axis = (axis,)
    return tuple(sorted(int(k) % ndim for k in axis))


def _shaped(x, shape):
    """``x`` reshaped to ``shape``; a NumPy scalar when ``shape`` is ``()``."""
    x = np.reshape(x, shape)
    return x[()] if shape == () else x


def unreduce(g, a, axis, keepdims):
    """Adjoint of a sum over ``axis``: broadcasts ``g`` back to the shape of ``a``."""
    shape = np.shape(a)
    if axis is None:
        return np.broadcast_to(g, shape).copy() if shape else g
    if not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()


def unselect(g, a, op, *args, **kwargs):
    """Adjoint of ``op(a, *args, **kwargs)`` when ``op`` only copies elements of ``a``.

    Each element of the result is a copy of one element of ``a`` (or a constant 0 that ``op``
    fills in, as a constant ``np.pad`` does): ``g`` is summed onto the elements it was copied
    from.  ``op`` runs on the numbers 1..a.size laid out like ``a`` (same memory order, so that
    order='K'/'A' behave as on ``a``), which tells where every result element came from.
    """
    shape = np.shape(a)
    number = np.empty_like(a, dtype=np.intp)
    number[...] = np.arange(1, number.size + 1).reshape(shape)
    source = op(number, *args, **kwargs)
    total = np.bincount(np.ravel(source), weights=np.ravel(g), minlength=number.size + 1)
    return _shaped(total[1:], shape)


# ---------------------------------------------------------------------------------------------
# element-wise functions

def chosen(x, ans, other):
    """Share of the adjoint of ``np.maximum(x, other)`` (or minimum) that goes to ``x``.

    1 where the result is ``x``, 0 where it is ``other``, and 1/2 at ties, so that the two
    arguments moved together get exactly ``g`` (autograd's and JAX's convention).  Elementwise.
    """
    return (x == ans) / (1.0 + (x == other))


def div(num, den):
    """``num / den``, and 0 where ``num`` is 0: a derivative that is infinite where nothing flows
    through it (``sqrt`` at 0, the diagonal of pairwise distances) contributes nothing, not NaN."""
    if type(num) is float and type(den) is float:
        if num == 0.0:
            return 0.0
        return num / den if den != 0.0 else math.copysign(math.inf, num) * math.copysign(1.0, den)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.divide(num, den)
    if not np.all(np.isfinite(out)):
        out = np.where(np.equal(num, 0), 0.0, out)
    return out


def pow_exponent(g, a, ans):
    """Adjoint of ``a ** b`` with respect to the exponent: ``g * ans * log(a)``, 0 where ``ans`` is
    0 (``0 ** b`` for ``b > 0`` does not move with ``b``)."""
    if type(a) is float and type(ans) is float and type(g) is float:
        return g * ans * math.log(a) if ans != 0.0 and g != 0.0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = g * ans * np.log(a)
    if not np.all(np.isfinite(out)):
        out = np.where(np.equal(ans, 0) | np.equal(g, 0), 0.0, out)
    return out


def first_extreme(g, items, ans):
    """Adjoint of builtin max/min over the items of one argument: g to the first item equal to the
    result (the one the builtin returns)."""
    if isinstance(items, (list, tuple)):
        out = [0.0] * len(items)
        out[next(k for k, v in enumerate(items) if np.all(v == ans))] = g
        return out
    out = np.zeros(np.shape(items))
    out[next(k for k in range(len(items)) if np.all(items[k] == ans))] = g
    return out


def each_item(g, items):
    """Adjoint of builtin sum over the items of one argument: g for every item."""
    if isinstance(items, (list, tuple)):
        return [g] * len(items)
    return np.broadcast_to(g, np.shape(items)).copy()


def pow_base(g, a, b):
    """Adjoint of ``a ** b`` with respect to the base ``a``: ``g * b * a ** (b - 1)``.

    Zero where ``b == 0`` (so ``0.0 ** 0`` has derivative 0, not ``0 * inf``).  Elementwise.
    Scalars take a pure-Python path: ``x ** 2`` in a scalar loop must stay cheap.
    """
    if isinstance(a, float) and isinstance(b, (int, float)) and isinstance(g, (int, float)):
        if b == 0:
            return 0.0
        if a != 0.0 or b >= 1:   # else 0.0 ** negative: NumPy's inf below, not ZeroDivisionError
            return g * b * a ** (b - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.equal(b, 0) | np.equal(g, 0), 0.0, g * b * np.power(a, np.subtract(b, 1.0)))


def clip_passes(a, a_min, a_max):
    """Where ``np.clip`` passes ``a`` through: ``a_min <= a <= a_max`` (bounds may be None).

    At a bound (``a == a_min`` or ``a == a_max``) the adjoint goes to ``a``, not to the bound.
    With ``a_min > a_max`` NumPy returns ``a_max`` and nothing passes.  Elementwise.
    """
    passes = np.ones(np.shape(a), dtype=bool)
    if a_min is not None:
        passes = passes & (a >= a_min)
    if a_max is not None:
        passes = passes & (a <= a_max)
    return passes


def clip_low(a, a_min, a_max):
    """Where the result of ``np.clip`` is ``a_min``: ``a < a_min`` (and ``a_min <= a_max``)."""
    low = a < a_min
    if a_max is not None:
        low = low & (a_min <= a_max)
    return low


def clip_high(a, a_min, a_max):
    """Where the result of ``np.clip`` is ``a_max``: ``max(a, a_min) > a_max``."""
    return (a if a_min is None else np.maximum(a, a_min)) > a_max


def astype_adjoint(g, a, dtype):
    """Adjoint of ``a.astype(dtype)``: ``g`` for a floating (or complex) dtype, 0 for others."""
    if np.issubdtype(np.dtype(dtype), np.inexact):
        return g
    return _shaped(np.zeros(np.shape(a)), np.shape(a))


# ---------------------------------------------------------------------------------------------
# reductions and scans

def _count(a, axis):
    """Number of elements each result of a reduction of ``a`` over ``axis`` combines."""
    shape = np.shape(a)
    return math.prod(shape[k] for k in _axes(axis, len(shape)))


def max_adjoint(g, a, ans, axis, keepdims):
    """Adjoint of a max or min reduction: ``g`` goes to the extreme elements, split evenly among ties.

    Splitting among tied elements (autograd's convention) gives exactly ``g`` when the tied
    elements move together; finite differences at a tie are undefined anyway.
    """
    a = np.asarray(a)
    tied = a == unreduce(ans, a, axis, keepdims)
    share = tied / np.sum(tied, axis=axis, keepdims=True)
    return unreduce(g, a, axis, keepdims) * share


def prod_adjoint(g, a, axis, keepdims):
    """Adjoint of a product over ``axis``: ``g`` times the product of the other factors.

    The product of the other factors is the product of the factors before (a cumulative product
    from the start) times that of the factors after (one from the end): exact when factors are
    zero, with no division by ``a``.
    """
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return g
    axes = _axes(axis, a.ndim)
    ends = tuple(range(a.ndim - len(axes), a.ndim))
    moved = np.moveaxis(a, axes, ends)
    kept = moved.shape[:a.ndim - len(axes)]
    factors = moved.reshape(kept + (-1,))
    before = np.ones_like(factors)
    before[..., 1:] = np.cumprod(factors[..., :-1], axis=-1)
    after = np.ones_like(factors)
    after[..., :-1] = np.cumprod(factors[..., :0:-1], axis=-1)[..., ::-1]
    others = (before * after).reshape(moved.shape)
    g = np.reshape(g, kept + (1,) * len(axes))
    return np.moveaxis(g * others, ends, axes)


def var_adjoint(g, a, axis, ddof, keepdims):
    """Adjoint of ``np.var(a, axis, ddof=ddof)``: ``2 g (a - mean) / (N - ddof)``."""
    a = np.asarray(a, dtype=float)
    centred = a - np.mean(a, axis=axis, keepdims=True)
    return _shaped(unreduce(g, a, axis, keepdims) * 2.0 * centred / (_count(a, axis) - ddof),
                   a.shape)


def std_adjoint(g, a, ans, axis, ddof, keepdims):
    """Adjoint of ``np.std``: that of the variance, with ``g / (2 std)``.

    Where the standard deviation is 0 (all elements equal, e.g. a single one) the contribution is
    0, the convention of ``abs`` at 0; it is exact for a single element, whose std is always 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.equal(ans, 0.0), 0.0, np.divide(g, 2.0 * np.asarray(ans)))
    return var_adjoint(scale, a, axis, ddof, keepdims)


def cumsum_adjoint(g, a, axis):
    """Adjoint of ``np.cumsum(a, axis)``: cumulative sums of ``g`` from the end (``axis=None`` flattens)."""
    if axis is None:
        return _shaped(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def diff_adjoint(g, a, n, axis, prepend, append, part):
    """Adjoint of ``np.diff(a, n, axis, prepend, append)`` for ``part`` ('a', 'prepend' or 'append').

    ``prepend``/``append`` are None when not given.  The adjoint of one difference is minus the
    difference of ``g`` padded with a zero at both ends.
    """
    shape = np.shape(a)
    value = {"a": a, "prepend": prepend, "append": append}[part]
    if n == 0:  # NumPy returns ``a`` itself and ignores prepend and append
        return g if part == "a" else _shaped(np.zeros(np.shape(value)), np.shape(value))
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    size_before = 0 if prepend is None else (1 if np.ndim(prepend) == 0 else np.shape(prepend)[axis])
    pieces = np.split(g, [size_before, size_before + shape[axis]], axis=axis)
    if part == "a":
        return pieces[1]
    return sum_to(pieces[0] if part == "prepend" else pieces[2], value)


# ---------------------------------------------------------------------------------------------
# products

def dot_a(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``a``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return sum_to(g * b, a)
    b = np.asarray(b)
    if b.ndim == 1:
        return np.multiply.outer(g, b)
    return np.tensordot(g, np.swapaxes(b, -1, -2), axes=b.ndim - 1)


def dot_b(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``b``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return sum_to(g * a, b)
    a = np.asarray(a)
    lead = list(range(a.ndim - 1))
    grad = np.tensordot(a, g, axes=(lead, lead))
    return np.moveaxis(grad, 0, -2) if np.ndim(b) >= 2 else grad


def _as_matrices(g, a, b):
    """``a``, ``b`` and ``g`` of ``a @ b`` with vectors promoted to matrices as matmul does."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if b.ndim == 1:
        b, g = b[:, None], g[..., None]
    if a.ndim == 1:
        a, g = a[None, :], g[..., None, :]
    return a, b, g


def matmul_a(g, a, b):
    """Adjoint of ``a @ b`` (``np.matmul``) with respect to ``a``, batch dimensions summed back."""
    a2, b2, g2 = _as_matrices(g, a, b)
    return _shaped(sum_to(g2 @ np.swapaxes(b2, -1, -2), a2), np.shape(a))


def matmul_b(g, a, b):
    """Adjoint of ``a @ b`` (``np.matmul``) with respect to ``b``, batch dimensions summed back."""
    a2, b2, g2 = _as_matrices(g, a, b)
    return _shaped(sum_to(np.swapaxes(a2, -1, -2) @ g2, b2), np.shape(b))


def inner_a(g, a, b):
    """Adjoint of ``np.inner(a, b)`` (contraction of the last axes) with respect to ``a``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return sum_to(g * b, a)
    lead_a, lead_b = np.ndim(a) - 1, np.ndim(b) - 1
    return np.tensordot(g, b, axes=(list(range(lead_a, lead_a + lead_b)), list(range(lead_b))))


def inner_b(g, a, b):
    """Adjoint of ``np.inner(a, b)`` with respect to ``b``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return sum_to(g * a, b)
    lead_a = np.ndim(a) - 1
    return np.tensordot(g, a, axes=(list(range(lead_a)), list(range(lead_a))))


# the rest of the table's helpers: shapes, joining, padding, linear algebra, interpolation
from .vjp_arrays import (  # noqa: E402,F401  (re-exported for generated code)
    transpose_adjoint, reshape_adjoint, ravel_adjoint, item_adjoint, sort_adjoint, linspace_adjoint,
    concatenate_adjoint, hstack_adjoint, vstack_adjoint, dstack_adjoint, column_stack_adjoint,
    pad_adjoint, pad_values_adjoint, append_adjoint, norm_adjoint, einsum_adjoint, interp_slope,
    interp_values, median_adjoint, convolve_adjoint, solve_b, solve_a, gradient_adjoint,
    trace_adjoint, trapezoid_adjoint,
)
