"""A multi-level ocean circulation model in the shape of MITgcm, written for adjoin.

A closed basin on a beta-plane, hydrostatic and Boussinesq, with a linear implicit free surface,
temperature and salinity, a nonlinear equation of state and convective adjustment. The code is
laid out like MITgcm: a main loop calls a forward step, which calls the physics, the
thermodynamics, the dynamics and the free-surface solver (a conjugate-gradient solver run a
fixed number of iterations); routines update their array arguments in place, Fortran style.

The head is ``cost``: a data-assimilation cost, the misfit of the time-mean temperature to
observations plus regularisation, differentiated with respect to the initial temperature ``T0``,
the horizontal diffusivity ``kappa`` and the wind-stress amplitude ``tau0``.

Arrays are (nz, ny, nx) for 3-D fields, (ny, nx) for 2-D ones; level 0 is the surface. On the
Arakawa C-grid, T, S, rho, eta live at cell centres, u[k, j, i] on the west face of cell (j, i),
v[k, j, i] on its south face, w[k, j, i] on the top face of cell (k, j, i). The basin's edge
cells are land, so the periodic np.roll used for neighbours never couples across the edges.
"""
import math

import numpy as np

# ---------------------------------------------------------------------------------------------
# Constants (read only)

GRAV = 9.81                 # m s-2
RHO0 = 1026.0               # Boussinesq reference density, kg m-3
F0 = 8.4e-5                 # Coriolis parameter at the basin's mid-latitude (35 N), s-1
BETA = 1.9e-11              # its northward gradient, m-1 s-1
AB_EPS = 0.01               # Adams-Bashforth 2 stabilisation (MITgcm's abEps)
KAPPA_V = 1.0e-4            # vertical diffusivity of T and S, m2 s-1
VISC_V = 1.0e-3             # vertical viscosity, m2 s-1
BOTTOM_DRAG = 5.0e-4        # linear bottom drag, m s-1
U_EPS = 1.0e-2              # m s-1: smooths |u| in the upwind flux so the cost stays smooth
W_EPS = 3.0e-6              # m s-1: the same for |w| (both far below the flow's typical speeds)
CONV_DRHO = 0.01            # kg m-3: instability at which convective mixing reaches half strength
CG_TINY = 1.0e-300          # keeps 0/0 out of the CG coefficients when the residual is zero
WIND_PERIOD = 5.0 * 86400.0     # s: period of the wind's synoptic modulation
WIND_MODULATION = 0.2           # its relative amplitude
T_STAR_SOUTH = 25.0         # degC, restoring temperature at the southern coast
T_STAR_NORTH = 5.0          # degC, at the northern coast
SALT_FLUX_AMP = 2.0e-6      # psu m s-1 (about 2 m/yr of evaporation minus precipitation)

# Simplified equation of state of Roquet et al. (2015), the coefficients NEMO uses
EOS_A0 = 1.6550e-1          # linear thermal expansion, kg m-3 K-1
EOS_B0 = 7.6554e-1          # linear haline contraction, kg m-3 psu-1
EOS_LAMBDA1 = 5.9520e-2     # cabbeling in T, K-1
EOS_LAMBDA2 = 7.4914e-4     # cabbeling in S, psu-1
EOS_NU = 2.4341e-3          # cabbeling T-S, K-1 psu-1 (times kg m-3)
EOS_MU1 = 1.4970e-4         # thermobaric in T, m-1
EOS_MU2 = 1.1090e-5         # thermobaric in S, m-1
T_REF = 10.0
S_REF = 35.0

# Cost function
SIGMA_T0 = 1.0              # degC, background error of the initial temperature
SMOOTHNESS = 4.0            # weight of the horizontal-gradient penalty on T0 - T_prior
SIGMA_LOG_KAPPA = 0.5       # relative uncertainty of the diffusivity
TAU0_PRIOR = 0.1            # N m-2
SIGMA_TAU0 = 0.05           # N m-2


# ---------------------------------------------------------------------------------------------
# Initialisation

def ini_grid(hmask, drF, dx, maskW, maskS, yC, fU, fV, zC, drC):
    """Face masks, row positions, Coriolis parameters and vertical grid, written in place.

    maskW / maskS are 1 on faces between two ocean cells; yC is the distance of each row's
    centre from the southern coast; fU (fV) is f at u (v) points; zC the depth of each level's
    centre; drC[k] the distance between the centres of levels k - 1 and k (drC[0]: surface).
    """
    maskW[:, :] = hmask * np.roll(hmask, 1, axis=1)
    maskS[:, :] = hmask * np.roll(hmask, 1, axis=0)
    ny = hmask.shape[0]
    y_mid = 0.5 * (ny - 2) * dx
    for j in range(ny):
        yC[j] = (j - 0.5) * dx      # row 0 is land; the southern coast is the south face of row 1
        fU[j] = F0 + BETA * (yC[j] - y_mid)
        fV[j] = F0 + BETA * (yC[j] - 0.5 * dx - y_mid)
    nz = drF.shape[0]
    depth = 0.0
    for k in range(nz):
        zC[k] = depth + 0.5 * drF[k]
        depth = depth + drF[k]
    drC[0] = 0.5 * drF[0]
    for k in range(1, nz):
        drC[k] = zC[k] - zC[k - 1]


def ini_forcing(yC, dx, hmask, maskW, T_star, tau_pattern, salt_flux):
    """Time-independent surface forcing patterns, written in place.

    A single-gyre wind (easterlies in the south, westerlies in the north), a restoring
    temperature falling from south to north, and a virtual salt flux (evaporation in the south)
    with zero mean over the ocean, so that it adds no salt to the basin.
    """
    ny = hmask.shape[0]
    basin_width = (ny - 2) * dx
    for j in range(ny):
        s = yC[j] / basin_width
        T_star[j] = T_STAR_SOUTH + (T_STAR_NORTH - T_STAR_SOUTH) * s
        tau_pattern[j] = -math.cos(math.pi * s)
        salt_flux[j] = SALT_FLUX_AMP * math.cos(math.pi * s)
    T_star *= hmask
    tau_pattern *= maskW
    salt_flux[:, :] = hmask * (salt_flux - np.sum(salt_flux * hmask) / np.sum(hmask))


# ---------------------------------------------------------------------------------------------
# Equation of state and physics

def eos(T, S, depth):
    """In-situ density anomaly rho - RHO0 (kg m-3) at ``depth`` (m, positive down)."""
    ta = T - T_REF
    sa = S - S_REF
    return (-EOS_A0 * (1.0 + 0.5 * EOS_LAMBDA1 * ta + EOS_MU1 * depth) * ta
            + EOS_B0 * (1.0 - 0.5 * EOS_LAMBDA2 * sa - EOS_MU2 * depth) * sa
            - EOS_NU * ta * sa)


def find_rho(T, S, zC, hmask, rho):
    """Writes into ``rho`` the density anomaly of every cell at its own depth."""
    rho[:] = eos(T, S, zC[:, None, None]) * hmask


def mix_levels(q, k, weight, drF):
    """Mixes q between levels k and k + 1 by ``weight`` (0: none, 1: fully), conserving sum drF q."""
    mean = (drF[k] * q[k] + drF[k + 1] * q[k + 1]) / (drF[k] + drF[k + 1])
    q[k] += weight * (mean - q[k])
    q[k + 1] += weight * (mean - q[k + 1])


def convective_adjustment(T, S, zC, drF, hmask):
    """Mixes statically unstable pairs of levels, from the surface down, in place.

    Both parcels are compared at the pressure of the interface between them. A hard switch
    (mix fully when unstable) makes the result jump when the stability changes sign, which no
    gradient can follow; here the mixing weight grows smoothly from zero at neutral stability
    (as the cube of the instability, so the cost stays twice differentiable) to full mixing.
    """
    nz = T.shape[0]
    for k in range(nz - 1):
        z_interface = zC[k] + 0.5 * drF[k]
        rho_upper = eos(T[k], S[k], z_interface)
        rho_lower = eos(T[k + 1], S[k + 1], z_interface)
        unstable = np.maximum(rho_upper - rho_lower, 0.0) ** 3
        weight = hmask * unstable / (unstable + CONV_DRHO ** 3)
        mix_levels(T, k, weight, drF)
        mix_levels(S, k, weight, drF)


def do_oceanic_phys(T, S, rho, zC, drF, hmask):
    """Parameterised physics: convective adjustment, then the density the dynamics will use."""
    convective_adjustment(T, S, zC, drF, hmask)
    find_rho(T, S, zC, hmask, rho)


def external_forcing_surf(n, dt, T, tau0, heat_piston, T_star, tau_pattern, salt_flux, hmask,
                          taux, surf_T, surf_S):
    """Surface forcing of step n, written in place: wind stress and surface T and S fluxes.

    The heat flux restores the surface temperature to T_star with a piston velocity
    ``heat_piston`` (m s-1); fluxes are in K m s-1 and psu m s-1 (positive into the ocean).
    """
    modulation = 1.0 + WIND_MODULATION * math.sin(2.0 * math.pi * n * dt / WIND_PERIOD)
    taux[:, :] = tau0 * modulation * tau_pattern
    surf_T[:, :] = heat_piston * (T_star - T[0]) * hmask
    surf_S[:, :] = salt_flux


# ---------------------------------------------------------------------------------------------
# Operators shared by tracers, momentum and the free surface

def horizontal_divergence(fx, fy, dx):
    """Divergence of fluxes given on west (fx) and south (fy) faces; 2-D or 3-D arrays."""
    return (np.roll(fx, -1, axis=-1) - fx + np.roll(fy, -1, axis=-2) - fy) / dx


def del2_masked(q, mask_x, mask_y, dx):
    """Laplacian of q with no flux where the masks are 0 (mask_x[i]: between q[i-1] and q[i])."""
    flux_x = mask_x * (q - np.roll(q, 1, axis=-1))
    flux_y = mask_y * (q - np.roll(q, 1, axis=-2))
    return horizontal_divergence(flux_x, flux_y, dx) / dx


def smooth_abs(x, eps):
    """|x| rounded off below eps: keeps the upwind switch differentiable at x = 0."""
    return np.sqrt(x * x + eps * eps)


def adams_bashforth2(g, g_nm1, first):
    """Replaces g by the Adams-Bashforth extrapolation to n + 1/2 and saves g in g_nm1."""
    g_now = g.copy()
    if not first:
        g[:] = (1.5 + AB_EPS) * g - (0.5 + AB_EPS) * g_nm1
    g_nm1[:] = g_now


def solve_tridiagonal(lower, diag, upper, rhs):
    """Solves -lower[k] x[k-1] + diag[k] x[k] - upper[k] x[k+1] = rhs[k] over levels, in place.

    The Thomas algorithm; the coefficients are per level, rhs is (nz, ny, nx) and is replaced by
    the solution.
    """
    nz = rhs.shape[0]
    c_prime = np.zeros(nz)
    c_prime[0] = upper[0] / diag[0]
    rhs[0] = rhs[0] / diag[0]
    for k in range(1, nz):
        denom = diag[k] - lower[k] * c_prime[k - 1]
        c_prime[k] = upper[k] / denom
        rhs[k] = (rhs[k] + lower[k] * rhs[k - 1]) / denom
    for k in range(nz - 2, -1, -1):
        rhs[k] = rhs[k] + c_prime[k] * rhs[k + 1]


def implicit_vertical_diffusion(q, diffusivity, drF, drC, dt):
    """Backward-Euler vertical diffusion of q over dt, in place (no flux at surface and bottom)."""
    nz = q.shape[0]
    lower = np.zeros(nz)
    upper = np.zeros(nz)
    for k in range(1, nz):
        lower[k] = dt * diffusivity / (drF[k] * drC[k])
    for k in range(nz - 1):
        upper[k] = dt * diffusivity / (drF[k] * drC[k + 1])
    solve_tridiagonal(lower, 1.0 + lower + upper, upper, q)


def vertical_integral(q, drF):
    """Depth integral of a 3-D field: a (ny, nx) array."""
    return np.sum(q * drF[:, None, None], axis=0)


# ---------------------------------------------------------------------------------------------
# Thermodynamics: advection-diffusion of T and S

def advect_tracer(q, u, v, w, maskW, maskS, drF, dx, gq):
    """Adds to gq the flux-form advective tendency -div(u q) of tracer q.

    Face values are upwind (first order, monotone); |u| is smoothed below U_EPS so that the
    flux, and the cost, stay differentiable where the velocity changes sign. The vertical flux
    is zero at the surface (w[0] = 0) and at the bottom, so the flux form conserves sum V q.
    """
    q_west = np.roll(q, 1, axis=-1)
    q_south = np.roll(q, 1, axis=-2)
    q_above = np.roll(q, 1, axis=0)
    flux_x = maskW * (u * 0.5 * (q + q_west) - 0.5 * smooth_abs(u, U_EPS) * (q - q_west))
    flux_y = maskS * (v * 0.5 * (q + q_south) - 0.5 * smooth_abs(v, U_EPS) * (q - q_south))
    flux_r = w * 0.5 * (q + q_above) - 0.5 * smooth_abs(w, W_EPS) * (q_above - q)
    flux_r[0] = 0.0
    gq -= horizontal_divergence(flux_x, flux_y, dx)
    gq += (np.roll(flux_r, -1, axis=0) - flux_r) / drF[:, None, None]


def tracer_tendency(q, u, v, w, kappa, hmask, maskW, maskS, drF, dx, gq):
    """Writes into gq the advection and horizontal diffusion tendency of tracer q."""
    gq[:] = 0.0
    advect_tracer(q, u, v, w, maskW, maskS, drF, dx, gq)
    gq += kappa * del2_masked(q, maskW, maskS, dx)
    gq *= hmask


def add_surface_flux(gq, surf, drF, hmask):
    """Adds a surface flux (units of q times m s-1) to the tendency of the top level."""
    gq[0] += hmask * surf / drF[0]


def timestep_tracer(q, gq, dt):
    """q <- q + dt gq."""
    q += dt * gq


def thermodynamics(T, S, u, v, w, gT, gS, gT_nm1, gS_nm1, surf_T, surf_S, first, kappa,
                   hmask, maskW, maskS, drF, drC, dx, dt):
    """Steps T and S: explicit advection, diffusion and forcing (AB2), implicit vertical mixing."""
    tracer_tendency(T, u, v, w, kappa, hmask, maskW, maskS, drF, dx, gT)
    tracer_tendency(S, u, v, w, kappa, hmask, maskW, maskS, drF, dx, gS)
    add_surface_flux(gT, surf_T, drF, hmask)
    add_surface_flux(gS, surf_S, drF, hmask)
    adams_bashforth2(gT, gT_nm1, first)
    adams_bashforth2(gS, gS_nm1, first)
    timestep_tracer(T, gT, dt)
    timestep_tracer(S, gS, dt)
    implicit_vertical_diffusion(T, KAPPA_V, drF, drC, dt)
    implicit_vertical_diffusion(S, KAPPA_V, drF, drC, dt)


# ---------------------------------------------------------------------------------------------
# Dynamics: momentum, hydrostatic pressure

def calc_phi_hyd(rho, drF, phi):
    """Writes into phi the hydrostatic pressure anomaly / RHO0 at level centres."""
    nz = rho.shape[0]
    phi[0] = GRAV / RHO0 * 0.5 * drF[0] * rho[0]
    for k in range(1, nz):
        phi[k] = phi[k - 1] + GRAV / RHO0 * 0.5 * (drF[k - 1] * rho[k - 1] + drF[k] * rho[k])


def mom_coriolis(u, v, fU, fV, maskW, maskS):
    """Coriolis tendencies (f v at u points, -f u at v points) from four-point averages."""
    v_at_u = 0.25 * (v + np.roll(v, 1, axis=-1) + np.roll(v, -1, axis=-2)
                     + np.roll(np.roll(v, 1, axis=-1), -1, axis=-2))
    u_at_v = 0.25 * (u + np.roll(u, -1, axis=-1) + np.roll(u, 1, axis=-2)
                     + np.roll(np.roll(u, -1, axis=-1), 1, axis=-2))
    return fU * v_at_u * maskW, -fV * u_at_v * maskS


def mom_tendency(u, v, phi, taux, fU, fV, maskW, maskS, drF, dx, visc_h, gU, gV):
    """Writes into gU, gV: Coriolis, baroclinic pressure gradient, viscosity, wind, bottom drag.

    The surface-pressure gradient is left to the free-surface solver. Viscous fluxes are cut
    at the coasts (free slip).
    """
    cor_u, cor_v = mom_coriolis(u, v, fU, fV, maskW, maskS)
    visc_u = del2_masked(u, maskW * np.roll(maskW, 1, axis=-1), maskW * np.roll(maskW, 1, axis=-2), dx)
    visc_v = del2_masked(v, maskS * np.roll(maskS, 1, axis=-1), maskS * np.roll(maskS, 1, axis=-2), dx)
    gU[:] = cor_u - (phi - np.roll(phi, 1, axis=-1)) / dx + visc_h * visc_u
    gV[:] = cor_v - (phi - np.roll(phi, 1, axis=-2)) / dx + visc_h * visc_v
    gU[0] += taux / (RHO0 * drF[0])
    gU[-1] -= BOTTOM_DRAG / drF[-1] * u[-1]
    gV[-1] -= BOTTOM_DRAG / drF[-1] * v[-1]
    gU *= maskW
    gV *= maskS


def timestep_momentum(u, v, gU, gV, dt):
    """u* = u + dt gU, v* = v + dt gV (before the surface-pressure correction)."""
    u += dt * gU
    v += dt * gV


def dynamics(u, v, rho, phi, gU, gV, gU_nm1, gV_nm1, taux, first, fU, fV, maskW, maskS, drF,
             drC, dx, dt, visc_h):
    """Steps u, v to the provisional u*, v*: AB2 explicit terms, implicit vertical viscosity."""
    calc_phi_hyd(rho, drF, phi)
    mom_tendency(u, v, phi, taux, fU, fV, maskW, maskS, drF, dx, visc_h, gU, gV)
    adams_bashforth2(gU, gU_nm1, first)
    adams_bashforth2(gV, gV_nm1, first)
    timestep_momentum(u, v, gU, gV, dt)
    implicit_vertical_diffusion(u, VISC_V, drF, drC, dt)
    implicit_vertical_diffusion(v, VISC_V, drF, drC, dt)


# ---------------------------------------------------------------------------------------------
# Free surface: elliptic solve with conjugate gradients

def global_dot(a, b, hmask):
    """Inner product over the ocean points."""
    return np.sum(a * b * hmask)


def cg2d_operator(x, coef, maskW, maskS, hmask):
    """The free-surface operator (1 - coef dx^2 Laplacian) x, symmetric positive definite."""
    flux_x = maskW * (x - np.roll(x, 1, axis=-1))
    flux_y = maskS * (x - np.roll(x, 1, axis=-2))
    return hmask * x - coef * horizontal_divergence(flux_x, flux_y, 1.0)


def cg2d(b, x, coef, maskW, maskS, hmask, n_iter):
    """Conjugate gradients for cg2d_operator(x) = b from the first guess in x, in place.

    A fixed number of iterations and no convergence test: the program, and so its derivative,
    do not depend on a tolerance test switching at some iteration. n_iter must still let the
    solve converge: an unconverged iterate depends on b through the Krylov polynomial, strongly
    nonlinearly, and its derivative is not the derivative of the solution.
    """
    r = b - cg2d_operator(x, coef, maskW, maskS, hmask)
    p = r.copy()
    rr = global_dot(r, r, hmask)
    for it in range(n_iter):
        ap = cg2d_operator(p, coef, maskW, maskS, hmask)
        alpha = rr / (global_dot(p, ap, hmask) + CG_TINY)
        x += alpha * p
        r -= alpha * ap
        rr_new = global_dot(r, r, hmask)
        p[:, :] = r + rr_new / (rr + CG_TINY) * p
        rr = rr_new


def solve_for_pressure(u, v, eta, eta_next, hmask, maskW, maskS, drF, dx, dt, cg_iters):
    """Solves for the surface elevation at n + 1 that makes the corrected flow conserve volume.

    eta(n+1) = eta(n) - dt div(H u(n+1)) with u(n+1) = u* - g dt grad eta(n+1) gives
    eta(n+1) - g H dt^2 Laplacian eta(n+1) = eta(n) - dt div(sum_k drF u*).
    """
    depth = np.sum(drF)
    rhs = hmask * (eta - dt * horizontal_divergence(vertical_integral(u, drF),
                                                    vertical_integral(v, drF), dx))
    eta_next[:, :] = eta
    cg2d(rhs, eta_next, GRAV * depth * dt * dt / (dx * dx), maskW, maskS, hmask, cg_iters)


def momentum_correction_step(u, v, eta_next, maskW, maskS, dx, dt):
    """u(n+1) = u* - g dt grad eta(n+1), in place."""
    u -= dt * GRAV * maskW * (eta_next - np.roll(eta_next, 1, axis=-1)) / dx
    v -= dt * GRAV * maskS * (eta_next - np.roll(eta_next, 1, axis=-2)) / dx


def calc_w(u, v, hmask, drF, dx, w):
    """Vertical velocity on the top face of every cell from continuity, integrated from the bottom.

    w[0] is set to zero: tracers see a rigid lid (the linear free surface moves no tracer), which
    is what makes the flux form conserve heat and salt exactly.
    """
    nz = u.shape[0]
    div = hmask * horizontal_divergence(u, v, dx)
    w[:] = 0.0
    for k in range(nz - 1, 0, -1):
        w[k] = -drF[k] * div[k]
        if k < nz - 1:
            w[k] += w[k + 1]


def integr_continuity(u, v, eta, w, hmask, drF, dx, dt):
    """New elevation from the divergence of the corrected transport (exact volume conservation)."""
    eta -= dt * hmask * horizontal_divergence(vertical_integral(u, drF),
                                              vertical_integral(v, drF), dx)
    calc_w(u, v, hmask, drF, dx, w)


# ---------------------------------------------------------------------------------------------
# Time stepping

def forward_step(n, T, S, u, v, w, eta, eta_next, rho, phi, gT, gS, gU, gV, gT_nm1, gS_nm1,
                 gU_nm1, gV_nm1, taux, surf_T, surf_S, kappa, tau0, heat_piston, T_star,
                 tau_pattern, salt_flux, hmask, maskW, maskS, fU, fV, zC, drF, drC, dx, dt,
                 cg_iters, visc_h):
    """One time step of the whole model, in place on the state and the AB2 history."""
    first = n == 0
    external_forcing_surf(n, dt, T, tau0, heat_piston, T_star, tau_pattern, salt_flux, hmask,
                          taux, surf_T, surf_S)
    do_oceanic_phys(T, S, rho, zC, drF, hmask)
    dynamics(u, v, rho, phi, gU, gV, gU_nm1, gV_nm1, taux, first, fU, fV, maskW, maskS, drF,
             drC, dx, dt, visc_h)
    solve_for_pressure(u, v, eta, eta_next, hmask, maskW, maskS, drF, dx, dt, cg_iters)
    momentum_correction_step(u, v, eta_next, maskW, maskS, dx, dt)
    integr_continuity(u, v, eta, w, hmask, drF, dx, dt)
    thermodynamics(T, S, u, v, w, gT, gS, gT_nm1, gS_nm1, surf_T, surf_S, first, kappa, hmask,
                   maskW, maskS, drF, drC, dx, dt)


def cost_accumulate(T, T_mean):
    """Adds the current temperature to the running sum of the time mean."""
    T_mean += T


def the_main_loop(T, S, u, v, eta, T_mean, kappa, tau0, heat_piston, T_star, tau_pattern,
                  salt_flux, hmask, maskW, maskS, fU, fV, zC, drF, drC, dx, dt, nsteps, n_avg,
                  cg_iters, visc_h):
    """Runs nsteps steps from the state (T, S, u, v, eta), in place; sums T over the last n_avg."""
    w = np.zeros_like(T)
    rho = np.zeros_like(T)
    phi = np.zeros_like(T)
    gT = np.zeros_like(T)
    gS = np.zeros_like(T)
    gU = np.zeros_like(T)
    gV = np.zeros_like(T)
    gT_nm1 = np.zeros_like(T)
    gS_nm1 = np.zeros_like(T)
    gU_nm1 = np.zeros_like(T)
    gV_nm1 = np.zeros_like(T)
    eta_next = np.zeros_like(eta)
    taux = np.zeros_like(eta)
    surf_T = np.zeros_like(eta)
    surf_S = np.zeros_like(eta)
    for n in range(nsteps):
        forward_step(n, T, S, u, v, w, eta, eta_next, rho, phi, gT, gS, gU, gV, gT_nm1, gS_nm1,
                     gU_nm1, gV_nm1, taux, surf_T, surf_S, kappa, tau0, heat_piston, T_star,
                     tau_pattern, salt_flux, hmask, maskW, maskS, fU, fV, zC, drF, drC, dx, dt,
                     cg_iters, visc_h)
        if n >= nsteps - n_avg:
            cost_accumulate(T, T_mean)


def cost_final(T_mean, n_avg, T_obs, obs_weight, T0, T_prior, hmask, kappa, kappa_prior, tau0):
    """Observation misfit of the time-mean temperature plus the regularisation terms."""
    misfit = 0.5 * np.sum(obs_weight * (T_mean / n_avg - T_obs) ** 2)
    dT0 = hmask * (T0 - T_prior)
    background = 0.5 * np.sum(dT0 * dT0) / (SIGMA_T0 * SIGMA_T0)
    # penalise grid-scale noise in the increment; differences across a coast do not count
    grad_x = np.diff(dT0, axis=2) * (hmask[:, 1:] * hmask[:, :-1])
    grad_y = np.diff(dT0, axis=1) * (hmask[1:, :] * hmask[:-1, :])
    smooth = 0.5 * SMOOTHNESS * (np.sum(grad_x * grad_x) + np.sum(grad_y * grad_y))
    params = (0.5 * (math.log(kappa / kappa_prior) / SIGMA_LOG_KAPPA) ** 2
              + 0.5 * ((tau0 - TAU0_PRIOR) / SIGMA_TAU0) ** 2)
    return misfit + background + smooth + params


def cost(T0, S0, kappa, tau0, T_obs, obs_weight, T_prior, kappa_prior, hmask, drF, dx, dt,
         nsteps, n_avg, cg_iters, visc_h, heat_piston=2.0e-5):
    """The data-assimilation cost of a run from rest with initial temperature T0."""
    nz, ny, nx = T0.shape
    maskW = np.zeros((ny, nx))
    maskS = np.zeros((ny, nx))
    fU = np.zeros((ny, nx))
    fV = np.zeros((ny, nx))
    yC = np.zeros(ny)
    zC = np.zeros(nz)
    drC = np.zeros(nz)
    ini_grid(hmask, drF, dx, maskW, maskS, yC, fU, fV, zC, drC)
    T_star = np.zeros((ny, nx))
    tau_pattern = np.zeros((ny, nx))
    salt_flux = np.zeros((ny, nx))
    ini_forcing(yC, dx, hmask, maskW, T_star, tau_pattern, salt_flux)
    T = T0.copy()
    S = S0.copy()
    u = np.zeros_like(T0)
    v = np.zeros_like(T0)
    eta = np.zeros((ny, nx))
    T_mean = np.zeros_like(T0)
    the_main_loop(T, S, u, v, eta, T_mean, kappa, tau0, heat_piston, T_star, tau_pattern,
                  salt_flux, hmask, maskW, maskS, fU, fV, zC, drF, drC, dx, dt, nsteps, n_avg,
                  cg_iters, visc_h)
    return cost_final(T_mean, n_avg, T_obs, obs_weight, T0, T_prior, hmask, kappa, kappa_prior,
                      tau0)


# ---------------------------------------------------------------------------------------------
# Not reached from the head: grid and inputs, the twin experiment, diagnostics.

BASIN_DX = 50.0e3           # m, at every size (the basin grows with size)
TOTAL_DEPTH = 1500.0        # m
TIME_STEP = 1200.0          # s
CG_ITERS = 80


def level_thicknesses(nz, total=TOTAL_DEPTH, ratio=1.6):
    """Thicknesses growing geometrically with depth and summing to ``total``."""
    raw = ratio ** np.arange(nz)
    return total * raw / raw.sum()


def setup(inputs):
    """The grid and forcing arrays the head builds, as a dict (for the driver and tests)."""
    T0, hmask, drF, dx = inputs["T0"], inputs["hmask"], inputs["drF"], inputs["dx"]
    nz, ny, nx = T0.shape
    g = {name: np.zeros((ny, nx)) for name in ("maskW", "maskS", "fU", "fV", "T_star",
                                                "tau_pattern", "salt_flux")}
    g.update(yC=np.zeros(ny), zC=np.zeros(nz), drC=np.zeros(nz))
    ini_grid(hmask, drF, dx, g["maskW"], g["maskS"], g["yC"], g["fU"], g["fV"], g["zC"], g["drC"])
    ini_forcing(g["yC"], dx, hmask, g["maskW"], g["T_star"], g["tau_pattern"], g["salt_flux"])
    return g


def simulate(inputs, nsteps=None, heat_piston=2.0e-5, salt_flux_scale=1.0, **changes):
    """Runs the model like the head does and returns the final state and the time mean.

    ``changes`` replace entries of ``inputs`` (e.g. T0, kappa, tau0); returns a dict with
    T, S, u, v, eta and T_avg (the mean over the last n_avg steps).
    """
    inputs = dict(inputs, **changes)
    g = setup(inputs)
    nsteps = inputs["nsteps"] if nsteps is None else nsteps
    n_avg = min(inputs["n_avg"], nsteps)
    T, S = inputs["T0"].copy(), inputs["S0"].copy()
    u, v = np.zeros_like(T), np.zeros_like(T)
    eta = np.zeros(T.shape[1:])
    T_mean = np.zeros_like(T)
    the_main_loop(T, S, u, v, eta, T_mean, inputs["kappa"], inputs["tau0"], heat_piston,
                  g["T_star"], g["tau_pattern"], salt_flux_scale * g["salt_flux"],
                  inputs["hmask"], g["maskW"], g["maskS"], g["fU"], g["fV"], g["zC"],
                  inputs["drF"], g["drC"], inputs["dx"], inputs["dt"], nsteps, n_avg,
                  inputs["cg_iters"], inputs["visc_h"])
    return dict(T=T, S=S, u=u, v=v, eta=eta, T_avg=T_mean / n_avg)


def stability_numbers(inputs, u_max=1.0):
    """Dimensionless numbers that bound the explicit time step, for the largest expected speed.

    AB2 is stable for diffusion numbers nu dt / dx^2 below 1/8 in 2-D (1/4 of forward Euler's
    1/2 in each direction, halved again), and weakly unstable for oscillations, so the
    Courant and inertial numbers must stay well below 1 (MITgcm's rule of thumb: < 0.3).
    """
    dx, dt, drF = inputs["dx"], inputs["dt"], inputs["drF"]
    z = np.cumsum(drF) - 0.5 * drF
    rho = eos(inputs["T0"], inputs["S0"], z[:, None, None])
    interior = inputs["hmask"] > 0
    g_reduced = GRAV * max(float(np.max(rho[-1][interior] - rho[0][interior])), 0.0) / RHO0
    c_internal = math.sqrt(g_reduced * TOTAL_DEPTH) / math.pi   # first baroclinic mode
    f_max = F0 + BETA * 0.5 * inputs["hmask"].shape[0] * dx
    return dict(advective=u_max * dt / dx, internal_wave=c_internal * dt / dx,
                inertial=f_max * dt, viscous=inputs["visc_h"] * dt / dx ** 2,
                diffusive=inputs["kappa"] * dt / dx ** 2)


def smooth_noise(rng, shape, passes=4):
    """Random field smoothed horizontally by 1-2-1 passes, unit RMS."""
    field = rng.normal(size=shape)
    for _ in range(passes):
        for axis in (-1, -2):
            field = 0.25 * (np.roll(field, 1, axis) + 2.0 * field + np.roll(field, -1, axis))
    return field / np.sqrt(np.mean(field ** 2))


def climatology(nz, ny, dx, drF):
    """Background T and S: warm thermocline in the south, cold and fresh in the north."""
    z = np.cumsum(drF) - 0.5 * drF
    s = ((np.arange(ny) - 0.5) * dx / ((ny - 2) * dx))[None, :, None]   # 0 south, 1 north coast
    decay = np.exp(-z / 400.0)[:, None, None]
    T = 4.0 + (T_STAR_SOUTH - 4.0 - (T_STAR_SOUTH - T_STAR_NORTH) * s) * decay
    S = 34.8 + 0.6 * (1.0 - s) * decay
    return T, S


def make_inputs(size=1.0, seed=0):
    """All arguments of ``cost``: a twin experiment in a closed basin.

    ``size`` scales the basin (n x n cells of 50 km, n = 30 size, including the land border), the
    levels (nz = 6 size, at least 3) and the steps (nsteps = 300 size of 20 minutes: 4.2 days at
    size 1). The grid spacing and time step do not change with size, so neither do the
    stability numbers; the free-surface operator's conditioning does not either, so the CG
    iteration count is fixed.
    """
    rng = np.random.default_rng(seed)
    n = max(8, int(round(30 * size)))
    nz = max(3, int(round(6 * size)))
    nsteps = max(12, int(round(300 * size)))
    n_avg = max(1, nsteps // 4)
    dx, dt = BASIN_DX, TIME_STEP
    drF = level_thicknesses(nz)
    hmask = np.zeros((n, n))
    hmask[1:-1, 1:-1] = 1.0
    T_prior, S0 = climatology(nz, n, dx, drF)
    T_prior = T_prior * hmask      # (nz, n, 1) -> (nz, n, n)
    S0 = S0 * hmask
    # Initial-condition errors: smooth, largest near the surface.
    z = np.cumsum(drF) - 0.5 * drF
    error_profile = np.exp(-z / 600.0)[:, None, None]
    T0 = T_prior + 0.3 * error_profile * smooth_noise(rng, T_prior.shape) * hmask
    T_true = T_prior + 0.6 * error_profile * smooth_noise(rng, T_prior.shape) * hmask
    visc_h = 0.01 * dx * dx / dt            # viscous number 0.01: Munk layer ~ 2 dx
    kappa_prior = 0.004 * dx * dx / dt      # 8.3e3 m2/s at 50 km
    inputs = dict(T0=T0, S0=S0, kappa=kappa_prior, tau0=TAU0_PRIOR, T_obs=None, obs_weight=None,
                  T_prior=T_prior, kappa_prior=kappa_prior, hmask=hmask, drF=drF, dx=dx, dt=dt,
                  nsteps=nsteps, n_avg=n_avg, cg_iters=CG_ITERS, visc_h=visc_h)
    truth = simulate(inputs, T0=T_true, kappa=1.5 * kappa_prior, tau0=1.3 * TAU0_PRIOR)
    # Observations: the surface everywhere (satellite SST), and full profiles in ~20 % of the
    # columns (floats); errors of 0.2 degC.
    obs_sigma = 0.2
    observed = np.zeros_like(T0)
    observed[0] = 1.0
    observed[:, rng.random((n, n)) < 0.2] = 1.0
    observed *= hmask
    inputs["T_obs"] = (truth["T_avg"] + obs_sigma * rng.normal(size=T0.shape)) * observed
    inputs["obs_weight"] = observed / obs_sigma ** 2
    return inputs
