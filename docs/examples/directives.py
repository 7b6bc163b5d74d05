"""Directives: a call left unchecked in the source, and a fragment made a checkpoint site."""
import numpy as np


def smooth(a):
    a[1:-1] = 0.25 * a[:-2] + 0.5 * a[1:-1] + 0.25 * a[2:]


def step(u, k):
    smooth(u)
    # $AD NOCHECKPOINT
    smooth(u)
    u *= np.exp(-k)


def cost(u0, k, nsteps):
    u = u0.copy()
    for n in range(nsteps):
        step(u, k)
        # $AD CHECKPOINT-START nonlinear
        v = np.tanh(u)
        u = u + 0.1 * v * v
        # $AD CHECKPOINT-END
    return np.sum(u * u)
