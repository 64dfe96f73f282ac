"""demo.tag_tab handlers, called directly with an AppContext (no server)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from support import app_settings

from demo import tag_tab
from demo.context import AppContext
from tagger.meta import MAX_TEXT_CHARS

pytestmark = pytest.mark.app
SENTENCE = "Angela Merkel visited Paris today."


@pytest.fixture(scope="module")
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("tag-tab")
    context = AppContext(app_settings(tmp, tiny_base, tiny_tagger, default_model=None, prewarm_worker=False))
    broken = context.settings.models_dirs[0] / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    yield context
    context.close()


def test_demo_tag_tab_tag_returns_every_view(ctx: AppContext) -> None:
    highlighted, words, value, ent_table, word_table, info = tag_tab.tag(ctx, SENTENCE, "tiny")
    assert highlighted is value and value["text"] == SENTENCE
    assert [(SENTENCE[e["start"] : e["end"]], e["entity"]) for e in value["entities"]] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert [e["entity"].split(" ")[0] for e in words["entities"]][:2] == ["B-PER", "I-PER"]
    assert ent_table["entity"].tolist() == ["Angela Merkel", "Paris"] and len(word_table) == 6
    assert info.startswith("6 words, 2 entities") and "`tiny`" in info


@pytest.mark.parametrize(
    ("text", "model", "message"),
    [
        ("  ", "tiny", "Type or paste some text"),
        (SENTENCE, "../tiny", "Unknown model .* Choose one of: .*tiny"),
        (SENTENCE, "broken", "Cannot load model 'broken'"),
        ("a " * (MAX_TEXT_CHARS // 2 + 1), "tiny", f"limit is {MAX_TEXT_CHARS:,}"),
    ],
)
def test_demo_tag_tab_tag_errors_are_user_errors(ctx: AppContext, text: str, model: str, message: str) -> None:
    with pytest.raises(gr.Error, match=message):
        tag_tab.tag(ctx, text, model)


def test_demo_tag_tab_describe_and_colors(ctx: AppContext) -> None:
    assert tag_tab.describe(ctx, None) == tag_tab.NO_MODEL
    assert "**tiny**" in tag_tab.describe(ctx, "tiny") and "labels (2): LOC, PER" in tag_tab.describe(ctx, "tiny")
    assert tag_tab.describe(ctx, "broken").startswith("⚠ cannot read the model's metadata")
    assert tag_tab.describe(ctx, "nope").startswith("⚠ Unknown model")
    ent_map, word_map = tag_tab.color_maps(ctx, "tiny")
    assert set(ent_map) == {"PER", "LOC"} and {"B-PER", "I-PER ⚠", "O"} <= set(word_map)
    assert tag_tab.color_maps(ctx, "broken") == ({}, {})


def test_demo_tag_tab_model_selection_updates(ctx: AppContext) -> None:
    summary, ent, word = tag_tab.select_model(ctx, "tiny")
    assert "**tiny**" in summary and ent.color_map["PER"] and "B-LOC" in word.color_map
    dropdown, summary, *_ = tag_tab.refresh_models(ctx, "gone")
    assert dropdown.value == "broken" and set(dropdown.choices) >= {("tiny", "tiny"), ("broken", "broken")}
    assert tag_tab.after_training(ctx, "", "tiny")[0].value == "tiny"
    entities, words = tag_tab.toggle_raw(True)
    assert entities.visible is False and words.visible is True


@pytest.mark.unit
def test_demo_tag_tab_model_summary_marks_a_refit_dev_score() -> None:
    """A model refit on train + dev (keep="last", the shipped default) does not pass its dev F1 off as held out."""
    from demo import render

    base = {"name": "default", "source": "default", "labels": ["O", "B-PER", "I-PER"], "dev": {"f1": 99.6}, "test": {"f1": 90.0}}
    refit = render.model_summary({**base, "config": {"head": "casing", "keep": "last"}})
    plain = render.model_summary({**base, "config": {"head": "casing", "keep": "best"}})
    assert "dev F1 **99.6** (trained on: refit on train + dev)" in refit and "test F1 **90.0**" in refit
    assert "trained on: refit" not in plain
