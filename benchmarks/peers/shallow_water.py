"""examples/shallow_water: C-grid shallow water, leapfrog with a Robert-Asselin filter."""
import numpy as np

from .backend import example_module

M = example_module("shallow_water")


def grid(ny, nx, dx):
    """fu, fv, vmask, hmask as the model's ini_grid writes them (constants: NumPy)."""
    fu, fv, vmask = np.zeros((ny, nx)), np.zeros((ny, nx)), np.ones((ny, nx))
    y_mid = 0.5 * ny * dx
    for j in range(ny):
        fu[j] = M.F0 + M.BETA * ((j + 0.5) * dx - y_mid)
        fv[j] = M.F0 + M.BETA * (j * dx - y_mid)
    vmask[0, :] = 0.0
    return fu, fv, vmask, np.ones((ny, nx))


def cost(xp, params, data, static):
    h0, drag = params["h0"], params["drag"]
    dx, dt, visc, nsteps = static["dx"], static["dt"], static["visc"], static["nsteps"]
    ny, nx = h0.shape
    fu, fv, vmask, hmask = (xp.const(a) for a in grid(ny, nx, dx))
    R = xp.roll
    GRAV, H_MIN, SPEED_EPS, ASSELIN = M.GRAV, M.H_MIN, M.SPEED_EPS, M.ASSELIN

    def corners(h):
        return 0.25 * (h + R(h, 1, axis=1) + R(h, 1, axis=0) + R(R(h, 1, axis=1), 1, axis=0))

    def mass_fluxes(h, u, v):
        h_u = 0.5 * (h + R(h, 1, axis=1))
        h_v = 0.5 * (h + R(h, 1, axis=0))
        return u * h_u, v * h_v * vmask

    def laplacian(q, mask_y):
        flux_x = q - R(q, 1, axis=1)
        flux_y = (q - R(q, 1, axis=0)) * mask_y
        return (R(flux_x, -1, axis=1) - flux_x + R(flux_y, -1, axis=0) - flux_y) / (dx * dx)

    def tendencies(h, u, v, h_old, u_old, v_old):
        # continuity
        flux_u, flux_v = mass_fluxes(h, u, v)
        gh = -(R(flux_u, -1, axis=1) - flux_u + R(flux_v, -1, axis=0) - flux_v) / dx
        # momentum advection
        zeta = ((v - R(v, 1, axis=1)) - (u - R(u, 1, axis=0))) / dx * vmask
        q = (fv + zeta) / xp.maximum(corners(h), H_MIN)
        flux_u, flux_v = mass_fluxes(h, u, v)
        q_flux_v = q * 0.5 * (flux_v + R(flux_v, 1, axis=1))
        q_flux_u = q * 0.5 * (flux_u + R(flux_u, 1, axis=0))
        gu = 0.5 * (q_flux_v + R(q_flux_v, -1, axis=0))
        gv = -0.5 * (q_flux_u + R(q_flux_u, -1, axis=1))
        kinetic = 0.25 * (u * u + R(u, -1, axis=1) ** 2 + v * v + R(v, -1, axis=0) ** 2)
        bernoulli = GRAV * h + kinetic
        gu = gu - (bernoulli - R(bernoulli, 1, axis=1)) / dx
        gv = gv - (bernoulli - R(bernoulli, 1, axis=0)) / dx
        # dissipation at the old level
        h, u, v = h_old, u_old, v_old
        v_at_u = 0.25 * (v + R(v, 1, axis=1) + R(v, -1, axis=0) + R(R(v, 1, axis=1), -1, axis=0))
        u_at_v = 0.25 * (u + R(u, -1, axis=1) + R(u, 1, axis=0) + R(R(u, -1, axis=1), 1, axis=0))
        h_u = xp.maximum(0.5 * (h + R(h, 1, axis=1)), H_MIN)
        h_v = xp.maximum(0.5 * (h + R(h, 1, axis=0)), H_MIN)
        speed_u = xp.sqrt(u * u + v_at_u * v_at_u + SPEED_EPS * SPEED_EPS)
        speed_v = xp.sqrt(v * v + u_at_v * u_at_v + SPEED_EPS * SPEED_EPS)
        gu = gu - drag * speed_u * u / h_u
        gv = gv - drag * speed_v * v / h_v
        gu = gu + visc * laplacian(u, vmask)
        gv = gv + visc * laplacian(v, hmask)
        gv = gv * vmask
        return gh, gu, gv

    def leapfrog_filter(x_old, x_now, g):
        x_new = x_old + 2.0 * dt * g
        return x_now + ASSELIN * (x_new - 2.0 * x_now + x_old), x_new

    def step(n, state):
        h, u, v, h_old, u_old, v_old = state
        gh, gu, gv = tendencies(h, u, v, h_old, u_old, v_old)
        h_old, h = leapfrog_filter(h_old, h, gh)
        u_old, u = leapfrog_filter(u_old, u, gu)
        v_old, v = leapfrog_filter(v_old, v, gv)
        return h, u, v, h_old, u_old, v_old

    h = h0
    h_corner = corners(h)
    u = -GRAV / fu * (R(h_corner, -1, axis=0) - h_corner) / dx
    v = GRAV / fv * (R(h_corner, -1, axis=1) - h_corner) / dx * vmask
    gh, gu, gv = tendencies(h, u, v, h, u, v)
    state = (h + dt * gh, u + dt * gu, v + dt * gv, h, u, v)
    h = xp.fori(1, nsteps, step, state)[0]
    return 0.5 * xp.sum(data["obs_weight"] * (h - data["h_obs"]) ** 2)
