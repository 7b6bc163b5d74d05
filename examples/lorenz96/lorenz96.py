"""Two-scale Lorenz-96 (Lorenz 1996), integrated with RK4, written with scalar element loops.

Every tendency and every Runge-Kutta update is a Fortran-style loop over single elements
(``for k in range(K): ... x[k - 1] ...``): the "scalar loop" shape, which costs many small
operations per step, on purpose.  The head ``cost`` is a 4D-Var misfit of the slow variables to
observations along the trajectory, differentiated with respect to the initial state ``x0``,
``y0`` and the forcing ``forcing``.
"""
import numpy as np

COUPLING = 1.0       # h: coupling strength between the scales
TIME_RATIO = 10.0    # c: the fast variables are c times faster
SPACE_RATIO = 10.0   # b: and b times smaller
OBS_SIGMA = 0.5      # observation error of the slow variables


def slow_tendency(x, y, forcing, dxdt):
    """dX_k/dt = -X_{k-1} (X_{k-2} - X_{k+1}) - X_k + F - (h c / b) sum_j Y_{j,k}."""
    nk = x.shape[0]
    nj = y.shape[0] // nk
    coupling = COUPLING * TIME_RATIO / SPACE_RATIO
    for k in range(nk):
        kp1 = k + 1
        if kp1 == nk:
            kp1 = 0
        ysum = 0.0
        for j in range(nj):
            ysum = ysum + y[k * nj + j]
        # x[k - 1] and x[k - 2] wrap around through negative indices
        dxdt[k] = -x[k - 1] * (x[k - 2] - x[kp1]) - x[k] + forcing - coupling * ysum


def fast_tendency(x, y, dydt):
    """dY_m/dt = -c b Y_{m+1} (Y_{m+2} - Y_{m-1}) - c Y_m + (h c / b) X_{k(m)}; m cycles over all."""
    nk = x.shape[0]
    nm = y.shape[0]
    nj = nm // nk
    coupling = COUPLING * TIME_RATIO / SPACE_RATIO
    for k in range(nk):
        for j in range(nj):
            m = k * nj + j
            mp1 = m + 1
            mp2 = m + 2
            if mp2 >= nm:
                mp2 = mp2 - nm
                if mp1 >= nm:
                    mp1 = mp1 - nm
            dydt[m] = (-TIME_RATIO * SPACE_RATIO * y[mp1] * (y[mp2] - y[m - 1])
                       - TIME_RATIO * y[m] + coupling * x[k])


def tendencies(x, y, forcing, dxdt, dydt):
    """Both tendencies of the coupled system."""
    slow_tendency(x, y, forcing, dxdt)
    fast_tendency(x, y, dydt)


def axpy(a, v, base, out):
    """out[i] = base[i] + a v[i], element by element."""
    for i in range(out.shape[0]):
        out[i] = base[i] + a * v[i]


def rk4_combine(q, k1, k2, k3, k4, dt):
    """q[i] += dt/6 (k1 + 2 k2 + 2 k3 + k4)[i], element by element."""
    for i in range(q.shape[0]):
        q[i] = q[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


def rk4_step(x, y, forcing, dt, kx, ky, xs, ys):
    """Advances x and y in place by one classical Runge-Kutta step.

    ``kx`` and ``ky`` hold the four stage tendencies (shape (4, K) and (4, K*J)); ``xs`` and
    ``ys`` hold the intermediate states.
    """
    tendencies(x, y, forcing, kx[0], ky[0])
    axpy(0.5 * dt, kx[0], x, xs)
    axpy(0.5 * dt, ky[0], y, ys)
    tendencies(xs, ys, forcing, kx[1], ky[1])
    axpy(0.5 * dt, kx[1], x, xs)
    axpy(0.5 * dt, ky[1], y, ys)
    tendencies(xs, ys, forcing, kx[2], ky[2])
    axpy(dt, kx[2], x, xs)
    axpy(dt, ky[2], y, ys)
    tendencies(xs, ys, forcing, kx[3], ky[3])
    rk4_combine(x, kx[0], kx[1], kx[2], kx[3], dt)
    rk4_combine(y, ky[0], ky[1], ky[2], ky[3], dt)


def observation_misfit(x, x_obs, t):
    """Half the squared misfit of the slow variables to the observations of time index t."""
    misfit = 0.0
    for k in range(x.shape[0]):
        misfit = misfit + 0.5 * ((x[k] - x_obs[t, k]) / OBS_SIGMA) ** 2
    return misfit


def cost(x0, y0, forcing, x_obs, dt, nsteps, obs_every):
    """4D-Var cost: misfit of X to x_obs[t] after every ``obs_every`` steps of RK4."""
    x = x0.copy()
    y = y0.copy()
    kx = np.zeros((4, x0.shape[0]))
    ky = np.zeros((4, y0.shape[0]))
    xs = np.zeros_like(x0)
    ys = np.zeros_like(y0)
    total = 0.0
    t = 0
    since_obs = 0
    for n in range(nsteps):
        rk4_step(x, y, forcing, dt, kx, ky, xs, ys)
        since_obs = since_obs + 1
        if since_obs == obs_every:
            total = total + observation_misfit(x, x_obs, t)
            t = t + 1
            since_obs = 0
    return total


# ---------------------------------------------------------------------------------------------
# Not reached from the head: a vectorised twin of the tendencies, inputs, diagnostics.

def tendencies_vectorized(x, y, forcing):
    """The same tendencies with np.roll (for spin-up and as a cross-check of the loops)."""
    nk, nm = x.shape[0], y.shape[0]
    nj = nm // nk
    coupling = COUPLING * TIME_RATIO / SPACE_RATIO
    ysum = y.reshape(nk, nj).sum(axis=1)
    dxdt = -np.roll(x, 1) * (np.roll(x, 2) - np.roll(x, -1)) - x + forcing - coupling * ysum
    dydt = (-TIME_RATIO * SPACE_RATIO * np.roll(y, -1) * (np.roll(y, -2) - np.roll(y, 1))
            - TIME_RATIO * y + coupling * np.repeat(x, nj))
    return dxdt, dydt


def rk4_vectorized(x, y, forcing, dt, nsteps):
    """Integrates with the vectorised tendencies; returns the trajectory of x after each step."""
    xs = np.zeros((nsteps, x.shape[0]))
    for n in range(nsteps):
        k1 = tendencies_vectorized(x, y, forcing)
        k2 = tendencies_vectorized(x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1], forcing)
        k3 = tendencies_vectorized(x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1], forcing)
        k4 = tendencies_vectorized(x + dt * k3[0], y + dt * k3[1], forcing)
        x = x + dt / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        y = y + dt / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        xs[n] = x
    return xs, x, y


def energy(x, y):
    """E = (sum X^2 + sum Y^2) / 2, conserved by the advection and coupling terms."""
    return 0.5 * (float(np.sum(x * x)) + float(np.sum(y * y)))


def make_inputs(size=1.0, seed=0):
    """All arguments of ``cost``: a twin experiment on the attractor.

    ``size`` scales the number of slow variables (K = 36 size, J = 10 fast ones each) and the
    number of steps (40 size, dt = 0.005, so 0.2 model time units at size 1).  The window stays
    short because the fast scale is chaotic: gradients grow like exp(lambda t).
    """
    rng = np.random.default_rng(seed)
    nk = max(4, int(round(36 * size)))
    nj = 10
    dt = 0.005
    nsteps = max(4, int(round(40 * size)))
    obs_every = 4
    forcing = 10.0
    x = forcing * (0.5 + 0.1 * rng.normal(size=nk))
    y = 0.1 * rng.normal(size=nk * nj)
    _, x, y = rk4_vectorized(x, y, forcing, dt, 600)      # spin-up onto the attractor (3 MTU)
    truth_x, _, _ = rk4_vectorized(x, y, forcing, dt, nsteps)
    n_obs = nsteps // obs_every
    x_obs = truth_x[obs_every - 1::obs_every][:n_obs] + OBS_SIGMA * rng.normal(size=(n_obs, nk))
    # the first guess: the true state with background errors, and a biased forcing
    x0 = x + 0.5 * rng.normal(size=nk)
    y0 = y + 0.05 * rng.normal(size=nk * nj)
    return dict(x0=x0, y0=y0, forcing=0.95 * forcing, x_obs=x_obs, dt=dt, nsteps=nsteps,
                obs_every=obs_every)
