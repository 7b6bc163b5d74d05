"""Issue 13's sweep: bad or unlucky command lines, each through the real ``adjoin`` command.

Every case runs ``adjoin.cli.main`` (what the console script runs) in the project's folder or in
another one, and checks its exit status, the words its message must hold (the file or option,
what is wrong), that no traceback is printed, that no file of the project changed (every file is
hashed before and after) and that no temporary file is left.  A subset, and the cases that need a
process of their own (another user, a file size limit, a full or read-only disk, signals), run
the console script as a subprocess.  docs/files-and-status.md lists the statuses.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adjoin.cli import main
from adjoin.profiling.worker import cores

FIXTURE = Path(__file__).parent / "fixtures" / "quadratic"
SCRIPT = Path(sys.executable).with_name("adjoin")
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
NOBODY = 65534


@dataclass(frozen=True)
class Case:
    """One command line: what it must end in."""
    id: str
    args: tuple
    status: int
    words: tuple = ()              # each must appear in stderr
    cwd: str = "proj"              # "proj" (the model's folder) or "other" (beside it)
    env: dict = field(default_factory=dict)
    changes: tuple = ()            # project files the command may change (none, by default)


def case(id, args, status, *words, cwd="proj", env=None, changes=()):
    return Case(id, tuple(args.split()) if isinstance(args, str) else tuple(args), status,
                tuple(words), cwd, env or {}, changes)


OVERWRITE = "would overwrite your own file"
SWEEP = [
    # -- outputs over the files a command reads: refused (unless --force) ----------------------
    case("generate-o-sibling-module", "generate quadratic.py:cost --wrt x -o energy.py", 2, OVERWRITE, "energy.py", "--force"),
    case("generate-o-model", "generate quadratic.py:cost --wrt x -o quadratic.py", 2, OVERWRITE, "quadratic.py"),
    case("generate-o-case", "generate case.toml -o case.toml", 2, OVERWRITE, "case.toml"),
    case("generate-case-o-model", "generate case.toml -o quadratic.py", 2, OVERWRITE, "quadratic.py"),
    case("generate-o-placement", "generate case.toml --placement placement.toml -o placement.toml", 2, OVERWRITE, "placement.toml"),
    case("generate-o-case-option", "generate quadratic.py:cost --case case.toml -o case.toml", 2, OVERWRITE, "case.toml"),
    case("generate-o-symlink-to-module", "generate case.toml -o link_to_energy.py", 2, OVERWRITE, "energy.py"),
    case("generate-o-hard-link-to-model", "generate case.toml -o hard_quadratic.py", 2, OVERWRITE, "quadratic.py"),
    case("generate-o-from-elsewhere", "generate ../proj/case.toml -o ../proj/energy.py", 2, OVERWRITE, "energy.py", cwd="other"),
    case("profile-o-sibling-module", "profile case.toml -o energy.py", 2, OVERWRITE, "energy.py"),
    case("profile-o-case", "profile case.toml -o case.toml", 2, OVERWRITE, "case.toml"),
    case("profile-trace-model", "profile case.toml --trace quadratic.py", 2, "--trace", OVERWRITE, "quadratic.py"),
    case("profile-o-placement", "profile case.toml --placement placement.toml -o placement.toml", 2, OVERWRITE, "placement.toml"),
    case("profile-o-and-trace-same", "profile case.toml -o same.json --trace same.json", 2, "--trace", "same file"),
    case("advise-o-sibling-module", "advise profile.json -o energy.py", 2, OVERWRITE, "energy.py"),
    case("advise-o-model", "advise profile.json -o quadratic.py", 2, OVERWRITE, "quadratic.py"),
    case("advise-o-case", "advise profile.json -o case.toml", 2, OVERWRITE, "case.toml"),
    case("advise-o-profile", "advise profile.json -o profile.json", 2, OVERWRITE, "profile.json"),
    case("advise-o-model-from-elsewhere", "advise ../proj/profile.json -o ../proj/quadratic.py", 2, OVERWRITE, "quadratic.py", cwd="other"),
    case("advise-old-profile-o-model-from-elsewhere", "advise ../proj/old.json -o ../proj/quadratic.py", 2, OVERWRITE, "quadratic.py", cwd="other"),
    case("advise-annotate-into-the-model-folder", "advise profile.json --memory-budget 10x --annotate .", 2, "--annotate", OVERWRITE, "quadratic.py"),
    case("advise-verify-o-case", "advise profile.json --verify case.toml -o case.toml", 2, OVERWRITE, "case.toml"),
    case("report-o-sibling-module", "report profile.json -o energy.py", 2, OVERWRITE, "energy.py"),
    case("report-o-model", "report profile.json -o quadratic.py", 2, OVERWRITE, "quadratic.py"),
    case("report-o-profile", "report profile.json -o profile.json", 2, OVERWRITE, "profile.json"),
    case("report-case-o-case", "report profile.json --case case.toml -o case.toml", 2, OVERWRITE, "case.toml"),
    case("report-default-output-is-the-profile", "report p.html", 2, OVERWRITE, "p.html"),
    case("report-o-module-from-elsewhere", "report ../proj/profile.json -o ../proj/energy.py", 2, OVERWRITE, "energy.py", cwd="other"),
    # -- outputs that cannot be written: refused before anything runs --------------------------
    case("generate-o-folder", "generate case.toml -o folder.toml", 2, "-o folder.toml", "is a folder"),
    case("generate-o-under-a-file", "generate case.toml -o afile/out.py", 2, "-o afile/out.py", "afile is a file, not a folder"),
    case("generate-o-read-only-file", "generate case.toml -o readonly.py", 2, "-o readonly.py", "read-only"),
    case("generate-o-name-too-long", ["generate", "case.toml", "-o", "x" * 300 + ".py"], 2, "-o xxx", "name is too long"),
    case("profile-o-under-a-file", "profile case.toml -o afile/p.json", 2, "afile is a file"),
    case("profile-trace-folder", "profile case.toml --trace folder.json", 2, "--trace folder.json", "is a folder"),
    case("advise-o-under-a-file", "advise profile.json -o afile/p.toml", 2, "afile is a file"),
    case("advise-annotate-a-file", "advise profile.json --memory-budget 10x --annotate afile", 2, "--annotate afile", "is a file, not a folder"),
    case("report-o-folder", "report profile.json -o folder.json", 2, "-o folder.json", "is a folder"),
    # -- placement files: unreadable, damaged, of another format --------------------------------
    case("sites-placement-folder", "sites case.toml --placement folder.toml", 2, "folder.toml", "is a folder"),
    case("generate-placement-binary", "generate case.toml --placement binary.toml", 2, "binary.toml", "not UTF-8"),
    case("check-placement-binary", "check case.toml --placement binary.toml", 2, "binary.toml", "not UTF-8"),
    case("sites-placement-missing", "sites case.toml --placement missing.toml", 2, "missing.toml", "no such placement file"),
    case("sites-placement-format-99", "sites case.toml --placement format99.toml", 2, "format99.toml", "format 99"),
    case("generate-placement-format-99", "generate case.toml --placement format99.toml", 2, "format99.toml", "format 99"),
    case("check-placement-format-99", "check case.toml --placement format99.toml", 2, "format99.toml", "format 99"),
    case("profile-placement-format-99", "profile case.toml --placement format99.toml", 2, "format99.toml", "format 99"),
    case("sites-placement-format-string", "sites case.toml --placement format_string.toml", 2, "format_string.toml", "format is '1'"),
    case("sites-placement-bad-decision", "sites case.toml --placement decision.toml", 2, "decision.toml", "sites['cost/energy#1']", "'maybe'"),
    case("sites-placement-bad-site-id", "sites case.toml --placement site_id.toml", 2, "site_id.toml", "not a site id"),
    case("sites-placement-unknown-key", "sites case.toml --placement unknown_key.toml", 2, "unknown_key.toml", "site: unknown key", "'sites'"),
    case("sites-placement-not-toml", "sites case.toml --placement not_toml.toml", 2, "not_toml.toml", "not a valid TOML"),
    case("sites-placement-sites-not-a-table", "sites case.toml --placement sites_number.toml", 2, "sites_number.toml", "sites is a whole number"),
    case("sites-placement-empty", "sites case.toml --placement empty.toml", 2, "empty.toml", "missing key 'sites'"),
    # -- stale placements and unknown --nocheckpoint names: warned about, by every command ------
    case("sites-placement-stale", "sites case.toml --placement stale.toml", 0, "stale.toml", "gone/away#1", "no longer has"),
    case("generate-placement-stale", "generate case.toml --placement stale.toml", 0, "stale.toml", "gone/away#1"),
    case("check-placement-stale", "check case.toml --placement stale.toml", 0, "stale.toml", "gone/away#1"),
    case("profile-placement-stale", "profile case.toml --placement stale.toml", 0, "stale.toml", "gone/away#1"),
    case("sites-placement-partial", "sites case.toml --placement partial.toml", 0, "partial.toml", "does not list 1 of the 2 sites of cost", "cost/residual#1"),
    case("check-placement-partial", "check case.toml --placement partial.toml", 0, "partial.toml", "does not list"),
    case("sites-nocheckpoint-typo", "sites case.toml --nocheckpoint enrgy", 0, "--nocheckpoint 'enrgy'", "did you mean 'energy'?"),
    case("generate-nocheckpoint-typo", "generate case.toml --nocheckpoint enrgy", 0, "--nocheckpoint 'enrgy'", "did you mean 'energy'?"),
    case("check-nocheckpoint-typo", "check case.toml --nocheckpoint residul", 0, "--nocheckpoint 'residul'", "did you mean 'residual'?"),
    case("profile-nocheckpoint-unknown", "profile case.toml --nocheckpoint zzz", 0, "--nocheckpoint 'zzz'", "its sites call"),
    # -- profile files: unreadable, damaged, of another version ---------------------------------
    case("advise-profile-folder", "advise folder.json", 2, "folder.json", "is a folder"),
    case("advise-profile-binary", "advise binary.json", 2, "binary.json", "not UTF-8"),
    case("report-profile-binary", "report binary.json -o r.html", 2, "binary.json", "not UTF-8"),
    case("advise-profile-missing", "advise missing.json", 2, "missing.json", "no such profile file"),
    case("advise-profile-sites-empty-table", "advise sites_table.json", 2, "sites_table.json", "sites is a table", "not a list"),
    case("report-profile-sites-empty-table", "report sites_table.json -o r.html", 2, "sites_table.json", "sites is a table"),
    case("advise-profile-delta-t-string", "advise delta_t.json", 2, "delta_t.json", "sites[0].delta_t", "not a number"),
    case("report-profile-delta-t-string", "report delta_t.json -o r.html", 2, "delta_t.json", "sites[0].delta_t"),
    case("advise-profile-node-wrong-type", "advise node_type.json", 2, "node_type.json", "tree.nodes[0].S", "not a whole number"),
    case("report-profile-node-wrong-type", "report node_type.json -o r.html", 2, "node_type.json", "tree.nodes[0].S"),
    case("advise-profile-node-float-bytes", "advise node_float.json", 2, "node_float.json", "tree.nodes[0].Tj"),
    case("advise-profile-version-99", "advise version99.json", 2, "version99.json", "version 99", "upgrade"),
    case("advise-profile-version-string", "advise version_string.json", 2, "version_string.json", "version '3'"),
    case("advise-profile-other-format", "advise other_format.json", 2, "other_format.json", "not an adjoin profile"),
    case("advise-profile-nan", "advise nan.json", 2, "nan.json", "NaN"),
    case("advise-profile-truncated", "advise truncated.json", 2, "truncated.json", "invalid JSON"),
    case("advise-profile-empty", "advise empty.json", 2, "empty.json", "invalid JSON"),
    case("advise-profile-a-list", "advise list.json", 2, "list.json", "not an adjoin profile"),
    case("advise-profile-missing-key", "advise no_tree.json", 2, "no_tree.json", "missing key 'tree'"),
    case("advise-profile-unknown-key", "advise unknown_key.json", 2, "unknown_key.json", "extra: unknown key"),
    case("advise-profile-child-after-parent", "advise child_forward.json", 2, "child_forward.json", "tree.nodes[0].children[0]"),
    case("advise-profile-root-out-of-range", "advise root_range.json", 2, "root_range.json", "tree.root"),
    case("advise-profile-site-twice", "advise duplicate_site.json", 2, "duplicate_site.json", "listed twice"),
    case("advise-profile-unknown-site-in-tree", "advise tree_site.json", 2, "tree_site.json", "tree.nodes[0].site"),
    case("advise-profile-negative-bytes", "advise negative.json", 2, "negative.json", "peak_tape_bytes", "below"),
    case("advise-old-profile-reads", "advise old.json", 0),
    case("advise-old-profile-annotates-from-elsewhere", "advise ../proj/old.json --memory-budget 10x --annotate annotated", 0, cwd="other"),
    case("advise-profile-annotates-from-elsewhere", "advise ../proj/profile.json --memory-budget 10x --annotate annotated4", 0, cwd="other"),
    # -- bad values of options: exit 2 naming the option -----------------------------------------
    *[case(f"advise-memory-budget-{label}", ["advise", "profile.json", "--memory-budget", text], 2, "--memory-budget")
      for label, text in (("empty", ""), ("1e999", "1e999"), ("negative", "-1"), ("zero", "0"), ("nan", "nan"),
                          ("inf", "inf"), ("word", "lots"), ("zero-factor", "0x"), ("negative-factor", "-2x"),
                          ("huge-factor", "1e999x"), ("unit", "5 furlongs"))],
    case("report-memory-budget-empty", ["report", "profile.json", "-o", "r.html", "--memory-budget", ""], 2, "--memory-budget", "empty"),
    case("report-memory-budget-1e999", "report profile.json -o r.html --memory-budget 1e999", 2, "--memory-budget", "too large"),
    case("check-seed-negative", "check case.toml --seed -5", 2, "--seed", "at least 0"),
    case("check-rtol-inf", "check case.toml --rtol inf", 2, "--rtol", "finite"),
    case("check-rtol-nan", "check case.toml --rtol nan", 2, "--rtol"),
    case("check-rtol-zero", "check case.toml --rtol 0", 2, "--rtol"),
    case("check-placements-negative", "check case.toml --placements -1", 2, "--placements"),
    case("profile-repeat-zero", "profile case.toml --repeat 0", 2, "--repeat"),
    *[case(f"check-max-tape-{label}", ["check", "case.toml", "--max-tape", text], 2, "--max-tape")
      for label, text in (("empty", ""), ("zero", "0"), ("negative", "-1"), ("word", "lots"),
                          ("percent-over-100", "200%"), ("1e999", "1e999"))],
    case("check-max-tape-environment", "check case.toml", 2, "ADJOIN_MAX_TAPE", "'lots'", env={"ADJOIN_MAX_TAPE": "lots"}),
    # -- the model's files ----------------------------------------------------------------------
    case("generate-model-not-utf8", "generate latin.py:cost --wrt x", 2, "latin.py:2", "not UTF-8", "coding"),
    case("sites-case-model-not-utf8", "sites latin.toml", 2, "latin.toml", "latin.py:2", "not UTF-8"),
    case("generate-model-binary", "generate binary.py:cost --wrt x", 2, "binary.py:1", "not UTF-8"),
    case("generate-model-folder", "generate folder.py:cost --wrt x", 2, "folder.py", "is a folder"),
    case("sites-case-binary", "sites binary.toml", 2, "binary.toml", "not UTF-8"),
    case("check-inputs-out-of-memory", "check memory.toml", 2, "memory.toml", "MemoryError", "make_inputs"),
    # -- the tape's limit: exit 2 with where, the bytes and what to do ---------------------------
    case("check-max-tape", "check case.toml --max-tape 16", 2, "the tape would pass its limit of 16 B", "quadratic.py:14", "adjoin advise", "--memory-budget"),
    case("profile-max-tape", "profile case.toml --max-tape 16", 2, "the tape would pass its limit of 16 B"),
    case("profile-max-tape-no-background", "profile case.toml --max-tape 16 --no-background", 2, "the tape would pass its limit"),
    case("advise-verify-max-tape", "advise profile.json --verify case.toml --max-tape 16", 2, "the tape would pass its limit"),
    case("report-case-max-tape", "report profile.json --case case.toml --max-tape 16 -o r.html", 2, "the tape would pass its limit"),
    case("check-max-tape-environment-limit", "check case.toml", 2, "the tape would pass its limit of 16 B", env={"ADJOIN_MAX_TAPE": "16"}),
    # -- what works, beside them ----------------------------------------------------------------
    case("generate-o-new-file", "generate case.toml -o fresh_adjoint.py", 0),
    case("generate-o-through-a-symlink", "generate case.toml -o link_out.py", 0),
    case("check-max-tape-enough", "check case.toml --max-tape 1KiB", 0),
    case("check-max-tape-unlimited", "check case.toml --max-tape unlimited", 0),
]
assert len({c.id for c in SWEEP}) == len(SWEEP)


# -- the project the sweep runs in ------------------------------------------------------------------

def build_world(root):
    """The quadratic model, its case, a profile and a placement, and every bad file of the sweep."""
    proj, other = root / "proj", root / "other"
    shutil.copytree(FIXTURE, proj, ignore=shutil.ignore_patterns("__pycache__"))
    other.mkdir()
    cwd = os.getcwd()
    os.chdir(proj)
    try:
        assert main(["profile", "case.toml", "-o", "profile.json", "-q", "--no-background"]) == 0
        assert main(["advise", "profile.json", "--memory-budget", "10x", "-o", "placement.toml", "-q"]) == 0
    finally:
        os.chdir(cwd)
    good = json.loads((proj / "profile.json").read_text())
    assert good["version"] == 6 and good["sites"] and len(good["tree"]["nodes"]) >= 2

    def profile(name, change):
        data = json.loads(json.dumps(good))
        change(data)
        (proj / name).write_text(json.dumps(data, indent=1))

    def old(data):                              # format 3, relative paths, as before issue 13
        data["version"] = 3
        del data["traffic"]                     # format 5's
        del data["loops"]                       # format 6's
        del data["sources"]
        for row in data["sites"]:
            row["file"] = row.pop("file_given")
    profile("old.json", old)
    profile("p.html", lambda d: None)
    profile("sites_table.json", lambda d: d.update(sites={}))
    profile("delta_t.json", lambda d: d["sites"][0].update(delta_t="x"))
    profile("node_type.json", lambda d: d["tree"]["nodes"][0].update(S="x"))
    profile("node_float.json", lambda d: d["tree"]["nodes"][0].update(Tj=1.5))
    profile("version99.json", lambda d: d.update(version=99))
    profile("version_string.json", lambda d: d.update(version="3"))
    profile("other_format.json", lambda d: d.update(format="something-else"))
    profile("no_tree.json", lambda d: d.pop("tree"))
    profile("unknown_key.json", lambda d: d.update(extra=1))
    profile("child_forward.json", lambda d: d["tree"]["nodes"][0].update(children=[[0, 1, 0]]))
    profile("root_range.json", lambda d: d["tree"].update(root=999))
    profile("duplicate_site.json", lambda d: d["sites"][1].update(id=d["sites"][0]["id"]))
    profile("tree_site.json", lambda d: d["tree"]["nodes"][0].update(site="nope/nope#9"))
    profile("negative.json", lambda d: d.update(peak_tape_bytes=-5))
    text = (proj / "profile.json").read_text()
    (proj / "nan.json").write_text(re.sub(r'"seconds": [^,]+,', '"seconds": NaN,', text, count=1))
    (proj / "truncated.json").write_text(text[:len(text) // 2])
    (proj / "empty.json").write_text("")
    (proj / "list.json").write_text("[1, 2]\n")

    placements = {
        "format99.toml": 'format = 99\n[sites]\n"cost/energy#1" = "checkpoint"\n',
        "format_string.toml": 'format = "1"\n[sites]\n',
        "decision.toml": 'format = 1\n[sites]\n"cost/energy#1" = "maybe"\n',
        "site_id.toml": 'format = 1\n[sites]\n"cost-energy" = "checkpoint"\n',
        "unknown_key.toml": 'format = 1\nsite = {}\n',
        "not_toml.toml": 'format = 1\n[sites\n',
        "sites_number.toml": 'format = 1\nsites = 3\n',
        "empty.toml": '',
        "stale.toml": 'format = 1\n[sites]\n"cost/energy#1" = "checkpoint"\n'
                      '"cost/residual#1" = "checkpoint"\n"gone/away#1" = "nocheckpoint"\n',
        "partial.toml": 'format = 1\n[sites]\n"cost/energy#1" = "nocheckpoint"\n',
    }
    for name, body in placements.items():
        (proj / name).write_text(body)
    for name in ("binary.toml", "binary.json", "binary.py"):
        (proj / name).write_bytes(b"\xff\xfe\x00\x01binary\x80")
    for name in ("folder.toml", "folder.json", "folder.py"):
        (proj / name).mkdir()
    (proj / "latin.py").write_bytes(b"import numpy as np\n# caf\xe9\n\n\ndef cost(x):\n    return np.sum(x * x)\n")
    (proj / "latin.toml").write_text('module = "latin.py"\nhead = "cost"\nwrt = ["x"]\ninputs = "make"\n')
    (proj / "hungry.py").write_text("import numpy as np\n\n\ndef cost(x):\n    return np.sum(x)\n\n\n"
                                    "def make_inputs():\n    return {'x': np.zeros(10 ** 13)}\n")
    (proj / "memory.toml").write_text('module = "hungry.py"\nhead = "cost"\nwrt = ["x"]\n'
                                      'inputs = "make_inputs"\n')
    (proj / "afile").write_text("a file, not a folder\n")
    (proj / "readonly.py").write_text("# read-only\n")
    (proj / "readonly.py").chmod(0o444)
    (proj / "link_to_energy.py").symlink_to("energy.py")
    (proj / "link_out.py").symlink_to("link_target.py")
    os.link(proj / "quadratic.py", proj / "hard_quadratic.py")
    return proj, other


def fingerprints(root):
    """{path: (kind, content hash or link target, mode)} of everything under root."""
    found = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f != "__pycache__"]
        for name in files + [f for f in folders if os.path.islink(os.path.join(folder, f))]:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                found[path] = ("link", os.readlink(path), None)
            else:
                with open(path, "rb") as stream:
                    found[path] = ("file", hashlib.sha256(stream.read()).hexdigest(),
                                   os.stat(path).st_mode)
    return found


def temporaries(root):
    return sorted(str(p) for p in Path(root).rglob(".*.adjoin-*.tmp"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    proj, other = build_world(root)
    return root


def expect(result_status, err, out, c):
    assert result_status == c.status, err
    assert "Traceback" not in err + out
    for word in c.words:
        assert word in err, (word, err)
    if c.status == 2:
        assert "adjoin: error: " in err or "error: argument" in err, err


# -- the sweep, through cli.main ----------------------------------------------------------------

@pytest.mark.parametrize("c", SWEEP, ids=[c.id for c in SWEEP])
def test_sweep(c, world, capsys, monkeypatch):
    monkeypatch.chdir(world / c.cwd)
    for key, value in c.env.items():
        monkeypatch.setenv(key, value)
    before = fingerprints(world)
    status = main(list(c.args))
    out, err = capsys.readouterr()
    expect(status, err, out, c)
    after = fingerprints(world)
    changed = [path for path, print_ in before.items() if after.get(path) != print_
               and Path(path).name not in c.changes]
    assert not changed, changed
    assert not temporaries(world)


def test_the_sweep_names_every_case_of_the_issue():
    ids = {c.id for c in SWEEP}
    for needed in ("generate-o-sibling-module", "profile-o-sibling-module", "advise-o-sibling-module",
                   "report-o-sibling-module", "advise-o-case", "advise-o-model-from-elsewhere",
                   "advise-old-profile-annotates-from-elsewhere", "generate-o-under-a-file",
                   "sites-placement-folder", "generate-placement-binary", "advise-profile-folder",
                   "advise-profile-binary", "generate-model-not-utf8", "check-seed-negative",
                   "advise-memory-budget-1e999", "advise-memory-budget-empty",
                   "advise-profile-node-wrong-type", "sites-placement-format-99",
                   "advise-profile-sites-empty-table", "advise-profile-delta-t-string",
                   "report-profile-delta-t-string", "sites-nocheckpoint-typo",
                   "generate-placement-stale", "check-placement-stale", "profile-placement-stale",
                   "check-max-tape", "generate-o-through-a-symlink"):
        assert needed in ids


def test_writing_through_a_symlink_writes_its_target(world, capsys, monkeypatch):
    monkeypatch.chdir(world / "proj")
    assert main(["generate", "case.toml", "-o", "link_out.py", "-q"]) == 0
    assert (world / "proj" / "link_out.py").is_symlink()
    assert "def cost_b" in (world / "proj" / "link_target.py").read_text()


def test_annotate_from_another_folder_finds_the_sources(world, capsys, monkeypatch):
    monkeypatch.chdir(world / "other")
    for profile, folder in (("old.json", "annotated_old"), ("profile.json", "annotated_new")):
        assert main(["advise", f"../proj/{profile}", "--memory-budget", "10x", "--annotate", folder, "-q"]) == 0
        text = (world / "other" / folder / "quadratic.py").read_text()
        assert "# $AD NOCHECKPOINT" in text


def test_force_writes_over_a_file_the_command_reads(tmp_path, capsys, monkeypatch):
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path / "proj")
    assert main(["generate", "quadratic.py:cost", "--wrt", "x", "-o", "energy.py", "--force", "-q"]) == 0
    assert "def cost_b" in Path("energy.py").read_text()


def test_stale_temporaries_of_a_killed_write_are_removed_by_the_next(world, capsys, monkeypatch):
    monkeypatch.chdir(world / "proj")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = Path(f".next_adjoint.py.adjoin-{dead}-abcd1234.tmp")
    stale.write_text("half a file")
    mine = Path(f".next_adjoint.py.adjoin-{os.getpid()}-efgh5678.tmp")  # a write under way here
    mine.write_text("being written")
    unrelated = Path(".next_adjoint.py.swp")
    unrelated.write_text("an editor's file")
    try:
        assert main(["generate", "case.toml", "-o", "next_adjoint.py", "-q"]) == 0
        assert not stale.exists() and mine.exists() and unrelated.exists()
    finally:
        mine.unlink()
        unrelated.unlink()


# -- the same, through the console script ----------------------------------------------------------

SUBPROCESS = ["generate-o-sibling-module", "advise-o-model-from-elsewhere", "generate-placement-binary",
              "advise-profile-node-wrong-type", "check-seed-negative", "advise-memory-budget-1e999",
              "generate-model-not-utf8", "check-max-tape", "profile-max-tape", "sites-nocheckpoint-typo"]


def run_script(args, cwd, env=None, **kwargs):
    environment = dict(os.environ, **(env or {}))
    environment.pop("ADJOIN_DEBUG", None)
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=120, **kwargs)


@pytest.mark.parametrize("name", SUBPROCESS)
def test_sweep_through_the_console_script(name, world):
    c = next(c for c in SWEEP if c.id == name)
    before = fingerprints(world)
    result = run_script(c.args, world / c.cwd, c.env)
    expect(result.returncode, result.stderr, result.stdout, c)
    after = fingerprints(world)
    assert [path for path, print_ in before.items() if after.get(path) != print_] == []
    assert not temporaries(world)


@pytest.fixture
def shared_world():
    """A copy of the project that another user may read (as root, the sweep runs some commands
    as nobody: root may read and write anything)."""
    root = Path(tempfile.mkdtemp(prefix="adjoin-sweep-"))
    try:
        root.chmod(0o755)
        shutil.copytree(FIXTURE, root / "proj", ignore=shutil.ignore_patterns("__pycache__"))
        for path in [root / "proj", *(root / "proj").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield root
    finally:
        for path in root.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def as_another_user():
    """subprocess keywords running as a user who is not root (nobody), or {} when not root."""
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []} if ROOT else {}


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_and_unwritable_files_exit_2(shared_world):
    proj = shared_world / "proj"
    try:
        probe = run_script(["--version"], proj, {"HOME": str(shared_world)}, **as_another_user())
    except (OSError, subprocess.SubprocessError) as error:
        probe = error
    if getattr(probe, "returncode", 1) != 0:
        pytest.skip(f"another user cannot run {SCRIPT} here (its folders are private): {probe}")
    assert run_script(["profile", "case.toml", "-o", "profile.json", "-q", "--no-background"],
                      proj).returncode == 0
    (proj / "profile.json").chmod(0o644)
    for name in ("unreadable.toml", "unreadable.json"):
        shutil.copy(proj / ("profile.json" if name.endswith("json") else "case.toml"), proj / name)
        (proj / name).chmod(0o000)
    (shared_world / "ro").mkdir()
    (shared_world / "ro").chmod(0o555)
    before = fingerprints(proj)
    cases = [
        (["generate", "case.toml", "-o", "../ro/out.py"], ["-o ../ro/out.py", "permission denied"]),
        (["profile", "case.toml", "--trace", "../ro/trace.json"], ["--trace", "permission denied"]),
        (["advise", "profile.json", "-o", "../ro/p.toml"], ["permission denied"]),
        (["report", "profile.json", "-o", "../ro/r.html"], ["permission denied"]),
        (["sites", "case.toml", "--placement", "unreadable.toml"], ["unreadable.toml", "permission denied"]),
        (["advise", "unreadable.json"], ["unreadable.json", "permission denied"]),
        (["sites", "unreadable.toml"], ["unreadable.toml", "permission denied"]),
    ]
    for args, words in cases:
        result = run_script(args, proj, {"HOME": str(shared_world)}, **as_another_user())
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        for word in words:
            assert word in result.stderr, (args, result.stderr)
    assert fingerprints(proj) == before
    assert not temporaries(shared_world)


def _limit_file_size():
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_a_file_past_the_size_limit_exits_2_and_leaves_the_old_file(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    proj = tmp_path / "proj"
    (proj / "out.py").write_text("the old adjoint\n")
    result = run_script(["generate", "case.toml", "-o", "out.py"], proj, preexec_fn=_limit_file_size)
    assert result.returncode == 2, result.stderr
    assert "out.py" in result.stderr and "ulimit -f" in result.stderr
    assert "Traceback" not in result.stderr
    assert (proj / "out.py").read_text() == "the old adjoint\n"
    assert not temporaries(proj)


def _in_a_mount_namespace(script, proj):
    """Runs ``script`` (sh) in a private mount namespace, where it may mount a small file
    system; skips when that is not allowed (not root, no unshare)."""
    if not ROOT or shutil.which("unshare") is None:
        pytest.skip("mounting a small file system needs root and unshare")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -m is not allowed here")
    return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=proj, capture_output=True,
                          text=True, timeout=120)


def test_a_full_disk_exits_2_and_leaves_the_old_file(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    proj, disk = tmp_path / "proj", tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=4k none {disk} && printf 'old\\n' > {disk}/out.py && "
              f"{SCRIPT} generate case.toml -o {disk}/out.py; echo status=$?; cat {disk}/out.py; "
              f"ls -a {disk}")
    result = _in_a_mount_namespace(script, proj)
    assert "status=2" in result.stdout, result.stdout + result.stderr
    assert "no space left" in result.stderr and "Traceback" not in result.stderr
    assert "\nold\n" in result.stdout and ".adjoin-" not in result.stdout


def test_a_read_only_file_system_exits_2(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "proj", ignore=shutil.ignore_patterns("__pycache__"))
    proj, disk = tmp_path / "proj", tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=64k none {disk} && mount -o remount,ro {disk} && "
              f"{SCRIPT} generate case.toml -o {disk}/out.py; echo status=$?")
    result = _in_a_mount_namespace(script, proj)
    assert "status=2" in result.stdout, result.stdout + result.stderr
    assert "read-only file system" in result.stderr and "Traceback" not in result.stderr


# -- interrupted: Ctrl-C is 130, SIGTERM 143, and nothing is left behind ---------------------------

SLOW_MODEL = """\
import numpy as np


def step(u):
    return np.sin(u) * 0.999


def cost(u0, nsteps):
    u = u0.copy()
    for n in range(nsteps):
        u = step(u)
    return np.sum(u * u)


def make_inputs(nsteps=10 ** 7):
    return {"u0": np.linspace(0.0, 1.0, 64), "nsteps": nsteps}
"""


def processes_of_session(sid):
    """Pids of the processes whose session is ``sid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_profile_leaves_no_helper_and_no_temporary(tmp_path, signum, status, like_a_terminal):
    (tmp_path / "slow.py").write_text(SLOW_MODEL)
    (tmp_path / "case.toml").write_text('module = "slow.py"\nhead = "cost"\nwrt = ["u0"]\n'
                                        'inputs = "make_inputs"\n')
    process = subprocess.Popen([str(SCRIPT), "profile", "case.toml", "-o", "p.json", "--trace",
                                "t.json", "-q"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True, **like_a_terminal)
    try:
        if cores() > 1:
            deadline = time.monotonic() + 60
            while len(processes_of_session(process.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)                 # the helper process has started: the run is going
            assert len(processes_of_session(process.pid)) >= 2
            time.sleep(0.5)
        else:
            time.sleep(3.0)                     # one CPU: the tree is built in-process, no helper
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while processes_of_session(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_of_session(process.pid) == []
    assert not (tmp_path / "p.json").exists() and not temporaries(tmp_path)
