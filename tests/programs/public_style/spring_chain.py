"""A damped chain of masses and springs with fixed ends: stiffness matrix assembled with np.diag,
implicit Euler steps by np.linalg.solve of (M + dt C + dt^2 K)."""
import numpy as np


def stiffness(k):
    # k has n + 1 springs for n masses
    main = k[:-1] + k[1:]
    off = -k[1:-1]
    return np.diag(main) + np.diag(off, 1) + np.diag(off, -1)


def implicit_euler(x, v, M, C, K, dt):
    A = M + dt * C + dt**2 * K
    rhs = M @ v - dt * (K @ x)
    v_new = np.linalg.solve(A, rhs)
    x_new = x + dt * v_new
    return x_new, v_new


def cost(x0, k, masses, c=0.1, dt=0.1, nsteps=10):
    n = len(x0)
    M = np.diag(masses)
    K = stiffness(k)
    C = c * np.eye(n)
    x, v = x0.copy(), np.zeros(n)
    work = 0.0
    for step in range(nsteps):
        x, v = implicit_euler(x, v, M, C, K, dt)
        work += dt * c * v @ v
    return 0.5 * x @ K @ x + 0.5 * v @ M @ v + work


def inputs():
    rng = np.random.default_rng(10)
    n = 5
    return dict(x0=rng.normal(size=n), k=rng.uniform(1.0, 2.0, n + 1), masses=rng.uniform(0.5, 1.5, n))


WRT = ("x0", "k", "masses")
