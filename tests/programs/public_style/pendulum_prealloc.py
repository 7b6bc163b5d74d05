"""The same pendulum written with a preallocated trajectory and tuple-returning helpers."""
import numpy as np


def accel(theta, omega, g, L, damping):
    return -(g / L) * np.sin(theta) - damping * omega


def leapfrog(theta, omega, dt, g, L, damping):
    omega_half = omega + 0.5 * dt * accel(theta, omega, g, L, damping)
    theta_new = theta + dt * omega_half
    omega_new = omega_half + 0.5 * dt * accel(theta_new, omega_half, g, L, damping)
    return theta_new, omega_new


def cost(theta0, omega0, L, damping=0.2, g=9.81, dt=0.05, nsteps=30):
    traj = np.empty((nsteps + 1, 2))
    traj[0] = theta0, omega0
    theta, omega = theta0, omega0
    for n in range(1, nsteps + 1):
        theta, omega = leapfrog(theta, omega, dt, g, L, damping)
        traj[n, 0] = theta
        traj[n, 1] = omega
    kinetic = 0.5 * L**2 * traj[:, 1] ** 2
    potential = g * L * (1.0 - np.cos(traj[:, 0]))
    return np.sum(kinetic + potential) * dt


def inputs():
    return dict(theta0=0.8, omega0=0.1, L=1.2)


WRT = ("theta0", "omega0", "L")
