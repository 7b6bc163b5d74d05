"""bench_core.py's three shapes: damped_pendulum (scalar), advection_reaction (vectorized),
heat_elements (element loops; ``heat_elements`` writes the loop nest as one slice expression,
``heat_elements_torch_loops`` keeps it, on lists of 0-d tensors)."""
import math


def damped_pendulum(xp, params, data, static):
    nsteps = static["nsteps"]
    dt = 0.001
    forcing = xp.table([0.3 * math.cos(0.002 * i) for i in range(nsteps)])
    decay = xp.table([math.exp(-0.0001 * i) for i in range(nsteps)])
    k = params["k"]

    def step(i, state):
        theta, omega, cost = state
        accel = -k * xp.sin(theta) - 0.2 * omega + forcing[i]
        omega = omega + dt * accel
        theta = theta + dt * omega
        cost = cost + dt * (theta * theta + 0.1 * xp.tanh(omega) ** 2) * decay[i]
        return theta, omega, cost

    return xp.fori(0, nsteps, step, (params["theta0"], xp.scalar(0.0), xp.scalar(0.0)))[2]


def advection_reaction(xp, params, data, static):
    vel, kappa = params["vel"], params["kappa"]
    lam = 0.2

    def step(n, c):
        right = xp.roll(c, -1, axis=0)
        flux = vel * 0.5 * (c + right) - kappa * (right - c)
        c = xp.set(c, slice(1, -1), c[1:-1] - lam * (flux[1:-1] - flux[:-2]))
        return c + 0.01 * c * (1.0 - c * c)

    c = xp.fori(0, static["nsteps"], step, params["c0"])
    return 0.5 * xp.sum(c * c) / c.shape[0]


def heat_elements(xp, params, data, static):
    kappa = params["kappa"]
    inner = (slice(1, -1), slice(1, -1))

    def step(it, T):
        Tn = T
        c = Tn[1:-1, 1:-1]
        return xp.set(T, inner, c + kappa * (Tn[2:, 1:-1] + Tn[:-2, 1:-1] + Tn[1:-1, 2:] + Tn[1:-1, :-2]
                                             - 4.0 * c) - 0.01 * c ** 3)

    T = xp.fori(0, static["nsteps"], step, params["T0"])
    return xp.sum(T * T)


def heat_elements_torch_loops(xp, params, data, static):
    kappa = params["kappa"]
    nx, ny = params["T0"].shape
    T = [list(row.unbind()) for row in params["T0"].unbind()]
    for it in range(static["nsteps"]):
        Tn = [list(row) for row in T]
        for i in range(1, nx - 1):
            for j in range(1, ny - 1):
                T[i][j] = Tn[i][j] + kappa * (Tn[i + 1][j] + Tn[i - 1][j] + Tn[i][j + 1]
                                              + Tn[i][j - 1] - 4.0 * Tn[i][j]) - 0.01 * Tn[i][j] ** 3
    T = xp.stack([xp.stack(row) for row in T])
    return xp.sum(T * T)
