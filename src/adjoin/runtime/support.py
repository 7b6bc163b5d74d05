"""Run-time helpers the generated adjoint code calls (imported there as ``ad``, with the rules' helpers).

They exist so that the generated code stays short and readable where NumPy needs care:
adjoints summed back to an operand's shape after broadcasting, adjoint arrays created on first use.
"""
import numpy as np


def sum_to(g, like):
    """Sums ``g`` down to the shape of ``like`` (undoing NumPy broadcasting); ``like`` may be a value."""
    if type(g) is np.ndarray and type(like) is np.ndarray and g.shape == like.shape:
        return g                        # the usual case, first: np.shape costs a call each
    shape = np.shape(like)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    if shape == ():
        return np.sum(g)
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(k for k, (n, m) in enumerate(zip(shape, np.shape(g))) if n == 1 and m != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if np.shape(g) != shape:
        g = np.broadcast_to(g, shape).copy()
    return g


def dense(g, like):
    """Returns ``g`` as an array shaped like ``like``: adjoints start as the scalar 0.0 until first
    indexed.  The adjoint of a tuple (or list) is a list with one adjoint per item."""
    if isinstance(like, (tuple, list)):
        return items(g, len(like))
    if type(g) is np.ndarray and (g.shape == like.shape if type(like) is np.ndarray else g.shape == np.shape(like)):
        return g
    out = np.zeros(np.shape(like))
    out += g
    return out


def items(g, count):
    """The adjoint of a tuple of ``count`` items as a list of per-item adjoints (each 0.0 until
    something flows into it); ``g`` is such a list already, a tuple of them, or the 0.0 it began as."""
    if isinstance(g, list) and len(g) == count:
        return g
    if isinstance(g, tuple) and len(g) == count:
        return list(g)
    if isinstance(g, np.ndarray) and g.ndim and len(g) == count:
        return [g[k] for k in range(count)]     # a display built into an array: its rows
    if isinstance(g, float) and g == 0.0:
        return [0.0] * count
    raise TypeError(f"an adjoint of {count} items cannot be {type(g).__name__} {np.shape(g)} "
                    "(an adjoin bug: please report it)")


def add_items(g, contribution):
    """``g + contribution`` item by item, for the adjoints of tuples (``+`` would concatenate)."""
    if isinstance(contribution, float) and contribution == 0.0:
        return g
    if isinstance(contribution, np.ndarray) and contribution.ndim:
        contribution = [contribution[k] for k in range(len(contribution))]
    if not isinstance(contribution, (tuple, list)):
        raise TypeError(f"an adjoint contribution to a tuple cannot be {type(contribution).__name__} "
                        "(an adjoin bug: please report it)")
    g = items(g, len(contribution))
    return [a + b for a, b in zip(g, contribution)]


def add_at(g, index, value):
    """``g[index] += value`` that also adds up repeated integer indices."""
    np.add.at(g, index, value)
    return g


def nonzero(g):
    """False for an adjoint that is still the 0.0 it started as (nothing flowed into it; a NumPy
    zero too, as 0.0 * np.tanh(s) leaves it): the rules that need its shape are skipped, their
    contributions being zero."""
    if type(g) is float:
        return g != 0.0
    return not (isinstance(g, np.generic) and g == 0)


def shaped(shape):
    """A stand-in for an array whose values the backward sweep never reads, only its shape (and
    maybe writes into it): zeros of that shape, saved on the tape as a tuple of ints."""
    return np.zeros(shape) if shape != () else 0.0


def restore(current, saved):
    """Puts ``saved`` back into the array ``current`` (in place, so that every name sharing its
    memory sees the old values again), or returns ``saved`` when ``current`` is no array (a name
    that was unbound when it was pushed)."""
    if isinstance(current, np.ndarray) and isinstance(saved, np.ndarray) and current.shape == saved.shape:
        current[...] = saved
        return current
    return saved


def kept(like, index):
    """Where a store ``like[index] = v`` left ``v``'s values: a mask shaped like ``like[index]``,
    False where a later element of ``v`` overwrote the same element of ``like`` (an index array
    naming it twice, or as ``0`` and ``-n``).  NumPy's own store decides, so every index works."""
    marker = np.full(np.shape(like), -1, dtype=np.intp)
    positions = np.arange(marker[index].size).reshape(np.shape(marker[index]))
    marker[index] = positions
    return marker[index] == positions
