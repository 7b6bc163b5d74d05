"""1-D diffusion by Crank-Nicolson with Dirichlet ends; the tridiagonal operator built in a
loop; coefficients and sources iterated with zip; a helper with default arguments."""
import numpy as np


def operator(D, dx, n):
    L = np.zeros((n, n))
    for i in range(n):
        L[i, i] = -2.0 * D[i] / dx**2
        if i > 0:
            L[i, i - 1] = D[i] / dx**2
        if i < n - 1:
            L[i, i + 1] = D[i] / dx**2
    return L


def cn_step(u, L, dt, f, theta=0.5):
    n = len(u)
    I = np.eye(n)
    A = I - theta * dt * L
    B = I + (1 - theta) * dt * L
    return np.linalg.solve(A, B @ u + dt * f)


def cost(u0, D, amplitudes, dt=0.01, nsteps=6):
    n = len(u0)
    dx = 1.0 / (n + 1)
    x = np.linspace(dx, 1 - dx, n)
    L = operator(D, dx, n)
    modes = [np.sin(np.pi * x), np.sin(2 * np.pi * x)]
    f = np.zeros(n)
    for a, mode in zip(amplitudes, modes):
        f += a * mode
    u = u0
    total = 0.0
    for k, t in enumerate(np.arange(nsteps) * dt):
        u = cn_step(u, L, dt, f * np.exp(-t))
        total += (k + 1) * np.sum(u) * dx
    return total + np.max(u)


def inputs():
    rng = np.random.default_rng(15)
    n = 6
    return dict(u0=rng.uniform(0, 1, n), D=rng.uniform(0.5, 1.0, n), amplitudes=np.array([1.0, -0.5]))


WRT = ("u0", "D", "amplitudes")
