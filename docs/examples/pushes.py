"""What the forward sweep pushes, and why (TBR): rebound names, regions updated in place."""
import numpy as np


def cost(x, w):
    y = np.sin(x)
    z = y * w
    y = 2.0 * y + z
    y[1:-1] = y[1:-1] * w
    y[0] = 0.0
    s = np.sum(y)
    y = 3.0 * y
    return s + np.sum(y * z)


def shapes(x, w):
    u = x * w
    r = u + x[:, None]
    u = np.cos(x)
    return np.sum(r * r) + np.sum(u)
