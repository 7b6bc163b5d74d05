"""Ridge-regularized polynomial fit by the normal equations; the cost is the misfit at held-out
points, differentiated with respect to the data and the regularization weight."""
import numpy as np


def design_matrix(x, degree):
    A = np.ones((len(x), degree + 1))
    for p in range(1, degree + 1):
        A[:, p] = A[:, p - 1] * x
    return A


def fit(x, y, degree, lam):
    A = design_matrix(x, degree)
    lhs = A.T @ A + lam * np.eye(degree + 1)
    rhs = A.T @ y
    return np.linalg.solve(lhs, rhs)


def cost(y, lam, x, x_test, y_test, degree=3):
    coef = fit(x, y, degree, lam)
    pred = design_matrix(x_test, degree) @ coef
    resid = pred - y_test
    return np.dot(resid, resid) / len(resid) + lam * np.linalg.norm(coef) ** 2


def inputs():
    rng = np.random.default_rng(12)
    x = np.linspace(-1, 1, 9)
    x_test = np.linspace(-0.9, 0.9, 5)
    return dict(y=np.sin(2 * x) + 0.1 * rng.normal(size=9), lam=0.1, x=x, x_test=x_test,
                y_test=np.sin(2 * x_test))


WRT = ("y", "lam")
