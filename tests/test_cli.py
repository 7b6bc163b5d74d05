"""The adjoin command: help, exit statuses, errors without tracebacks, and each subcommand.

Tests marked ``adjoint`` run the real transformer; the others replace the API functions the CLI
calls with small stand-ins, so that they test the command itself.
"""
import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adjoin import Placement, Site, __version__, api
from adjoin.cli import COMMANDS, build_parser, main

QUADRATIC = Path(__file__).parent / "fixtures" / "quadratic"
CASE = QUADRATIC / "case.toml"
MODULE = QUADRATIC / "quadratic.py"


def run(capsys, *args):
    """Runs ``adjoin args`` in-process; returns (exit status, stdout, stderr)."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys, *args, words=()):
    """Runs a command that must fail with exit 2 and one clear line; returns stderr."""
    status, out, err = run(capsys, *args)
    assert status == 2, err
    assert "Traceback" not in err + out
    for word in words:
        assert word in err
    return err


@pytest.fixture
def project(tmp_path):
    """A copy of the quadratic fixture, so that tests may write beside it."""
    shutil.copytree(QUADRATIC, tmp_path / "quadratic", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "quadratic"


class FakeAdjoint:
    """Stands in for adjoin.adjoint's result: ``value_and_grad(**inputs)`` plays the adjoint."""

    def __init__(self, value_and_grad, seconds=1e-3):
        self.value_and_grad = value_and_grad
        self.seconds = seconds

    def __call__(self, **inputs):
        return self.value_and_grad(**inputs)

    def measure(self, **inputs):
        value, grads = self.value_and_grad(**inputs)
        return api.Run(value, tuple(grads), self.seconds, 0)


def fake_adjoint(make):
    """An adjoin.adjoint stand-in: ``make(fn, wrt)`` returns the value_and_grad to play."""
    def adjoint(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        return FakeAdjoint(make(fn, wrt))
    return adjoint


def quadratic_value_and_grad(fn, wrt):
    """The quadratic fixture's exact value and gradient."""
    assert wrt == ("x", "a")

    def value_and_grad(x, a, target, n):
        r = x - target
        return fn(x, a, target, n), (n * a * r, n * 0.5 * np.sum(r * r))
    return value_and_grad


# -- help and version ---------------------------------------------------------------------------

def test_help_lists_every_command(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in COMMANDS:
        assert command.name in out and command.summary in out
    assert "exit status" in out


@pytest.mark.parametrize("command, options", [
    ("generate", ["--wrt", "-o", "--case", "--set", "--nocheckpoint", "--placement", "--quiet"]),
    ("check", ["--set", "--rtol", "--seed", "--placements", "--nocheckpoint", "--placement",
               "--verify", "--json", "--quiet"]),
    ("profile", ["--set", "--repeat", "--nocheckpoint", "--placement", "--verify", "--json"]),
    ("advise", ["--memory-budget", "--verify", "verify mode", "--json"]),
    ("sites", ["--nocheckpoint", "--placement", "--json", "--quiet"]),
])
def test_every_command_and_option_has_help(capsys, command, options):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert "examples:" in out
    for option in options:
        assert option in out


def test_no_argument_lacks_a_help_text():
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        assert sub.description, name
        for action in sub._actions:
            assert action.help, (name, action.dest)


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"adjoin {__version__}"


def test_console_script_help_runs_as_a_subprocess():
    script = Path(sys.executable).with_name("adjoin")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "generate" in result.stdout and "check" in result.stdout and "sites" in result.stdout


def test_console_script_reports_an_error_with_exit_2_and_no_traceback(tmp_path):
    script = Path(sys.executable).with_name("adjoin")
    result = subprocess.run([str(script), "sites", str(tmp_path / "missing.py:cost")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("adjoin: error: ")
    assert "missing.py: no such file" in result.stderr
    assert "Traceback" not in result.stderr


# -- usage errors: exit 2, one line, no traceback -------------------------------------------------

def test_no_command_is_a_usage_error(capsys):
    status, _, err = run(capsys)
    assert status == 2
    assert "usage: adjoin" in err


def test_missing_module_file(capsys, tmp_path):
    refused(capsys, "generate", f"{tmp_path}/nothere.py:cost", "--wrt", "x",
            words=["adjoin: error: ", "nothere.py: no such file"])


def test_target_without_a_head(capsys):
    refused(capsys, "sites", MODULE, words=["names no function", "quadratic.py:HEAD"])


def test_target_that_is_neither_a_module_nor_a_case(capsys):
    refused(capsys, "sites", "model", words=["expected MODULE.py:HEAD"])


def test_unknown_head(capsys):
    refused(capsys, "generate", f"{MODULE}:cst", "--wrt", "x",
            words=["quadratic.py has no function 'cst'", "did you mean 'cost'?"])


def test_wrt_naming_no_parameter(capsys):
    refused(capsys, "generate", f"{MODULE}:cost", "--wrt", "x,b",
            words=["--wrt names 'b', but cost(x, a, target, n) has no parameter 'b'"])


@pytest.mark.parametrize("wrt", ["x,,a", "x;a", ""])
def test_wrt_that_is_not_a_list_of_names(capsys, wrt):
    refused(capsys, "generate", f"{MODULE}:cost", "--wrt", wrt,
            words=["argument --wrt", "expected comma-separated names"])


def test_generate_needs_wrt_without_a_case(capsys):
    refused(capsys, "generate", f"{MODULE}:cost", words=["--wrt x"])


def test_set_needs_a_case(capsys):
    refused(capsys, "generate", f"{MODULE}:cost", "--wrt", "x", "--set", "size=3",
            words=["--set changes a case's [inputs_args]"])


def test_case_for_another_head(capsys, project):
    (project / "other.py").write_text("def cost(x, a, target, n):\n    return x\n")
    refused(capsys, "generate", f"{project / 'other.py'}:cost", "--case", project / "case.toml",
            words=["differentiates", "quadratic.py:cost", "give a case for the same head"])


def test_missing_case_file(capsys, tmp_path):
    refused(capsys, "check", tmp_path / "case.toml", words=["case.toml: no such case file"])


def test_check_needs_a_case_file(capsys):
    refused(capsys, "check", f"{MODULE}:cost", words=["check needs a case file"])


def test_errors_in_the_case_file_are_usage_errors(capsys, project):
    (project / "case.toml").write_text((project / "case.toml").read_text().replace('"x"', '"y"'))
    refused(capsys, "check", project / "case.toml",
            words=["case.toml: 'wrt' names 'y', but cost(x, a, target, n) has no parameter 'y'"])


def test_bad_override(capsys):
    refused(capsys, "check", CASE, "--set", "sise=2", words=["did you mean 'size'?"])


def test_missing_placement_file(capsys, tmp_path):
    refused(capsys, "sites", CASE, "--placement", tmp_path / "p.toml", words=["no such placement file"])


@pytest.mark.parametrize("rtol", ["0", "-1e-6", "tight"])
def test_bad_rtol(capsys, rtol):
    refused(capsys, "check", CASE, "--rtol", rtol, words=["argument --rtol"])


@pytest.mark.parametrize("repeat", ["0", "-2", "three"])
def test_bad_repeat(capsys, repeat):
    refused(capsys, "profile", CASE, "--repeat", repeat, words=["argument --repeat"])


def test_user_code_failing_is_a_usage_error(capsys):
    refused(capsys, "check", CASE, "--set", "size=-1",
            words=["make_inputs(size=-1, seed=0) raised ValueError", "quadratic.py:20"])


# -- unexpected exceptions: exit 3 ---------------------------------------------------------------

def broken_sites(fn, nocheckpoint=(), example=None):
    raise RuntimeError("the call graph is upside down")


def test_a_bug_exits_3_with_a_short_message(capsys, monkeypatch):
    monkeypatch.delenv("ADJOIN_DEBUG", raising=False)
    monkeypatch.setattr(api, "checkpoint_sites", broken_sites)
    status, out, err = run(capsys, "sites", CASE)
    assert status == 3
    assert "this is a bug in adjoin, please report it" in err
    assert "RuntimeError: the call graph is upside down" in err
    assert "Traceback" not in err + out


def test_adjoin_debug_shows_the_traceback(capsys, monkeypatch):
    monkeypatch.setenv("ADJOIN_DEBUG", "1")
    monkeypatch.setattr(api, "checkpoint_sites", broken_sites)
    status, _, err = run(capsys, "sites", CASE)
    assert status == 3
    assert "Traceback" in err and "broken_sites" in err


# -- generate (the transformer replaced by a stand-in) -------------------------------------------

@pytest.fixture
def generated(monkeypatch):
    """Replaces generate_source; returns the list of the calls it received."""
    calls = []

    def generate_source(fn, wrt, placement=None, nocheckpoint=(), example=None):
        calls.append(dict(fn=fn, wrt=wrt, placement=placement, nocheckpoint=nocheckpoint,
                          example=example))
        return f"# adjoint of {fn.__name__}\ndef {fn.__name__}_b():\n    pass\n"
    monkeypatch.setattr(api, "generate_source", generate_source)
    return calls


def test_generate_prints_the_source_to_stdout(capsys, generated):
    status, out, err = run(capsys, "generate", f"{MODULE}:cost", "--wrt", "x,a",
                           "--nocheckpoint", "residual")
    assert status == 0
    assert out == "# adjoint of cost\ndef cost_b():\n    pass\n"
    assert "generating the adjoint of cost with respect to x, a" in err
    [call] = generated
    assert call["fn"].__name__ == "cost"
    assert call["wrt"] == ("x", "a")
    assert call["nocheckpoint"] == ("residual",)
    assert call["example"] is None and call["placement"] is None


def test_generate_writes_the_output_file(capsys, generated, project):
    out_path = project / "out" / "cost_adjoint.py"
    status, out, err = run(capsys, "generate", f"{project / 'quadratic.py'}:cost", "--wrt", "x",
                           "-o", out_path, "-q")
    assert status == 0 and out == "" and err == ""
    assert out_path.read_text().startswith("# adjoint of cost")


def test_generate_with_a_case_passes_its_inputs_and_placement(capsys, generated, project):
    Placement(["cost/energy#1"]).save(project / "p.toml")
    status, _, _ = run(capsys, "generate", f"{project / 'quadratic.py'}:cost",
                       "--case", project / "case.toml", "--set", "size=3",
                       "--placement", project / "p.toml")
    assert status == 0
    [call] = generated
    assert call["wrt"] == ("x", "a")                    # the case's wrt
    assert call["example"]["x"].shape == (3,)
    assert call["placement"] == Placement(["cost/energy#1"])


def test_generate_from_a_case_file(capsys, generated):
    status, _, _ = run(capsys, "generate", CASE, "--wrt", "a")
    assert status == 0
    [call] = generated
    assert call["wrt"] == ("a",)
    assert set(call["example"]) == {"x", "a", "target", "n"}


def test_generate_checks_the_kinds_of_wrt_parameters_given_on_the_command_line(capsys, generated):
    refused(capsys, "generate", CASE, "--wrt", "x,n",
            words=["'wrt' names 'n'", "gives it int 2", "only floats"])
    assert generated == []


def test_generate_refuses_to_overwrite_the_users_module(capsys, generated, project):
    before = (project / "quadratic.py").read_text()
    refused(capsys, "generate", f"{project / 'quadratic.py'}:cost", "--wrt", "x",
            "-o", project / "quadratic.py", words=["would overwrite your own file"])
    assert (project / "quadratic.py").read_text() == before
    assert generated == []


def test_generate_refuses_to_overwrite_the_case_file(capsys, generated, project):
    refused(capsys, "generate", project / "case.toml", "-o", project / "case.toml",
            words=["would overwrite your own file"])


def test_generate_keeps_stdout_for_the_source(capsys, generated, project):
    module = project / "quadratic.py"
    module.write_text(module.read_text().replace("    rng = ", "    print('making inputs')\n    rng = ")
                      + "\nprint('imported')\n")
    status, out, err = run(capsys, "generate", project / "case.toml")
    assert status == 0
    assert out.startswith("# adjoint of cost")
    assert "imported" in err and "making inputs" in err


# -- check (the adjoint replaced by the exact gradient, or a wrong one) ----------------------------

def test_check_passes_with_the_right_gradient(capsys, monkeypatch):
    monkeypatch.setattr(api, "adjoint", fake_adjoint(quadratic_value_and_grad))
    status, out, err = run(capsys, "check", CASE)
    assert status == 0, out + err
    for word in ("parameter", "shape", "adjoint", "finite differences", "rel. error", "spread",
                 "scalar", "value", "primal", "prepare", "all 2 parameters agree"):
        assert word in out
    assert out.count(" ok ") == 2 and "FAIL" not in out
    assert "finite differences for x" in err          # progress goes to stderr


def test_check_fails_with_a_wrong_gradient(capsys, monkeypatch):
    def wrong(fn, wrt):
        right = quadratic_value_and_grad(fn, wrt)

        def value_and_grad(**inputs):
            value, (g_x, g_a) = right(**inputs)
            return value, (g_x, 1.01 * g_a)
        return value_and_grad
    monkeypatch.setattr(api, "adjoint", fake_adjoint(wrong))
    status, out, _ = run(capsys, "check", CASE, "--json")
    assert status == 1
    result = json.loads(out)
    assert result["ok"] is False and result["status"] == "fail"
    assert [row["status"] for row in result["parameters"]] == ["ok", "fail"]
    assert result["parameters"][1]["relative_error"] == pytest.approx(0.01 / 1.01, rel=1e-3)


def test_check_reports_a_modified_argument_and_a_wrong_value(capsys, monkeypatch):
    def mutating(fn, wrt):
        right = quadratic_value_and_grad(fn, wrt)

        def value_and_grad(**inputs):
            value, grads = right(**inputs)
            inputs["x"][0] += 1.0
            return value + 1.0, grads
        return value_and_grad
    monkeypatch.setattr(api, "adjoint", fake_adjoint(mutating))
    status, out, _ = run(capsys, "check", CASE, "-q")
    assert status == 1
    assert "modified the argument 'x'" in out
    assert "differs from the primal's" in out


def test_check_json_and_options_reach_the_api(capsys, monkeypatch):
    seen = {}

    def spy(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        seen.update(placement=placement, nocheckpoint=nocheckpoint, verify=verify)
        return FakeAdjoint(quadratic_value_and_grad(fn, wrt))
    monkeypatch.setattr(api, "adjoint", spy)
    status, out, _ = run(capsys, "check", CASE, "--json", "--set", "size=2", "--seed", "3",
                         "--rtol", "1e-4", "--nocheckpoint", "energy,residual")
    assert status == 0
    result = json.loads(out)
    assert result["ok"] is True and result["rtol"] == 1e-4 and result["seed"] == 3
    assert [row["shape"] for row in result["parameters"]] == [[2], []]
    assert set(result["seconds"]) == {"primal", "prepare", "adjoint", "finite_differences", "tangent"}
    assert result["dot"]["ok"] is True      # the default check
    assert result["placements"] is None
    assert seen == {"placement": None, "nocheckpoint": ("energy", "residual"), "verify": None}


def test_check_evaluations_cannot_leak_in_place_updates(capsys, monkeypatch, tmp_path):
    # the head updates its argument in place: without deep copies, every finite-difference
    # evaluation would start from the previous one's result
    (tmp_path / "model.py").write_text(
        "import numpy as np\n\n\ndef cost(x):\n    x *= 2.0\n    return np.sum(x * x)\n\n\n"
        "def make_inputs():\n    return {'x': np.array([1.0, 2.0, 3.0])}\n")
    (tmp_path / "case.toml").write_text(
        'module = "model.py"\nhead = "cost"\nwrt = ["x"]\ninputs = "make_inputs"\n')

    def exact(fn, wrt):
        return lambda x: (float(np.sum((2.0 * x) ** 2)), (8.0 * x,))
    monkeypatch.setattr(api, "adjoint", fake_adjoint(exact))
    status, out, _ = run(capsys, "check", tmp_path / "case.toml", "-q")
    assert status == 0, out


def test_check_refuses_a_head_that_returns_no_scalar(capsys, monkeypatch, tmp_path):
    (tmp_path / "model.py").write_text(
        "def cost(x):\n    return [x]\n\n\ndef make_inputs():\n    return {'x': 1.0}\n")
    (tmp_path / "case.toml").write_text(
        'module = "model.py"\nhead = "cost"\nwrt = ["x"]\ninputs = "make_inputs"\n')
    refused(capsys, "check", tmp_path / "case.toml", words=["must return a real scalar"])


def test_check_reports_the_head_raising_as_a_usage_error(capsys, tmp_path):
    (tmp_path / "model.py").write_text(
        "def cost(x):\n    return x / 0.0\n\n\ndef make_inputs():\n    return {'x': 1.0}\n")
    (tmp_path / "case.toml").write_text(
        'module = "model.py"\nhead = "cost"\nwrt = ["x"]\ninputs = "make_inputs"\n')
    refused(capsys, "check", tmp_path / "case.toml",
            words=["cost raised ZeroDivisionError: float division by zero", "model.py:2)"])


# -- sites (checkpoint_sites replaced by a stand-in) ---------------------------------------------

@pytest.fixture
def two_sites(monkeypatch):
    def checkpoint_sites(fn, nocheckpoint=(), example=None):
        return [Site(f"cost/{callee}#1", "cost", callee, str(MODULE), 14, callee not in nocheckpoint)
                for callee in ("residual", "energy")]
    monkeypatch.setattr(api, "checkpoint_sites", checkpoint_sites)


def test_sites_table(capsys, two_sites):
    status, out, _ = run(capsys, "sites", f"{MODULE}:cost", "--nocheckpoint", "energy", "--wide")
    assert status == 0
    assert "cost/residual#1" in out and "cost → energy" in out
    assert "quadratic.py:14" in out
    assert "checkpoint (joint)" in out and "nocheckpoint (split)" in out
    assert "2 sites, 1 checkpointed, 1 not" in out


def test_sites_json_with_a_placement(capsys, two_sites, tmp_path):
    Placement(["cost/residual#1", "gone/away#1"]).save(tmp_path / "p.toml")
    status, out, err = run(capsys, "sites", CASE, "--json", "--placement", tmp_path / "p.toml")
    assert status == 0
    sites = json.loads(out)
    assert [(s["id"], s["checkpointed"]) for s in sites] == [("cost/residual#1", False),
                                                            ("cost/energy#1", True)]
    assert sites[0]["file"] == str(MODULE) and sites[0]["line"] == 14
    assert "gone/away#1" in err and "no longer has" in err


# -- with the real transformer ------------------------------------------------------------------

COMPETITION = Path(__file__).resolve().parent.parent / "examples" / "competition" / "case.toml"


@pytest.mark.parametrize("sites, stale", [(["integrate/heun#1", "heun/rhs#2"], False),
                                          (["integrate/rk4#1", "rk4/rhs#4"], True)])
def test_a_placement_is_checked_against_the_functions_the_case_passes(capsys, tmp_path, sites, stale):
    # the case passes scheme=heun, the head's default is rk4: the sites are heun's
    Placement(sites).save(tmp_path / "p.toml")
    status, out, err = run(capsys, "sites", COMPETITION, "--json", "--placement", tmp_path / "p.toml")
    assert status == 0
    assert ("no longer has" in err) == stale, err
    listed = {s["id"]: s["checkpointed"] for s in json.loads(out)}
    assert all(listed[site] is False for site in sites if site in listed)
    assert ("heun/rhs#2" in listed) and ("rk4/rhs#4" not in listed)


@pytest.mark.adjoint
def test_real_generate_writes_a_module_that_compiles(capsys, project):
    out_path = project / "cost_adjoint.py"
    status, _, err = run(capsys, "generate", f"{project / 'quadratic.py'}:cost", "--wrt", "x,a",
                         "--case", project / "case.toml", "-o", out_path)
    assert status == 0, err
    source = out_path.read_text()
    compile(source, str(out_path), "exec")
    assert "cost" in source


@pytest.mark.adjoint
def test_real_generate_to_stdout(capsys):
    status, out, err = run(capsys, "generate", CASE, "--nocheckpoint", "residual")
    assert status == 0, err
    compile(out, "<adjoint>", "exec")


@pytest.mark.adjoint
@pytest.mark.parametrize("options", [[], ["--nocheckpoint", "residual,energy"]])
def test_real_check_passes_on_the_quadratic(capsys, options):
    status, out, err = run(capsys, "check", CASE, *options)
    assert status == 0, out + err
    assert "all 2 parameters agree" in out


@pytest.mark.adjoint
def test_real_check_json(capsys):
    status, out, err = run(capsys, "check", CASE, "--json", "--set", "size=6")
    assert status == 0, err
    result = json.loads(out)
    assert result["ok"] and [row["parameter"] for row in result["parameters"]] == ["x", "a"]


@pytest.mark.adjoint
def test_real_sites_of_the_quadratic(capsys):
    status, out, err = run(capsys, "sites", f"{MODULE}:cost", "--json",
                           "--nocheckpoint", "residual")
    assert status == 0, err
    sites = {site["callee"]: site for site in json.loads(out)}
    assert set(sites) == {"residual", "energy"}
    assert sites["residual"]["checkpointed"] is False
    assert sites["energy"]["checkpointed"] is True
    assert all(site["caller"] == "cost" for site in sites.values())


@pytest.mark.adjoint
def test_real_sites_table_from_a_case(capsys):
    status, out, err = run(capsys, "sites", CASE, "--wide")
    assert status == 0, err
    assert "cost → residual" in out and "cost → energy" in out
    assert "quadratic.py:" in out


def test_sites_table_fits_a_100_column_terminal_without_cutting_names_or_decisions():
    """Site ids and decisions are never cut; the file column gives way (issue 14)."""
    import os
    import subprocess
    import sys
    from rich.text import Text
    env = dict(os.environ, COLUMNS="100")
    case = Path(__file__).resolve().parent.parent / "examples" / "ocean" / "case.toml"
    done = subprocess.run([sys.executable, "-m", "adjoin.cli", "sites", str(case)],
                          capture_output=True, text=True, env=env, timeout=300)
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    assert rows, done.stdout + done.stderr
    assert all(Text(line).cell_len <= 100 for line in done.stdout.splitlines())
    for line in rows:
        site, where, decision = [cell.strip() for cell in line.strip("│").split("│")]
        assert "…" not in site and "…" not in decision and decision.startswith(("checkpoint", "nocheckpoint"))
        assert where.split(":")[-1].isdigit()


def test_check_runs_the_dot_product_test_by_default(capsys):
    status, out, err = run(capsys, "check", CASE)
    assert status == 0, out + err
    text = " ".join(out.split())
    assert "dot error" in text and "dot-product test ok: the tangent and the adjoint agree to" in text
    assert "the adjoint with the tangent (dot-product test)" in text
    status, out, _ = run(capsys, "check", CASE, "--json")
    result = json.loads(out)
    assert result["dot"]["ok"] is True and result["dot"]["relative_error"] <= 1e-10
    for row, dot_row in zip(result["parameters"], result["dot"]["parameters"]):
        assert row["parameter"] == dot_row["parameter"]
        assert row["tangent"] == pytest.approx(row["adjoint"], rel=1e-10)
        assert row["tangent"] == pytest.approx(row["finite_differences"], rel=1e-6)


def test_check_no_dot_is_finite_differences_only(capsys):
    status, out, _ = run(capsys, "check", CASE, "--no-dot", "--json")
    result = json.loads(out)
    assert status == 0 and result["dot"] is None and "tangent" not in result["seconds"]
    assert all(row["tangent"] is None for row in result["parameters"])
    status, out, _ = run(capsys, "check", CASE, "--no-dot")
    assert "dot" not in out


def test_a_tangent_that_cannot_be_generated_leaves_finite_differences_or_is_an_error_with_dot(
        capsys, monkeypatch):
    from adjoin import tangent_api
    from adjoin.errors import UnsupportedError

    def refusing(fn, wrt):
        def run_tangent(**inputs):
            raise UnsupportedError("model.py, line 3: the tangent of this construct is not written")
        return run_tangent
    monkeypatch.setattr(tangent_api, "jvp", refusing)
    status, out, _ = run(capsys, "check", CASE)
    assert status == 0
    assert "no dot-product test: the tangent cannot be generated (model.py, line 3" in " ".join(out.split())
    status, out, err = run(capsys, "check", CASE, "--dot")
    assert status == 2 and "model.py, line 3" in err


def test_check_dot_fails_when_the_adjoint_disagrees_with_the_tangent(capsys, monkeypatch):
    def wrong(fn, wrt):
        right = quadratic_value_and_grad(fn, wrt)

        def value_and_grad(**inputs):
            value, (g_x, g_a) = right(**inputs)
            return value, (g_x, g_a * (1.0 + 1e-8))     # far below what finite differences can see
        return value_and_grad
    monkeypatch.setattr(api, "adjoint", fake_adjoint(wrong))
    status, out, _ = run(capsys, "check", CASE, "--json")
    result = json.loads(out)
    assert status == 1 and result["dot"]["ok"] is False
    assert all(row["status"] == "ok" for row in result["parameters"])
    assert [row["dot_error"] > 1e-10 for row in result["parameters"]] == [False, True]
    status, out, _ = run(capsys, "check", CASE)
    text = " ".join(out.split())
    assert status == 1 and "dot-product test, a: the tangent gives" in text
    assert "the adjoint disagrees with the tangent (dot-product test)" in text


# -- loop sites ------------------------------------------------------------------------------------

LOOPED = '''import numpy as np


def step(u, k):
    u[1:-1] = u[1:-1] + k * (u[:-2] - 2.0 * u[1:-1] + u[2:])


def cost(u0, k, nsteps):
    u = u0.copy()
    # $AD BINOMIAL-CKP snapshots=3 disk=1
    for n in range(nsteps):
        step(u, k)
    return np.sum(u * u)
'''


@pytest.mark.adjoint
def test_loop_sites_are_listed_turned_off_by_id_profiled_and_advised(capsys, tmp_path):
    module = tmp_path / "looped.py"
    module.write_text(LOOPED)
    status, out, err = run(capsys, "sites", f"{module}:cost")
    assert status == 0 and "cost/loop#1" in out and "binomial, 3 snapshots in memory + 1 on disk" in out
    status, out, err = run(capsys, "sites", f"{module}:cost", "--nocheckpoint", "cost/loop#1,cost/loop#2")
    assert status == 0 and "every iteration taped" in out
    assert "'cost/loop#2' matches no call" in err and "cost/loop#1'" not in err.split("loop#2")[0]
    case = tmp_path / "case.toml"
    case.write_text('module = "looped.py"\nhead = "cost"\nwrt = ["u0", "k"]\n'
                    'inputs = "inputs"\n')
    with module.open("a") as f:
        f.write("\n\ndef inputs():\n    return dict(u0=np.linspace(0.0, 1.0, 8), k=0.1, nsteps=6)\n")
    status, out, err = run(capsys, "profile", case, "-o", tmp_path / "p.json")
    assert status == 0 and "profiled with every iteration taped" in out, err
    assert "binomial, 3 snapshots in memory + 1 on disk" in out           # its schedule, from the directive
    status, out, err = run(capsys, "advise", tmp_path / "p.json", "--memory-budget", "1x", "-o",
                           tmp_path / "advice.toml", "--verify", case)
    assert status == 0, err
    assert "loop site cost/loop#1: binomial" in out and "(peaks differ)" not in out
    status, out, err = run(capsys, "advise", tmp_path / "p.json", "--memory-budget", "0.3x", "--verify", case, "--json")
    result = json.loads(out)                              # disk snapshots are reported apart, when any
    verified, schedules = result["verify"], result["advised"]["loops"].values()
    assert status == 0 and verified["measured_peak"] == verified["predicted_peak"]
    assert (verified["disk_bytes"] > 0) == any(schedule["disk"] > 0 for schedule in schedules)
    advice = Placement.load(tmp_path / "advice.toml")
    assert advice.checkpointed("cost/loop#1") and [k for k, _, _ in advice.loops] == ["cost/loop#1"]
    (_, snapshots, disk), = advice.loops
    status, out, err = run(capsys, "advise", tmp_path / "p.json", "--memory-budget", "1x", "--annotate",
                           tmp_path / "annotated")
    assert status == 0, err                # the advised numbers go into the directive of the copy
    assert f"# $AD BINOMIAL-CKP snapshots={snapshots} disk={disk}" in (tmp_path / "annotated" / "looped.py").read_text()
    status, out, err = run(capsys, "profile", case, "--nocheckpoint", "cost/loop#1", "-o", tmp_path / "p.json")
    assert status == 0, err
