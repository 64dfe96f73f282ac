"""demo.ui.evaluate_tab handlers (and demo.ui.evaluate_view values), called directly with an AppContext (no server)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest
from learning import tiny_tagger_paris_org
from support import DEV_FILE, app_settings

from demo.service.app_context import AppContext
from demo.ui import evaluate_tab, evaluate_view
from tagger.analysis import ERROR_KINDS

pytestmark = pytest.mark.app
# Paris as ORG and a gold-less "Berlin": the tiny tagger (trained on two sentences) gets these wrong
ERRORS_TEXT = (
    "Angela B-PER\nMerkel I-PER\nvisited O\nParis B-ORG\ntoday O\n. O\n\n"
    "John B-PER\nlives O\nin O\nBerlin B-LOC\nnow O\n\n"
    "Berlin O\nis O\nbig O\n"
)


def no_progress(*_args, **_kwargs) -> None:
    return None


@pytest.fixture(scope="module")
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("evaluate-tab")
    context = AppContext(app_settings(tmp, tiny_base, tiny_tagger, default_model=None, prewarm_worker=False))
    bare = context.settings.models_dirs[0] / "no-dev"  # a model folder without recorded dev data
    shutil.copytree(tiny_tagger, bare)
    (bare / "dev.jsonl").unlink()
    # a model trained differently (Paris as an organisation): it disagrees with "tiny"
    shutil.copytree(tiny_tagger_paris_org(tmp_path_factory, tiny_base), context.settings.models_dirs[0] / "tiny-org")
    yield context
    context.close()


@pytest.fixture(scope="module")
def errors_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evaluate-data") / "errors.conll"
    path.write_text(ERRORS_TEXT)
    return path


@pytest.fixture(scope="module")
def outputs(ctx: AppContext, errors_file: Path) -> tuple:
    return evaluate_tab.evaluate(ctx, str(errors_file), "tiny", None, -1, progress=no_progress)


def test_evaluate_tab_evaluate_returns_every_view(outputs: tuple) -> None:
    summary, scores, errors, confusion, compare_md, compare_df, disagree_df, files, types, state = outputs
    assert "3 sentences" in summary and "**2 sentences with errors**" in summary
    assert isinstance(scores.data, pd.DataFrame) and scores.data.iloc[-1]["type"] == "micro avg"
    drawn = scores.to_string(delimiter="|").splitlines()[-1].split("|")  # index, type, P, R, F1, support
    assert all(re.fullmatch(r"\d+\.\d", cell) for cell in drawn[2:5]), drawn  # one decimal, also for 67.0
    total = errors[errors["type"] == "total"].iloc[0]
    assert list(errors.columns) == ["type", *ERROR_KINDS] and total["wrong_type"] == 1 and total["spurious"] >= 1
    assert "<table" in confusion and "gold ↓ predicted →" in confusion and "spurious" in confusion and "Entity level" in confusion
    assert "Pick a second model" in compare_md and compare_df.empty and disagree_df.empty
    names = sorted(Path(f).name for f in files)
    assert names == ["errors-tiny.jsonl", "predictions-tiny.conll", "predictions-tiny.jsonl"]
    conll = next(Path(f) for f in files if f.endswith(".conll")).read_text().splitlines()
    assert conll[3].split() == ["Paris", "B-ORG", "B-LOC"]
    rows = [json.loads(ln) for ln in next(Path(f) for f in files if "errors-" in f).read_text().splitlines()]
    assert [r["index"] for r in rows] == [0, 2]
    assert isinstance(types, gr.CheckboxGroup) and isinstance(state, evaluate_tab.Result)
    assert "ORG" in state.types and "LOC" in state.types


def test_evaluate_tab_browser_filters_sorts_and_pages(ctx: AppContext, outputs: tuple) -> None:
    state = outputs[-1]
    page, line, *slots = evaluate_tab.browse(ctx, state, [], [], "errors", 1)
    assert page == 1 and line.startswith("2 of 2 sentences with errors match")
    assert len(slots) == 4 * evaluate_tab.PAGE_SIZE
    assert slots[0].visible is True and ("wrong type" in slots[1] or "spurious" in slots[1])
    shown = [slots[i * 4 + 1] for i in range(2)]
    assert any("wrong type: “Paris” ORG → LOC" in h for h in shown)
    visible = [slots[i * 4].visible for i in range(evaluate_tab.PAGE_SIZE)]
    assert visible == [True, True, False, False, False]
    # the gold line of the Paris sentence marks the ORG entity as part of an error
    paris = next(i for i in range(2) if "Paris" in slots[i * 4 + 1])
    tokens = [(t["token"], t["class_or_confidence"]) for t in slots[paris * 4 + 2].value]  # HighlightedText's own form
    assert ("Paris", "ORG ✗") in tokens and ("Angela Merkel", "PER") in tokens
    assert ("Paris", "LOC ✗") in [(t["token"], t["class_or_confidence"]) for t in slots[paris * 4 + 3].value]
    assert slots[paris * 4 + 2].color_map["ORG ✗"] == slots[paris * 4 + 2].color_map["ORG"]
    # filters: by kind, then by type and kind together
    _, line, *slots = evaluate_tab.browse(ctx, state, [], ["wrong_type"], "errors", 1)
    assert line.startswith("1 of 2") and "Paris" in slots[1] and slots[4].visible is False
    _, line, *_ = evaluate_tab.browse(ctx, state, ["PER"], ["missed"], "errors", 1)
    assert line.startswith("0 of 2")
    # pages clamp; sorting by confidence is accepted
    page, line, *_ = evaluate_tab.next_page(ctx, state, [], [], "confidence", 1)
    assert page == 1 and "page 1 of 1" in line


def test_evaluate_tab_browser_without_result(ctx: AppContext) -> None:
    page, line, *slots = evaluate_tab.browse(ctx, None, [], [], "errors", 3)
    assert page == 1 and line == "" and all(slots[i * 4].visible is False for i in range(evaluate_tab.PAGE_SIZE))


def test_evaluate_tab_compare_the_same_weights_finds_no_difference(ctx: AppContext, errors_file: Path) -> None:
    out = evaluate_tab.evaluate(ctx, str(errors_file), "tiny", "no-dev", -1, progress=no_progress)
    compare_md, compare_df, disagree_df = out[4:7]
    assert "0 sentences tagged differently" in compare_md  # the same weights: no disagreement
    assert list(compare_df.columns) == evaluate_view.COMPARE_COLUMNS and compare_df.iloc[-1]["type"] == "micro avg"
    assert (compare_df["B - A"] == 0).all() and disagree_df.empty


def test_evaluate_tab_compare_two_different_models(ctx: AppContext, errors_file: Path) -> None:
    """"tiny" (A) tags Paris LOC, "tiny-org" (B) ORG, as the file's gold does: they disagree on that
    sentence only, and B has the fewer errors there."""
    out = evaluate_tab.evaluate(ctx, str(errors_file), "tiny", "tiny-org", -1, progress=no_progress)
    compare_md, compare_df, disagree_df = out[4:7]
    assert compare_md == ("A = `tiny`, B = `tiny-org`: 1 sentence tagged differently; A has fewer errors in 0, B in 1, "
                          "the same number in 0.")
    assert disagree_df.values.tolist() == [[1, "Angela Merkel visited Paris today .", "Angela Merkel/PER; Paris/ORG",
                                            "Angela Merkel/PER; Paris/LOC", "Angela Merkel/PER; Paris/ORG", 1, 0]]
    rows = {r["type"]: r for r in compare_df.to_dict("records")}
    assert rows["ORG"]["F1 A"] == 0.0 and rows["ORG"]["F1 B"] == 100.0 and rows["micro avg"]["B - A"] > 0


def test_evaluate_tab_evaluate_run_uses_the_recorded_dev_set(ctx: AppContext) -> None:
    calls: list[float] = []
    model, summary, *_rest, state = evaluate_tab.evaluate_run(ctx, "tiny", progress=lambda f, desc="": calls.append(f))
    assert model.value == "tiny" and "the dev set of tiny" in summary and "2 sentences" in summary
    assert calls and calls[-1] == pytest.approx(1.0)
    assert len(state.evaluation.words) == 2


@pytest.mark.parametrize("call, message", [
    (lambda ctx: evaluate_tab.evaluate_run(ctx, "no-dev", progress=no_progress), "no dev data saved with it"),
    (lambda ctx: evaluate_tab.evaluate_run(ctx, None, progress=no_progress), "Pick a run first"),
    (lambda ctx: evaluate_tab.evaluate(ctx, None, "tiny", progress=no_progress), "Upload a labeled file"),
    (lambda ctx: evaluate_tab.evaluate(ctx, str(DEV_FILE), "nope", progress=no_progress), "Unknown model"),
    (lambda ctx: evaluate_tab.evaluate(ctx, str(DEV_FILE), "tiny", None, "x", progress=no_progress), "label column"),
])
def test_evaluate_tab_user_errors(ctx: AppContext, call, message: str) -> None:
    with pytest.raises(gr.Error, match=message):
        call(ctx)


def test_evaluate_tab_bad_file_is_a_user_error(ctx: AppContext, tmp_path: Path) -> None:
    bad = tmp_path / "bad.conll"
    bad.write_text("EU B-ORG\nrejects O extra\n")
    with pytest.raises(gr.Error, match="bad.conll"):
        evaluate_tab.evaluate(ctx, str(bad), "tiny", progress=no_progress)


def test_evaluate_tab_refresh_lists_models(ctx: AppContext) -> None:
    model, other = evaluate_tab.refresh_models(ctx, "gone", "tiny")
    assert [c[0] for c in model.choices] == ["no-dev", "tiny", "tiny-org"] and model.value == "no-dev" and other.value == "tiny"
    assert [c[0] for c in other.choices] == [evaluate_tab.NO_COMPARE, "no-dev", "tiny", "tiny-org"]


@pytest.mark.unit
def test_demo_evaluate_view_confusion_heat_map_and_tables() -> None:
    from tagger.analysis import analyse

    a = analyse([["B-PER", "O", "B-LOC"], ["B-ORG", "O"]], [["B-PER", "O", "B-ORG"], ["O", "B-MISC"]])
    page = evaluate_view.confusion_html(a.confusion)
    assert page.count("<tr>") == 2 * (1 + 5)  # header; LOC, MISC, ORG, PER, spurious (a wide and a narrow copy)
    assert "gold LOC, predicted ORG: 1" in page and "gold ORG, predicted missed: 1" in page
    assert "rgba(239,68,68" in page and "rgba(34,197,94" in page  # red confusions, green agreement
    plain = evaluate_view.confusion_html({"NN": {"NN": 5, "VB": 1}}, "plain")
    assert "missed" not in plain and plain.count("<tr>") == 2 * 3 and "Word level" in plain  # NN, VB rows
    assert "nothing to confuse" in evaluate_view.confusion_html({})
    many = {f"T{i:02d}": {f"T{i:02d}": 20 - i} for i in range(14)}  # 14 types: the rarest are summed as "other"
    wide, narrow = evaluate_view.confusion_html(many).split('<div class="cm-narrow">')
    assert wide.count("<th>") == evaluate_view.WIDE_TYPES + 2 and narrow.count("<th>") == evaluate_view.NARROW_TYPES + 2
    assert "gold other, predicted other: 34" in wide  # T10..T13 summed: 10 + 9 + 8 + 7
    table = evaluate_view.error_table(a.errors)
    assert table.iloc[-1].tolist() == ["total", *(a.errors[k] for k in ERROR_KINDS)]
    assert evaluate_view.page_of(list(range(7)), "2", 5) == ([5, 6], 2, 2)
