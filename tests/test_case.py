"""Case files: loading good ones, overrides, multi-file models, and every mistake as a UsageError."""
import dataclasses
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from adjoin.case import load_case, load_module, parse_override
from adjoin.errors import AdjoinError, UsageError

FIXTURES = Path(__file__).parent / "fixtures"

MODEL = """\
import numpy as np


def cost(x, n, scale=1.0):
    return scale * n * np.sum(x ** 2)


def make_inputs(size=3, seed=0):
    return {"x": np.arange(float(size)) + seed, "n": 2}


LIMIT = 3
"""

CASE = """\
module = "model.py"
head = "cost"
wrt = ["x"]
inputs = "make_inputs"

[inputs_args]
size = 4
"""


def write(folder, case=CASE, model=MODEL, files=()):
    """Writes case.toml, model.py and ``files`` (name -> text) into ``folder``; returns the case path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(textwrap.dedent(model))
    for name, text in dict(files).items():
        (folder / name).write_text(textwrap.dedent(text))
    path = folder / "case.toml"
    path.write_text(textwrap.dedent(case))
    return path


def refused(path, *words, overrides=None, build=False):
    """Loads (and with ``build`` builds the inputs of) the case; returns the UsageError's message."""
    with pytest.raises(UsageError) as caught:
        case = load_case(path, overrides)
        if build:
            case.build_inputs()
    message = str(caught.value)
    assert "case.toml" in message
    assert "Traceback" not in message
    for word in words:
        assert word in message
    return message


# -- good cases ---------------------------------------------------------------------------------

def test_loads_the_quadratic_fixture():
    case = load_case(FIXTURES / "quadratic" / "case.toml")
    assert case.path == FIXTURES / "quadratic" / "case.toml"
    assert case.head.__name__ == "cost"
    assert case.wrt == ("x", "a")
    assert case.inputs_function == "make_inputs"
    assert case.inputs_args == {"size": 4, "seed": 0}
    inputs = case.build_inputs()
    assert set(inputs) == {"x", "a", "target", "n"}
    assert inputs["x"].shape == (4,)
    assert case.head(**inputs) > 0.0


def test_case_is_frozen(tmp_path):
    case = load_case(write(tmp_path))
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.wrt = ("n",)


def test_usage_error_is_an_adjoin_error():
    assert issubclass(UsageError, AdjoinError)


def test_a_single_wrt_name_may_be_a_string(tmp_path):
    case = load_case(write(tmp_path, CASE.replace('wrt = ["x"]', 'wrt = "x"')))
    assert case.wrt == ("x",)


def test_inputs_args_table_is_optional(tmp_path):
    case = load_case(write(tmp_path, CASE.replace("[inputs_args]\nsize = 4\n", "")))
    assert case.inputs_args == {}
    assert case.build_inputs()["x"].shape == (3,)


def test_wrt_may_name_a_parameter_with_a_default(tmp_path):
    model = MODEL.replace('"n": 2}', '"n": 2, "scale": 0.5}')
    case = load_case(write(tmp_path, CASE.replace('["x"]', '["x", "scale"]'), model))
    assert case.build_inputs()["scale"] == 0.5


def test_module_path_is_relative_to_the_case_file(tmp_path, monkeypatch):
    path = write(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    assert load_case(Path("project") / "case.toml").head.__name__ == "cost"


# -- overrides ----------------------------------------------------------------------------------

def test_overrides_replace_and_add_inputs_args(tmp_path):
    path = write(tmp_path)
    case = load_case(path, ["size=6", "seed=1.5"])
    assert case.inputs_args == {"size": 6, "seed": 1.5}
    assert case.build_inputs()["x"][0] == 1.5
    assert load_case(path).inputs_args == {"size": 4}     # the file itself is unchanged


@pytest.mark.parametrize("text, value", [
    ("size=0.5", 0.5), ("n=3", 3), ("n = 3", 3), ("on=true", True), ("scheme=upwind", "upwind"),
    ('name="two words"', "two words"), ("levels=[1, 2]", [1, 2]), ("x=-1e-3", -1e-3),
    ("file=data.nc", "data.nc"),
])
def test_override_values_use_toml_syntax(text, value):
    key, parsed = parse_override(text)
    assert parsed == value and type(parsed) is type(value)
    assert key == text.partition("=")[0].strip()


@pytest.mark.parametrize("text, words", [
    ("size", ["expected KEY=VALUE"]),
    ("=3", ["expected KEY=VALUE"]),
    ("2x=3", ["expected KEY=VALUE"]),
    ("size=1.O", ["'1.O' is not a TOML value"]),
    ("size=[1, 2", ["is not a TOML value"]),
])
def test_bad_overrides_are_usage_errors(tmp_path, text, words):
    refused(write(tmp_path), f"--set {text!r}", *words, overrides=[text])


def test_override_of_an_unknown_argument(tmp_path):
    message = refused(write(tmp_path), overrides=["sise=2"])
    assert "--set 'sise=2' gives 'sise', but make_inputs(size, seed) has no parameter 'sise'" in message
    assert "did you mean 'size'?" in message


# -- modules: multi-file projects ----------------------------------------------------------------

def test_a_multi_file_model_imports_its_sibling_module_and_package():
    path_before = list(sys.path)
    case = load_case(FIXTURES / "multifile" / "case.toml")
    assert sys.path == path_before        # the model's folder was on sys.path only while importing
    assert case.module.physics.NAME == "multifile physics"
    assert case.module.relax.__module__ == "support"
    assert np.isfinite(case.head(**case.build_inputs()))


def test_the_module_gets_a_name_of_its_own_in_sys_modules(tmp_path):
    path = write(tmp_path)
    first, second = load_case(path), load_case(path)
    assert first.module is not second.module
    assert first.module.__name__ != second.module.__name__
    assert sys.modules[first.head.__module__] is first.module
    assert "model" not in sys.modules


def test_same_named_siblings_of_two_projects_are_not_mixed_up(tmp_path):
    model = """\
        import physics


        def cost(x, n):
            return physics.VALUE * x


        def make_inputs():
            return {"x": 1.0, "n": 1}
        """
    case_text = CASE.replace("[inputs_args]\nsize = 4\n", "")
    a = write(tmp_path / "a", case_text, model, {"physics.py": "VALUE = 1.0\n"})
    b = write(tmp_path / "b", case_text, model, {"physics.py": "VALUE = 2.0\n"})
    for path, value in ((a, 1.0), (b, 2.0), (a, 1.0)):
        case = load_case(path)
        assert case.head(**case.build_inputs()) == value


def test_load_module_refuses_files_that_are_not_python(tmp_path):
    (tmp_path / "model.txt").write_text("x = 1\n")
    with pytest.raises(UsageError, match=r"model.txt: not a Python file"):
        load_module(tmp_path / "model.txt")


def test_load_module_refuses_a_folder(tmp_path):
    (tmp_path / "model.py").mkdir()
    with pytest.raises(UsageError, match=r"model.py: is a folder"):
        load_module(tmp_path / "model.py")


def test_a_module_that_is_not_utf8_names_its_line(tmp_path):
    (tmp_path / "model.py").write_bytes(b"import numpy as np\n\n# caf\xe9\ndef cost(x):\n    return x\n")
    with pytest.raises(UsageError, match=r"model.py:3: not UTF-8 text \(byte 0xe9\); save the file as UTF-8"):
        load_module(tmp_path / "model.py")


def test_a_module_declaring_its_encoding_is_read(tmp_path):
    (tmp_path / "model.py").write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\ndef cost(x):\n    return x\n")
    assert load_module(tmp_path / "model.py").cost(2.0) == 2.0


def test_a_case_whose_module_is_not_utf8(tmp_path):
    path = write(tmp_path)
    (tmp_path / "model.py").write_bytes(b"# \xff\n" + (tmp_path / "model.py").read_bytes())
    refused(path, "cannot import 'model.py'", "model.py:1: not UTF-8 text")


# -- mistakes in the case file itself ------------------------------------------------------------

def test_a_case_file_that_is_not_text(tmp_path):
    (tmp_path / "case.toml").write_bytes(b"\xff\xfe\x00")
    refused(tmp_path / "case.toml", "not a case file: it is not UTF-8 text (byte 0xff at offset 0)")


def test_missing_case_file(tmp_path):
    refused(tmp_path / "case.toml", "no such case file")


def test_case_path_is_a_folder(tmp_path):
    (tmp_path / "case.toml").mkdir()
    refused(tmp_path / "case.toml", "is a folder")


def test_bad_toml_names_line_and_column(tmp_path):
    message = refused(write(tmp_path, 'module = "model.py"\nhead cost\n'), "not valid TOML")
    assert "case.toml:2:" in message


@pytest.mark.parametrize("key", ["module", "head", "wrt", "inputs"])
def test_missing_key(tmp_path, key):
    lines = [line for line in CASE.splitlines(keepends=True) if not line.startswith(key + " ")]
    refused(write(tmp_path, "".join(lines)), f"missing key {key!r}")


def test_unknown_key_lists_the_keys(tmp_path):
    refused(write(tmp_path, CASE + "[extra]\ncolour = 'blue'\n"),
            "unknown key 'extra'", "a case has the keys module, head, wrt, inputs")


def test_unknown_key_suggests_the_right_one(tmp_path):
    refused(write(tmp_path, CASE.replace("inputs =", "input =")),
            "unknown key 'input'", "did you mean 'inputs'?")


@pytest.mark.parametrize("old, new, words", [
    ('module = "model.py"', "module = 3", "'module' must be a non-empty string"),
    ('head = "cost"', 'head = ""', "'head' must be a non-empty string"),
    ('inputs = "make_inputs"', "inputs = ['make_inputs']", "'inputs' must be a non-empty string"),
    ('wrt = ["x"]', "wrt = 3", "'wrt' must be a list of parameter names"),
    ('wrt = ["x"]', "wrt = [1]", "'wrt' must be a list of parameter names"),
    ("[inputs_args]\nsize = 4", "inputs_args = 4", "'inputs_args' must be a table"),
])
def test_keys_of_the_wrong_type(tmp_path, old, new, words):
    refused(write(tmp_path, CASE.replace(old, new)), words)


# -- mistakes in what the case names --------------------------------------------------------------

def test_module_file_does_not_exist(tmp_path):
    refused(write(tmp_path, CASE.replace('"model.py"', '"nothere.py"')),
            "'module' names 'nothere.py'", "does not exist", "relative to the case file")


def test_module_with_a_syntax_error(tmp_path):
    refused(write(tmp_path, model="def cost(x, n):\n    return x +\n"),
            "cannot import 'model.py'", "model.py:2", "SyntaxError")


def test_module_raising_while_imported(tmp_path):
    refused(write(tmp_path, model="import numpy\n\nscale = 1 / 0\n"),
            "ZeroDivisionError", "model.py:3")


def test_module_importing_a_missing_sibling(tmp_path):
    refused(write(tmp_path, model="import physiks\n"),
            "ModuleNotFoundError", "physiks", "model.py:1")


def test_module_calling_sys_exit_while_imported(tmp_path):
    refused(write(tmp_path, model="import sys\nsys.exit(4)\n"), "SystemExit")


def test_unknown_head_suggests_a_name(tmp_path):
    refused(write(tmp_path, CASE.replace('"cost"', '"cst"')),
            "'head' names 'cst', but model.py has no function 'cst'", "did you mean 'cost'?")


def test_unknown_head_lists_the_functions(tmp_path):
    refused(write(tmp_path, CASE.replace('"cost"', '"objective"')),
            "has no function 'objective'", "its functions are cost, make_inputs")


def test_head_that_is_not_a_function(tmp_path):
    refused(write(tmp_path, CASE.replace('"cost"', '"LIMIT"')), "LIMIT in model.py is int 3, not a function")


def test_wrt_names_no_parameter_of_the_head(tmp_path):
    message = refused(write(tmp_path, CASE.replace('["x"]', '["y"]')))
    assert message.startswith(f"{tmp_path / 'case.toml'}: 'wrt' names 'y', "
                              "but cost(x, n, scale) has no parameter 'y'; ")
    assert "choose among x, n, scale" in message


def test_wrt_with_a_typo_suggests_the_parameter(tmp_path):
    refused(write(tmp_path, CASE.replace('["x"]', '["scal"]')), "did you mean 'scale'?")


def test_wrt_names_a_parameter_twice(tmp_path):
    refused(write(tmp_path, CASE.replace('["x"]', '["x", "x"]')), "'wrt' names 'x' twice")


def test_wrt_is_empty(tmp_path):
    refused(write(tmp_path, CASE.replace('["x"]', "[]")), "'wrt' is empty")


def test_inputs_function_does_not_exist(tmp_path):
    refused(write(tmp_path, CASE.replace('"make_inputs"', '"make_input"')),
            "'inputs' names 'make_input', but model.py has no function 'make_input'",
            "did you mean 'make_inputs'?")


def test_inputs_args_names_no_argument_of_the_inputs_function(tmp_path):
    refused(write(tmp_path, CASE.replace("size = 4", "sise = 4")),
            "[inputs_args] gives 'sise', but make_inputs(size, seed) has no parameter 'sise'")


def test_inputs_function_needs_an_argument_the_case_does_not_give(tmp_path):
    model = MODEL.replace("def make_inputs(size=3, seed=0)", "def make_inputs(size, seed)")
    refused(write(tmp_path, model=model), "make_inputs(size, seed) needs 'seed'", "--set seed=VALUE")


# -- mistakes found when building the inputs ------------------------------------------------------

def test_inputs_function_raising(tmp_path):
    model = MODEL.replace('    return {"x"', '    if size > 3:\n        raise ValueError("too big")\n'
                                              '    return {"x"')
    message = refused(write(tmp_path, model=model), build=True)
    assert "make_inputs(size=4) raised ValueError: too big (" in message
    assert "model.py:10)" in message


def test_inputs_function_failing_inside_numpy_points_at_the_users_line(tmp_path):
    model = MODEL.replace('"x": np.arange(float(size))', '"x": np.zeros(-size)')
    message = refused(write(tmp_path, model=model), "ValueError", build=True)
    assert "model.py:9)" in message


def test_inputs_function_calling_sys_exit(tmp_path):
    model = MODEL.replace('    return {"x"', '    raise SystemExit(1)\n    return {"x"')
    refused(write(tmp_path, model=model), "raised SystemExit", build=True)


def test_inputs_function_not_returning_a_dict(tmp_path):
    model = MODEL.replace('return {"x": np.arange(float(size)) + seed, "n": 2}', "return [1.0, 2]")
    refused(write(tmp_path, model=model), "returned list, not a dict", "dict(x=..., n=...)",
            build=True)


def test_inputs_missing_a_head_parameter(tmp_path):
    model = MODEL.replace(', "n": 2}', "}")
    refused(write(tmp_path, model=model), "returned no value for 'n'", build=True)


def test_inputs_with_a_value_for_no_parameter(tmp_path):
    model = MODEL.replace('"n": 2}', '"n": 2, "nn": 3}')
    refused(write(tmp_path, model=model), "returned a value for 'nn'",
            "cost(x, n, scale) has no parameter 'nn'", build=True)


def test_inputs_missing_a_wrt_parameter_with_a_default(tmp_path):
    refused(write(tmp_path, CASE.replace('["x"]', '["x", "scale"]')),
            "'wrt' names 'scale', but make_inputs(size=4) returned no value for it", build=True)


@pytest.mark.parametrize("value, words", [
    ("2", "gives it int 2"),
    ("np.arange(3)", "gives it int64 array of shape (3,)"),
    ("[1.0, 2.0]", "gives it list [1.0, 2.0]"),
])
def test_wrt_parameter_that_cannot_be_differentiated(tmp_path, value, words):
    model = MODEL.replace("np.arange(float(size)) + seed", value)
    refused(write(tmp_path, model=model), "'wrt' names 'x'", words, "only floats", build=True)
