"""examples/lorenz96: two-scale Lorenz-96 with RK4 and a 4D-Var misfit.

``cost`` writes each element loop of the model as one array expression (np.roll for the
wrapped indices); sums the model accumulates element by element (the coupling sum over j) are
accumulated in the same order.  ``cost_torch_loops`` keeps the model's element loops, on
Python lists of 0-d tensors."""
from .backend import example_module

M = example_module("lorenz96")


def cost(xp, params, data, static):
    forcing, dt = params["forcing"], static["dt"]
    nsteps, obs_every = static["nsteps"], static["obs_every"]
    x_obs = data["x_obs"]
    nk = data["x_obs"].shape[1]
    nj = params["y0"].shape[0] // nk
    coupling = M.COUPLING * M.TIME_RATIO / M.SPACE_RATIO

    def tendencies(x, y):
        yk = y.reshape(nk, nj)
        ysum = 0.0
        for j in range(nj):
            ysum = ysum + yk[:, j]
        dxdt = -xp.roll(x, 1, axis=0) * (xp.roll(x, 2, axis=0) - xp.roll(x, -1, axis=0)) - x + forcing - coupling * ysum
        dydt = (-M.TIME_RATIO * M.SPACE_RATIO * xp.roll(y, -1, axis=0) * (xp.roll(y, -2, axis=0) - xp.roll(y, 1, axis=0))
                - M.TIME_RATIO * y + coupling * xp.repeat(x, nj))
        return dxdt, dydt

    def rk4_step(n, state):
        x, y = state
        kx0, ky0 = tendencies(x, y)
        kx1, ky1 = tendencies(x + 0.5 * dt * kx0, y + 0.5 * dt * ky0)
        kx2, ky2 = tendencies(x + 0.5 * dt * kx1, y + 0.5 * dt * ky1)
        kx3, ky3 = tendencies(x + dt * kx2, y + dt * ky2)
        x = x + dt / 6.0 * (kx0 + 2.0 * kx1 + 2.0 * kx2 + kx3)
        y = y + dt / 6.0 * (ky0 + 2.0 * ky1 + 2.0 * ky2 + ky3)
        return x, y

    def window(t, carry):
        x, y, total = carry
        x, y = xp.fori(0, obs_every, rk4_step, (x, y))
        misfit = xp.sum(0.5 * ((x - x_obs[t]) / M.OBS_SIGMA) ** 2)
        return x, y, total + misfit

    n_obs = nsteps // obs_every
    x, y, total = xp.fori(0, n_obs, window, (params["x0"], params["y0"], xp.scalar(0.0)))
    # steps after the last observation do not change the cost; run them as the model does
    xp.fori(n_obs * obs_every, nsteps, rk4_step, (x, y))
    return total


def cost_torch_loops(xp, params, data, static):
    """The model's loops as they are, element by element (PyTorch only)."""
    forcing, dt = params["forcing"], static["dt"]
    nsteps, obs_every = static["nsteps"], static["obs_every"]
    x_obs = data["x_obs"]
    nk = x_obs.shape[1]
    nm = params["y0"].shape[0]
    nj = nm // nk
    coupling = M.COUPLING * M.TIME_RATIO / M.SPACE_RATIO
    obs = [[float(v) for v in row] for row in x_obs.numpy()]

    def slow_tendency(x, y):
        dxdt = [None] * nk
        for k in range(nk):
            kp1 = k + 1
            if kp1 == nk:
                kp1 = 0
            ysum = 0.0
            for j in range(nj):
                ysum = ysum + y[k * nj + j]
            dxdt[k] = -x[k - 1] * (x[k - 2] - x[kp1]) - x[k] + forcing - coupling * ysum
        return dxdt

    def fast_tendency(x, y):
        dydt = [None] * nm
        for k in range(nk):
            for j in range(nj):
                m = k * nj + j
                mp1 = m + 1
                mp2 = m + 2
                if mp2 >= nm:
                    mp2 = mp2 - nm
                    if mp1 >= nm:
                        mp1 = mp1 - nm
                dydt[m] = (-M.TIME_RATIO * M.SPACE_RATIO * y[mp1] * (y[mp2] - y[m - 1])
                           - M.TIME_RATIO * y[m] + coupling * x[k])
        return dydt

    def axpy(a, v, base):
        return [base[i] + a * v[i] for i in range(len(base))]

    def rk4_combine(q, k1, k2, k3, k4):
        return [q[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) for i in range(len(q))]

    x = list(params["x0"].unbind())
    y = list(params["y0"].unbind())
    total = 0.0
    t = 0
    since_obs = 0
    for n in range(nsteps):
        kx0, ky0 = slow_tendency(x, y), fast_tendency(x, y)
        xs, ys = axpy(0.5 * dt, kx0, x), axpy(0.5 * dt, ky0, y)
        kx1, ky1 = slow_tendency(xs, ys), fast_tendency(xs, ys)
        xs, ys = axpy(0.5 * dt, kx1, x), axpy(0.5 * dt, ky1, y)
        kx2, ky2 = slow_tendency(xs, ys), fast_tendency(xs, ys)
        xs, ys = axpy(dt, kx2, x), axpy(dt, ky2, y)
        kx3, ky3 = slow_tendency(xs, ys), fast_tendency(xs, ys)
        x = rk4_combine(x, kx0, kx1, kx2, kx3)
        y = rk4_combine(y, ky0, ky1, ky2, ky3)
        since_obs = since_obs + 1
        if since_obs == obs_every:
            misfit = 0.0
            for k in range(nk):
                misfit = misfit + 0.5 * ((x[k] - obs[t][k]) / M.OBS_SIGMA) ** 2
            total = total + misfit
            t = t + 1
            since_obs = 0
    return total
