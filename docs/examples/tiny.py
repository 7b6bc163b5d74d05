"""The program of ADJOINT_EXAMPLE.md: g updates its argument in place, f calls it twice."""
import numpy as np


def g(a, w):
    t = np.sin(a) * w
    a[:] = a + t * t          # g updates its argument in place


def f(x, w):
    y = x.copy()
    g(y, w)                   # site f/g#1
    y = y * y
    g(y, 2.0 * w)             # site f/g#2
    return np.sum(y)
