"""demo.ui.tag_tab handlers, called directly with an AppContext (no server)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from support import app_settings

from demo.service.app_context import AppContext
from demo.ui import tag_tab
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


def test_tag_tab_tag_returns_every_view(ctx: AppContext) -> None:
    highlighted, words, value, ent_table, word_table, info = tag_tab.tag(ctx, SENTENCE, "tiny")
    assert highlighted is value and value["text"] == SENTENCE
    assert [(SENTENCE[e["start"] : e["end"]], e["entity"]) for e in value["entities"]] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert [e["entity"].split(" ")[0] for e in words["entities"]][:2] == ["B-PER", "I-PER"]
    assert [row[0] for row in ent_table["data"]] == ["Angela Merkel", "Paris"] and len(word_table["data"]) == 6
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
def test_tag_tab_tag_errors_are_user_errors(ctx: AppContext, text: str, model: str, message: str) -> None:
    with pytest.raises(gr.Error, match=message):
        tag_tab.tag(ctx, text, model)


def test_tag_tab_describe_and_colors(ctx: AppContext) -> None:
    assert tag_tab.describe(ctx, None) == tag_tab.NO_MODEL
    assert "**tiny**" in tag_tab.describe(ctx, "tiny") and "labels (2): LOC, PER" in tag_tab.describe(ctx, "tiny")
    assert tag_tab.describe(ctx, "broken").startswith("⚠ cannot read the model's metadata")
    assert tag_tab.describe(ctx, "nope").startswith("⚠ Unknown model")
    ent_map, word_map = tag_tab.color_maps(ctx, "tiny")
    assert set(ent_map) == {"PER", "LOC"} and {"B-PER", "I-PER ⚠", "O"} <= set(word_map)
    assert tag_tab.color_maps(ctx, "broken") == ({}, {})


def test_tag_tab_model_selection_updates(ctx: AppContext) -> None:
    summary, ent, word = tag_tab.select_model(ctx, "tiny")
    assert "**tiny**" in summary and ent.color_map["PER"] and "B-LOC" in word.color_map
    dropdown, summary, *_ = tag_tab.refresh_models(ctx, "gone")
    assert dropdown.value == "broken" and set(dropdown.choices) >= {("tiny", "tiny"), ("broken", "broken")}
    assert tag_tab.after_training(ctx, "", "tiny")[0].value == "tiny"
    entities, words = tag_tab.toggle_raw(True)
    assert entities.visible is False and words.visible is True


@pytest.mark.unit
def test_tag_tab_model_card_shows_no_dev_score_for_a_refit() -> None:
    """A model refit on train + dev (the shipped default) shows no dev F1 (it trained on that data); every
    figure says what it was measured on."""
    from demo.ui import render
    from tagger.record import ModelRecord

    base = {"labels": ["O", "B-PER", "I-PER"], "dev": {"f1": 99.6}, "test": {"f1": 90.0}, "test_file": "eng.testb",
            "config": {"head": "casing"}}
    refit = render.model_card("default", "default", ModelRecord.from_json({**base, "dev_in_training": True}))
    plain = render.model_card("run", "run", ModelRecord.from_json(base))
    assert "99.6" not in refit and "no dev score (it trained on its dev data)" in refit and "test F1 **90.0** on eng.testb" in refit
    assert "dev F1 **99.6** on its held-out dev data" in plain
