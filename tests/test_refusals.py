"""Every refusal is an AdjoinError naming file:line:col, the construct and what to do."""
import inspect
from pathlib import Path
import re

import numpy as np
import pytest

import adjoin
from programs import refused

CASES = [
    ("uses_try", "'try' statements", "x"),
    ("uses_with", "'with' statements", "x"),
    ("uses_lambda", "lambda", "x"),
    ("uses_comprehension", "comprehension", "x"),
    ("uses_global", "'global'", "x"),
    ("writes_module_array", "module-level array", "x"),
    ("uses_eval", "eval()", "x"),
    ("loops_over_generator", "generator expressions", "x"),
    ("stores_attribute", "attribute", "x"),
    ("calls_unknown_external", "no derivative rule", "x"),
    ("view_written_while_base_used", "share its memory", "x"),
    ("same_array_twice", "same array is passed", "x"),
    ("recursive", "recursion", "x"),
    ("uses_nested_function", "nested functions", "x"),
    ("uses_yield", "yield", "x"),
    ("bool_op_on_floats", "'and'/'or'", "a"),
    ("args_star", "*args", "xs"),
    ("results_sharing_memory", "share its memory", "x"),
    ("parameter_rebound_on_a_path", "may rebind it", "x"),
    ("argument_reads_an_alias", "shares memory with", "x"),
    ("list_item_assigned", "assigning into an item of the list", "x"),
    ("list_sliced", "slicing a list", "x"),
    ("list_concatenated", "arithmetic on lists", "x"),
    ("read_before_assigned", "read before any value is assigned", "x"),
    ("calls_an_installed_package", "$AD INACTIVE", "x"),
    ("copies_into_an_argument", "updates its argument in place", "x"),
    ("draws_from_the_global_random_state", "draws from NumPy's global random state", "x"),
    ("sometimes_a_new_array_returned", "may or may not be the array passed in as parameter 'x'", "x"),
    ("converts_an_array_to_a_list", "converting to a list with list(...)", "x"),
    ("fills_a_row_given_by_an_index", "'.fill()' other than as a statement 'name.fill(value)'", "x"),
    ("swaps_two_names_of_one_array", "share its memory", "x"),
    ("meshgrid_of_parameters", "np.meshgrid has no derivative rule", "a"),
    ("arange_of_a_parameter", "np.arange has no derivative rule", "a"),
    ("diagonal_read_after_its_matrix_changed", "share its memory", "x"),
    ("writes_an_array_of_a_module_dict", "writing into module-level array 'WORK' through 'buffer'", "x"),
    ("row_of_the_last_iteration_used", "share its memory", "x"),
    ("row_index_rebound_before_a_use", "share its memory", "x"),
    ("row_used_after_its_loop", "share its memory", "x"),
    ("calls_a_function_taken_from_a_local_tuple", "a local variable whose function is not known", "x"),
]


def _line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    return start


@pytest.mark.parametrize("name, words, wrt", CASES, ids=[c[0] for c in CASES])
def test_refusal_names_where_what_and_hint(name, words, wrt):
    fn = getattr(refused, name)
    args = {"x": np.linspace(0.1, 0.9, 4), "a": 0.5, "n": 2, "xs": np.ones(3)}
    params = list(inspect.signature(fn).parameters)
    with pytest.raises(adjoin.AdjoinError) as caught:
        if name == "args_star":
            adjoin.value_and_grad(fn, wrt=0)(np.ones(3))
        else:
            adjoin.value_and_grad(fn, wrt=wrt)(**{p: args[p] for p in params})
    message = str(caught.value)
    assert words in message
    assert re.search(r"refused\.py:\d+:\d+: ", message), message
    assert ";" in message.splitlines()[0] or "\n" in message, "a hint follows the problem"


def test_a_nested_function_is_one_problem_not_one_per_name_it_uses():
    """Its parameters are not undefined names, nor is a call to it; a real problem inside it is
    still reported."""
    with pytest.raises(adjoin.AdjoinError) as caught:
        adjoin.value_and_grad(refused.uses_nested_function, wrt="x")(np.ones(3))
    message = str(caught.value)
    assert "nested functions" in message and "not defined" not in message, message
    with pytest.raises(adjoin.AdjoinError) as caught:
        adjoin.value_and_grad(refused.nested_function_with_a_try, wrt="x")(np.ones(3))
    message = str(caught.value)
    assert "nested functions" in message and "'try' statements" in message and "not defined" not in message


def test_a_generator_is_one_problem_that_says_how_to_rewrite_it():
    with pytest.raises(adjoin.AdjoinError) as caught:
        adjoin.value_and_grad(refused.loops_over_a_generator_of_states, wrt="x")(np.ones(3))
    message = str(caught.value)
    assert "generators ('yield')" in message and "loop inside one function" in message
    assert "not a call" not in message, message
    assert len([line for line in message.splitlines() if "refused.py:" in line]) == 1, message


def test_refusal_lists_every_problem_at_once():
    with pytest.raises(adjoin.AdjoinError) as caught:
        adjoin.value_and_grad(refused.uses_nested_function, wrt="x")(np.ones(3))
    assert "nested functions" in str(caught.value)


@pytest.mark.parametrize("wrt, words", [("y", "has no parameter 'y'"), (5, "out of range"), ((), "empty"),
                                        (("x", "x"), "twice")])
def test_bad_wrt(wrt, words):
    def f(x):
        return np.sum(x * x)
    with pytest.raises(adjoin.AdjoinError, match=re.escape(words)):
        adjoin.value_and_grad(f, wrt=wrt)(np.ones(3))


def test_wrt_an_int_argument_is_refused():
    def f(x, n):
        return np.sum(x) * n
    with pytest.raises(adjoin.AdjoinError, match="carry no derivative"):
        adjoin.value_and_grad(f, wrt="n")(np.ones(3), 2)


def test_non_scalar_cost_is_refused():
    def f(x):
        return x * 2.0
    with pytest.raises(adjoin.AdjoinError, match="scalar"):
        adjoin.value_and_grad(f, wrt="x")(np.ones(3))


def _anchors():
    page = Path(__file__).resolve().parent.parent / "docs" / "input-language.md"
    headings = [line.lstrip("#").strip() for line in page.read_text().splitlines() if line.startswith("#")]
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("name, words, wrt", CASES, ids=[c[0] for c in CASES])
def test_refusal_links_the_section_of_the_language_page_that_explains_it(name, words, wrt):
    fn = getattr(refused, name)
    args = {"x": np.linspace(0.1, 0.9, 4), "a": 0.5, "n": 2, "xs": np.ones(3)}
    with pytest.raises(adjoin.AdjoinError) as caught:
        if name == "args_star":
            adjoin.value_and_grad(fn, wrt=0)(np.ones(3))
        else:
            adjoin.value_and_grad(fn, wrt=wrt)(**{p: args[p] for p in inspect.signature(fn).parameters})
    links = re.findall(r"docs/input-language\.md#([a-z0-9-]+)", str(caught.value))
    assert links and set(links) <= _anchors(), (links, str(caught.value))
