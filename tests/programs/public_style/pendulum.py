"""A damped driven pendulum by leapfrog (velocity Verlet), states appended to a list, then stacked."""
import math

import numpy as np


def torque(theta, omega, t, g=9.81, L=1.0, damping=0.1, drive=0.5):
    return -(g / L) * np.sin(theta) - damping * omega + drive * math.cos(0.7 * t)


def simulate(theta0, omega0, L, dt, tmax):
    theta, omega = theta0, omega0
    t = 0.0
    states = []
    a = torque(theta, omega, t, L=L)
    while t < tmax:
        omega_half = omega + 0.5 * dt * a
        theta = theta + dt * omega_half
        t += dt
        a = torque(theta, omega_half, t, L=L)
        omega = omega_half + 0.5 * dt * a
        states.append(np.array([theta, omega]))
    return np.stack(states)


def cost(theta0, omega0, L, dt=0.05, tmax=1.0):
    traj = simulate(theta0, omega0, L, dt, tmax)
    energy = 0.5 * traj[:, 1] ** 2 + 9.81 / L * (1 - np.cos(traj[:, 0]))
    return np.mean(energy) + traj[-1, 0] ** 2


def inputs():
    return dict(theta0=0.8, omega0=0.1, L=1.2)


WRT = ("theta0", "omega0", "L")
