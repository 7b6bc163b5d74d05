"""The generated module: deterministic, readable, balanced tape, never mutates arguments."""
import importlib.util
import math
import re
import sys

import numpy as np
import pytest

import adjoin
from adjoin.runtime.tape import Tape

PROGRAM = '''
import numpy as np


def smooth(u, c):
    u[1:-1] += c * (u[2:] - 2.0 * u[1:-1] + u[:-2])


def cost(u0, c, nsteps):
    u = u0.copy()
    for n in range(nsteps):
        # $AD NOCHECKPOINT
        smooth(u, c)
        u = np.tanh(u)
    return np.sum(u * u)
'''


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "gen_model.py"
    path.write_text(PROGRAM)
    spec = importlib.util.spec_from_file_location("gen_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_model"] = module
    spec.loader.exec_module(module)
    return module


def args():
    return dict(u0=np.linspace(-1.0, 1.0, 12), c=0.2, nsteps=5)


def test_source_is_deterministic(model):
    first = adjoin.adjoint(model.cost, wrt=("u0", "c"))
    first(**args())
    second = adjoin.adjoint(model.cost, wrt=("u0", "c"))
    second(**args())
    assert first.source == second.source
    assert adjoin.generate_source(model.cost, ("u0", "c"), example=args()) == first.source


def test_source_is_readable(model):
    adj = adjoin.adjoint(model.cost, wrt=("u0", "c"), verify=False)
    adj(**args())
    source = adj.source
    compile(source, "adjoint", "exec")
    assert "def cost_b(tape, u0, c, nsteps" in source
    assert "# line 13" in source                    # comments back to the source lines
    assert "smooth_fwd(tape, u, c)" in source       # the directive: split mode
    assert "u_b" in source and "c_b" in source      # Tapenade's naming of adjoints
    assert "tape.push(" in source and "tape.pop()" in source


def test_generated_file_runs_as_a_module(model, tmp_path):
    source = adjoin.generate_source(model.cost, ("u0", "c"), example=args(), verify=False)
    path = tmp_path / "adjoint_of_cost.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("adjoint_of_cost", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tape = Tape()
    a = args()
    value, (g_u0, g_c) = module.cost_b(tape, a["u0"].copy(), a["c"], a["nsteps"], 1.0)
    tape.check_empty()
    expected_value, (e_u0, e_c) = adjoin.value_and_grad(model.cost, wrt=("u0", "c"))(**args())
    assert value == pytest.approx(expected_value)
    assert np.allclose(g_u0, e_u0) and g_c == pytest.approx(e_c)


def test_arguments_are_not_mutated(model):
    a = args()
    before = a["u0"].copy()
    adjoin.value_and_grad(model.cost, wrt="u0")(**a)
    assert np.array_equal(a["u0"], before)


def test_tape_is_empty_and_peak_measured(model):
    run = adjoin.adjoint(model.cost, wrt=("u0",)).measure(**args())
    assert run.peak_tape_bytes > 0
    assert run.seconds > 0
    assert run.grads[0].shape == (12,)


def test_gradient_types_follow_parameters(model):
    value, (g_u0, g_c) = adjoin.value_and_grad(model.cost, wrt=("u0", "c"))(**args())
    assert isinstance(value, float)
    assert isinstance(g_c, float)
    assert isinstance(g_u0, np.ndarray) and g_u0.shape == (12,)
    g = adjoin.grad(model.cost, wrt="c")(**args())
    assert isinstance(g, float)
    g = adjoin.grad(model.cost, wrt=(1,))(**args())
    assert isinstance(g, tuple) and len(g) == 1


def test_verify_mode_off_leaves_no_trace(model, monkeypatch):
    monkeypatch.delenv("ADJOIN_VERIFY", raising=False)
    source = adjoin.generate_source(model.cost, ("u0", "c"), example=args())
    assert "verify" not in source
    monkeypatch.setenv("ADJOIN_VERIFY", "1")
    assert "verify.keep(" in adjoin.generate_source(model.cost, ("u0", "c"), example=args())
    assert "verify" not in adjoin.generate_source(model.cost, ("u0", "c"), example=args(), verify=False)


@pytest.mark.parametrize("nocheckpoint", [(), ("smooth",)])
def test_verify_mode_gives_the_same_gradient_and_tape(model, nocheckpoint):
    plain = adjoin.adjoint(model.cost, wrt=("u0", "c"), nocheckpoint=nocheckpoint, verify=False).measure(**args())
    checked = adjoin.adjoint(model.cost, wrt=("u0", "c"), nocheckpoint=nocheckpoint, verify=True).measure(**args())
    assert checked.value == plain.value
    assert np.array_equal(checked.grads[0], plain.grads[0]) and checked.grads[1] == plain.grads[1]
    assert checked.peak_tape_bytes == plain.peak_tape_bytes


def _tendency(f, dx):
    return np.sum((-(np.roll(f, -1) - f) / dx) ** 2)


def test_a_shape_is_read_from_the_argument_of_a_primitive_that_keeps_it():
    """np.roll keeps its argument's shape: sum_to reads f's, never a second np.roll(f, -1)."""
    f = np.linspace(0.0, 1.0, 7) ** 2
    source = adjoin.generate_source(_tendency, ("f",), example=dict(f=f, dx=0.5))
    assert "ad.sum_to(tmp_b, f)" in source and not re.search(r"ad\.sum_to\([^()]*, np\.roll", source), source
    (g,) = adjoin.grad(_tendency, wrt=("f",))(f, 0.5)
    d = -(np.roll(f, -1) - f) / 0.5
    assert np.allclose(g, 2.0 * (-np.roll(d, 1) + d) / 0.5, rtol=1e-13)


def _scaled(x, n):
    y = np.sin(x)
    for k in range(n):
        y = 3.0 * y
        y = y * y
    return np.sum(y)


def test_a_statement_scaling_its_target_updates_the_adjoint_in_one_statement():
    """y = 3.0 * y has the adjoint y_b = y_b * 3.0 (not t = y_b; y_b = 0.0; y_b += t * 3.0);
    y = y * y, whose adjoint reads the old adjoint twice, keeps the long form."""
    x = np.linspace(0.1, 0.9, 5)
    source = adjoin.generate_source(_scaled, ("x",), example=dict(x=x, n=2))
    assert "y_b = y_b * 3.0" in source or "y_b = 3.0 * y_b" in source, source
    (g,) = adjoin.grad(_scaled, wrt=("x",))(x, 2)
    # y = (9 (9 sin^2)^2) ... : y_n = 9 y_{n-1}^2, so d/dx by the chain rule
    y, dy = np.sin(x), np.cos(x)
    for _ in range(2):
        y, dy = 9.0 * y * y, 18.0 * y * dy
    assert np.allclose(g, dy, rtol=1e-13)


def _powers(x, a):
    return np.sum(x ** 2 + x ** 3 + x ** 1 + x ** 2.0 + 0.5 * x ** 0.5) + a ** 2 + math.pow(a, 3)


def test_a_whole_constant_power_is_differentiated_inline_in_both_modes():
    """x ** 2 has the adjoint x_b += g * (2.0 * x) and the tangent x_d * (2.0 * x), not the guarded
    ad.pow_base (six array operations); x ** 0.5 keeps the guard. Both against the exact derivative."""
    x, a = np.linspace(0.1, 0.9, 5), 0.7
    exact_x = 2 * x + 3 * x ** 2 + 1 + 2 * x + 0.25 * x ** -0.5
    exact_a = 2 * a + 3 * a ** 2
    adjoint = adjoin.generate_source(_powers, ("x", "a"), example=dict(x=x, a=a))
    tangent = adjoin.tangent(_powers, wrt=("x", "a"))
    (_, value_d) = tangent(x, a, tangents=(np.ones_like(x), 0.0))
    for source in (adjoint, tangent.source):
        assert source.count("pow_base") == 1 and "(2.0 * x)" in source and "(3.0 * x ** 2)" in source, source
    g_x, g_a = adjoin.grad(_powers, wrt=("x", "a"))(x, a)
    assert np.allclose(g_x, exact_x, rtol=1e-14) and math.isclose(g_a, exact_a, rel_tol=1e-14)
    assert math.isclose(value_d, np.sum(exact_x), rel_tol=1e-14)


def _logs(a):
    return math.log(a) + math.log(a, 10.0)


def test_a_template_conditional_on_a_default_is_decided_when_generating():
    """math.log(a) without a base: its rule's 'if base is None' is decided, not left in the code."""
    a = 3.0
    adjoint = adjoin.generate_source(_logs, ("a",), example=dict(a=a))
    tangent = adjoin.tangent(_logs, wrt="a")
    _, value_d = tangent(a, tangents=(1.0,))
    for source in (adjoint, tangent.source):
        assert "None is None" not in source and "10.0 is None" not in source, source
    exact = 1.0 / a + 1.0 / (a * math.log(10.0))
    g = adjoin.grad(_logs, wrt="a")(a)
    assert math.isclose(g, exact, rel_tol=1e-14) and math.isclose(value_d, exact, rel_tol=1e-14)


def _neighbours(y, c):
    n = y.shape[0]
    out = np.zeros_like(y)
    for k in range(n):
        kp1 = k + 1
        if kp1 == n:
            kp1 = 0
        out[k] = y[kp1] * y[k - 1] * c
    return np.sum(out * out)


def test_integer_indices_at_the_top_of_a_loop_are_computed_again_not_pushed():
    """kp1 = k + 1, wrapped by a branch, is computed again at the top of the reversed iteration
    (it reads only the loop index and a name the loop leaves alone) instead of being pushed and
    popped once per iteration."""
    y = np.linspace(-0.8, 0.9, 6)
    source = adjoin.generate_source(_neighbours, ("y", "c"), example=dict(y=y, c=0.7))
    assert "tape.push(kp1)" not in source, source
    backward = source[source.index("for k in reversed(range(n))"):]
    assert "kp1 = k + 1" in backward, source


def _dying_locals(u, c):
    flux = c * u * u
    return np.sum(np.sin(flux))


def _calls_dying(u, c):
    return _dying_locals(u, c) + np.sum(u)


def test_a_split_forward_sweep_moves_its_dying_locals_onto_the_tape():
    """flux dies when _dying_locals returns: its split forward sweep pushes it with tape.move
    (kept uncopied when only that name holds it); parameters are still pushed with copies."""
    u = np.linspace(0.1, 0.9, 5)
    source = adjoin.generate_source(_calls_dying, ("u", "c"), example=dict(u=u, c=0.7),
                                    nocheckpoint=["_dying_locals"])
    forward = source[source.index("def _dying_locals_fwd"):source.index("def _dying_locals_bwd")]
    assert "tape.move(flux)" in forward, forward
    grads = adjoin.grad(_calls_dying, wrt=("u", "c"), nocheckpoint=["_dying_locals"])(u, 0.7)
    flux = 0.7 * u * u
    assert np.allclose(grads[0], np.cos(flux) * 1.4 * u + 1.0, rtol=1e-13)
    assert np.isclose(grads[1], np.sum(np.cos(flux) * u * u), rtol=1e-13)
