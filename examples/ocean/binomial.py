"""The ocean model with its time loop checkpointed by a binomial schedule (a loop site).

Everything but the main loop and the cost is the model of ocean.py; here the loop carries
Tapenade's directive ``# $AD BINOMIAL-CKP``, so the adjoint keeps the tape of one time step at a
time and stores the model state at a few steps (docs/checkpointing.md, "Loop sites"). The case
file case_binomial.toml differentiates this cost; ``adjoin check`` and ``adjoin sites`` show the
loop site; ``adjoin profile`` and ``advise`` choose its schedule with the call-site placement.
"""
import numpy as np

from ocean import cost_accumulate, cost_final, forward_step, ini_forcing, ini_grid, make_inputs  # noqa: F401


def the_main_loop(T, S, u, v, eta, T_mean, kappa, tau0, heat_piston, T_star, tau_pattern,
                  salt_flux, hmask, maskW, maskS, fU, fV, zC, drF, drC, dx, dt, nsteps, n_avg,
                  cg_iters, visc_h):
    """ocean.the_main_loop, its time loop a loop site (8 snapshots in memory unless placed)."""
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
    # $AD BINOMIAL-CKP snapshots=8
    for n in range(nsteps):
        forward_step(n, T, S, u, v, w, eta, eta_next, rho, phi, gT, gS, gU, gV, gT_nm1, gS_nm1,
                     gU_nm1, gV_nm1, taux, surf_T, surf_S, kappa, tau0, heat_piston, T_star,
                     tau_pattern, salt_flux, hmask, maskW, maskS, fU, fV, zC, drF, drC, dx, dt,
                     cg_iters, visc_h)
        if n >= nsteps - n_avg:
            cost_accumulate(T, T_mean)


def cost(T0, S0, kappa, tau0, T_obs, obs_weight, T_prior, kappa_prior, hmask, drF, dx, dt,
         nsteps, n_avg, cg_iters, visc_h, heat_piston=2.0e-5):
    """ocean.cost, calling the main loop above."""
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
