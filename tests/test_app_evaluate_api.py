"""``/evaluate`` through gradio_client: the Evaluate tab's public API on a running app, alone and comparing
two models that tag differently ("tiny" and "tiny-org", which calls Paris an organisation)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from learning import tiny_tagger_paris_org
from support import app_client, running_app

from tagger.analysis import ERROR_KINDS

pytestmark = pytest.mark.app
ERRORS_TEXT = (
    "Angela B-PER\nMerkel I-PER\nvisited O\nParis B-ORG\ntoday O\n. O\n\n"
    "John B-PER\nlives O\nin O\nBerlin B-LOC\nnow O\n\n"
    "Berlin O\nis O\nbig O\n"
)


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    for running in running_app(tmp_path_factory, "evaluate-app", tiny_base, tiny_tagger, default_model=None):
        shutil.copytree(tiny_tagger_paris_org(tmp_path_factory, tiny_base), running.models_dir / "tiny-org")  # listed at once
        yield running


@pytest.fixture(scope="module")
def client(app, tmp_path_factory: pytest.TempPathFactory):
    return app_client(app, tmp_path_factory)


def test_app_evaluate_api_returns_scores_errors_and_files(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    data = tmp_path / "errors.conll"
    data.write_text(ERRORS_TEXT)
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/evaluate"]
    assert [p["parameter_name"] for p in info["parameters"]][:4] == ["data_file", "model", "compare_with", "label_column"]
    result = client.predict(handle_file(str(data)), "tiny", "tiny", -1, api_name="/evaluate")
    summary, scores, errors, confusion, compare_md, compare_df, disagree_df, files, types = result
    assert disagree_df["headers"][:2] == ["#", "sentence"] and disagree_df["data"] == []  # the same model twice
    assert {"ORG", "LOC"} <= {c[0] for c in types["choices"]} and types["value"] == []  # the browser's type filter
    assert "3 sentences" in summary and "2 sentences with errors" in summary
    assert scores["headers"] == ["type", "precision", "recall", "F1", "support"] and scores["data"][-1][0] == "micro avg"
    assert errors["headers"] == ["type", *ERROR_KINDS]
    total = dict(zip(errors["headers"], errors["data"][-1]))
    assert total["type"] == "total" and total["wrong_type"] == 1 and total["correct"] == 3
    assert "<table" in confusion and "gold ORG, predicted LOC: 1" in confusion
    assert "0 sentences tagged differently" in compare_md and compare_df["data"][-1][0] == "micro avg"  # the same model twice
    by_name = {Path(f).name: Path(f) for f in files}
    assert set(by_name) == {"predictions-tiny.conll", "predictions-tiny.jsonl", "errors-tiny.jsonl"}
    assert by_name["predictions-tiny.conll"].read_text().splitlines()[3].split() == ["Paris", "B-ORG", "B-LOC"]
    rows = [json.loads(ln) for ln in by_name["errors-tiny.jsonl"].read_text().splitlines()]
    assert [r["index"] for r in rows] == [0, 2] and rows[0]["errors"][0]["kind"] == "wrong_type"


def test_app_evaluate_api_compares_two_models_that_disagree(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    data = tmp_path / "errors.conll"
    data.write_text(ERRORS_TEXT)
    result = client.predict(handle_file(str(data)), "tiny", "tiny-org", -1, api_name="/evaluate")
    compare_md, compare_df, disagree_df = result[4:7]
    assert compare_md == ("A = `tiny`, B = `tiny-org`: 1 sentence tagged differently; A has fewer errors in 0, B in 1, "
                          "the same number in 0.")
    assert disagree_df["headers"] == ["#", "sentence", "gold", "A", "B", "errors A", "errors B"]
    assert [row[:2] + row[3:] for row in disagree_df["data"]] == [
        [1, "Angela Merkel visited Paris today .", "Angela Merkel/PER; Paris/LOC", "Angela Merkel/PER; Paris/ORG", 1, 0]]
    per_type = {row[0]: dict(zip(compare_df["headers"], row)) for row in compare_df["data"]}
    assert (per_type["ORG"]["F1 A"], per_type["ORG"]["F1 B"]) == (0.0, 100.0) and per_type["micro avg"]["B - A"] > 0


def test_app_evaluate_api_bad_input_is_one_clear_error(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    bad = tmp_path / "bad.conll"
    bad.write_text("EU B-ORG\nrejects O extra\n")
    with pytest.raises(Exception, match=r"bad\.conll, line 2"):
        client.predict(handle_file(str(bad)), "tiny", "no comparison", -1, api_name="/evaluate")
    with pytest.raises(Exception, match="Unknown model"):
        client.predict(handle_file(str(bad)), "nope", "no comparison", -1, api_name="/evaluate")
