"""The layering of ipam_model, checked on the source (an ast walk of every module).

The pipeline is the folder structure (docs/architecture.md): ``core`` and
``calico`` at the bottom, ``declared`` and ``live`` bring the two inputs in,
``rules`` judge the declared side, ``plan`` compares the two, ``views``
render, ``cli`` is the only shell. Imports go strictly downward; file,
socket, subprocess and terminal I/O happen only in the named edge modules;
no function is longer than a screen.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ipam_model"

# package -> the ipam_model packages it may import (besides itself).
ALLOWED = {
    "data": set(),  # package data, read only through ipam_model.data.load_json
    "core": set(),
    "calico": {"core", "data"},
    "declared": {"core", "calico", "data"},
    "live": {"core", "calico"},
    "rules": {"core", "calico"},
    "plan": {"core", "calico", "rules"},
    "importer": {"core", "calico", "declared", "live"},
    "catalogue": {"core", "calico", "rules", "plan"},
    "views": {"core", "calico", "rules", "plan", "catalogue"},
    "cli": {"core", "calico", "declared", "live", "rules", "plan", "importer", "catalogue",
            "views", "data"},
}
TOP_LEVEL = {"__init__": set(ALLOWED), "__main__": {"cli"}}
# Modules allowed to touch files, sockets, processes or the terminal.
# core/input_file.py is the one bounded reader every input goes through (issue 9).
IO_EDGES = ("data/", "core/input_file.py", "declared/files.py", "declared/yaml.py",
            "live/snapshot_file.py", "live/kube/", "importer/files.py", "cli/")
IO_CALLS = {"open", "print", "input"}
IO_ATTRIBUTES = {("os", "replace"), ("os", "rename"), ("os", "unlink"), ("os", "remove"),
                 ("os", "fdopen"), ("os", "open"), ("os", "write"), ("os", "mkdir"),
                 ("os", "makedirs"), ("sys", "stdout"), ("sys", "stderr"), ("sys", "stdin"),
                 ("tempfile", "mkstemp"), ("tempfile", "TemporaryFile"),
                 ("tempfile", "NamedTemporaryFile"), ("Path", "read_text"),
                 ("Path", "write_text"), ("Path", "read_bytes"), ("Path", "write_bytes")}
IO_MODULES = {"socket", "subprocess", "tempfile", "shutil"}
# Formatting helpers of those modules that open nothing.
PURE_NAMES = {("socket", "inet_ntop"), ("socket", "inet_pton"), ("socket", "AF_INET"),
              ("socket", "AF_INET6")}
# Optional heavy dependencies that may be imported where they are needed.
# (msgspec: lightkube's decoder, whose errors the reader classifies; jsonschema
# only words a config the compiled gate refused; deepdiff only when a pool changed.)
LAZY_OK = {"lightkube", "httpx2", "msgspec", "jsonschema", "deepdiff"}
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if len(parts) == 1:
        return parts[0][:-3]
    return parts[0]


def imported_packages(path: Path) -> list[tuple[int, str, bool]]:
    """(line, ipam_model package imported, inside a function?) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = list(path.relative_to(PACKAGE).parent.parts)
    out = []
    for node, in_function in _walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[:len(package_parts) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [a.name] for a in node.names] if not node.module else [target]
            elif node.module and node.module.split(".")[0] == "ipam_model":
                names = [node.module.split(".")[1:] + ([a.name] if node.module == "ipam_model"
                                                       else []) for a in node.names]
            else:
                continue
            for parts in names:
                if parts:
                    out.append((node.lineno, parts[0], in_function))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "ipam_model" and len(parts) > 1:
                    out.append((node.lineno, parts[1], in_function))
    return out


def _walk(tree: ast.AST):
    """Every node with whether it sits inside a function body."""
    stack = [(tree, False)]
    while stack:
        node, inside = stack.pop()
        yield node, inside
        nested = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        stack.extend((child, nested) for child in ast.iter_child_nodes(node))


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_imports_only_go_downward(path):
    here = layer(path)
    allowed = TOP_LEVEL.get(here, ALLOWED.get(here))
    assert allowed is not None, f"{relative(path)}: unknown package {here}; add it to ALLOWED"
    bad = [(line, target) for line, target, _ in imported_packages(path)
           if target != here and target not in allowed and target in ALLOWED]
    assert not bad, f"{relative(path)} imports upward or sideways: {bad}"


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_no_function_level_import_of_our_own_modules(path):
    inside = [line for line, _, in_function in imported_packages(path) if in_function]
    assert not inside, f"{relative(path)}: imports of ipam_model inside functions at {inside}"


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_only_lazy_heavy_dependencies_inside_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node, in_function in _walk(tree):
        if not in_function or not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""])
        bad += [(node.lineno, n) for n in names if n.split(".")[0] not in LAZY_OK and n]
    assert not bad, f"{relative(path)}: function-level imports {bad}"


def io_uses(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in IO_CALLS:
            found.append((node.lineno, node.func.id))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and (node.value.id, node.attr) in IO_ATTRIBUTES:
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Attribute) and node.attr in ("read_text", "write_text",
                                                              "read_bytes", "write_bytes"):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if a.name.split(".")[0] in IO_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in IO_MODULES:
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names
                      if (node.module, a.name) not in PURE_NAMES]
    return found


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_io_only_at_the_edges(path):
    name = relative(path)
    if any(name == edge or (edge.endswith("/") and name.startswith(edge)) for edge in IO_EDGES):
        return
    assert not io_uses(path), f"{name} does I/O outside the edge modules: {io_uses(path)}"


def test_the_io_check_sees_io():
    """The edge check would catch a core module that opened a file."""
    assert io_uses(PACKAGE / "core" / "input_file.py")
    assert io_uses(PACKAGE / "cli" / "output.py")


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_functions_fit_on_a_screen(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{relative(path)}: functions over {MAX_FUNCTION_LINES} lines: {long}"


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_no_private_names_imported_across_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [(node.lineno, alias.name) for node in ast.walk(tree)
           if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(
               "ipam_model"))
           for alias in node.names if alias.name.startswith("_") and alias.name != "__version__"]
    assert not bad, f"{relative(path)} imports private names {bad}"


def test_every_package_states_its_layer_contract():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{relative(init)} has no docstring stating what the package is"


def test_the_pulumi_program_is_never_imported_by_the_core():
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""])
                assert not any(n.split(".")[0].startswith("pulumi") for n in names), \
                    f"{relative(path)}:{node.lineno} imports Pulumi"
