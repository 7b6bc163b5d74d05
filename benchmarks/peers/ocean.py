"""examples/ocean: the MITgcm-shaped basin model, functional.

Routines that update arrays in place return the new arrays; loops over levels keep a Python
list of 2-D levels (``levels``/``stack``).  The grid, the forcing patterns and the tridiagonal
coefficients depend on no differentiated input: they are computed with NumPy, as in the model."""
import math

import numpy as np

from .backend import example_module

M = example_module("ocean")
CONSTANT_ARRAYS = ("hmask", "drF")      # inputs the grid is built from: NumPy constants, not traced


def constants(hmask, drF, dx, dt, nsteps):
    """What ini_grid and ini_forcing write, the vertical-diffusion coefficients and the wind's
    modulation of every step: NumPy, the model's arithmetic."""
    ny, nx = hmask.shape
    nz = drF.shape[0]
    c = {"maskW": hmask * np.roll(hmask, 1, axis=1), "maskS": hmask * np.roll(hmask, 1, axis=0)}
    yC, fU, fV = np.zeros(ny), np.zeros((ny, nx)), np.zeros((ny, nx))
    y_mid = 0.5 * (ny - 2) * dx
    for j in range(ny):
        yC[j] = (j - 0.5) * dx
        fU[j] = M.F0 + M.BETA * (yC[j] - y_mid)
        fV[j] = M.F0 + M.BETA * (yC[j] - 0.5 * dx - y_mid)
    zC, drC = np.zeros(nz), np.zeros(nz)
    depth = 0.0
    for k in range(nz):
        zC[k] = depth + 0.5 * drF[k]
        depth = depth + drF[k]
    drC[0] = 0.5 * drF[0]
    for k in range(1, nz):
        drC[k] = zC[k] - zC[k - 1]
    T_star, tau_pattern, salt_flux = np.zeros((ny, nx)), np.zeros((ny, nx)), np.zeros((ny, nx))
    basin_width = (ny - 2) * dx
    for j in range(ny):
        s = yC[j] / basin_width
        T_star[j] = M.T_STAR_SOUTH + (M.T_STAR_NORTH - M.T_STAR_SOUTH) * s
        tau_pattern[j] = -math.cos(math.pi * s)
        salt_flux[j] = M.SALT_FLUX_AMP * math.cos(math.pi * s)
    T_star *= hmask
    tau_pattern *= c["maskW"]
    salt_flux = hmask * (salt_flux - np.sum(salt_flux * hmask) / np.sum(hmask))
    c.update(fU=fU, fV=fV, T_star=T_star, tau_pattern=tau_pattern, salt_flux=salt_flux)
    modulation = [1.0 + M.WIND_MODULATION * math.sin(2.0 * math.pi * n * dt / M.WIND_PERIOD)
                  for n in range(nsteps)]

    def tridiagonal(diffusivity):
        lower, upper = np.zeros(nz), np.zeros(nz)
        for k in range(1, nz):
            lower[k] = dt * diffusivity / (drF[k] * drC[k])
        for k in range(nz - 1):
            upper[k] = dt * diffusivity / (drF[k] * drC[k + 1])
        diag = 1.0 + lower + upper
        c_prime = np.zeros(nz)
        c_prime[0] = upper[0] / diag[0]
        denoms = [float(diag[0])]
        for k in range(1, nz):
            denom = diag[k] - lower[k] * c_prime[k - 1]
            c_prime[k] = upper[k] / denom
            denoms.append(float(denom))
        return [float(a) for a in lower], denoms, [float(a) for a in c_prime]

    return c, zC, drC, modulation, tridiagonal(M.KAPPA_V), tridiagonal(M.VISC_V)


def cost(xp, params, data, static):
    T0, kappa, tau0 = params["T0"], params["kappa"], params["tau0"]
    dx, dt, nsteps, n_avg = static["dx"], static["dt"], static["nsteps"], static["n_avg"]
    cg_iters, visc_h, kappa_prior = static["cg_iters"], static["visc_h"], static["kappa_prior"]
    heat_piston = static.get("heat_piston", 2.0e-5)
    hmask_np, drF_np = static["hmask"], static["drF"]      # constant arrays (CONSTANT_ARRAYS)
    nz = drF_np.shape[0]
    c_np, zC_np, drC_np, modulation, tri_T, tri_U = constants(hmask_np, drF_np, dx, dt, nsteps)
    c = {name: xp.const(a) for name, a in c_np.items()}
    maskW, maskS, fU, fV = c["maskW"], c["maskS"], c["fU"], c["fV"]
    hmask = xp.const(hmask_np)
    drF = [float(a) for a in drF_np]
    zC = [float(a) for a in zC_np]
    drF3 = xp.const(drF_np[:, None, None].copy())
    zC3 = xp.const(zC_np[:, None, None].copy())
    modulation = xp.table(modulation)
    R = xp.roll

    def levels(q):
        return [q[k] for k in range(nz)]

    def eos(T, S, depth):
        ta = T - M.T_REF
        sa = S - M.S_REF
        return (-M.EOS_A0 * (1.0 + 0.5 * M.EOS_LAMBDA1 * ta + M.EOS_MU1 * depth) * ta
                + M.EOS_B0 * (1.0 - 0.5 * M.EOS_LAMBDA2 * sa - M.EOS_MU2 * depth) * sa
                - M.EOS_NU * ta * sa)

    def horizontal_divergence(fx, fy, d):
        return (R(fx, -1, axis=-1) - fx + R(fy, -1, axis=-2) - fy) / d

    def del2_masked(q, mask_x, mask_y):
        flux_x = mask_x * (q - R(q, 1, axis=-1))
        flux_y = mask_y * (q - R(q, 1, axis=-2))
        return horizontal_divergence(flux_x, flux_y, dx) / dx

    def smooth_abs(x, eps):
        return xp.sqrt(x * x + eps * eps)

    def adams_bashforth2(g, g_nm1, first):
        if first:
            return g, g
        return (1.5 + M.AB_EPS) * g - (0.5 + M.AB_EPS) * g_nm1, g

    def implicit_vertical_diffusion(q, tri):
        lower, denoms, c_prime = tri
        rhs = levels(q)
        rhs[0] = rhs[0] / denoms[0]
        for k in range(1, nz):
            rhs[k] = (rhs[k] + lower[k] * rhs[k - 1]) / denoms[k]
        for k in range(nz - 2, -1, -1):
            rhs[k] = rhs[k] + c_prime[k] * rhs[k + 1]
        return xp.stack(rhs)

    def vertical_integral(q):
        return xp.sum(q * drF3, axis=0)

    def convective_adjustment(T, S):
        T, S = levels(T), levels(S)
        for k in range(nz - 1):
            z_interface = zC[k] + 0.5 * drF[k]
            rho_upper = eos(T[k], S[k], z_interface)
            rho_lower = eos(T[k + 1], S[k + 1], z_interface)
            unstable = xp.maximum(rho_upper - rho_lower, 0.0) ** 3
            weight = hmask * unstable / (unstable + M.CONV_DRHO ** 3)
            for q in (T, S):
                mean = (drF[k] * q[k] + drF[k + 1] * q[k + 1]) / (drF[k] + drF[k + 1])
                q[k] = q[k] + weight * (mean - q[k])
                q[k + 1] = q[k + 1] + weight * (mean - q[k + 1])
        return xp.stack(T), xp.stack(S)

    def advect_tracer(q, u, v, w):
        q_west = R(q, 1, axis=-1)
        q_south = R(q, 1, axis=-2)
        q_above = R(q, 1, axis=0)
        flux_x = maskW * (u * 0.5 * (q + q_west) - 0.5 * smooth_abs(u, M.U_EPS) * (q - q_west))
        flux_y = maskS * (v * 0.5 * (q + q_south) - 0.5 * smooth_abs(v, M.U_EPS) * (q - q_south))
        flux_r = w * 0.5 * (q + q_above) - 0.5 * smooth_abs(w, M.W_EPS) * (q_above - q)
        flux_r = xp.set(flux_r, 0, 0.0)
        gq = -horizontal_divergence(flux_x, flux_y, dx)
        return gq + (R(flux_r, -1, axis=0) - flux_r) / drF3

    def tracer_tendency(q, u, v, w, surf):
        gq = advect_tracer(q, u, v, w)
        gq = gq + kappa * del2_masked(q, maskW, maskS)
        gq = gq * hmask
        return xp.set(gq, 0, gq[0] + hmask * surf / drF[0])        # add_surface_flux

    def cg2d_operator(x, coef):
        flux_x = maskW * (x - R(x, 1, axis=-1))
        flux_y = maskS * (x - R(x, 1, axis=-2))
        return hmask * x - coef * horizontal_divergence(flux_x, flux_y, 1.0)

    def global_dot(a, b):
        return xp.sum(a * b * hmask)

    def cg2d(b, x, coef):
        r = b - cg2d_operator(x, coef)
        p = r
        rr = global_dot(r, r)

        def iteration(it, state):
            x, r, p, rr = state
            ap = cg2d_operator(p, coef)
            alpha = rr / (global_dot(p, ap) + M.CG_TINY)
            x = x + alpha * p
            r = r - alpha * ap
            rr_new = global_dot(r, r)
            p = r + rr_new / (rr + M.CG_TINY) * p
            return x, r, p, rr_new

        return xp.fori(0, cg_iters, iteration, (x, r, p, rr))[0]

    depth_total = float(np.sum(drF_np))

    def forward_step(n, state, first, accumulate):
        T, S, u, v, eta, gT_nm1, gS_nm1, gU_nm1, gV_nm1, T_mean = state
        # external_forcing_surf
        taux = tau0 * modulation[n] * c["tau_pattern"]
        surf_T = heat_piston * (c["T_star"] - T[0]) * hmask
        surf_S = c["salt_flux"]
        # do_oceanic_phys
        T, S = convective_adjustment(T, S)
        rho = eos(T, S, zC3) * hmask
        # dynamics: calc_phi_hyd, mom_tendency, AB2, step, implicit viscosity
        rho_k = levels(rho)
        phi = [M.GRAV / M.RHO0 * 0.5 * drF[0] * rho_k[0]]
        for k in range(1, nz):
            phi.append(phi[k - 1] + M.GRAV / M.RHO0 * 0.5 * (drF[k - 1] * rho_k[k - 1] + drF[k] * rho_k[k]))
        phi = xp.stack(phi)
        v_at_u = 0.25 * (v + R(v, 1, axis=-1) + R(v, -1, axis=-2) + R(R(v, 1, axis=-1), -1, axis=-2))
        u_at_v = 0.25 * (u + R(u, -1, axis=-1) + R(u, 1, axis=-2) + R(R(u, -1, axis=-1), 1, axis=-2))
        cor_u, cor_v = fU * v_at_u * maskW, -fV * u_at_v * maskS
        visc_u = del2_masked(u, maskW * R(maskW, 1, axis=-1), maskW * R(maskW, 1, axis=-2))
        visc_v = del2_masked(v, maskS * R(maskS, 1, axis=-1), maskS * R(maskS, 1, axis=-2))
        gU = cor_u - (phi - R(phi, 1, axis=-1)) / dx + visc_h * visc_u
        gV = cor_v - (phi - R(phi, 1, axis=-2)) / dx + visc_h * visc_v
        gU = xp.set(gU, 0, gU[0] + taux / (M.RHO0 * drF[0]))
        gU = xp.set(gU, -1, gU[-1] - M.BOTTOM_DRAG / drF[-1] * u[-1])
        gV = xp.set(gV, -1, gV[-1] - M.BOTTOM_DRAG / drF[-1] * v[-1])
        gU = gU * maskW
        gV = gV * maskS
        gU, gU_nm1 = adams_bashforth2(gU, gU_nm1, first)
        gV, gV_nm1 = adams_bashforth2(gV, gV_nm1, first)
        u = u + dt * gU
        v = v + dt * gV
        u = implicit_vertical_diffusion(u, tri_U)
        v = implicit_vertical_diffusion(v, tri_U)
        # solve_for_pressure
        rhs = hmask * (eta - dt * horizontal_divergence(vertical_integral(u), vertical_integral(v), dx))
        eta_next = cg2d(rhs, eta, M.GRAV * depth_total * dt * dt / (dx * dx))
        # momentum_correction_step
        u = u - dt * M.GRAV * maskW * (eta_next - R(eta_next, 1, axis=-1)) / dx
        v = v - dt * M.GRAV * maskS * (eta_next - R(eta_next, 1, axis=-2)) / dx
        # integr_continuity, calc_w
        eta = eta - dt * hmask * horizontal_divergence(vertical_integral(u), vertical_integral(v), dx)
        div = levels(hmask * horizontal_divergence(u, v, dx))
        w = [None] * nz
        w[0] = xp.zeros_like(div[0])
        for k in range(nz - 1, 0, -1):
            w[k] = -drF[k] * div[k]
            if k < nz - 1:
                w[k] = w[k] + w[k + 1]
        w = xp.stack(w)
        # thermodynamics
        gT = tracer_tendency(T, u, v, w, surf_T)
        gS = tracer_tendency(S, u, v, w, surf_S)
        gT, gT_nm1 = adams_bashforth2(gT, gT_nm1, first)
        gS, gS_nm1 = adams_bashforth2(gS, gS_nm1, first)
        T = T + dt * gT
        S = S + dt * gS
        T = implicit_vertical_diffusion(T, tri_T)
        S = implicit_vertical_diffusion(S, tri_T)
        if accumulate:
            T_mean = T_mean + T
        return T, S, u, v, eta, gT_nm1, gS_nm1, gU_nm1, gV_nm1, T_mean

    zero3 = xp.zeros_like(T0)
    zero2 = zero3[0]
    state = (T0, data["S0"], zero3, zero3, zero2, zero3, zero3, zero3, zero3, zero3)
    start_avg = nsteps - n_avg
    state = forward_step(0, state, True, 0 >= start_avg)
    state = xp.fori(1, max(1, start_avg), lambda n, s: forward_step(n, s, False, False), state)
    state = xp.fori(max(1, start_avg), nsteps, lambda n, s: forward_step(n, s, False, True), state)
    T_mean = state[-1]
    # cost_final
    T_obs, obs_weight, T_prior = data["T_obs"], data["obs_weight"], data["T_prior"]
    misfit = 0.5 * xp.sum(obs_weight * (T_mean / n_avg - T_obs) ** 2)
    dT0 = hmask * (T0 - T_prior)
    background = 0.5 * xp.sum(dT0 * dT0) / (M.SIGMA_T0 * M.SIGMA_T0)
    grad_x = xp.diff(dT0, axis=2) * (hmask[:, 1:] * hmask[:, :-1])
    grad_y = xp.diff(dT0, axis=1) * (hmask[1:, :] * hmask[:-1, :])
    smooth = 0.5 * M.SMOOTHNESS * (xp.sum(grad_x * grad_x) + xp.sum(grad_y * grad_y))
    params_term = (0.5 * (xp.log(kappa / kappa_prior) / M.SIGMA_LOG_KAPPA) ** 2
                   + 0.5 * ((tau0 - M.TAU0_PRIOR) / M.SIGMA_TAU0) ** 2)
    return misfit + background + smooth + params_term
