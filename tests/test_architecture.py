"""The architecture, as contracts that fail when it breaks: import-linter's layers (demo.launch ->
demo.ui -> demo.service -> tagger; the library imports neither the app nor Gradio; no import cycle
among the library's modules; see .importlinter), dead code (vulture with .ci/vulture_whitelist.py),
short functions, and a service layer whose tests run without Gradio."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

pytestmark = pytest.mark.unit
BIN = Path(sys.executable).parent
MAX_FUNCTION_LINES = 80


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=cwd, capture_output=True, check=False, text=True, timeout=300)


def test_architecture_import_contracts_are_kept() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("file", "line", "contract"), [
    ("tagger/meta.py", "import gradio\n", "The library (tagger) imports neither the app (demo) nor Gradio"),
    ("tagger/schemes.py", "from demo.service import owners\n", "Layers"),
    ("demo/service/runs.py", "from demo.ui import render\n", "Layers"),
    ("demo/service/owners.py", "import gradio\n", "The service layer (demo.service) knows nothing of Gradio"),
    ("tagger/corpus.py", "from tagger import data\n", "No import cycles among the library's modules"),
])
def test_architecture_import_contracts_can_fail(tmp_path: Path, file: str, line: str, contract: str) -> None:
    """A copy of the code with one deliberate violation: lint-imports names the broken contract and fails."""
    for package in ("tagger", "demo"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / file
    source = target.read_text(encoding="utf-8")
    head, sep, rest = source.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + rest, encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = [ln for ln in result.stdout.splitlines() if ln.rstrip().endswith("BROKEN")]
    assert any(contract in ln for ln in broken) or contract in result.stdout.split("Contracts:")[0], result.stdout


def test_architecture_no_dead_code() -> None:
    """vulture over the library and the app; what it cannot see used is listed, with why, in the whitelist."""
    result = subprocess.run([str(BIN / "vulture"), "tagger", "demo", "app.py", ".ci/vulture_whitelist.py"], cwd=REPO,
                            capture_output=True, check=False, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def long_functions(root: Path, limit: int) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = node.end_lineno - start + 1  # type: ignore[operator]
                if length > limit:
                    out.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_architecture_functions_are_short() -> None:
    """No function in the library or the app is longer than 80 lines (decorators and docstring included)."""
    assert long_functions(REPO / "tagger", MAX_FUNCTION_LINES) + long_functions(REPO / "demo", MAX_FUNCTION_LINES) == []


def test_architecture_service_tests_run_without_gradio() -> None:
    """The service layer's own tests (tests/test_service_*.py) import no Gradio: with ``gradio`` made
    unimportable, every one of them still imports, and so does every service module."""
    tests = sorted(p.stem for p in (REPO / "tests").glob("test_service_*.py"))
    modules = sorted(f"demo.service.{p.stem}" for p in (REPO / "demo" / "service").glob("*.py") if p.stem != "__init__")
    assert len(tests) >= 3 and "demo.service.runs" in modules
    code = (
        "import sys; sys.modules['gradio'] = None; sys.modules['gradio_client'] = None\n"
        f"sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'tests')!r}]\n"
        "import importlib\n"
        f"for name in {modules + tests!r}: importlib.import_module(name)\n"
        "assert 'gradio' not in [m for m in sys.modules if sys.modules[m] is not None and m.split('.')[0] == 'gradio']\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
