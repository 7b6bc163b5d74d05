"""The array operations the ports use, for PyTorch and for JAX, with NumPy's names and argument
conventions (``axis=``), so that a port reads like the NumPy model it copies."""
import importlib.util
import os
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def example_module(name):
    """examples/<name>/<name>.py, loaded under a private name (the ports read its constants)."""
    spec = importlib.util.spec_from_file_location(f"_peer_constants_{name}", EXAMPLES / name / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TorchOps:
    """PyTorch eager, float64, one thread."""
    name = "torch"

    def __init__(self):
        import torch
        torch.set_num_threads(1)
        self.t = torch

    # conversion
    def param(self, value):
        """A leaf that autograd differentiates (NumPy memory shared, not copied)."""
        if isinstance(value, np.ndarray):
            return self.t.from_numpy(value).requires_grad_(True)
        return self.t.tensor(float(value), dtype=self.t.float64, requires_grad=True)

    def const(self, value):
        if isinstance(value, np.ndarray):
            return self.t.from_numpy(np.ascontiguousarray(value))
        return value

    def table(self, values):
        """Constants indexed by a loop counter: a list of floats (the counter is an int here)."""
        return [float(v) for v in values]

    def scalar(self, value):
        return float(value)

    # operations
    def roll(self, x, shift, axis):
        return self.t.roll(x, shift, axis)

    def where(self, cond, a, b):
        return self.t.where(cond, a, b)

    def maximum(self, x, floor):
        return self.t.clamp(x, min=floor)

    def sum(self, x, axis=None):
        return self.t.sum(x) if axis is None else self.t.sum(x, dim=axis)

    def diff(self, x, axis):
        return self.t.diff(x, dim=axis)

    def sqrt(self, x):
        return self.t.sqrt(x)

    def log(self, x):
        return self.t.log(x)

    def sin(self, x):
        return self.t.sin(x)

    def cos(self, x):
        return self.t.cos(x)

    def tanh(self, x):
        return self.t.tanh(x)

    def exp(self, x):
        return self.t.exp(x)

    def stack(self, xs):
        return self.t.stack(list(xs))

    def repeat(self, x, n):
        return self.t.repeat_interleave(x, n)

    def zeros_like(self, x):
        return self.t.zeros_like(x)

    def set(self, x, index, value):
        """x with x[index] = value, as a new array (x is left as it is)."""
        y = x.clone()
        y[index] = value
        return y

    def fori(self, lo, hi, body, carry):
        for i in range(lo, hi):
            carry = body(i, carry)
        return carry

    # gradients
    def value_and_grad(self, cost, wrt):
        """f(params, data, static) -> (value, {name: gradient as NumPy}), forward and backward."""
        def run(params, data, static):
            leaves = {name: self.param(params[name]) for name in wrt}
            tensors = {name: self.const(v) for name, v in data.items()}
            value = cost(self, leaves, tensors, static)
            value.backward()
            return float(value.detach()), {name: leaves[name].grad.numpy() for name in wrt}
        return run


class JaxOps:
    """JAX with 64-bit floats; ``value_and_grad`` jits ``jax.value_and_grad`` of the cost."""
    name = "jax"

    def __init__(self):
        # one thread for XLA's CPU backend too (set before jax is imported, or it has no effect)
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.np = jax, jnp

    def param(self, value):
        return np.asarray(value, dtype=np.float64)

    def const(self, value):
        return value

    def table(self, values):
        return self.np.asarray(np.asarray(values, dtype=np.float64))

    def scalar(self, value):
        return self.np.asarray(value, dtype=self.np.float64)

    def roll(self, x, shift, axis):
        return self.np.roll(x, shift, axis)

    def where(self, cond, a, b):
        return self.np.where(cond, a, b)

    def maximum(self, x, floor):
        return self.np.maximum(x, floor)

    def sum(self, x, axis=None):
        return self.np.sum(x, axis=axis)

    def diff(self, x, axis):
        return self.np.diff(x, axis=axis)

    def sqrt(self, x):
        return self.np.sqrt(x)

    def log(self, x):
        return self.np.log(x)

    def sin(self, x):
        return self.np.sin(x)

    def cos(self, x):
        return self.np.cos(x)

    def tanh(self, x):
        return self.np.tanh(x)

    def exp(self, x):
        return self.np.exp(x)

    def stack(self, xs):
        return self.np.stack(list(xs))

    def repeat(self, x, n):
        return self.np.repeat(x, n)

    def zeros_like(self, x):
        return self.np.zeros_like(x)

    def set(self, x, index, value):
        return x.at[index].set(value)

    def fori(self, lo, hi, body, carry):
        return self.jax.lax.fori_loop(lo, hi, body, carry)

    def value_and_grad(self, cost, wrt):
        """f(params, data, static) -> (value, {name: gradient}); ``static`` (ints and floats that
        are not differentiated) is closed over, so jit sees it as constants; the arrays of
        ``data`` are arguments.  The returned function compiles once: give it one ``static``."""
        jax = self.jax
        compiled = []

        def run(params, data, static):
            if not compiled:        # jit traces and compiles at the first call, for this static
                compiled.append(jax.jit(jax.value_and_grad(lambda p, d: cost(self, p, d, static))))
            value, grads = compiled[0]({name: self.param(params[name]) for name in wrt},
                                       {name: np.asarray(v) for name, v in data.items()})
            grads = jax.block_until_ready(grads)
            return float(value), {name: np.asarray(grads[name]) for name in wrt}
        return run
