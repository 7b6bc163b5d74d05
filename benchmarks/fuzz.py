"""Fuzzing adjoin with random programs (issue 12): gradients against finite differences and
placement invariance, in verify mode, every failure written as a standalone reproducer.

    .venv/bin/python benchmarks/fuzz.py                          # 200 programs per property
    .venv/bin/python benchmarks/fuzz.py --count 2000 --jobs 2 --seed 7 --out fuzz-failures
    .venv/bin/python benchmarks/fuzz.py --property fd --focus row_views --count 500
    .venv/bin/python benchmarks/fuzz.py --property fd --replay 123456   # one program again

The programs are those of tests/programgen.py (the strategies of tests/test_random_programs.py),
written from ``random.Random(program seed)`` instead of hypothesis (programgen.program_from_seed):
the same seed, property and options always give the same program. Program seeds are
``--seed + i``; with ``--focus rotate`` (the default) the seed also chooses the family put first
in the program (none, or one of programgen.FAMILIES in turn). The checks are the tests': the
same finite-difference oracle and tolerances (an inconclusive one, a kink next to the point, is
counted apart), the same placements. Not run by CI.
"""
import argparse
import ast
import collections
import importlib.util
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402

import adjoin  # noqa: E402
import programgen  # noqa: E402
from test_random_programs import (DOT_RTOL, FD_RTOL, FD_STEPS, PLACEMENT_RTOL, central_differences,  # noqa: E402
                                  directions, dot_error, dot_floor, floor_for, placements, reference_derivative,
                                  relative_errors, tangent_derivatives)

# outcome -> is it a failure (a reproducer is written)?
OUTCOMES = {
    "ok": False,
    "refused_allowed": False,     # refused a program whose aliasing DESIGN.md lets it refuse
    "kink": False,                # finite differences are no oracle here (a kink next to the point)
    "wrong_gradient": True,       # disagrees with converged central finite differences
    "wrong_result": True,         # wrong value, shapes, mutated arguments, miscounted sites
    "placement_disagreement": True,
    "dot_disagreement": True,     # the adjoint and the tangent disagree (dot-product test, 1e-10)
    "tangent_refusal": True,      # the tangent refused a program the adjoint differentiated
    "verify_error": True,         # adjoin.VerifyError: verify mode found a broken assumption
    "false_refusal": True,        # an AdjoinError on a program adjoin must differentiate
    "internal_error": True,       # any other exception out of adjoin or its generated code
    "timeout": True,
    "nondeterministic": True,     # the adjoint's source changes from one build to the next
    "generator_error": True,      # the generated program itself fails (a bug of programgen)
}
PROPERTIES = {
    "fd": dict(),                                               # test_gradient_matches_finite_differences
    "placement": dict(min_helpers=1, statements=(1, 5)),        # test_every_placement_gives_the_same_gradient
}
ROTATION = (None,) + tuple(programgen.FAMILIES)


class Timeout(BaseException):
    """A program ran longer than --timeout (a BaseException: adjoin's handlers do not catch it)."""


class Outcome(Exception):
    """The result of one check that is not ok: its class, a signature grouping it with others of
    the same cause, a message, and how to rerun it (the placement, None for the default)."""

    def __init__(self, outcome, signature, message, placement=None, trace=None):
        super().__init__(message)
        self.outcome, self.signature, self.message = outcome, signature, message
        self.placement, self.trace = placement, trace


# -- signatures ---------------------------------------------------------------------------------

def normalize(message):
    """A message without what varies between programs: locations, names, numbers."""
    text = str(message).strip().splitlines()[0] if str(message).strip() else ""
    text = re.sub(r"^\S+:\d+(:\d+)?: ", "", text)
    text = re.sub(r"'[^']*'", "'_'", text)
    text = re.sub(r" in [A-Za-z_]\w*([,:])", r" in _\1", text)       # the function it happened in
    text = re.sub(r"\(\d+(, \d+)*,?\)", "(N)", text)
    text = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "N", text)
    return text[:150]


def where(error):
    """The last frame of the traceback in adjoin's source, and whether it ended in generated code."""
    frames = traceback.extract_tb(error.__traceback__)
    place = "?"
    for frame in frames:
        path = frame.filename.replace(os.sep, "/")
        if "/src/adjoin/" in path:
            place = f"{path.split('/src/')[1]}:{frame.name}"
    if frames and frames[-1].filename.startswith("<adjoint of"):
        place += " > generated code"
    return place


def classify(error, program, placement):
    """The Outcome of an exception raised by adjoin (verify error, refusal, internal error)."""
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    name = type(error).__name__
    if isinstance(error, adjoin.VerifyError):
        return Outcome("verify_error", f"VerifyError: {normalize(error)}", str(error), placement, trace)
    if isinstance(error, adjoin.AdjoinError):
        if program.may_refuse:
            return Outcome("refused_allowed", f"{name}: {normalize(error)}", str(error), placement, trace)
        return Outcome("false_refusal", f"{name}: {normalize(error)}", str(error), placement, trace)
    return Outcome("internal_error", f"{name} @ {where(error)}: {normalize(error)}", f"{name}: {error}",
                   placement, trace)


# -- one program --------------------------------------------------------------------------------

def options_of(seed, prop, shapes, focus):
    family = ROTATION[seed % len(ROTATION)] if focus == "rotate" else (None if focus == "none" else focus)
    return dict(PROPERTIES[prop], shapes=shapes, focus=family)


def load(program, directory, seed):
    name = f"fuzz_{seed}_{zlib.crc32(program.source.encode()):08x}"
    path = Path(directory) / f"{name}.py"
    path.write_text(program.source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


VERIFY = True     # verify mode (--no-verify turns it off, to compare)


def call(module, program, x, a, n, placement=None):
    """value_and_grad of f in verify mode; an exception becomes an Outcome."""
    try:
        p = None if placement is None else adjoin.Placement(nocheckpoint=placement)
        return adjoin.value_and_grad(module.f, wrt=("x", "a"), placement=p, verify=VERIFY)(x, a, n)
    except Timeout:
        raise
    except Exception as error:       # noqa: BLE001 - every exception is classified
        raise classify(error, program, placement) from None


def primal(module, x, a, n):
    return float(module.f(x.copy(), a, n))


def check_fd(module, program, x, a, n):
    """test_gradient_matches_finite_differences, returning the direction it used."""
    dx = directions(program, x.size)
    try:
        expected = primal(module, x, a, n)
    except Exception as error:       # noqa: BLE001
        raise Outcome("generator_error", f"primal: {type(error).__name__}: {normalize(error)}", str(error),
                      trace=traceback.format_exc()) from None
    before = x.copy()
    value, grads = call(module, program, x, a, n)
    if not np.array_equal(x, before):
        raise Outcome("wrong_result", "value_and_grad modified x", "value_and_grad modified its argument x")
    if np.ndim(value) != 0 or not math.isclose(float(value), expected, rel_tol=1e-12, abs_tol=1e-300):
        raise Outcome("wrong_result", "value differs from the primal's",
                      f"value {value!r} differs from the primal's {expected!r}")
    grads = tuple(grads)
    if len(grads) != 2 or np.shape(grads[0]) != x.shape or np.shape(grads[1]) != ():
        raise Outcome("wrong_result", "gradients of the wrong shapes",
                      f"gradients of shapes {[np.shape(g) for g in grads]} for x {x.shape} and a ()")
    g_x, g_a = grads
    if not (np.all(np.isfinite(g_x)) and math.isfinite(float(g_a))):
        raise Outcome("wrong_gradient", "wrong gradient (not finite)", f"gradient not finite: {g_x}, {g_a}")
    checks = {"x": (lambda h: primal(module, x + h * dx, a, n), float(np.dot(np.asarray(g_x), dx))),
              "a": (lambda h: primal(module, x, a + h, n), float(g_a))}
    check_dot(module, x, a, n, dx, {name: c[1] for name, c in checks.items()})
    floor = floor_for(expected)
    wrong = []
    for name, (fun, predicted) in checks.items():
        estimates = central_differences(fun)
        errors = relative_errors(predicted, estimates, floor)
        if min(errors) <= FD_RTOL:
            continue
        reference, smooth = reference_derivative(fun, floor)
        if not smooth:
            raise Outcome("kink", "kink next to the point", f"the primal has a kink next to the point (along {name})")
        if relative_errors(predicted, [reference], floor)[0] <= FD_RTOL:
            continue    # rounding noise in every central difference; the converged reference agrees
        best = int(np.argmin(errors))
        zero = " (adjoint zero)" if predicted == 0.0 else ""
        wrong.append((name, f"directional derivative along {name} is {predicted!r}, finite differences give "
                            f"{estimates[best]!r} (h={FD_STEPS[best]:g}, relative error {errors[best]:.2e})"
                            f"{zero}; all estimates: {estimates}", zero))
    if wrong:
        names = "+".join(w[0] for w in wrong)
        raise Outcome("wrong_gradient", f"wrong gradient ({names}){wrong[0][2]}", "\n".join(w[1] for w in wrong))
    return dx


def check_dot(module, x, a, n, dx, predicted):
    """The dot-product test of the adjoint's directional derivatives against the tangent's."""
    try:
        tangent = tangent_derivatives(module, x, a, n, dx)
    except Timeout:
        raise
    except adjoin.AdjoinError as error:
        raise Outcome("tangent_refusal", f"tangent: {type(error).__name__}: {normalize(error)}", str(error),
                      trace=traceback.format_exc()) from None
    except Exception as error:       # noqa: BLE001 - every exception is classified
        raise Outcome("internal_error", f"tangent: {type(error).__name__} @ {where(error)}: {normalize(error)}",
                      str(error), trace=traceback.format_exc()) from None
    floor = dot_floor(primal(module, x, a, n))
    wrong = [f"dot-product test along {name}: the tangent gives {value!r}, the adjoint {predicted[name]!r} "
             f"(relative error {dot_error(value, predicted[name], floor):.2e})"
             for name, value in tangent.items() if not dot_error(value, predicted[name], floor) <= DOT_RTOL]
    if wrong:
        names = "+".join(name for name, value in tangent.items()
                         if not dot_error(value, predicted[name], floor) <= DOT_RTOL)
        raise Outcome("dot_disagreement", f"adjoint and tangent disagree ({names})", "\n".join(wrong))


def check_placement(module, program, x, a, n):
    """test_every_placement_gives_the_same_gradient."""
    try:
        ids = [site.id for site in adjoin.checkpoint_sites(module.f)]
    except Timeout:
        raise
    except Exception as error:       # noqa: BLE001
        raise classify(error, program, None) from None
    if len(set(ids)) != len(ids) or len(ids) != program.sites:
        raise Outcome("wrong_result", "checkpoint sites miscounted or not unique",
                      f"{len(ids)} sites {ids} for {program.sites} calls")
    value0, grads0 = call(module, program, x.copy(), a, n, [])
    rng = np.random.default_rng(zlib.crc32(program.source.encode()))
    for off in placements(ids, rng)[1:]:
        value, grads = call(module, program, x.copy(), a, n, off)
        if not math.isclose(float(value), float(value0), rel_tol=PLACEMENT_RTOL, abs_tol=1e-300):
            raise Outcome("placement_disagreement", "placement disagreement (value)",
                          f"the value changes when not checkpointing {off}: {value!r} != {value0!r}", off)
        for name, g0, g1 in zip(("x", "a"), grads0, grads):
            scale = max(1.0, float(np.max(np.abs(g0))))
            diff = float(np.max(np.abs(np.asarray(g1) - np.asarray(g0))))
            if diff > PLACEMENT_RTOL * scale:
                raise Outcome("placement_disagreement", "placement disagreement (gradient)",
                              f"the gradient of {name!r} changes by {diff:.3e} (scale {scale:.3e}) when not "
                              f"checkpointing {off}: {np.asarray(g1).tolist()} against {np.asarray(g0).tolist()}", off)
    return ids


def check_heap(module, program, x, a, n, builds=2):
    """The adjoint's source is the same however the heap lies: built again after AST nodes were
    made and freed (a table keyed by id() of freed nodes gives their entries to new ones)."""
    rng, kept, sources = random.Random(zlib.crc32(program.source.encode())), [], []
    for _ in range(builds):
        kept.append([ast.BinOp(left=ast.Name(id="q"), op=ast.Add(), right=ast.Constant(1.0))
                     for _ in range(rng.randrange(1, 300))])
        kept.append([ast.Call(func=ast.Name(id="q"), args=[], keywords=[]) for _ in range(rng.randrange(1, 300))])
        kept.pop(rng.randrange(len(kept)))
        try:
            sources.append(adjoin.generate_source(module.f, wrt=("x", "a"), example=dict(x=x, a=a, n=n)))
        except Timeout:
            raise
        except Exception as error:       # noqa: BLE001
            raise classify(error, program, None) from None
    if len(set(sources)) > 1:
        raise Outcome("nondeterministic", "the adjoint's source depends on the heap",
                      f"{len(set(sources))} different adjoint sources in {builds} builds of one program")


def _alarm(signum, frame):
    raise Timeout()


def run_one(job):
    """Writes (into directory), loads and checks one program; returns a record (a dict) of what
    happened."""
    prop, seed, shapes, focus, timeout, directory, heap_every = job
    options = options_of(seed, prop, shapes, focus)
    record = dict(property=prop, seed=seed, focus=options["focus"], shapes=shapes, outcome="ok", signature="ok",
                  message="", trace="", placement=None, constructs=[], families=[], source="", args=None,
                  may_refuse=None, dx=None, sites=None, seconds=0.0)
    try:
        program = programgen.program_from_seed(seed, **options)
    except Exception as error:   # noqa: BLE001
        record.update(outcome="generator_error", signature=f"programgen: {type(error).__name__}: {normalize(error)}",
                      message=str(error), trace=traceback.format_exc())
        return record
    x, a, n = programgen.arguments_from_seed(f"args:{seed}")
    record.update(constructs=sorted(program.constructs), families=sorted(program.families),
                  source=program.source, args=(x.tolist(), a, n), may_refuse=program.may_refuse)
    return check(record, program, timeout, directory, heap=heap_every > 0 and seed % heap_every == 0)


def check(record, program, timeout, directory, heap=True):
    """Runs the check of record["property"] on program at record["args"]; fills in the record."""
    warnings.simplefilter("ignore")
    prop, seed = record["property"], record["seed"]
    x, a, n = np.array(record["args"][0]), record["args"][1], record["args"][2]
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    module = None
    try:
        try:
            module = load(program, directory, seed)
        except Exception as error:   # noqa: BLE001
            raise Outcome("generator_error", f"import: {type(error).__name__}: {normalize(error)}", str(error),
                          trace=traceback.format_exc()) from None
        if prop == "fd":
            record["dx"] = directions(program, x.size).tolist()
            check_fd(module, program, x, a, n)
        else:
            record["sites"] = check_placement(module, program, x, a, n)
        if heap:
            check_heap(module, program, x, a, n)
    except Outcome as outcome:
        record.update(outcome=outcome.outcome, signature=outcome.signature, message=outcome.message,
                      placement=outcome.placement, trace=outcome.trace or "")
    except Timeout:
        record.update(outcome="timeout", signature="timeout", message=f"longer than {timeout} s")
    finally:
        signal.alarm(0)
        if module is not None:
            sys.modules.pop(module.__name__, None)
    record["seconds"] = time.perf_counter() - start
    return record


# -- shrinking ----------------------------------------------------------------------------------

class Shrunk:
    """A program being shrunk: what the checks use of a programgen.Program."""

    def __init__(self, source, may_refuse):
        self.source = source
        self.may_refuse = may_refuse
        tree = ast.parse(source)
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        self.sites = sum(1 for node in ast.walk(tree) if isinstance(node, ast.Call)
                         and isinstance(node.func, ast.Name) and node.func.id in functions)


def _statement_lists(tree):
    """Every list of statements in the functions of tree, in a fixed order."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module):
            continue
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield field, body


class _Replace(ast.NodeTransformer):
    """Replaces the target-th expression that can be simplified by one of its operands. A bare
    name or subscript becomes ``operand * 1.0`` (outside subscripts): a shrunk program must not
    gain a second name for an array, which adjoin could rightly refuse."""

    def __init__(self, target, which):
        self.count, self.target, self.which = -1, target, which
        self.in_slice = 0

    def visit_Subscript(self, node):
        node.value = self.visit(node.value)
        self.in_slice += 1
        node.slice = self.visit(node.slice)
        self.in_slice -= 1
        return node

    def operands(self, node):
        if isinstance(node, ast.BinOp):
            return [node.left, node.right]
        if isinstance(node, ast.IfExp):
            return [node.body, node.orelse]
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "math")):
            return list(node.args)
        return []

    def generic_visit(self, node):
        options = self.operands(node) if isinstance(node, ast.expr) else []
        if options:
            self.count += 1
            if self.count == self.target:
                operand = options[min(self.which, len(options) - 1)]
                if not self.in_slice and isinstance(operand, (ast.Name, ast.Subscript, ast.Attribute)):
                    return ast.BinOp(operand, ast.Mult(), ast.Constant(1.0))
                return operand
        return super().generic_visit(node)


def _edits(source):
    """Smaller variants of source, the largest cuts first: a helper deleted, a statement deleted, a
    compound statement replaced by its body, an expression replaced by one of its operands."""
    tree = ast.parse(source)
    helpers = [i for i, node in enumerate(tree.body) if isinstance(node, ast.FunctionDef) and node.name != "f"]
    for i in reversed(helpers):
        fresh = ast.parse(source)
        del fresh.body[i]
        yield fresh
    lists = list(_statement_lists(tree))
    for li in range(len(lists)):      # halves, quarters, ... of every body first
        size = len(lists[li][1]) // 2
        while size >= 2:
            for start in range(0, len(lists[li][1]) - size + 1, size):
                fresh = ast.parse(source)
                field, body = list(_statement_lists(fresh))[li]
                body[start:start + size] = []
                if not body and field == "body":
                    body.append(ast.Pass())
                yield fresh
            size //= 2
    for li in range(len(lists)):
        for si in reversed(range(len(lists[li][1]))):
            for how in ("delete", "body", "orelse"):
                fresh = ast.parse(source)
                field, body = list(_statement_lists(fresh))[li]
                if si >= len(body):
                    continue
                statement = body[si]
                if how == "delete":
                    body[si:si + 1] = []
                    if not body and field == "body":
                        body.append(ast.Pass())
                elif isinstance(statement, (ast.If, ast.For, ast.While)) and getattr(statement, how):
                    body[si:si + 1] = getattr(statement, how)
                else:
                    continue
                yield fresh
    count = _Replace(-1, 0)
    count.visit(ast.parse(source))
    for target in range(count.count + 1):
        for which in (0, 1):
            yield _Replace(target, which).visit(ast.parse(source))


def shrink(record, timeout, directory, budget):
    """The smallest program found (deleting helpers, statements and operands, one edit at a time,
    each pass over the edits going on from where the last success was) that still fails as
    record's program did: the same outcome, and the same signature unless it is a wrong gradient.
    Runs at most budget checks."""
    wanted = (record["outcome"], record["signature"])
    source, best, checks, position = record["source"], record, 0, 0
    tried = set()
    while checks < budget:
        edits = list(_edits(source))
        found = False
        for index in list(range(position, len(edits))) + list(range(0, min(position, len(edits)))):
            try:
                candidate = ast.unparse(ast.fix_missing_locations(edits[index])) + "\n"
                program = Shrunk(candidate, record["may_refuse"])
            except (SyntaxError, ValueError, RecursionError):
                continue
            if len(candidate) >= len(source) or candidate in tried:
                continue
            tried.add(candidate)
            checks += 1
            trial = dict(record, source=candidate, outcome="ok", signature="ok", message="", trace="",
                         placement=None)
            trial = check(trial, program, timeout, directory)
            if trial["outcome"] == wanted[0] and (wanted[0] == "wrong_gradient" or trial["signature"] == wanted[1]):
                source, best, position, found = candidate, trial, index, True
                break
            if checks >= budget:
                break
        if not found:
            break
    print(f"    shrunk from {len(record['source'])} to {len(source)} characters in {checks} checks", flush=True)
    return best


# -- reproducers --------------------------------------------------------------------------------

def _comment(text, limit=80):
    lines = str(text).rstrip().splitlines()
    if len(lines) > limit:
        lines = lines[:limit // 2] + [f"... ({len(lines) - limit} lines left out) ..."] + lines[-limit // 2:]
    return "\n".join(("# " + line).rstrip() for line in lines)


def reproducer(record, command):
    """The text of a standalone file reproducing a failure: the program and a main block."""
    head = [f"# adjoin fuzz failure: {record['outcome']} ({record['property']}), program seed {record['seed']}",
            f"# signature: {record['signature']}",
            f"# families: {', '.join(record['families']) or '-'}; may_refuse: {record.get('may_refuse')}",
            f"# regenerate: {command}",
            f"# run: .venv/bin/python <this file>",
            "#",
            _comment(record["message"])]
    if record["trace"]:
        head += ["#", "# traceback:", _comment(record["trace"])]
    if record["args"] is None:
        return "\n".join(head) + "\n# (no program: the generator failed)\n"
    x, a, n = record["args"]
    main = ["", "", 'if __name__ == "__main__":',
            "    import adjoin",
            "",
            f"    x = np.array({x!r})",
            f"    a = {a!r}",
            f"    n = {n!r}"]
    if record["property"] == "fd" and record["outcome"] in ("wrong_gradient", "wrong_result"):
        main += [f"    dx = np.array({record['dx']!r})   # the direction of the check",
                 "    value, (g_x, g_a) = adjoin.value_and_grad(f, wrt=(\"x\", \"a\"), verify=True)(x, a, n)",
                 "    print(\"value\", value, \"primal\", f(x.copy(), a, n))",
                 "    for h in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7):",
                 "        fd_x = (f(x + h * dx, a, n) - f(x - h * dx, a, n)) / (2 * h)",
                 "        fd_a = (f(x.copy(), a + h, n) - f(x.copy(), a - h, n)) / (2 * h)",
                 "        print(f\"h={h:g}: along x: adjoint {np.dot(g_x, dx)!r}, fd {fd_x!r}; \"",
                 "              f\"along a: adjoint {float(g_a)!r}, fd {fd_a!r}\")"]
    elif record["outcome"] == "placement_disagreement":
        main += [f"    off = {record['placement']!r}   # sites not checkpointed",
                 "    print(\"sites:\", [s.id for s in adjoin.checkpoint_sites(f)])",
                 "    v0, (gx0, ga0) = adjoin.value_and_grad(f, wrt=(\"x\", \"a\"), verify=True)(x.copy(), a, n)",
                 "    v1, (gx1, ga1) = adjoin.value_and_grad(f, wrt=(\"x\", \"a\"), verify=True,",
                 "                                           placement=adjoin.Placement(nocheckpoint=off))(x.copy(), a, n)",
                 "    print(\"all checkpointed:\", v0, gx0, ga0)",
                 "    print(\"not checkpointing\", off, \":\", v1, gx1, ga1)",
                 "    print(\"largest difference:\", np.max(np.abs(gx1 - gx0)), abs(ga1 - ga0))"]
    elif record["property"] == "placement" and record["placement"] is not None:
        main += [f"    off = {record['placement']!r}   # sites not checkpointed",
                 "    print(adjoin.value_and_grad(f, wrt=(\"x\", \"a\"), verify=True,",
                 "                                placement=adjoin.Placement(nocheckpoint=off))(x.copy(), a, n))"]
    elif record["property"] == "placement":
        main += ["    print([s.id for s in adjoin.checkpoint_sites(f)])"]
    else:
        main += ["    print(f(x.copy(), a, n))",
                 "    print(adjoin.value_and_grad(f, wrt=(\"x\", \"a\"), verify=True)(x, a, n))"]
    return "\n".join(head) + "\n" + record["source"] + "\n".join(main) + "\n"


def command_for(record, options):
    parts = [".venv/bin/python benchmarks/fuzz.py", f"--property {record['property']}", f"--replay {record['seed']}"]
    if options.focus != "rotate":
        parts.append(f"--focus {options.focus}")
    if options.shapes != 1.0:
        parts.append(f"--shapes {options.shapes:g}")
    return " ".join(parts)


def write_failure(record, options, out, suffix=""):
    path = out / f"{record['outcome']}-{record['property']}-{record['seed']}{suffix}.py"
    path.write_text(reproducer(record, command_for(record, options)))
    return path


# -- reporting ----------------------------------------------------------------------------------

def progress(prop, done, total, counts, start):
    shown = ", ".join(f"{k} {counts[k]}" for k in OUTCOMES if counts.get(k))
    print(f"[{prop}] {done}/{total} in {time.perf_counter() - start:.0f} s: {shown}", flush=True)


def summary(records, files):
    from rich.console import Console
    from rich.table import Table
    console = Console(width=160)
    for prop in sorted({r["property"] for r in records}):
        rows = [r for r in records if r["property"] == prop]
        table = Table(title=f"{prop}: {len(rows)} programs, outcomes")
        table.add_column("outcome")
        table.add_column("count", justify="right")
        table.add_column("failure?")
        counts = collections.Counter(r["outcome"] for r in rows)
        for outcome in OUTCOMES:
            if counts.get(outcome):
                table.add_row(outcome, str(counts[outcome]), "yes" if OUTCOMES[outcome] else "")
        console.print(table)

        refused = collections.Counter(r["signature"] for r in rows if r["outcome"] == "refused_allowed")
        if refused:     # to judge whether they refused the shared memory, not something else
            table = Table(title=f"{prop}: accepted refusals (of programs that may be refused) by message")
            table.add_column("message")
            table.add_column("count", justify="right")
            for signature, count in refused.most_common():
                table.add_row(signature, str(count))
            console.print(table)

        failing = [r for r in rows if OUTCOMES[r["outcome"]]]
        if failing:
            table = Table(title=f"{prop}: failures by signature")
            for column in ("outcome", "signature", "count", "example (shortest program)"):
                table.add_column(column, justify="right" if column == "count" else "left", overflow="fold")
            groups = collections.defaultdict(list)
            for r in failing:
                groups[(r["outcome"], r["signature"])].append(r)
            for (outcome, signature), group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                example = min(group, key=lambda r: len(r["source"]))
                table.add_row(outcome, signature, str(len(group)), str(files.get(id(example), "")))
            console.print(table)

        table = Table(title=f"{prop}: programs with each family, and with each construct (those of the "
                            "families, and the others of failing programs)")
        for column in ("family / construct", "programs", "failures", "rate", "failure classes"):
            table.add_column(column, justify="left" if column in ("family / construct", "failure classes") else "right")
        def add(label, subset):
            bad = [r for r in subset if OUTCOMES[r["outcome"]]]
            classes = collections.Counter(r["outcome"] for r in bad)
            table.add_row(label, str(len(subset)), str(len(bad)), f"{len(bad) / max(1, len(subset)):.0%}",
                          ", ".join(f"{k} {v}" for k, v in classes.most_common()))
        for family in programgen.FAMILIES:
            add(f"[bold]{family}[/bold]", [r for r in rows if family in r["families"]])
        add("[bold](no family)[/bold]", [r for r in rows if r["source"] and not r["families"]])
        # every construct of the families; the others only where something failed
        for construct in sorted({c for r in rows for c in r["constructs"]}):
            subset = [r for r in rows if construct in r["constructs"]]
            if construct in programgen.FAMILY_OF or any(OUTCOMES[r["outcome"]] for r in subset):
                add(construct, subset)
        console.print(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--property", choices=("fd", "placement", "both"), default="both")
    parser.add_argument("--count", type=int, default=200, help="programs per property (default 200)")
    parser.add_argument("--seed", type=int, default=None, help="first program seed (default: random, printed)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="reproducers (default fuzz-failures/)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per program (default 120)")
    parser.add_argument("--shapes", type=float, default=1.0, help="weight of the aliasing shapes (default 1)")
    parser.add_argument("--focus", default="rotate",
                        help="the family first in every program: rotate (by seed, with none), none, or one of "
                             + ", ".join(programgen.FAMILIES))
    parser.add_argument("--replay", type=int, nargs="+", metavar="SEED", help="check these program seeds only")
    parser.add_argument("--json", type=Path, help="also write every record as JSON")
    parser.add_argument("--heap-every", type=int, default=1, metavar="K",
                        help="build again after heap churn (outcome nondeterministic) the programs whose seed is a "
                             "multiple of K (default 1: every program; 0: none); it triples an fd check's time")
    parser.add_argument("--no-verify", action="store_true", help="verify mode off (to measure what it costs)")
    parser.add_argument("--shrink", type=int, nargs="?", const=400, default=0, metavar="CHECKS",
                        help="with --replay: shrink each failure (at most CHECKS checks, default 400) and write "
                             "it as <outcome>-<property>-<seed>.min.py too")
    options = parser.parse_args()
    if options.heap_every < 0:
        parser.error("--heap-every: 0 (never) or a positive K")
    global VERIFY
    VERIFY = not options.no_verify
    if options.focus not in ("rotate", "none") and options.focus not in programgen.FAMILIES:
        parser.error(f"--focus: rotate, none or one of {', '.join(programgen.FAMILIES)}")
    if options.shrink and not options.replay:
        parser.error("--shrink shrinks the failures of --replay SEED ...")
    props = ("fd", "placement") if options.property == "both" else (options.property,)
    if options.replay:
        seeds = list(options.replay)
    else:
        first = options.seed if options.seed is not None else random.randrange(2**31)
        print(f"seed {first} (rerun with --seed {first}); {options.count} programs per property; "
              f"{options.jobs} processes", flush=True)
        seeds = [first + i for i in range(options.count)]
    options.out.mkdir(parents=True, exist_ok=True)

    records, files = [], {}
    directory = tempfile.mkdtemp(prefix="adjoin-fuzz-")     # the programs, imported from here
    for prop in props:
        jobs = [(prop, s, options.shapes, options.focus, options.timeout, directory, options.heap_every)
                for s in seeds]
        counts = collections.Counter()
        start = last = time.perf_counter()
        if options.jobs > 1 and len(jobs) > 1:
            pool = multiprocessing.get_context("fork").Pool(options.jobs, maxtasksperchild=100)
            results = pool.imap_unordered(run_one, jobs)
        else:
            pool, results = None, map(run_one, jobs)
        try:
            for record in results:
                records.append(record)
                counts[record["outcome"]] += 1
                if OUTCOMES[record["outcome"]]:
                    files[id(record)] = write_failure(record, options, options.out)
                if options.replay:
                    print(f"[{prop}] seed {record['seed']}: {record['outcome']}: {record['signature']}")
                    if record["message"]:
                        print("    " + record["message"].replace("\n", "\n    "))
                    if options.shrink and OUTCOMES[record["outcome"]] and record["args"] is not None:
                        small = shrink(record, options.timeout, directory, options.shrink)
                        path = write_failure(small, options, options.out, suffix=".min")
                        print(f"    {path}", flush=True)
                if time.perf_counter() - last > 10 or sum(counts.values()) % max(1, len(jobs) // 10) == 0:
                    last = time.perf_counter()
                    progress(prop, sum(counts.values()), len(jobs), counts, start)
        finally:
            if pool is not None:
                pool.terminate()
        progress(prop, sum(counts.values()), len(jobs), counts, start)
    summary(records, files)
    failures = sum(1 for r in records if OUTCOMES[r["outcome"]])
    print(f"{failures} failures written to {options.out}/" if failures else "no failures")
    if options.json:
        options.json.write_text(json.dumps(records, indent=1))
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
