"""The test suite's own rules: declared dependencies are imported (a missing one fails, never skips),
and every test that reads ../shared/data names its files, so that a partial folder skips with a reason
naming what is missing instead of erroring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import support
from support import needs_shared, shared_missing

pytestmark = pytest.mark.unit
TESTS = Path(__file__).resolve().parent


def _skip_reason(test: object) -> str | None:
    marks = {m.name: m for m in getattr(test, "pytestmark", [])}
    assert "shared_data" in marks
    skip = marks["skipif"]
    return skip.kwargs["reason"] if skip.args[0] else None


def test_support_shared_missing_names_the_missing_files(tmp_path: Path) -> None:
    assert "absent" in (shared_missing(("conll2003/eng.testb",), tmp_path / "none") or "")
    (tmp_path / "conll2003").mkdir()
    (tmp_path / "conll2003" / "eng.testb").write_text("EU NNP B-NP B-ORG\n")
    assert shared_missing(("conll2003/eng.testb",), tmp_path) is None
    reason = shared_missing(("conll2003/eng.testb", "conll2003/eng.train", "re3d"), tmp_path)
    assert reason == f"needs {tmp_path / 'conll2003/eng.train'}, {tmp_path / 're3d'} (missing from the shared data sets)"


def test_support_needs_shared_marks_and_skips_a_partial_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conll2003").mkdir()
    (tmp_path / "conll2003" / "eng.testb").write_text("EU NNP B-NP B-ORG\n")
    monkeypatch.setattr(support, "SHARED_DATA", tmp_path)

    def reads_testb() -> None: ...

    def reads_gum() -> None: ...

    assert _skip_reason(needs_shared("conll2003/eng.testb")(reads_testb)) is None
    reason = _skip_reason(needs_shared("conll2003/eng.testb", "ud-english-gum/en_gum-ud-dev.conllu")(reads_gum))
    assert reason is not None and "ud-english-gum/en_gum-ud-dev.conllu" in reason and "eng.testb" not in reason
    with pytest.raises(TypeError, match="takes the files the test reads"):
        needs_shared(reads_testb)  # type: ignore[arg-type]  # the bare form cannot tell which file is missing


def _decorated_with_needs_shared(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "needs_shared" and d.args for d in fn.decorator_list)


def _reads_shared(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "SHARED_DATA" for n in ast.walk(fn))


def test_support_every_test_reading_shared_data_says_which_files() -> None:
    """A test that reads SHARED_DATA, itself or through a fixture of its module, carries
    ``@needs_shared("<files>")``; no test module skips on a missing declared dependency."""
    unmarked = []
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skips = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "importorskip"]
        assert skips == [], f"{path.name}: import declared dependencies (requirements*.txt), do not skip on them"
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        fixtures = {f.name for f in functions if not f.name.startswith("test_") and _reads_shared(f)}
        for fn in functions:
            uses = {a.arg for a in fn.args.args} & fixtures
            if fn.name.startswith("test_") and (_reads_shared(fn) or uses) and not _decorated_with_needs_shared(fn):
                unmarked.append(f"{path.name}::{fn.name}")
    assert unmarked == []
