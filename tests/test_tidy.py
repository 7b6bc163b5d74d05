"""Dead resets of adjoints are dropped from the generated text (transform/tidy.py), never a live one."""
import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest

import adjoin
from adjoin.transform.tidy import drop_dead_resets

GENERATED = Path(__file__).resolve().parent.parent / "docs" / "examples" / "generated"


def kept(source):
    return drop_dead_resets(textwrap.dedent(source))


def test_a_reset_nothing_reads_is_dropped_with_its_line_only():
    out = kept("""
        def f_b(x, result_b):
            # line 3: y = x * 2
            x_b = result_b * 2.0
            result_b = 0.0
            return x_b
        """)
    assert "result_b = 0.0" not in out and "# line 3: y = x * 2" in out


@pytest.mark.parametrize("source", [
    # read by the next iteration of the loop
    """
    def f_b(n, g):
        y_b = 1.0
        for k in reversed(range(n)):
            g = g + y_b
            y_b = 0.0
        return g
    """,
    # read after the loop, reached by its break
    """
    def f_b(n, g):
        y_b = 1.0
        for k in range(n):
            if k > 2:
                y_b = 0.0
                break
            y_b = g * 2.0
        return y_b
    """,
    # an augmented assignment reads its target
    """
    def f_b(g):
        y_b = 0.0
        y_b += g
        return y_b
    """,
    # read on one branch only
    """
    def f_b(c, g):
        y_b = 0.0
        if c:
            g = g + y_b
        return g
    """,
    # read by a while loop's test
    """
    def f_b(g):
        y_b = 0.0
        while y_b < 1.0:
            y_b = y_b + g
        return g
    """,
    # read through a subscript store and a call
    """
    def f_b(g, x):
        y_b = 0.0
        ad.dense(y_b, x)[0] = g
        return g
    """,
])
def test_a_reset_read_on_some_path_is_kept(source):
    assert kept(source) == textwrap.dedent(source)


def test_the_only_statement_of_a_block_is_kept():
    source = """
    def f_b(c, g):
        if c:
            y_b = 0.0
        return g
    """
    assert kept(source) == textwrap.dedent(source)


def test_a_block_of_dead_resets_keeps_one_of_them():
    # fuzz seed 13506219: a reversed loop whose body was only two dead resets lost both lines
    # and the module did not compile
    source = """
    def f_b(g):
        for k in reversed(range(2)):
            # line 5
            e_b = 0.0
            # line 4
            t_b = 0.0
        return g
    """
    out = kept(source)
    ast.parse(out)
    assert out.count("_b = 0.0") == 1


def _dead_adjoint_assignments(tree):
    """(line, name) of assignments to adjoint names (x_b) that no later statement can read: an
    independent, cruder liveness than tidy.py's (loops: every name read anywhere in the loop)."""
    dead = []

    def reads(node):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

    def block(stmts, live):
        for stmt in reversed(stmts):
            if isinstance(stmt, ast.If):
                live = block(stmt.body, set(live)) | block(stmt.orelse, set(live)) | reads(stmt.test)
            elif isinstance(stmt, (ast.For, ast.While)):
                live = live | reads(stmt)
                block(stmt.body, live)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                target = stmt.targets[0].id
                if target.endswith("_b") and target not in live:
                    dead.append((stmt.lineno, target))
                live = (live - {target}) | reads(stmt.value)
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                live = live | {stmt.target.id} | reads(stmt.value)
            elif isinstance(stmt, ast.Return):
                live = reads(stmt)
            else:
                live = live | reads(stmt)
        return live

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            block(node.body, set())
    return dead


@pytest.mark.parametrize("path", sorted(GENERATED.glob("*.py")), ids=lambda p: p.name)
def test_generated_examples_assign_no_adjoint_that_is_never_read(path):
    assert _dead_adjoint_assignments(ast.parse(path.read_text())) == []


def test_dropping_resets_keeps_the_gradient():
    def f(x, n):
        y = x * 1.0
        for k in range(n):
            y = np.sin(y) * 1.5
            if k == 1:
                break
        return np.sum(y * y)
    x = np.linspace(0.1, 0.9, 5)
    (g,) = adjoin.grad(f, wrt=("x",))(x, 4)
    y = x.copy()
    dy = np.ones_like(x)
    for k in range(2):
        dy, y = dy * np.cos(y) * 1.5, np.sin(y) * 1.5
    assert np.allclose(g, 2.0 * y * dy, rtol=1e-13)
