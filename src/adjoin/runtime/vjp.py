"""Helpers for the longer adjoints of the derivative table (imported as ``ad`` in generated code)."""
import numpy as np

from .support import add_at, dense, sum_to  # noqa: F401  (re-exported for generated code)


def unreduce(g, a, axis, keepdims):
    """Adjoint of a sum over ``axis``: broadcasts ``g`` back to the shape of ``a``."""
    shape = np.shape(a)
    if axis is None:
        return np.broadcast_to(g, shape).copy() if shape else g
    if not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()
