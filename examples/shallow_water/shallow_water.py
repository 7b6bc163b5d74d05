"""Nonlinear shallow water on an Arakawa C-grid: a beta-plane channel, leapfrog time stepping.

The head is ``cost``: the misfit of the final surface height to altimeter-like observations,
differentiated with respect to the initial height ``h0`` and the quadratic bottom drag
coefficient ``drag``.  The initial velocities are in geostrophic balance with ``h0``.
"""
import numpy as np

GRAV = 9.81           # m s-2
F0 = 1.0e-4           # Coriolis parameter at the channel's centre line, s-1
BETA = 1.6e-11        # its northward gradient, m-1 s-1
ASSELIN = 0.1         # Robert-Asselin filter coefficient
H_MIN = 1.0           # floor of the layer thickness in divisions (never reached: h is ~100 m)
SPEED_EPS = 1.0e-3    # m s-1: keeps |u| in the drag law smooth at rest


# Grid: h[j, i] at cell centres, u[j, i] on west faces, v[j, i] on south faces, vorticity on
# south-west corners; periodic in x (np.roll), and the face j = 0 is the channel's wall (it is
# the south face of row 0 and, through the periodic roll, the north face of row ny-1).

def ini_grid(dx, fu, fv, vmask):
    """Coriolis parameter at u points (``fu``) and at v points and corners (``fv``); wall mask."""
    ny = fu.shape[0]
    y_mid = 0.5 * ny * dx
    for j in range(ny):
        fu[j] = F0 + BETA * ((j + 0.5) * dx - y_mid)
        fv[j] = F0 + BETA * (j * dx - y_mid)
    vmask[:, :] = 1.0
    vmask[0, :] = 0.0


def balance_velocities(h, fu, fv, vmask, dx, u, v):
    """Writes into u, v the geostrophic velocities of the height field h: f k x u = -g grad h."""
    h_corner = 0.25 * (h + np.roll(h, 1, axis=1) + np.roll(h, 1, axis=0)
                       + np.roll(np.roll(h, 1, axis=1), 1, axis=0))
    u[:, :] = -GRAV / fu * (np.roll(h_corner, -1, axis=0) - h_corner) / dx
    v[:, :] = GRAV / fv * (np.roll(h_corner, -1, axis=1) - h_corner) / dx * vmask


def mass_fluxes(h, u, v, vmask):
    """Volume fluxes per unit width through west (U) and south (V) faces."""
    h_u = 0.5 * (h + np.roll(h, 1, axis=1))
    h_v = 0.5 * (h + np.roll(h, 1, axis=0))
    return u * h_u, v * h_v * vmask


def continuity(h, u, v, vmask, dx, gh):
    """Writes into gh the height tendency -div(h u) (flux form: conserves the volume)."""
    flux_u, flux_v = mass_fluxes(h, u, v, vmask)
    gh[:, :] = -(np.roll(flux_u, -1, axis=1) - flux_u + np.roll(flux_v, -1, axis=0) - flux_v) / dx


def momentum_advection(h, u, v, fv, vmask, dx, gu, gv):
    """Writes into gu, gv the vector-invariant tendencies: (f + zeta) k x u h / h - grad(B).

    Sadourny's (1975) energy-conserving form: the potential vorticity q = (f + zeta) / h lives on
    corners and multiplies the mass fluxes averaged to the corners; B = g h + |u|^2 / 2.
    """
    # relative vorticity on corners, zero on the walls (free slip)
    zeta = ((v - np.roll(v, 1, axis=1)) - (u - np.roll(u, 1, axis=0))) / dx * vmask
    h_corner = 0.25 * (h + np.roll(h, 1, axis=1) + np.roll(h, 1, axis=0)
                       + np.roll(np.roll(h, 1, axis=1), 1, axis=0))
    q = (fv + zeta) / np.maximum(h_corner, H_MIN)
    flux_u, flux_v = mass_fluxes(h, u, v, vmask)
    q_flux_v = q * 0.5 * (flux_v + np.roll(flux_v, 1, axis=1))
    q_flux_u = q * 0.5 * (flux_u + np.roll(flux_u, 1, axis=0))
    gu[:, :] = 0.5 * (q_flux_v + np.roll(q_flux_v, -1, axis=0))
    gv[:, :] = -0.5 * (q_flux_u + np.roll(q_flux_u, -1, axis=1))
    kinetic = 0.25 * (u * u + np.roll(u, -1, axis=1) ** 2 + v * v + np.roll(v, -1, axis=0) ** 2)
    bernoulli = GRAV * h + kinetic
    gu -= (bernoulli - np.roll(bernoulli, 1, axis=1)) / dx
    gv -= (bernoulli - np.roll(bernoulli, 1, axis=0)) / dx


def laplacian(q, mask_y, dx):
    """Five-point Laplacian of q; ``mask_y`` cuts the fluxes in y (free slip on the walls)."""
    flux_x = q - np.roll(q, 1, axis=1)
    flux_y = (q - np.roll(q, 1, axis=0)) * mask_y
    return (np.roll(flux_x, -1, axis=1) - flux_x + np.roll(flux_y, -1, axis=0) - flux_y) / (dx * dx)


def dissipation(h, u, v, drag, visc, vmask, hmask, dx, gu, gv):
    """Adds quadratic bottom drag -C_d |u| u / h and Laplacian viscosity to gu, gv."""
    v_at_u = 0.25 * (v + np.roll(v, 1, axis=1) + np.roll(v, -1, axis=0)
                     + np.roll(np.roll(v, 1, axis=1), -1, axis=0))
    u_at_v = 0.25 * (u + np.roll(u, -1, axis=1) + np.roll(u, 1, axis=0)
                     + np.roll(np.roll(u, -1, axis=1), 1, axis=0))
    h_u = np.maximum(0.5 * (h + np.roll(h, 1, axis=1)), H_MIN)
    h_v = np.maximum(0.5 * (h + np.roll(h, 1, axis=0)), H_MIN)
    speed_u = np.sqrt(u * u + v_at_u * v_at_u + SPEED_EPS * SPEED_EPS)
    speed_v = np.sqrt(v * v + u_at_v * u_at_v + SPEED_EPS * SPEED_EPS)
    gu -= drag * speed_u * u / h_u
    gv -= drag * speed_v * v / h_v
    gu += visc * laplacian(u, vmask, dx)
    gv += visc * laplacian(v, hmask, dx)


def tendencies(h, u, v, h_old, u_old, v_old, drag, visc, fv, vmask, hmask, dx, gh, gu, gv):
    """All tendencies; dissipation is lagged (taken at the old level), as leapfrog needs."""
    continuity(h, u, v, vmask, dx, gh)
    momentum_advection(h, u, v, fv, vmask, dx, gu, gv)
    dissipation(h_old, u_old, v_old, drag, visc, vmask, hmask, dx, gu, gv)
    gv *= vmask


def euler_step(x, g, dt):
    """x += dt g (the first step, which has no previous level)."""
    x += dt * g


def leapfrog_filter(x_old, x_now, g, dt):
    """Leapfrog x_new = x_old + 2 dt g; x_old <- Robert-Asselin filtered x_now; x_now <- x_new."""
    x_new = x_old + 2.0 * dt * g
    x_old[:, :] = x_now + ASSELIN * (x_new - 2.0 * x_now + x_old)
    x_now[:, :] = x_new


def integrate(h, u, v, drag, visc, fv, vmask, hmask, dx, dt, nsteps):
    """Runs nsteps steps from the state (h, u, v), in place: one Euler step, then leapfrog."""
    gh = np.zeros_like(h)
    gu = np.zeros_like(h)
    gv = np.zeros_like(h)
    h_old = h.copy()
    u_old = u.copy()
    v_old = v.copy()
    tendencies(h, u, v, h, u, v, drag, visc, fv, vmask, hmask, dx, gh, gu, gv)
    euler_step(h, gh, dt)
    euler_step(u, gu, dt)
    euler_step(v, gv, dt)
    for n in range(1, nsteps):
        tendencies(h, u, v, h_old, u_old, v_old, drag, visc, fv, vmask, hmask, dx, gh, gu, gv)
        leapfrog_filter(h_old, h, gh, dt)
        leapfrog_filter(u_old, u, gu, dt)
        leapfrog_filter(v_old, v, gv, dt)


def misfit(h, h_obs, obs_weight):
    """Half the weighted squared misfit of the height to its observations."""
    return 0.5 * np.sum(obs_weight * (h - h_obs) ** 2)


def cost(h0, drag, h_obs, obs_weight, dx, dt, nsteps, visc):
    """Misfit of the height after ``nsteps`` steps from h0 (with balanced velocities)."""
    ny, nx = h0.shape
    fu = np.zeros((ny, nx))
    fv = np.zeros((ny, nx))
    vmask = np.zeros((ny, nx))
    hmask = np.ones((ny, nx))
    ini_grid(dx, fu, fv, vmask)
    h = h0.copy()
    u = np.zeros_like(h0)
    v = np.zeros_like(h0)
    balance_velocities(h, fu, fv, vmask, dx, u, v)
    integrate(h, u, v, drag, visc, fv, vmask, hmask, dx, dt, nsteps)
    return misfit(h, h_obs, obs_weight)


# ---------------------------------------------------------------------------------------------
# Not reached from the head: inputs, twin experiment, diagnostics.

MEAN_DEPTH = 100.0    # m: gravity waves at sqrt(g H) = 31 m/s
DX = 20.0e3           # m
DT = 120.0            # s: Courant number sqrt(g H) dt / dx = 0.19 (leapfrog needs < 0.7)


def initial_state(h0, dx):
    """(fu, fv, vmask, hmask, u, v) of the head's initialisation, for diagnostics and tests."""
    ny, nx = h0.shape
    fu, fv, vmask = np.zeros((ny, nx)), np.zeros((ny, nx)), np.zeros((ny, nx))
    hmask = np.ones((ny, nx))
    ini_grid(dx, fu, fv, vmask)
    u, v = np.zeros_like(h0), np.zeros_like(h0)
    balance_velocities(h0, fu, fv, vmask, dx, u, v)
    return fu, fv, vmask, hmask, u, v


def run(h0, drag, dx, dt, nsteps, visc):
    """The final state (h, u, v) of the head's run."""
    fu, fv, vmask, hmask, u, v = initial_state(h0, dx)
    h = h0.copy()
    integrate(h, u, v, drag, visc, fv, vmask, hmask, dx, dt, nsteps)
    return h, u, v


def energy(h, u, v):
    """Kinetic plus available potential energy per unit density and cell area (m3 s-2)."""
    ke = 0.25 * (u * u + np.roll(u, -1, axis=1) ** 2 + v * v + np.roll(v, -1, axis=0) ** 2)
    return float(np.sum(h * ke) + 0.5 * GRAV * np.sum((h - np.mean(h)) ** 2))


def smooth_noise(rng, shape, passes=6):
    """Random field smoothed by 1-2-1 filter passes (periodic in x, walls ignored), unit RMS."""
    field = rng.normal(size=shape)
    for _ in range(passes):
        for axis in (0, 1):
            field = 0.25 * (np.roll(field, 1, axis) + 2.0 * field + np.roll(field, -1, axis))
    return field / np.sqrt(np.mean(field ** 2))


def height_field(ny, nx, dx, rng, centre, amplitude=2.0, radius=150.0e3, noise=0.2):
    """Mean depth plus a Gaussian eddy at ``centre`` (fractions of the domain) plus noise."""
    y = (np.arange(ny) + 0.5)[:, None] * dx
    x = (np.arange(nx) + 0.5)[None, :] * dx
    x0, y0 = centre[0] * nx * dx, centre[1] * ny * dx
    bump = amplitude * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / radius ** 2)
    # taper the noise to zero at the walls, where balanced flow cannot cross
    taper = np.sin(np.pi * (np.arange(ny) + 0.5) / ny)[:, None] ** 2
    return MEAN_DEPTH + bump + noise * taper * smooth_noise(rng, (ny, nx))


def make_inputs(size=1.0, seed=0):
    """All arguments of ``cost``: a twin experiment; ``size`` scales the grid and the steps."""
    rng = np.random.default_rng(seed)
    nx = max(8, int(round(64 * size)))
    ny = max(6, int(round(40 * size)))
    nsteps = max(10, int(round(360 * size)))
    drag = 2.5e-3
    visc = 500.0
    h0 = height_field(ny, nx, DX, rng, centre=(0.5, 0.5))
    h_true = height_field(ny, nx, DX, rng, centre=(0.53, 0.48), amplitude=2.3)
    h_end, _, _ = run(h_true, 1.5 * drag, DX, DT, nsteps, visc)
    # altimeter tracks: every fourth column observed, with 3 cm noise
    obs_sigma = 0.03
    tracks = np.zeros((ny, nx))
    tracks[:, ::4] = 1.0
    h_obs = h_end + obs_sigma * rng.normal(size=(ny, nx))
    return dict(h0=h0, drag=drag, h_obs=h_obs, obs_weight=tracks / obs_sigma ** 2, dx=DX, dt=DT,
                nsteps=nsteps, visc=visc)
