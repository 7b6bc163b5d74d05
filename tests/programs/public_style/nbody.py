"""N-body gravity with broadcasting, a masked self-interaction and a kick-drift-kick leapfrog."""
import numpy as np

G = 1.0


def accelerations(r, m, soft=0.1):
    d = r[None, :, :] - r[:, None, :]           # d[i, j] = r_j - r_i
    dist2 = np.sum(d**2, axis=-1) + soft**2
    inv3 = dist2 ** (-1.5)
    np.fill_diagonal(inv3, 0.0)
    return G * np.einsum("ij,ijk,j->ik", inv3, d, m)


def energy(r, v, m, soft=0.1):
    kin = 0.5 * np.sum(m[:, None] * v**2)
    d = r[:, None, :] - r[None, :, :]
    dist = np.sqrt(np.sum(d**2, axis=2) + soft**2)
    n = len(m)
    mask = ~np.eye(n, dtype=bool)
    pot = -0.5 * G * np.sum((m[:, None] * m[None, :] / dist)[mask])
    return kin + pot


def cost(r0, v0, m, dt=0.01, nsteps=10):
    r = r0.copy()
    v = v0.copy()
    a = accelerations(r, m)
    for _ in range(nsteps):
        v += 0.5 * dt * a
        r += dt * v
        a = accelerations(r, m)
        v += 0.5 * dt * a
    com = np.sum(m[:, None] * r, axis=0) / np.sum(m)
    spread = np.mean(np.linalg.norm(r - com, axis=1))
    return energy(r, v, m) + spread


def inputs():
    rng = np.random.default_rng(4)
    n = 4
    return dict(r0=rng.normal(size=(n, 3)), v0=0.1 * rng.normal(size=(n, 3)), m=rng.uniform(0.5, 1.5, n))


WRT = ("r0", "v0", "m")
