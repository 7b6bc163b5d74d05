"""A time loop checkpointed by a binomial schedule: a loop site (docs/checkpointing.md)."""
import numpy as np


def diffuse(u, k):
    u[1:-1] = u[1:-1] + k * (u[:-2] - 2.0 * u[1:-1] + u[2:])


def cost(u0, k, nsteps):
    u = u0.copy()
    energy = 0.0
    # $AD BINOMIAL-CKP snapshots=3
    for n in range(nsteps):
        diffuse(u, k)
        u = u - 0.01 * u ** 3
        energy = energy + 0.5 * np.sum(u * u)
    return energy
