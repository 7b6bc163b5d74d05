"""Logistic regression trained by a few steps of gradient descent written by hand; the cost is
the validation loss after training, differentiated with respect to the initial weights and the
learning rate (a hyper-gradient)."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss_and_grad(w, b, X, y):
    p = sigmoid(X @ w + b)
    eps = 1e-9
    loss = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
    err = p - y
    gw = X.T @ err / len(y)
    gb = np.mean(err)
    return loss, gw, gb


def cost(w0, lr, X, y, Xv, yv, epochs=8):
    w = w0.copy()
    b = 0.0
    losses = []
    for epoch in range(epochs):
        loss, gw, gb = loss_and_grad(w, b, X, y)
        w -= lr * gw
        b -= lr * gb
        losses.append(loss)
    val, _, _ = loss_and_grad(w, b, Xv, yv)
    return val + 0.01 * np.sum(np.array(losses))


def inputs():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(12, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = (X @ w_true > 0).astype(float)
    Xv = rng.normal(size=(6, 3))
    yv = (Xv @ w_true > 0).astype(float)
    return dict(w0=0.1 * rng.normal(size=3), lr=0.5, X=X, y=y, Xv=Xv, yv=yv)


WRT = ("w0", "lr")
