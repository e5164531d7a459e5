"""The leaf package mmlab_core and the plugin's import contract.

Importing the error base, the settings, the atomic-file helpers, the CLI wrapper or the ``extensions``
package itself loads no third-party package, in the host's Python and in the stack's (where mmdet3d and
mmdeploy import, so an ``extensions/__init__`` that registered on import would load them).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mmlab_core.settings import REPO_ROOT, current

OWN = {"mmlab_core", "extensions"}
LOADED = "import json, sys; {}; print(json.dumps(sorted(sys.modules)))"
CORE = "import mmlab_core.errors, mmlab_core.settings, mmlab_core.files, mmlab_core.cli, extensions"


def _pythons() -> list[str]:
    stack = current().venv / "bin" / "python"
    return list(dict.fromkeys([sys.executable, *([str(stack)] if stack.exists() else [])]))


@pytest.mark.parametrize("python", _pythons())
def test_the_core_and_the_plugin_package_import_nothing_third_party(python):
    def top_level(code: str) -> set[str]:
        out = subprocess.run([python, "-c", LOADED.format(code)], cwd=REPO_ROOT, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return {name.split(".")[0] for name in json.loads(out.stdout)}

    baseline = top_level("pass")  # what the interpreter itself loads (site hooks, .pth files)
    foreign = sorted(top_level(CORE) - baseline - set(sys.stdlib_module_names) - OWN)
    assert foreign == [], f"{python}: importing mmlab_core and extensions loaded {foreign}"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["mmlab_core", "scripts/stack"])
def test_host_side_code_imports_neither_the_plugin_nor_the_loop(package):
    for path in sorted((REPO_ROOT / package).glob("*.py")):
        wrong = {
            name
            for name in _imports(path)
            if name.split(".")[0] == "extensions" or name.startswith(("scripts.loop", "scripts.data", "benchmarks"))
        }
        assert not wrong, f"{path.relative_to(REPO_ROOT)} imports {sorted(wrong)}"
    if package == "mmlab_core":  # a leaf: nothing of the project's own either
        for path in sorted((REPO_ROOT / package).glob("*.py")):
            assert not {n for n in _imports(path) if n.startswith("scripts")}, path


def test_the_plugin_never_imports_scripts():
    for path in sorted((REPO_ROOT / "extensions").rglob("*.py")):
        assert not {n for n in _imports(path) if n.split(".")[0] in {"scripts", "benchmarks"}}, path


def test_scripts_loop_holds_only_command_packages():
    loop = REPO_ROOT / "scripts" / "loop"
    assert sorted(p.name for p in loop.glob("*.py")) == ["__init__.py"]
    for package in (p for p in loop.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert (package / "__init__.py").exists(), package
