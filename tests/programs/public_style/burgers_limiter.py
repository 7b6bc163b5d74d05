"""Viscous Burgers, MUSCL reconstruction with a minmod limiter, Rusanov flux, periodic by np.roll."""
import numpy as np


def minmod(a, b):
    return np.where(a * b > 0, np.sign(a) * np.minimum(np.abs(a), np.abs(b)), 0.0)


def mc_limiter(a, b):
    # monotonized central: max(0, min(2r, (1+r)/2, 2)) written on slopes
    s = np.sign(a)
    return np.where(a * b > 0, s * np.minimum(np.minimum(2 * np.abs(a), 2 * np.abs(b)), 0.5 * np.abs(a + b)), 0.0)


def flux(u):
    return 0.5 * u**2


def rhs(u, dx, nu, limiter):
    du_left = u - np.roll(u, 1)
    du_right = np.roll(u, -1) - u
    slope = limiter(du_left, du_right)
    uL = u + 0.5 * slope                  # left state at face i+1/2
    uR = np.roll(u - 0.5 * slope, -1)     # right state at face i+1/2
    a = np.maximum(np.abs(uL), np.abs(uR))
    F = 0.5 * (flux(uL) + flux(uR)) - 0.5 * a * (uR - uL)
    visc = nu * (np.roll(u, -1) - 2 * u + np.roll(u, 1)) / dx
    return -(F - np.roll(F, 1)) / dx + visc / dx


def cost(u0, nu, nsteps=10, limiter=minmod):
    nx = u0.size
    dx = 2 * np.pi / nx
    u = u0.copy()
    for n in range(nsteps):
        dt = 0.4 * dx / max(np.max(np.abs(u)), 1e-8)
        dt = min(dt, 0.2 * dx * dx / nu)
        u1 = u + dt * rhs(u, dx, nu, limiter)               # SSP-RK2
        u = 0.5 * (u + u1 + dt * rhs(u1, dx, nu, limiter))
        u = np.clip(u, -5.0, 5.0)
    return np.sum(u**2) * dx + np.sum(np.abs(np.diff(u)))


def cost_mc(u0, nu):
    return cost(u0, nu, nsteps=8, limiter=mc_limiter)


def inputs():
    nx = 12
    x = np.linspace(0, 2 * np.pi, nx, endpoint=False)
    return dict(u0=1.0 + 0.5 * np.sin(x) + 0.1 * np.cos(3 * x), nu=0.05)


WRT = ("u0", "nu")
