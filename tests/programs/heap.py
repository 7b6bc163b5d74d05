"""A program written by tests/programgen.py (fuzz seed 1007507) whose adjoint once depended on
the heap: call nodes made and freed while normalizing left their callee in a table keyed by
id(), and a node made later at the same address (a NumPy call) inherited it: one build in ten
called a user function where the program calls NumPy, and the gradient was wrong
(tests/test_soundness.py)."""
import math

import numpy as np


def energy_1007507(v, s):
    t = max(s if np.mean(np.sin(v)) > -0.577 else np.max(v[::2]), 0.137)
    if np.sum(np.concatenate((v[2:], v[-2:])) + v) < -0.0519:
        return math.tanh(abs(s - 0.0731))
    for k in range(2):
        q = np.sin(np.roll(v, 2) * v.mean())
    return math.tanh(0.7 + s)


def step_1007507(v, s):
    it = 0
    while it < 3 and s > 0.613:
        it += 1
        if np.sum(v[:-2]) < -0.213:
            y = v.copy()
            if it > 1:
                return np.tanh(v) * 0.25
        elif np.mean(np.cos(v[::2])) < 0.413:
            if it < 2:
                break
        e = math.exp(-0.1 * math.cos(energy_1007507(v, s * energy_1007507(v / (1.0 + v ** 2), math.cos(s)))) ** 2)
        r = np.roll(v, 1)
    s, e = math.sin(v.sum()), math.tanh(0.5 * np.mean(v[2:]) ** 2)
    return np.sin(np.concatenate((v[:1], np.maximum(v[2:], v[2:]), v[-1:]))) - 0.1 * v


def f_1007507(x, a, n):
    y = x.copy()
    s = x[-1]
    M = np.stack([np.where(np.concatenate((np.sqrt(1.0 + y[:-2] ** 2), y[-2:])) < 0.137, y, np.concatenate((y[:-2], y[-2:]))), step_1007507(step_1007507(y, np.max(y[::2])), step_1007507(y * y, y[n + 1] / (1.0 + x[n] ** 2)).mean()), y])
    w = np.tanh(0.1 * np.sum(np.mean(M, axis=0).reshape((1, -1)) + M, axis=0))
    it = 0
    while it < 3 and a > 0.613:
        it += 1
        a, c = 0.25 * w[it], w[0]
    w -= 0.1 * s
    u = np.tanh(0.02 * ((math.exp(-0.25 * y[2] ** 2) + math.exp(-0.1 * np.mean(np.sqrt(1.0 + w[::2] ** 2)) ** 2)) * (np.sum(M, axis=0) * (np.sum(M, axis=0) * np.max(M, axis=0)))))
    y = np.concatenate((w[2:] - y[:-2], y[-2:])) if n > 1 else np.sqrt(1.0 + u ** 2)
    w = np.sum(M, axis=0) * u[n]
    M[0] += 0.7 * (np.sin(w) - M[0])
    z = np.cos(y)
    w[:-2] *= 0.05
    return np.sum(np.sin(u)) + np.sum(np.sin(w)) + np.sum(np.sin(y)) + np.sum(z ** 2) + a ** 2 + np.mean(M ** 2)
