"""Programs written the way tutorials and course codes write NumPy (tests/test_public_style.py).

Each module has a scalar ``cost``, ``inputs()`` (small sizes: the keyword arguments of one run)
and ``WRT`` (the parameters differentiated)."""
