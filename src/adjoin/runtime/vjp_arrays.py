"""Helpers for the longer adjoints of the derivative table: shapes, joining, padding and the
rest (re-exported by vjp.py, which generated code imports as ``ad``)."""

import numpy as np

_trapezoid = getattr(np, "trapezoid", None) or getattr(np, "trapz")    # NumPy 2 renamed trapz

from ..errors import UnsupportedError
from .support import sum_to
from .vjp import _shaped, div, unselect


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
    operand i has (summed over) gets ``g`` broadcast along it; an index operand i repeats ('ii', a
    diagonal or trace) gets it on that diagonal, zeros elsewhere."""
    subscripts, arrays = operands[0], operands[1:]
    inputs, output = _einsum_spec(subscripts, len(arrays))
    k = i - 1
    mine = inputs[k]
    letters = "".join(dict.fromkeys(mine))      # 'ii' -> 'i': a repeated index reads a diagonal
    others = [(s, a) for j, (s, a) in enumerate(zip(inputs, arrays)) if j != k]
    known = set(output) | {c for s, _ in others for c in s}
    present = "".join(c for c in letters if c in known)
    spec = ",".join([output] + [s for s, _ in others]) + "->" + present
    part = np.einsum(spec, g, *[a for _, a in others])
    for position, c in enumerate(letters):
        if c not in known:
            part = np.expand_dims(part, position)
    shape = np.shape(arrays[k])
    part = np.broadcast_to(part, tuple(shape[mine.index(c)] for c in letters))
    if letters == mine:
        return part.copy()
    full = np.zeros(shape, dtype=np.result_type(part, float))
    np.einsum(f"{mine}->{letters}", full)[...] = part      # a writeable view of the diagonal
    return full


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


def _along(v, axis, ndim):
    """A 1-D ``v`` shaped to broadcast along ``axis`` of an ``ndim``-dimensional array."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(v, shape)


def _trapezoid_weights(y, x, dx, axis):
    """The weight of each sample of ``y`` in ``np.trapezoid(y, x, dx, axis)``: half the width of
    the intervals beside it (so the integral is the sum of weights times samples)."""
    n = y.shape[axis]
    if x is None:
        w = np.full(n, float(dx))
        if n:
            w[0] *= 0.5
            w[-1] *= 0.5
        return _along(w if n > 1 else np.zeros(n), axis, y.ndim)
    x = np.asarray(x, dtype=float)
    widths = np.diff(_along(x, axis, y.ndim) if x.ndim == 1 else x, axis=axis)
    pad = [(0, 0)] * widths.ndim
    before, after = list(pad), list(pad)
    before[axis], after[axis] = (1, 0), (0, 1)
    return 0.5 * (np.pad(widths, before) + np.pad(widths, after))


def trapezoid_adjoint(g, y, x, dx, axis, part):
    """Adjoint of ``np.trapezoid(y, x, dx, axis)`` for ``part`` ('y', 'x' or 'dx')."""
    y = np.asarray(y, dtype=float)
    axis = axis % y.ndim
    g = np.expand_dims(np.asarray(g, dtype=float), axis)
    if part == "y":
        return np.broadcast_to(g * _trapezoid_weights(y, x, dx, axis), y.shape).copy()
    if part == "dx":
        return float(np.sum(g * _trapezoid(y, axis=axis)))
    # d/dx_j of the sum over intervals of (x[i+1] - x[i]) (y[i] + y[i+1]) / 2: the half sums of the
    # interval before j minus the one after it
    sums = y[tuple(slice(1, None) if k == axis else slice(None) for k in range(y.ndim))] + \
        y[tuple(slice(None, -1) if k == axis else slice(None) for k in range(y.ndim))]
    pad = [(0, 0)] * y.ndim
    before, after = list(pad), list(pad)
    before[axis], after[axis] = (1, 0), (0, 1)
    dx_j = g * 0.5 * (np.pad(sums, before) - np.pad(sums, after))
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return np.sum(dx_j, axis=tuple(k for k in range(y.ndim) if k != axis))
    return sum_to(dx_j, x)
