"""Issue 12's reproducers: shapes of real models that once gave wrong gradients, crashes or false
refusals.  Each program (tests/programs/soundness.py) must give the gradient that converged
central finite differences give, the same gradient under every placement (1e-12), and pass in
verify mode."""
import ast
import copy
import importlib.util
import itertools
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjoin
from programs import clashes, heap
from programs import soundness as S

RNG = np.random.default_rng(12)
T0 = 10.0 + 3.0 * RNG.normal(size=(5, 4))
X4 = RNG.uniform(-1.0, 1.0, 4)
X34 = RNG.uniform(-1.0, 1.0, (3, 4))

CASES = {
    "row_views_then_mixing": (dict(T0=T0, z=np.linspace(0.0, 1.0, 5)), ("T0", "z")),
    "row_view_named_then_mixing": (dict(T0=T0, z=np.linspace(0.0, 1.0, 5)), ("T0", "z")),
    "second_name_written": (dict(a=np.array([1.0, 2.0, 3.0]), b=np.array([0.5, 1.5, 2.0])), ("a", "b")),
    "view_written_after_use": (dict(a=X4, b=X4[::-1].copy()), ("a", "b")),
    "list_returned": (dict(h=np.array([1.0, 2.0])), ("h",)),
    "list_indexed": (dict(h=np.array([1.0, 2.0])), ("h",)),
    "method_on_call": (dict(x=X34), ("x",)),
    "reduction_of_call_reshaped": (dict(x=X34), ("x",)),
    "transpose_of_call": (dict(x=X34[:, :3].copy()), ("x",)),
    "results_updated_in_place": (dict(x=X4), ("x",)),
    "real_part": (dict(x=X4), ("x",)),
    "pairwise_distances": (dict(x=X4), ("x",)),
    "masked_power": (dict(x=np.array([0.2, 1.3, -0.9, 1.1, 0.4])), ("x",)),
    "rebinding_subroutine": (dict(x=np.linspace(0.2, 1.1, 6), a=1.3), ("x", "a")),
    "reset_then_indexed": (dict(x=X4, a=1.3, n=2), ("x", "a")),
    "unused_concatenate": (dict(x=X4, a=1.3), ("x", "a")),
    "unused_stack": (dict(x=X4, a=1.3), ("x", "a")),
    "element_beside_its_array": (dict(x=X4, a=1.3), ("x", "a")),
    "shared_results_written": (dict(x=X4), ("x",)),
    "rebinding_function": (dict(x=X4, c=1.3), ("x", "c")),
    "flipped_view_written": (dict(x=X4), ("x",)),
    "repeated_index_store": (dict(x=np.array([1.0, 2.0, 3.0])), ("x",)),
    "repeated_index_add": (dict(x=np.array([1.0, 2.0, 3.0])), ("x",)),
    "repeated_index_scale": (dict(x=np.array([1.0, 2.0, 3.0])), ("x",)),
    "negative_index_same_element": (dict(x=np.array([1.0, 2.0, 3.0])), ("x",)),
    "repeated_index_two_dimensional": (dict(x=np.array([1.0, 2.0, 3.0])), ("x",)),
    "float_into_int_array": (dict(x=np.array([1.1, 1.7, 2.3])), ("x",)),
    "cell_index": (dict(x=np.array([1.1, 1.7, 2.3])), ("x",)),
    "view_of_a_parameter_written": (dict(x0=np.array([1.0, 2.0]), c=0.5), ("x0", "c")),
    "rows_of_a_parameter_written": (dict(x0=np.array([1.0, 2.0, -0.5]), c=0.5), ("x0", "c")),
    "views_written_out": (dict(a=np.array([0.3, -1.2, 0.8, 2.0, 0.1]), s=1.3), ("a", "s")),
    "rebound_to_an_inactive_call": (dict(x=X4, a=0.7), ("x", "a")),
    "indexed_views": (dict(a=np.array([0.3, -1.2, 0.8, 2.0, 0.1]), s=1.3), ("a", "s")),
    "unused_joined_argument": (dict(x=X4, a=1.3), ("x", "a")),
    "rows_named_in_a_loop": (dict(x=X4, k=0.7), ("x", "k")),
    "column_named_in_a_branch": (dict(x=X4, k=0.7), ("x", "k")),
    "shifted_rows_named": (dict(x=X4, k=0.7), ("x", "k")),
    "named_row_beside_its_array": (dict(x=X4, k=0.7), ("x", "k")),
    "view_by_an_int_name_written": (dict(x=X4, k=0.7), ("x", "k")),
    "row_view_on_every_path": (dict(x=np.array([2.5, 0.3, 4.0, 5.0]), k=0.7), ("x", "k")),
    "write_only_argument_changed_later": (dict(x=np.linspace(-0.8, 0.9, 7), a=0.7), ("x", "a")),
    "chosen_alias_beside_its_array": (dict(x=X4, a=0.7), ("x", "a")),
    "argument_reads_a_named_view": (dict(x=X4, a=0.7), ("x", "a")),
    "rank_kept_through_a_method_in_a_loop": (dict(x=X4, a=0.7), ("x", "a")),
    "parameter_rebound_then_its_alias_written": (dict(x=np.array([0.3, -0.2, 0.5, 0.9]), a=0.7), ("x", "a")),
    "numpy_zero_adjoint": (dict(x=np.linspace(0.1, 0.9, 6), a=0.3), ("x", "a")),
    "view_returned": (dict(x=np.linspace(0.1, 0.9, 6), a=0.3), ("x", "a")),
    "updated_parameter_returned": (dict(u0=np.linspace(0.0, 1.0, 7) ** 2, c=0.3), ("u0", "c")),
    "wrapped_neighbours": (dict(y=np.linspace(-0.8, 0.9, 6), c=0.7), ("y", "c")),
    "index_read_after_its_loop": (dict(x=np.linspace(-0.8, 0.9, 5), a=0.7), ("x", "a")),
    "index_from_an_int_the_body_changes": (dict(x=np.linspace(-0.8, 0.9, 5), a=0.7), ("x", "a")),
    "index_rebound_after_its_use": (dict(x=np.linspace(-0.8, 0.9, 5), a=0.7), ("x", "a")),
    "index_first_set_in_a_branch": (dict(x=np.linspace(-0.8, 0.9, 5), a=0.7), ("x", "a")),
    "index_of_an_outer_loop_in_an_inner_prefix": (dict(x=np.linspace(-0.8, 0.9, 5), a=0.7), ("x", "a")),
    "self_dot_summed": (dict(v=np.array([0.5, -1.0, 2.0]), w=np.array([0.1, 0.2])), ("v", "w")),
    "self_matmul_of_a_row": (dict(A=np.array([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]), w=np.array([[0.1], [0.2]])),
                             ("A", "w")),
    "fragment_carries_a_name_to_the_next_iteration": (dict(x=0.5, a=1.3), ("x", "a")),
    "fragment_carries_in_a_while_loop": (dict(x=0.5, a=1.3), ("x", "a")),
    "fragment_sets_a_name_on_one_branch": (dict(x=0.5, a=1.3), ("x", "a")),
    "fragment_updates_an_accumulator": (dict(x=0.5, a=1.3), ("x", "a")),
    "reversed_loops": (dict(b=4.0 + np.linspace(0.0, 1.0, 6), d=np.linspace(-1.0, 1.0, 6)), ("b", "d")),
}

# the truth, where the issue gives it
EXACT = {
    "second_name_written": {"a": np.array([1.0, 10.5, 26.0])},
    "list_returned": {"h": np.array([12.0, 48.0])},
    "repeated_index_store": {"x": np.array([2.0, 0.0, 6.0])},
    "float_into_int_array": {"x": np.array([0.0, 3.0, 4.0])},
    "self_dot_summed": {"v": 2 * np.array([0.5, -1.0, 2.0]) * 3, "w": np.ones(2)},
    "fragment_carries_a_name_to_the_next_iteration": {"x": 1.3 * 7.0, "a": 0.5 * 7.0},
}


def converged_fd(fn, args, name, direction):
    """The central difference along ``direction`` once two consecutive steps agree to 1e-8."""
    previous = None
    for h in 10.0 ** -np.arange(2.0, 9.0):
        plus, minus = copy.deepcopy(args), copy.deepcopy(args)
        plus[name] = plus[name] + h * direction
        minus[name] = minus[name] - h * direction
        estimate = (fn(**plus) - fn(**minus)) / (2.0 * h)
        if previous is not None and abs(estimate - previous) <= 1e-8 * max(abs(estimate), 1e-3):
            return estimate
        previous = estimate
    raise AssertionError(f"finite differences of {fn.__name__} along {name} do not converge")


def gradients(fn, args, wrt, placement=None):
    given = copy.deepcopy(args)
    value, grads = adjoin.value_and_grad(fn, wrt=wrt, placement=placement, verify=True)(**given)
    for key in args:
        assert np.array_equal(given[key], args[key]), f"the adjoint modified {key}"
    assert value == pytest.approx(fn(**copy.deepcopy(args)), rel=1e-14)
    return grads


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_against_converged_finite_differences(name):
    fn = getattr(S, name)
    args, wrt = CASES[name]
    grads = gradients(fn, args, wrt)
    rng = np.random.default_rng(3)
    for param, g in zip(wrt, grads):
        assert np.shape(g) == np.shape(args[param])
        assert np.all(np.isfinite(g)), (param, g)
        for _ in range(2):
            direction = rng.normal(size=np.shape(args[param]))
            predicted = float(np.sum(g * direction))
            fd = converged_fd(fn, args, param, direction)
            assert predicted == pytest.approx(fd, rel=1e-7, abs=1e-9), (param, predicted, fd)
        if param in EXACT.get(name, {}):
            assert np.allclose(g, EXACT[name][param], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_placement_gives_the_same_gradient(name):
    fn = getattr(S, name)
    args, wrt = CASES[name]
    ids = [s.id for s in adjoin.checkpoint_sites(fn)]
    if not ids:
        pytest.skip(f"{name} calls no user function: a single placement")
    reference = gradients(fn, args, wrt)
    subsets = [c for r in range(1, len(ids) + 1) for c in itertools.combinations(ids, r)]
    for off in subsets:
        other = gradients(fn, args, wrt, adjoin.Placement(off))
        for param, g0, g1 in zip(wrt, reference, other):
            scale = max(np.max(np.abs(g0)), 1e-300)
            assert np.max(np.abs(g0 - g1)) <= 1e-12 * scale, (off, param)


def test_results_of_a_call_are_not_aliases_of_each_other():
    """p, q = two(x, 2.0) returns two fresh arrays: updating p in place is no aliasing."""
    grads = adjoin.grad(S.results_updated_in_place, wrt="x")(X4)
    p, q = X4 * 2.0 + 1.0, X4 + 2.0
    assert np.allclose(grads, 2.0 * q + p, rtol=1e-12)


def test_unreadable_source_is_refused_naming_the_function():
    """Defined by exec or under python -c: a refusal naming the function, not an OSError."""
    namespace = {"np": np}
    exec("def spun(x):\n    return np.sum(x * x)\n", namespace)
    with pytest.raises(adjoin.AdjoinError, match="cannot read the source of 'spun'"):
        adjoin.grad(namespace["spun"], wrt="x")(np.ones(3))
    script = textwrap.dedent("""
        import numpy as np, adjoin
        def cost(x):
            return np.sum(x * x)
        try:
            adjoin.grad(cost, wrt="x")(np.ones(3))
        except adjoin.AdjoinError as error:
            print("refused:", error)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "refused: cannot read the source of 'cost'" in done.stdout, done.stdout + done.stderr


def test_head_without_return_is_refused():
    def no_return(x):
        y = x * 2.0  # noqa: F841
    with pytest.raises(adjoin.AdjoinError, match="no_return returns nothing"):
        adjoin.grad(no_return, wrt="x")(np.ones(3))


@pytest.mark.parametrize("wrt", [None, 1.5, True, [1.5]])
def test_bad_wrt_is_a_usage_error(wrt):
    with pytest.raises(adjoin.AdjoinError, match="wrt"):
        adjoin.grad(S.method_on_call, wrt=wrt)(X34)


@pytest.mark.parametrize("value, words", [(X34 * 1j, "is complex"), (1j, "is complex"),
                                          (np.array([[1.0, 2.0]], dtype=object), "Python objects")])
def test_complex_and_object_arguments_are_refused(value, words):
    with pytest.raises(adjoin.AdjoinError, match=words):
        adjoin.grad(S.method_on_call, wrt="x")(value)


def test_verify_mode_names_what_an_analysis_bug_changed(monkeypatch):
    """With the alias analysis switched off, TBR forgets that 'out -= b' changes m: the gradient
    would be silently wrong; verify mode stops it, naming m, the line that assumed it and the
    line that changed it."""
    from adjoin.transform.function import FunctionGen
    monkeypatch.setattr(FunctionGen, "write_aliases", lambda self, stmt: frozenset())
    args, wrt = CASES["second_name_written"]
    with pytest.raises(adjoin.VerifyError) as caught:
        adjoin.grad(S.second_name_written, wrt=wrt, verify=True)(**copy.deepcopy(args))
    message = str(caught.value)
    assert "'m'" in message and "sq = m ** 2" in message and "out -= b" in message, message
    assert "soundness.py:" in message
    wrong = adjoin.grad(S.second_name_written, wrt=wrt, verify=False)(**copy.deepcopy(args))
    assert not np.allclose(wrong[0], EXACT["second_name_written"]["a"])   # what verify mode prevents


def test_verify_mode_checks_snapshots_of_checkpointed_calls(monkeypatch):
    """A snapshot that restores nothing: the checkpointed call's re-run starts from the wrong T."""
    from adjoin.transform.function import FunctionGen
    monkeypatch.setattr(FunctionGen, "snapshot", lambda self, piece: [])
    args, wrt = CASES["row_views_then_mixing"]
    with pytest.raises(adjoin.VerifyError, match="mix_levels.* did not compute what its advance did"):
        adjoin.grad(S.row_views_then_mixing, wrt=wrt, verify=True)(**copy.deepcopy(args))


def test_a_singular_derivative_is_named_by_its_line():
    """Non-finite from finite inputs: a warning names the first line whose adjoint is not finite."""
    with pytest.warns(adjoin.NonFiniteGradientWarning) as caught:
        g = adjoin.grad(S.singular_at_zero, wrt="x")(np.array([0.0, 1.0]))
    assert np.isnan(g[0]) and g[1] == pytest.approx(4.0)
    message = str(caught[-1].message)
    assert "soundness.py:" in message and "r = np.sqrt(v * v)" in message and "_absolute_sum" in message


def test_finite_gradients_give_no_warning(recwarn):
    adjoin.grad(S.pairwise_distances, wrt="x")(X4)
    assert not [w for w in recwarn if issubclass(w.category, adjoin.NonFiniteGradientWarning)]


@pytest.mark.parametrize("name", ["local_tape", "local_ad", "local_named_like_an_adjoint", "parameter_named_tape",
                                  "local_verify", "module_constants", "local_value", "parameter_value"])
@pytest.mark.parametrize("verify", [False, True])
@pytest.mark.parametrize("placement", ["default", "none"])
def test_user_names_never_clash_with_generated_ones(name, verify, placement):
    fn = getattr(clashes, name)
    args = dict(x=np.array([1.0, 2.0, 3.0]))
    if name == "parameter_value":
        args["value"] = 1.5
    wrt = tuple(args)
    off = adjoin.Placement([s.id for s in adjoin.checkpoint_sites(fn)]) if placement == "none" else None
    value, grads = adjoin.value_and_grad(fn, wrt=wrt, placement=off, verify=verify)(**copy.deepcopy(args))
    assert value == pytest.approx(fn(**copy.deepcopy(args)), rel=1e-14)
    rng = np.random.default_rng(1)
    for param, g in zip(wrt, grads):
        direction = rng.normal(size=np.shape(args[param]))
        assert float(np.sum(g * direction)) == pytest.approx(converged_fd(fn, args, param, direction), rel=1e-7)


def test_a_list_of_arrays_as_wrt_is_refused():
    def listed(vs, s):
        return np.sum(vs[0] ** 2) * s + np.sum(vs[1] ** 3)
    with pytest.raises(adjoin.AdjoinError, match="'vs' is a list"):
        adjoin.grad(listed, wrt=("vs", "s"))([np.array([1.0, 2.0]), np.array([3.0, 4.0])], 0.5)


def test_an_array_result_is_refused_before_the_adjoint_runs():
    def matrix(x):
        return x @ x
    with pytest.raises(adjoin.AdjoinError, match="scalar"):
        adjoin.grad(matrix, wrt="x")(np.arange(4.0).reshape(2, 2))


def _churn(rng, kept):
    """Makes and frees AST nodes, so that the nodes of the next build land at other addresses."""
    kept.append([ast.BinOp(left=ast.Name(id="q"), op=ast.Add(), right=ast.Constant(1.0))
                 for _ in range(rng.randrange(1, 300))])
    kept.append([ast.Call(func=ast.Name(id="q"), args=[], keywords=[]) for _ in range(rng.randrange(1, 300))])
    while len(kept) > 6:
        kept.pop(rng.randrange(len(kept)))


def test_the_adjoint_does_not_depend_on_where_nodes_are_in_memory():
    fn = heap.f_1007507
    example = dict(x=np.linspace(-0.9, 0.9, 10), a=0.2, n=2)
    rng, kept, sources = random.Random(0), [], set()
    for _ in range(40):
        _churn(rng, kept)
        sources.add(adjoin.generate_source(fn, wrt=("x", "a"), example=example))
    assert len(sources) == 1


def _import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_file_edited_since_its_import_is_refused(tmp_path):
    path = tmp_path / "edited_model.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * x)\n")
    module = _import_file(path, "edited_model")
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * x * 3.0)\n")
    with pytest.raises(adjoin.AdjoinError, match="not the code that runs"):
        adjoin.grad(module.f, wrt="x")(np.ones(3))


def test_comments_added_since_the_import_change_nothing(tmp_path):
    path = tmp_path / "commented_model.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * x)\n")
    module = _import_file(path, "commented_model")
    path.write_text("import numpy as np\n# a comment\n\n\ndef f(x):\n    # squares\n    return np.sum(x * x)\n")
    assert np.allclose(adjoin.grad(module.f, wrt="x")(np.ones(3)), 2.0)


def test_reversed_range_with_a_step_other_than_a_positive_number_is_refused(tmp_path):
    path = tmp_path / "backwards.py"
    path.write_text("def f(x, k):\n    s = 0.0\n    for i in reversed(range(0, 6, k)):\n        s = s + x * i\n    return s\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import backwards
        with pytest.raises(adjoin.AdjoinError, match=r"backwards.py:3:.*step that is not a positive whole number"):
            adjoin.grad(backwards.f, wrt="x")(0.5, 2)
    finally:
        sys.path.remove(str(tmp_path))
