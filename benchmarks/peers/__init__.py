"""Hand ports of bench_peers.py's workloads to PyTorch (eager autograd) and JAX (jit of grad).

Each workload module defines ``cost(xp, params, data, static)``: the same arithmetic as the
NumPy model, statement for statement, written once against the small array interface of
``backend.py`` (``xp`` is a ``TorchOps`` or a ``JaxOps``), in functional form (a slice update
makes a new array) because JAX has no in-place updates and PyTorch's autograd refuses in-place
updates of values its backward needs.  Time loops go through ``xp.fori`` (a Python loop in
PyTorch, ``jax.lax.fori_loop`` in JAX, so that jit compiles one step and not every step
unrolled).  Workloads written as element loops also have a ``cost_torch_loops``: the loops
kept, on Python lists of 0-d tensors.
"""
