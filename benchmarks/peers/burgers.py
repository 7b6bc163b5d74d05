"""examples/burgers: flux, tendency and Heun's RK2 step, functional."""


def cost(xp, params, data, static):
    nu, dx, dt = params["nu"], static["dx"], static["dt"]

    def tendency(u):
        u_west = xp.roll(u, 1, axis=0)
        u_face = 0.5 * (u_west + u)
        advective = xp.where(u_face > 0.0, 0.5 * u_west * u_west, 0.5 * u * u)
        f = advective - nu * (u - u_west) / dx
        return -(xp.roll(f, -1, axis=0) - f) / dx

    def rk2_step(n, u):
        du = tendency(u)
        u1 = u + dt * du
        du = tendency(u1)
        return 0.5 * (u + u1 + dt * du)

    u = xp.fori(0, static["nsteps"], rk2_step, params["u0"])
    return 0.5 * dx * xp.sum((u - data["u_obs"]) ** 2)
