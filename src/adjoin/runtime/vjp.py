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
    stencil code (one whole shift along one axis): two slice copies, without np.roll's general
    handling of axes and shifts, which costs as much as eight element-wise operations on a small
    grid.  Anything else goes to np.roll."""
    if not (type(a) is np.ndarray and _whole(shift) and _whole(axis) and -a.ndim <= axis < a.ndim):
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


# ---------------------------------------------------------------------------------------------
# shape changes and copies

def transpose_adjoint(g, axes):
    """Adjoint of a transpose: the inverse permutation.

    ``axes`` as ``np.transpose`` takes it (None or a sequence) or as ``a.transpose(*axes)``
    collects it (``()``, ``(1, 0)``, ``((1, 0),)`` or ``(None,)``).
    """
    if isinstance(axes, tuple) and len(axes) == 1 and (axes[0] is None or np.ndim(axes[0]) == 1):
        axes = axes[0]
    if axes is None or len(axes) == 0:
        return np.transpose(g)
    return np.transpose(g, np.argsort([k % np.ndim(g) for k in axes]))


def reshape_adjoint(g, a, order):
    """Adjoint of ``np.reshape(a, shape, order)``: ``g`` read back in the same order."""
    if order in ("C", "F"):
        return _shaped(np.reshape(g, np.shape(a), order=order), np.shape(a))
    return unselect(g, a, np.reshape, np.shape(g), order=order)


def ravel_adjoint(g, a, order):
    """Adjoint of ``np.ravel(a, order)`` and ``a.flatten(order)`` (any order, 'K' and 'A' too)."""
    if order in ("C", "F"):
        return _shaped(np.reshape(g, np.shape(a), order=order), np.shape(a))
    return unselect(g, a, np.ravel, order=order)


def item_adjoint(g, a, args):
    """Adjoint of ``a.item(*args)``: ``g`` at the element read, zeros elsewhere."""
    out = np.zeros(np.shape(a))
    if not args:
        out[...] = g
    elif len(args) == 1 and np.ndim(args[0]) == 0:
        out.flat[args[0]] = g
    else:
        out[tuple(args[0]) if len(args) == 1 else args] = g
    return _shaped(out, np.shape(a))


def sort_adjoint(g, a, axis):
    """Adjoint of ``np.sort(a, axis)``: ``g`` sent back to where each sorted element came from.

    Tied elements receive the adjoints of their sorted positions in stable order.
    """
    a = np.asarray(a)
    if axis is None:
        out = np.zeros(a.size)
        out[np.argsort(a, axis=None, kind="stable")] = np.ravel(g)
        return out.reshape(a.shape)
    out = np.zeros(a.shape)
    np.put_along_axis(out, np.argsort(a, axis=axis, kind="stable"), g, axis=axis)
    return out


def linspace_adjoint(g, start, stop, num, endpoint, axis, part):
    """Adjoint of ``np.linspace(start, stop, num, endpoint, axis=axis)`` for ``part`` 'start' or 'stop'.

    Sample k is ``start + k (stop - start) / div`` (``div`` is ``num - 1``, or ``num`` without
    the endpoint): weight ``k / div`` for ``stop`` and ``1 - k / div`` for ``start``.
    """
    div = (num - 1) if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    weight = t if part == "stop" else 1.0 - t
    per_point = np.tensordot(weight, np.moveaxis(np.asarray(g), axis, 0), axes=(0, 0))
    return sum_to(per_point, start if part == "start" else stop)


# ---------------------------------------------------------------------------------------------
# joining arrays (sequence parameters: the adjoint of element ``i``)

def _piece(g, shapes, axis, i, shape):
    """The slice of ``g`` along ``axis`` that came from piece ``i`` of pieces shaped ``shapes``."""
    lengths = [s[axis] for s in shapes]
    start = sum(lengths[:i])
    index = [slice(None)] * np.ndim(g)
    index[axis] = slice(start, start + lengths[i])
    return _shaped(np.asarray(g)[tuple(index)], shape)


def concatenate_adjoint(g, arrays, axis, i):
    """Adjoint of ``np.concatenate(arrays, axis)`` for ``arrays[i]`` (``axis=None`` flattens)."""
    if axis is None:
        sizes = [np.size(x) for x in arrays]
        start = sum(sizes[:i])
        return _shaped(np.ravel(g)[start:start + sizes[i]], np.shape(arrays[i]))
    return _piece(g, [np.shape(x) for x in arrays], axis, i, np.shape(arrays[i]))


def hstack_adjoint(g, tup, i):
    """Adjoint of ``np.hstack(tup)`` for ``tup[i]`` (1-D pieces join on axis 0, others on axis 1)."""
    shapes = [np.shape(np.atleast_1d(x)) for x in tup]
    return _piece(g, shapes, 0 if len(shapes[0]) == 1 else 1, i, np.shape(tup[i]))


def vstack_adjoint(g, tup, i):
    """Adjoint of ``np.vstack(tup)`` for ``tup[i]``."""
    return _piece(g, [np.shape(np.atleast_2d(x)) for x in tup], 0, i, np.shape(tup[i]))


def dstack_adjoint(g, tup, i):
    """Adjoint of ``np.dstack(tup)`` for ``tup[i]``."""
    return _piece(g, [np.shape(np.atleast_3d(x)) for x in tup], 2, i, np.shape(tup[i]))


def column_stack_adjoint(g, tup, i):
    """Adjoint of ``np.column_stack(tup)`` for ``tup[i]`` (1-D pieces become columns)."""
    shapes = [np.shape(x) + (1,) if np.ndim(x) < 2 else np.shape(x) for x in tup]
    return _piece(g, shapes, 1, i, np.shape(tup[i]))


# ---------------------------------------------------------------------------------------------
# np.pad

_COPYING_PAD_MODES = ("edge", "wrap")
_MIRROR_PAD_MODES = ("reflect", "symmetric")
_LINEAR_PAD_MODES = ("linear_ramp", "mean")


def _pairs(x, ndim):
    """A per-axis (before, after) argument of ``np.pad`` (e.g. ``stat_length``) as ndim pairs."""
    if x is None:
        return [None] * ndim
    x = np.asarray(x)
    if x.size == 1:
        return [(x.ravel()[0],) * 2] * ndim
    if x.size == 2 and x.shape != (2, 1):
        return [tuple(x.ravel())] * ndim
    return [tuple(pair) for pair in np.broadcast_to(x, (ndim, 2))]


def pad_adjoint(g, array, pad_width, mode, reflect_type, stat_length):
    """Adjoint of ``np.pad(array, pad_width, mode, ...)`` with respect to ``array``.

    Modes that copy values ('constant', 'edge', 'wrap', and 'reflect'/'symmetric' with the
    default reflect_type 'even') pad an array of element numbers the same way and add ``g`` back
    onto the elements it was copied from.  The other linear modes ('reflect'/'symmetric' with
    reflect_type 'odd', 'linear_ramp', 'mean') act on each axis as a matrix, obtained by padding
    the identity matrix along that axis; the adjoint applies its transpose, axis by axis.
    'empty' pads with garbage that depends on nothing.  'maximum', 'minimum', 'median' and
    callables are refused.
    """
    if mode in ("constant", "empty"):
        return unselect(g, array, np.pad, pad_width)
    even = mode in _COPYING_PAD_MODES or (mode in _MIRROR_PAD_MODES and reflect_type == "even")
    if even:
        return unselect(g, array, np.pad, pad_width, mode)
    if mode not in _MIRROR_PAD_MODES + _LINEAR_PAD_MODES:
        raise UnsupportedError(
            f"cannot differentiate np.pad with mode={mode!r}; use 'constant', 'edge', 'reflect', "
            "'symmetric', 'wrap', 'linear_ramp' or 'mean'")
    shape = np.shape(array)
    inside = np.pad(np.ones(shape, dtype=bool), pad_width)   # False in the padding
    stat = _pairs(stat_length, len(shape))
    for k, n in enumerate(shape):
        along = np.any(inside, axis=tuple(j for j in range(len(shape)) if j != k))
        before = int(np.argmax(along))
        widths = ((before, along.size - before - n), (0, 0))
        if mode in _MIRROR_PAD_MODES:
            matrix = np.pad(np.eye(n), widths, mode, reflect_type=reflect_type)
        elif mode == "mean":
            matrix = np.pad(np.eye(n), widths, mode,
                            stat_length=None if stat[k] is None else (stat[k], (1, 1)))
        else:
            matrix = np.pad(np.eye(n), widths, mode)
        g = np.moveaxis(np.tensordot(matrix, np.moveaxis(g, k, 0), axes=(0, 0)), 0, k)
    return _shaped(g, shape)


def pad_values_adjoint(g, array, pad_width, mode, keyword, values):
    """Adjoint of ``np.pad`` for its ``constant_values`` or ``end_values`` (named by ``keyword``).

    The padded result depends linearly on these values, and NumPy's own rules say which padded
    element takes which value: padding zeros with each value in turn set to 1 gives its weights.
    """
    values = np.asarray(values, dtype=float)
    zeros = np.zeros(np.shape(array))
    out = np.zeros(values.shape)
    for k in range(values.size):
        unit = np.zeros(values.shape)
        unit.flat[k] = 1.0
        out.flat[k] = np.sum(g * np.pad(zeros, pad_width, mode, **{keyword: unit}))
    return _shaped(out, values.shape)


# ---------------------------------------------------------------------------------------------
# np.append, np.linalg.norm, np.einsum, np.interp, np.gradient

def append_adjoint(g, arr, values, axis, part):
    """Adjoint of ``np.append(arr, values, axis)`` for ``part`` ('arr' or 'values')."""
    if axis is None:
        flat = np.ravel(g)
        size = np.size(arr)
        piece = flat[:size] if part == "arr" else flat[size:]
        return _shaped(piece, np.shape(arr if part == "arr" else values))
    cut = np.shape(arr)[axis]
    index = [slice(None)] * np.ndim(g)
    index[axis] = slice(None, cut) if part == "arr" else slice(cut, None)
    return np.reshape(g[tuple(index)], np.shape(arr if part == "arr" else values))


def norm_adjoint(g, x, ans, ord, axis, keepdims):
    """Adjoint of ``np.linalg.norm`` for the 2-norm of vectors and the Frobenius norm of matrices
    (``ord`` None, 2 on vectors, 'fro'); 0 where the norm is 0 (a kink: the derivative's limit along
    any direction is bounded, and 0 is the subgradient of least norm)."""
    vector = axis is not None and np.ndim(axis) == 0 or axis is None and np.ndim(x) == 1
    if not (ord is None or ord == "fro" or ord == 2 and vector):
        raise UnsupportedError(f"np.linalg.norm with ord={ord!r}: adjoin differentiates the 2-norm of "
                               "vectors and the Frobenius norm (ord=None); write the norm out with NumPy")
    if axis is not None and not keepdims:
        g, ans = np.expand_dims(g, axis), np.expand_dims(ans, axis)
    return div(g * x, ans)


def _einsum_spec(subscripts, count):
    if "." in subscripts:
        raise UnsupportedError("np.einsum with '...': adjoin differentiates subscripts that name every axis")
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:                                   # implicit output: indices seen once, sorted
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if len(inputs) != count:
        raise UnsupportedError(f"np.einsum: {len(inputs)} operands in {subscripts!r}, {count} given")
    return inputs, output


def einsum_adjoint(g, operands, i):
    """Adjoint of ``np.einsum(subscripts, *arrays)`` for operand ``i`` (operands[0] is the
    subscripts): the einsum of ``g`` with the other arrays, onto operand i's indices; an index only
    operand i has (summed over) gets ``g`` broadcast along it."""
    subscripts, arrays = operands[0], operands[1:]
    inputs, output = _einsum_spec(subscripts, len(arrays))
    k = i - 1
    mine = inputs[k]
    if len(set(mine)) != len(mine):
        raise UnsupportedError(f"np.einsum with a repeated index in {mine!r} (a diagonal or trace): "
                               "write it with np.diagonal or np.trace")
    others = [(s, a) for j, (s, a) in enumerate(zip(inputs, arrays)) if j != k]
    known = set(output) | {c for s, _ in others for c in s}
    present = "".join(c for c in mine if c in known)
    spec = ",".join([output] + [s for s, _ in others]) + "->" + present
    part = np.einsum(spec, g, *[a for _, a in others])
    for position, c in enumerate(mine):
        if c not in known:
            part = np.expand_dims(part, position)
    return np.broadcast_to(part, np.shape(arrays[k])).copy()


def interp_slope(g, x, xp, fp, period):
    """Adjoint of ``np.interp(x, xp, fp)`` in ``x``: ``g`` times the slope of the piece ``x`` is on
    (0 outside ``xp``'s range, where interp is constant; the right piece at a breakpoint)."""
    if period is not None:
        raise UnsupportedError("np.interp with period: differentiate it without a period")
    xp, fp = np.asarray(xp, dtype=float), np.asarray(fp, dtype=float)
    piece = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[piece + 1] - fp[piece]) / (xp[piece + 1] - xp[piece])
    inside = (np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1])
    return g * np.where(inside, slope, 0.0)


def interp_values(g, x, xp, fp, left, right, period):
    """Adjoint of ``np.interp(x, xp, fp)`` in ``fp`` (interp is linear in it): each ``x`` gives
    ``g`` to the two values of its piece, weighted by where it sits in the piece, or all of it to
    the end value it takes outside ``xp`` (nothing where ``left``/``right`` replace them)."""
    if period is not None:
        raise UnsupportedError("np.interp with period: differentiate it without a period")
    xs, gs = np.ravel(np.asarray(x, dtype=float)), np.ravel(np.broadcast_to(g, np.shape(x)))
    xp = np.asarray(xp, dtype=float)
    n = len(xp)
    position = np.interp(xs, xp, np.arange(n, dtype=float))       # j + t on the piece [j, j + 1]
    piece = np.minimum(np.floor(position).astype(int), max(n - 2, 0))
    t = position - piece
    keep = np.ones_like(xs)
    if left is not None:
        keep[xs < xp[0]] = 0.0
    if right is not None:
        keep[xs > xp[-1]] = 0.0
    out = np.zeros(np.shape(fp))
    np.add.at(out, piece, gs * keep * (1.0 - t))
    if n > 1:
        np.add.at(out, piece + 1, gs * keep * t)
    return out


def median_adjoint(g, a, axis):
    """Adjoint of ``np.median(a, axis)``: ``g`` to the middle element of each sorted group, or
    half of it to each of the two middle ones when the group's size is even."""
    a = np.asarray(a, dtype=float)
    if axis is None:
        return np.reshape(median_adjoint(g, np.ravel(a), 0), np.shape(a))
    moved = np.moveaxis(a, axis, -1)
    n = moved.shape[-1]
    order = np.argsort(moved, axis=-1, kind="stable")
    g = np.asarray(g, dtype=float)[..., None]
    out = np.zeros_like(moved)
    middle = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    for k in middle:
        np.put_along_axis(out, order[..., k:k + 1], np.take_along_axis(out, order[..., k:k + 1], -1)
                          + g / len(middle), axis=-1)
    return np.moveaxis(out, -1, axis)


def convolve_adjoint(g, a, v, mode, which):
    """Adjoint of ``np.convolve(a, v, mode)`` in ``a`` (``which == 'a'``) or ``v``: the output's
    adjoint placed in the full convolution's, correlated with the other operand."""
    n, m = np.size(a), np.size(v)
    full = np.zeros(n + m - 1)
    offset = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]
    full[offset:offset + np.size(g)] = g
    other = v if which == "a" else a
    return np.convolve(full, np.asarray(other, dtype=float)[::-1], "valid")


def solve_b(g, a, b):
    """Adjoint of ``x = np.linalg.solve(a, b)`` in ``b``: ``solve(a^T, g)``, summed over the
    batches ``b`` was broadcast to."""
    at = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1:
        return sum_to(np.linalg.solve(at, np.asarray(g)[..., None])[..., 0], b)
    return sum_to(np.linalg.solve(at, g), b)


def solve_a(g, a, b, ans):
    """Adjoint of ``x = np.linalg.solve(a, b)`` in ``a``: ``-solve(a^T, g) x^T``."""
    at = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1:
        gb = np.linalg.solve(at, np.asarray(g)[..., None])
        return sum_to(-gb @ np.asarray(ans)[..., None, :], a)
    return sum_to(-np.linalg.solve(at, g) @ np.swapaxes(ans, -1, -2), a)


def gradient_adjoint(g, f, spacing, axis, edge_order):
    """Adjoint of ``np.gradient(f, h, axis=axis)`` (one axis, a scalar spacing, edge_order 1): the
    transpose of its stencil, central differences inside and one-sided ones at the ends."""
    if edge_order != 1 or len(spacing) > 1 or spacing and np.ndim(spacing[0]) != 0:
        raise UnsupportedError("np.gradient with edge_order=2 or coordinates: adjoin differentiates "
                               "one scalar spacing and edge_order=1")
    h = float(spacing[0]) if spacing else 1.0
    axis = 0 if axis is None else axis
    g = np.moveaxis(np.asarray(g, dtype=float), axis, 0)
    out = np.zeros_like(g)
    inner = g[1:-1] / (2.0 * h)
    out[2:] += inner
    out[:-2] -= inner
    out[1] += g[0] / h
    out[0] -= g[0] / h
    out[-1] += g[-1] / h
    out[-2] -= g[-1] / h
    return np.moveaxis(out, 0, axis)


def trace_adjoint(g, a, offset, axis1, axis2):
    """Adjoint of ``np.trace(a, offset, axis1, axis2)``: ``g`` on the diagonal it sums."""
    n, m = np.shape(a)[axis1], np.shape(a)[axis2]
    count = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    rows = np.arange(count) + max(-offset, 0)
    index = [slice(None)] * np.ndim(a)
    index[axis1], index[axis2] = rows, rows + offset
    out = np.zeros(np.shape(a))
    out[tuple(index)] = g
    return out
