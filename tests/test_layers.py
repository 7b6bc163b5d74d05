"""The package's layout: one table knows every primitive, and no layer imports a higher one."""
import ast
import re
from pathlib import Path

import pytest

from adjoin.rules import RULES

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "adjoin"
PRIMITIVE = re.compile(r"(np|math|builtins|method|attr|op)\.[A-Za-z_][A-Za-z0-9_]*")

# lowest first: a module may import its own layer and the ones before it
LAYERS = [
    {"errors", "version", "sizes", "fileio", "schemas", "placement", "rules"},
    {"runtime"},
    {"frontend"},
    {"analysis"},
    {"transform"},
    {"profiling"},
    {"api", "tangent_api", "case"},
    {"report"},          # runs adjoints to plot them
    {"cli", "__init__", "__main__"},   # cli/: the adjoin command, a module per subcommand
]
CLI_HELPERS = {"arguments", "common", "differences"}   # what the modules of cli/ share


def layer_of(part):
    for k, layer in enumerate(LAYERS):
        if part in layer:
            return k
    raise AssertionError(f"{part} is in no layer of tests/test_layers.py")


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def top(path):
    """The first part of a module's path inside the package: 'analysis', 'rules', 'api'."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0][:-3] if len(parts) == 1 else parts[0]


def imported_parts(path):
    """Top parts of the adjoin modules a file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    depth_base = path.relative_to(PACKAGE).parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = depth_base[:len(depth_base) - (node.level - 1)] if node.level > 1 else depth_base
            module = list(base) + (node.module.split(".") if node.module else [])
            if module:
                yield module[0], node.lineno
            else:
                for alias in node.names:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("adjoin."):
            yield node.module.split(".")[1], node.lineno


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_layer_imports_a_higher_one(path):
    mine = layer_of(top(path))
    for part, line in imported_parts(path):
        assert layer_of(part) <= mine, f"{path.name}:{line} imports {part}, a higher layer than {top(path)}"


def cli_modules():
    return [p for p in modules() if p.relative_to(PACKAGE).parts[0] == "cli"]


def test_the_command_package_is_in_the_top_layer():
    """cli/ is a package: the layer test above finds its modules, as the top layer."""
    names = {p.name for p in cli_modules()}
    assert {"__init__.py", "__main__.py", "common.py", "check.py", "generate.py"} <= names
    assert {layer_of(top(p)) for p in cli_modules()} == {len(LAYERS) - 1}


@pytest.mark.parametrize("path", [p for p in cli_modules() if p.stem not in ("__init__", "__main__")],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_command_imports_only_the_shared_modules_of_cli(path):
    """A subcommand's module uses cli's shared modules, never another subcommand's; only
    cli/__init__.py (the command table) imports the subcommands."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            assert node.module in CLI_HELPERS, \
                f"{path.name}:{node.lineno} imports {node.module or 'cli'}, not one of {sorted(CLI_HELPERS)}"


@pytest.mark.parametrize("path", [p for p in modules() if p.name != "rules.py"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_primitive_named_in_the_package_is_an_entry_of_the_table(path):
    """A primitive is known by its entry: analyses read its properties, they never match its name
    in a list of their own (and the names the generator writes are the table's too)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and PRIMITIVE.fullmatch(node.value):
            assert node.value in RULES, f"{path.name}:{node.lineno} names {node.value!r}, which is not in the table"


def test_methods_are_written_once():
    """x.sum() and np.sum(x) are one entry: the method spellings come from ``methods``."""
    assert RULES["method.sum"] is RULES["np.sum"]
    assert all(RULES[f"method.{m}"] is entry for entry in RULES.values() for m in entry.methods)
