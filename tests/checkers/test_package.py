"""Rules for the ``labs.check`` package as a whole."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

from labs import check

CHECK_DIR = pathlib.Path(check.__file__).parent


def test_public_api():
    """Every exported name exists and is documented; every checker module's public
    functions are exported (a checker that is written but not listed would be missed)."""
    assert {
        "Result",
        "CheckFailed",
        "output_size",
        "transposed_output_size",
        "conv1d",
        "conv2d",
        "conv_transpose2d",
        "gradient",
        "function",
    } <= set(check.__all__)
    assert len(set(check.__all__)) == len(check.__all__)
    for name in check.__all__:
        assert getattr(check, name).__doc__, f"{name} has no docstring"
    for path in CHECK_DIR.glob("*.py"):
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                assert node.name in check.__all__, (
                    f"{path.name}: {node.name} not exported"
                )


def test_one_way_to_declare_a_mistake():
    """Mistakes are ``labs.check._core.Mistake`` everywhere: no checker module defines
    a mistake type of its own, and every one runs through ``_core.check``."""
    for path in CHECK_DIR.glob("*.py"):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        classes = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        assert not [c for c in classes if "Mistake" in c], (path.name, classes)
        imported = {
            alias.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "labs.check._core"
            for alias in n.names
        }
        assert {"Exercise", "check"} <= imported or path.name == "__init__.py", (
            path.name
        )


def test_checkers_import_nothing_from_labs_but_labs_check():
    for path in CHECK_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module == "labs" or module.startswith("labs."):
                    assert module.startswith("labs.check"), (
                        f"{path.name} imports {module}"
                    )


def test_importing_labs_does_not_import_torch():
    code = "import sys, labs; print('torch' in sys.modules)"
    root = CHECK_DIR.parent.parent
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert output.stdout.strip() == "False"
