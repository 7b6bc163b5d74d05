"""Control flow in adjoin's input language: a branch, a loop left by break, a while loop, and an
early return from inside a loop with a continue before it."""
import numpy as np


def relax(u, tol):
    it = 0
    while np.max(np.abs(u)) > tol:
        u = 0.5 * u
        it += 1
    return u


def cost(u0, c, nmax):
    u = u0.copy()
    total = 0.0
    for k in range(nmax):
        if c > 0.0:
            u = u + c * np.sin(u)
        else:
            u = u - c * u * u
        total = total + np.sum(u * u)
        if total > 50.0:
            break
    u = relax(u, 1.0)
    return total + np.sum(np.exp(u))


def early(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 0:
            continue
        s = s + np.sum(np.sin(x * i))
        if s > 10.0:
            return s
    return s * s
