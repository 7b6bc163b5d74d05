"""adjoin check: finite differences judged with their own spread (ok, FAIL, noisy), placement
invariance (--placements), the adjoint's time without its generation, and verify mode (--verify;
a VerifyError is a bug in adjoin: exit 3).

Most tests replace adjoin.adjoint with a stand-in giving an exact (or deliberately wrong)
gradient, so that they test the command; tests marked ``adjoint`` run the real transformer.
"""
import json
import textwrap
import time

import numpy as np
import pytest

from adjoin import Placement, VerifyError, api, cli
from adjoin.cli import check, differences, main

NOISY_MODEL = """\
import numpy as np


def cost(x, a, noise):
    # a smooth quadratic, plus a term that no step of finite differences can resolve
    return a * np.sum(x * x) + noise * np.sum(np.sin(1e9 * x))


def make_inputs(noise=0.0):
    return {"x": np.array([0.3, -1.2, 0.8, 2.0]), "a": 1.5, "noise": noise}
"""

FLOAT32_MODEL = """\
import numpy as np


def cost(x, a, noise):
    # computed in float32: 7 digits, the cost's round-off is about 1e-7 of it
    return float(np.sum(np.float32(a) * x.astype(np.float32) ** 2))


def make_inputs():
    return {"x": np.array([0.3, -1.2, 0.8, 2.0]), "a": 1.5, "noise": 0.0}
"""

THREE_SITES_MODEL = """\
import numpy as np


def smooth(u):
    return u + 0.1 * np.sin(u)


def decay(u, rate):
    return u * np.exp(-rate)


def energy(u):
    return 0.5 * np.sum(u * u)


def cost(x, rate):
    u = smooth(x)
    u = decay(u, rate)
    return energy(u)


def make_inputs():
    return {"x": np.array([0.3, -1.2, 0.8]), "rate": 0.2}
"""


def write_case(folder, model, wrt):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(textwrap.dedent(model))
    case = folder / "case.toml"
    case.write_text(f'module = "model.py"\nhead = "cost"\nwrt = {json.dumps(list(wrt))}\n'
                    'inputs = "make_inputs"\n')
    return case


@pytest.fixture
def noisy_case(tmp_path):
    return write_case(tmp_path / "quadratic", NOISY_MODEL, ["x", "a"])


@pytest.fixture
def three_sites(tmp_path):
    return write_case(tmp_path / "three", THREE_SITES_MODEL, ["x", "rate"])


def run(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


class FakeAdjoint:
    """Stands in for what adjoin.adjoint returns: ``value_and_grad(**inputs)`` plays the adjoint."""

    def __init__(self, value_and_grad, seconds=1e-3, prepare=0.0):
        self.value_and_grad = value_and_grad
        self.seconds = seconds
        self.prepare = prepare

    def __call__(self, **inputs):
        return self.value_and_grad(**inputs)

    def measure(self, **inputs):
        time.sleep(self.prepare)                 # generating and compiling, before the clock
        value, grads = self.value_and_grad(**inputs)
        return api.Run(value, tuple(grads), self.seconds, 0)


def quadratic_gradient(x_factor=1.0, a_factor=1.0):
    """The exact value and gradient of NOISY_MODEL's smooth part, maybe scaled (made wrong)."""
    def value_and_grad(x, a, noise):
        value = a * np.sum(x * x) + noise * np.sum(np.sin(1e9 * x))
        return float(value), (x_factor * 2.0 * a * x, a_factor * float(np.sum(x * x)))
    return value_and_grad


def three_sites_gradient(x, rate):
    """The exact value and gradient of THREE_SITES_MODEL."""
    u = (x + 0.1 * np.sin(x)) * np.exp(-rate)
    return 0.5 * float(np.sum(u * u)), (u * np.exp(-rate) * (1.0 + 0.1 * np.cos(x)),
                                        -float(np.sum(u * u)))


@pytest.fixture
def adjoint_calls(monkeypatch):
    """Replaces adjoin.adjoint; ``calls.value_and_grad`` (settable) plays every adjoint.  Returns
    the list of the calls' keyword arguments."""
    class Calls(list):
        value_and_grad = staticmethod(quadratic_gradient())
        prepare = 0.0
    calls = Calls()

    def adjoint(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        calls.append(dict(wrt=wrt, placement=placement, nocheckpoint=nocheckpoint, verify=verify))
        return FakeAdjoint(calls.value_and_grad, prepare=calls.prepare)
    monkeypatch.setattr(api, "adjoint", adjoint)
    return calls


def check_json(capsys, *args):
    status, out, err = run(capsys, "check", *args, "--json")
    return status, json.loads(out), err


# -- finite differences, their plateau and spread -------------------------------------------------

def test_plateau_is_the_run_of_steps_that_agree_best():
    # truncation error going down, then round-off coming: the plateau is in between
    values = [1.1, 1.01, 1.0001, 1.000001, 1.0000011, 1.0000009, 1.00001, 0.99]
    start, stop, closest = differences.plateau(np.array(values))
    assert (start, stop) == (3, 6)
    assert closest == pytest.approx(2e-7, rel=1e-3)


def test_plateau_grows_by_neighbours_that_agree_nearly_as_well():
    values = [1.1, 1.00000125, 1.000001, 1.0000011, 1.0000009, 1.1]
    assert differences.plateau(np.array(values))[:2] == (1, 5)


def test_plateau_skips_values_that_are_not_finite():
    values = [np.nan, 2.0, 2.0000001, 2.0000002, np.inf]
    assert differences.plateau(np.array(values))[:2] == (1, 4)
    assert differences.plateau(np.array([np.nan, 1.0, np.nan, 2.0])) is None


def test_exact_zeros_say_nothing_unless_every_difference_is_zero():
    assert np.isnan(differences.resolved([0.9, 0.91, 0.0, 0.0])[2:]).all()
    assert (differences.resolved([0.0, 0.0, 0.0]) == 0.0).all()


def test_smaller_steps_are_tried_while_the_differences_still_converge():
    # pure truncation error 3e4 h^2: the plateau is reached below the usual steps
    steps, values = differences.central_differences(lambda h: 1.0 + 3e4 * h * h, 1.0, 1e-6)
    assert steps == pytest.approx([1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8])
    steps, _ = differences.central_differences(lambda h: 1.0 + h * h, 1.0, 1e-6)
    assert len(steps) == len(differences.FD_STEPS)


def test_a_smooth_cost_with_the_exact_gradient_is_ok_and_reports_its_spread(capsys, noisy_case,
                                                                           adjoint_calls):
    status, result, _ = check_json(capsys, noisy_case)
    assert status == 0
    assert result["status"] == "ok" and result["ok"] is True
    for row in result["parameters"]:
        assert row["status"] == "ok" and row["problem"] is None
        assert row["spread"] < 1e-9
        assert len(row["plateau_steps"]) >= 3
        steps = [d["step"] for d in row["differences"]]
        assert len(steps) >= len(differences.FD_STEPS)
        assert np.diff(np.log10(steps)) == pytest.approx(-1.0)   # decades, times the size


def test_a_gradient_wrong_by_1e_5_is_a_fail(capsys, noisy_case, adjoint_calls):
    # as the ocean's T0 was: finite differences agree to 8 digits, the adjoint is off by 1e-5
    adjoint_calls.value_and_grad = quadratic_gradient(x_factor=1.0 + 1e-5)
    status, out, _ = run(capsys, "check", noisy_case, "-q")
    assert status == 1
    assert "FAIL" in out and "1 of 2 parameters disagree" in out and "cannot be judged" not in out
    status, result, _ = check_json(capsys, noisy_case)
    x, a = result["parameters"]
    assert x["status"] == "fail" and a["status"] == "ok"
    assert x["relative_error"] == pytest.approx(1e-5, rel=1e-3)
    assert x["spread"] < 1e-3 * x["relative_error"]


def test_an_error_within_rtol_but_beyond_the_spread_gets_a_note(capsys, noisy_case,
                                                                adjoint_calls):
    adjoint_calls.value_and_grad = quadratic_gradient(x_factor=1.0 + 2e-7)
    # --no-dot: the tangent would fail this gradient; this test is about what finite differences see
    status, out, _ = run(capsys, "check", noisy_case, "-q", "--no-dot")
    assert status == 0                                     # still ok: rtol decides
    assert "note x: within rtol 1e-06, but the adjoint is 2.0e-07 from the finite differences" \
        in " ".join(out.split())
    _, result, _ = check_json(capsys, noisy_case)
    assert result["parameters"][0]["note"] and result["parameters"][1]["note"] is None


def test_finite_differences_that_never_converge_are_noisy_not_fail(capsys, noisy_case,
                                                                   adjoint_calls):
    # --no-dot: the fake adjoint is the smooth part's gradient, which the noisy tangent does not
    # match; this test is about what finite differences see
    status, out, _ = run(capsys, "check", noisy_case, "--set", "noise=1e-6", "-q", "--no-dot")
    assert status == cli.NOISY == 4
    assert "FAIL" not in out and "agree with finite" not in out
    assert "noisy x: finite differences too noisy to judge: their values at consecutive steps " \
           "never agree to 0.0001" in " ".join(out.split())
    assert "1 of 2 parameters cannot be judged" in out
    status, result, _ = check_json(capsys, noisy_case, "--set", "noise=1e-6", "--no-dot")
    assert result["status"] == "noisy" and result["ok"] is False
    assert [row["status"] for row in result["parameters"]] == ["noisy", "ok"]


def test_a_spread_larger_than_rtol_is_noisy(capsys, noisy_case, adjoint_calls):
    # the differences converge to about 1e-5: they cannot confirm an agreement to 1e-6
    status, result, _ = check_json(capsys, noisy_case, "--set", "noise=1e-10", "--no-dot")   # as above
    assert status == 4
    x = result["parameters"][0]
    assert x["status"] == "noisy"
    assert 1e-6 < x["spread"] < 1e-4
    assert x["problem"].startswith("finite differences too noisy to judge at rtol 1e-06: they "
                                   "spread by")
    # ... but they can at a tolerance above their spread
    status, result, _ = check_json(capsys, noisy_case, "--set", "noise=1e-10", "--rtol", "1e-3", "--no-dot")
    assert status == 0 and result["parameters"][0]["status"] == "ok"


def test_a_gradient_wrong_beyond_the_spread_fails_even_when_the_spread_exceeds_rtol(
        capsys, noisy_case, adjoint_calls):
    adjoint_calls.value_and_grad = quadratic_gradient(x_factor=1.01)
    status, result, _ = check_json(capsys, noisy_case, "--set", "noise=1e-10")
    assert status == 1
    x = result["parameters"][0]
    assert x["status"] == "fail" and x["spread"] > 1e-6


def test_a_fail_wins_over_noisy(capsys, noisy_case, adjoint_calls):
    adjoint_calls.value_and_grad = quadratic_gradient(a_factor=1.01)
    status, result, _ = check_json(capsys, noisy_case, "--set", "noise=1e-6")
    assert status == 1 and result["status"] == "fail"
    assert [row["status"] for row in result["parameters"]] == ["noisy", "fail"]


def test_a_cost_computed_in_float32_is_noisy(capsys, tmp_path, adjoint_calls):
    case = write_case(tmp_path / "f32", FLOAT32_MODEL, ["x", "a"])
    exact = quadratic_gradient()

    def value_and_grad(x, a, noise):     # the float32 value, the float64 gradient
        return float(np.sum(np.float32(a) * x.astype(np.float32) ** 2)), exact(x, a, noise)[1]
    adjoint_calls.value_and_grad = value_and_grad
    status, result, _ = check_json(capsys, case)
    assert status == 4
    assert all(row["status"] == "noisy" for row in result["parameters"])


# -- the adjoint's time, without its generation ------------------------------------------------------

def test_preparing_the_adjoint_is_not_counted_as_its_run_time(capsys, noisy_case, adjoint_calls):
    adjoint_calls.prepare = 0.05
    status, result, _ = check_json(capsys, noisy_case)
    assert status == 0
    assert result["seconds"]["adjoint"] == 1e-3          # what measure() timed
    assert result["seconds"]["prepare"] >= 0.04          # 0.05 s asleep, less the 1 ms faked
    status, out, _ = run(capsys, "check", noisy_case, "-q")
    assert "prepare" in out and "(generate, compile)" in out


# -- placements --------------------------------------------------------------------------------------

def test_placements_run_every_site_off_and_random_ones(capsys, three_sites, adjoint_calls):
    adjoint_calls.value_and_grad = three_sites_gradient
    status, result, _ = check_json(capsys, three_sites, "--placements", "3")
    assert status == 0
    placements = result["placements"]
    assert placements["ok"] and placements["sites"] == 3
    assert placements["checked"] == "every site checkpointed"
    assert [r["label"] for r in placements["runs"]] == ["every site off", "random 1", "random 2",
                                                       "random 3"]
    offs = [frozenset(r["nocheckpoint"]) for r in placements["runs"]]
    assert offs[0] == {"cost/smooth#1", "cost/decay#1", "cost/energy#1"}
    assert len(set(offs)) == 4 and frozenset() not in offs      # distinct, not the checked one
    assert [call["placement"] for call in adjoint_calls[1:]] == [Placement(off) for off in offs]
    assert placements["worst"]["disagreement"] == 0.0
    assert set(result["seconds"]) >= {"placements"}


def test_placements_are_drawn_from_the_seed(capsys, three_sites, adjoint_calls):
    adjoint_calls.value_and_grad = three_sites_gradient
    draws = []
    for seed in ("0", "0", "5"):
        _, result, _ = check_json(capsys, three_sites, "--placements", "2", "--seed", seed)
        draws.append([r["nocheckpoint"] for r in result["placements"]["runs"]])
    assert draws[0] == draws[1]


def test_placements_beyond_those_that_exist_run_them_all(capsys, three_sites, adjoint_calls):
    adjoint_calls.value_and_grad = three_sites_gradient
    status, result, _ = check_json(capsys, three_sites, "--placements", "10",
                                   "--nocheckpoint", "decay")
    assert status == 0
    placements = result["placements"]
    assert placements["checked"] == "the checked placement"
    assert placements["checked_nocheckpoint"] == ["cost/decay#1"]
    labels = [r["label"] for r in placements["runs"]]
    assert labels[:2] == ["every site checkpointed", "every site off"]
    assert len(labels) == 7                    # 2^3 placements but the checked one
    assert "only 5 other placements" in placements["note"]


def test_a_head_without_sites_has_nothing_to_compare(capsys, noisy_case, adjoint_calls):
    status, out, _ = run(capsys, "check", noisy_case, "--placements", "2", "-q")
    assert status == 0
    assert "cost has no checkpoint sites" in out
    assert len(adjoint_calls) == 1


def test_a_placement_that_changes_the_gradient_is_a_fail(capsys, three_sites, monkeypatch):
    def adjoint(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        def value_and_grad(x, rate):
            value, (g_x, g_rate) = three_sites_gradient(x, rate)
            if placement is not None and "cost/decay#1" in placement.nocheckpoint:
                g_x = g_x * (1.0 + 1e-9)            # a placement bug far below FD's reach
            return value, (g_x, g_rate)
        return FakeAdjoint(value_and_grad)
    monkeypatch.setattr(api, "adjoint", adjoint)
    status, out, _ = run(capsys, "check", three_sites, "--placements", "6", "-q")
    assert status == 1
    assert out.count(" ok ") == 2                           # finite differences cannot see it
    text = " ".join(out.split())
    assert "FAIL placements: under every site off (off: cost/decay#1, cost/energy#1, " \
           "cost/smooth#1) the gradient of x differs from its value under every site " \
           "checkpointed by 1.0e-09" in text
    assert "the gradient depends on the placement" in text
    status, result, _ = check_json(capsys, three_sites, "--placements", "6")
    placements = result["placements"]
    assert status == 1 and result["status"] == "fail" and not placements["ok"]
    assert placements["worst"]["where"] == "x"
    assert placements["worst"]["disagreement"] == pytest.approx(1e-9, rel=1e-3)
    bad = [r for r in placements["runs"] if not r["ok"]]
    assert bad and all("cost/decay#1" in r["nocheckpoint"] for r in bad)


def test_draw_placements_gives_distinct_new_placements():
    ids = [f"cost/f{k}#1" for k in range(30)]
    exclude = {frozenset(), frozenset(ids)}
    drawn = check.draw_placements(ids, 5, np.random.default_rng(1), exclude)
    assert len(set(drawn)) == 5 and not set(drawn) & exclude
    assert drawn == check.draw_placements(ids, 5, np.random.default_rng(1), exclude)
    few = check.draw_placements(ids[:2], 5, np.random.default_rng(1), {frozenset(), frozenset(ids[:2])})
    assert sorted(map(sorted, few)) == [["cost/f0#1"], ["cost/f1#1"]]


def test_gradient_disagreement_is_relative_to_the_largest_entry():
    grads = (np.array([1.0, -4.0]), 2.0)
    other = (np.array([1.0 + 4e-12, -4.0]), 2.0)
    assert check.gradient_disagreement(("x", "a"), 1.0, grads, 1.0, other) == \
        pytest.approx((1e-12, "x"))
    assert check.gradient_disagreement(("x", "a"), 1.0, grads, 1.0, (grads[0], np.nan))[0] == np.inf
    assert check.gradient_disagreement(("x", "a"), 1.0, grads, 1.5, grads) == (0.5, "value")


@pytest.mark.parametrize("count", ["-1", "some"])
def test_bad_placements_count(capsys, noisy_case, count):
    status, _, err = run(capsys, "check", noisy_case, "--placements", count)
    assert status == 2 and "argument --placements" in err


@pytest.mark.adjoint
def test_real_placements_agree_on_a_head_with_three_sites(capsys, three_sites):
    status, out, err = run(capsys, "check", three_sites, "--placements", "3", "-q")
    assert status == 0, out + err
    text = " ".join(out.split())
    assert "placements: every site off and 3 random placements against every site " \
           "checkpointed, 3 sites:" in text
    assert "tolerance 1e-12" in text
    status, result, _ = check_json(capsys, three_sites, "--placements", "3")
    assert result["placements"]["ok"] and len(result["placements"]["runs"]) == 4
    assert result["placements"]["worst"]["disagreement"] <= 1e-12


@pytest.mark.adjoint
def test_real_check_times_the_adjoint_apart_from_its_generation(capsys, three_sites):
    status, result, _ = check_json(capsys, three_sites)
    assert status == 0
    assert result["seconds"]["prepare"] > 0 and result["seconds"]["adjoint"] > 0
    assert result["peak_tape_bytes"] > 0


# -- verify mode ---------------------------------------------------------------------------------------

def test_verify_reaches_every_adjoint_of_the_check(capsys, three_sites, adjoint_calls):
    adjoint_calls.value_and_grad = three_sites_gradient
    status, result, _ = check_json(capsys, three_sites, "--verify", "--placements", "1")
    assert status == 0 and result["verify"] is True
    assert [call["verify"] for call in adjoint_calls] == [True, True, True]


def test_without_verify_the_environment_decides(capsys, three_sites, adjoint_calls, monkeypatch):
    adjoint_calls.value_and_grad = three_sites_gradient
    monkeypatch.delenv("ADJOIN_VERIFY", raising=False)
    _, result, _ = check_json(capsys, three_sites)
    assert [call["verify"] for call in adjoint_calls] == [None] and result["verify"] is False
    monkeypatch.setenv("ADJOIN_VERIFY", "1")
    _, result, _ = check_json(capsys, three_sites)
    assert [call["verify"] for call in adjoint_calls] == [None, None] and result["verify"] is True


BROKEN = "model.py:18: 'u' was assumed unchanged since the call to decay, but energy changed it"


def broken_run(**inputs):
    raise VerifyError(BROKEN)


def test_a_verify_error_is_a_bug_in_adjoin_exit_3(capsys, three_sites, adjoint_calls,
                                                    monkeypatch):
    monkeypatch.delenv("ADJOIN_DEBUG", raising=False)
    adjoint_calls.value_and_grad = broken_run
    status, out, err = run(capsys, "check", three_sites, "--verify", "-q")
    assert status == 3
    assert f"adjoin: error: {BROKEN}" in err
    assert "this is a bug in adjoin, not in your code" in err and "please report it" in err
    assert out == ""


def test_a_verify_error_in_profile_is_a_bug_exit_3(capsys, three_sites, monkeypatch):
    seen = []

    class Profiled(FakeAdjoint):
        def profile(self, **kwargs):
            raise VerifyError(BROKEN)

    def adjoint(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        seen.append(verify)
        return Profiled(three_sites_gradient)
    monkeypatch.setattr(api, "adjoint", adjoint)
    status, _, err = run(capsys, "profile", three_sites, "--verify", "-q")
    assert status == 3 and seen == [True]
    assert BROKEN in err and "bug in adjoin" in err


@pytest.mark.adjoint
def test_advise_verify_runs_the_advised_placement_in_verify_mode(capsys, three_sites, tmp_path,
                                                               monkeypatch):
    from adjoin.case import load_case
    case = load_case(three_sites)
    adj = api.adjoint(case.head, wrt=case.wrt)
    adj.profile(**case.build_inputs(), background=False).save(tmp_path / "profile.json")
    real, seen = api.adjoint, []

    def spy(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        seen.append(verify)
        return real(fn, wrt, placement=placement, nocheckpoint=nocheckpoint, verify=verify)
    monkeypatch.setattr(api, "adjoint", spy)
    status, out, err = run(capsys, "advise", tmp_path / "profile.json", "--verify", three_sites,
                           "-q")
    assert status == 0, err
    assert seen == [True, False]                # once in verify mode, then the timed runs
    assert "verify mode found no broken assumption" in " ".join(out.split())

    def broken(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        return FakeAdjoint(broken_run) if verify else real(fn, wrt, placement=placement)
    monkeypatch.setattr(api, "adjoint", broken)
    status, _, err = run(capsys, "advise", tmp_path / "profile.json", "--verify", three_sites)
    assert status == 3 and BROKEN in err and "bug in adjoin" in err


def test_a_placement_with_a_non_finite_gradient_is_a_fail_and_valid_json(capsys, three_sites,
                                                                        monkeypatch):
    def adjoint(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        def value_and_grad(x, rate):
            value, (g_x, g_rate) = three_sites_gradient(x, rate)
            return value, (g_x, np.nan if placement is not None else g_rate)
        return FakeAdjoint(value_and_grad)
    monkeypatch.setattr(api, "adjoint", adjoint)
    status, out, _ = run(capsys, "check", three_sites, "--placements", "0", "--json")
    assert status == 1
    assert "NaN" not in out and "Infinity" not in out
    worst = json.loads(out)["placements"]["worst"]
    assert worst["disagreement"] is None and worst["where"] == "rate" and not worst["ok"]
    status, out, _ = run(capsys, "check", three_sites, "--placements", "0", "-q")
    assert "differs from its value under every site checkpointed by a non-finite amount" in \
        " ".join(out.split())
