"""A second name for an array updated in place, and a row view passed to a checkpointed call."""
import numpy as np


def second_name(a, b):
    m = a * b
    out = m              # out and m are one array
    sq = m ** 2          # the adjoint of this line reads m
    out -= b             # ... which this line changes
    return np.sum(out) + np.sum(sq)


def density(t, z):
    return (t - 10.0) * (1.0 + 0.1 * z) + 0.01 * t * t


def mix_levels(q, k, w):
    flux = w * (q[k] - q[k + 1])
    q[k] -= flux
    q[k + 1] += flux


def column(T0, z):
    T = T0.copy()
    for k in range(T.shape[0] - 1):
        upper = density(T[k], z[k])      # reads the row T[k] ...
        mix_levels(T, k, upper * 0.01)   # ... which this call updates
    return np.sum(T * T)
