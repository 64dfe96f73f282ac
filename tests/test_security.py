"""Static checks on the source: no pickle-based loading, no remote code, no shell.

The code is parsed (``ast``), so strings and comments that mention these names do not count.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.unit

SKIP_DIRS = {".venv", "venv", ".git", "node_modules", "__pycache__", "runs", "models", ".pytest_cache", ".ruff_cache", ".hypothesis"}
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
SHELL_CALLS = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput", "eval", "exec"}


def python_files(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = REPO / root
        if path.is_file() and path.suffix == ".py":
            files.append(path)
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            files += [Path(folder) / n for n in sorted(names) if n.endswith(".py")]
    return files


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def is_const(node: ast.AST | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def torch_load_violations(tree: ast.AST) -> list[int]:
    """torch.load calls without weights_only=True, and torch.load imported by name."""
    bad = []
    for node in ast.walk(tree):
        weights_only = next((k.value for k in node.keywords if k.arg == "weights_only"), None) if isinstance(node, ast.Call) else None
        if isinstance(node, ast.Call) and dotted(node.func) == "torch.load" and not is_const(weights_only, True):
            bad.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "torch" and any(a.name == "load" for a in node.names):
            bad.append(node.lineno)
    return bad


def remote_code_violations(tree: ast.AST) -> list[int]:
    """trust_remote_code given any value but False (also through **{...})."""
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == "trust_remote_code" and not is_const(kw.value, False):
                bad.append(node.lineno)
            if kw.arg is None and isinstance(kw.value, ast.Dict):
                bad += [node.lineno for k in kw.value.keys if isinstance(k, ast.Constant) and k.value == "trust_remote_code"]
    return bad


def pickle_violations(tree: ast.AST) -> list[int]:
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in PICKLE_MODULES for a in node.names):
            bad.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLE_MODULES:
            bad.append(node.lineno)
    return bad


def shell_violations(tree: ast.AST) -> list[int]:
    """shell=True (anything but False), os.system/os.popen, eval/exec."""
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if dotted(node.func) in SHELL_CALLS:
            bad.append(node.lineno)
        bad += [node.lineno for kw in node.keywords if kw.arg == "shell" and not is_const(kw.value, False)]
    return bad


def scan(files: list[Path], check) -> list[str]:
    out = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out += [f"{path.relative_to(REPO)}:{line}" for line in check(tree)]
    return out


APP_FILES = python_files("tagger", "demo", "app.py")


def test_security_scans_the_library() -> None:
    names = {p.relative_to(REPO).as_posix() for p in APP_FILES}
    assert {"tagger/model.py", "tagger/predict.py", "tagger/train.py"} <= names


def test_security_torch_load_uses_weights_only() -> None:
    assert scan(APP_FILES, torch_load_violations) == []


def test_security_no_trust_remote_code_in_library_or_app() -> None:
    """The library and the app never run a checkpoint's code. Only the export-parity tests and benches load
    a checkpoint this project has written itself (a test's, or the shipped default) with trust_remote_code,
    as a user of the zip would (bench_tag_file: the transformers pipeline as the reference to beat)."""
    assert scan(APP_FILES, remote_code_violations) == []
    outside = scan(python_files("."), remote_code_violations)
    assert {line.split(":")[0] for line in outside} <= {"tests/test_model.py", "tests/test_default_model.py", "bench/bench_robustness.py",
                                                                  "bench/bench_tag_file.py"}


def test_security_no_pickle_imports() -> None:
    assert scan(APP_FILES, pickle_violations) == []


def test_security_no_shell() -> None:
    assert scan(APP_FILES, shell_violations) == []


@pytest.mark.parametrize(
    ("source", "check", "lines"),
    [
        (("import torch\ntorch.load('m.bin')\ntorch.load('m', weights_only=False)\ntorch.load('m', weights_only=True)\n"
         "from torch import load\n"), torch_load_violations, [2, 3, 5]),
        (("f('x', trust_remote_code=True)\nf(trust_remote_code=flag)\nf(**{'trust_remote_code': True})\n"
         "f(trust_remote_code=False)\n"), remote_code_violations, [1, 2, 3]),
        ("import pickle\nimport os, dill\nfrom joblib import load\nimport json\n", pickle_violations, [1, 2, 3]),
        (("import os, subprocess\nos.system('ls')\nsubprocess.run('ls', shell=True)\nsubprocess.run(['ls'], shell=False)\n"
         "eval('1')\n"), shell_violations, [2, 3, 5]),
    ],
    ids=["torch-load", "remote-code", "pickle", "shell"],
)
def test_security_checks_catch_violations(source: str, check, lines: list[int]) -> None:
    """The checks are not vacuous: each flags exactly the bad lines of a sample."""
    assert sorted(check(ast.parse(source))) == lines
