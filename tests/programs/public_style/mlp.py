"""A small two-layer classifier: tanh hidden layer, softmax with max subtraction, cross-entropy
plus an L2 penalty; parameters passed separately, data and config as arguments."""
import numpy as np


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def forward(X, W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    return softmax(h @ W2 + b2), h


def cross_entropy(p, y):
    n = y.shape[0]
    return -np.mean(np.log(p[np.arange(n), y] + 1e-12))


def cost(W1, b1, W2, b2, X, y, reg=1e-2):
    probs, hidden = forward(X, W1, b1, W2, b2)
    loss = cross_entropy(probs, y)
    for W in (W1, W2):
        loss += 0.5 * reg * np.sum(W * W)
    return loss


def inputs():
    rng = np.random.default_rng(7)
    n, d, h, k = 10, 3, 5, 4
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return dict(W1=0.5 * rng.normal(size=(d, h)), b1=np.zeros(h), W2=0.5 * rng.normal(size=(h, k)),
                b2=0.1 * rng.normal(size=k), X=X, y=y)


WRT = ("W1", "b1", "W2", "b2")
