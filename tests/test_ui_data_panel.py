"""demo.ui.data_panel (the Fine-tune tab's data section) called directly with an AppContext: several
files, a zip, a format override, label names for integer ids, the column picker by name, the gold
preview; and the public API's parameter names."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from support import FIXTURES, TINY_TRAIN, app_settings

from demo.service.app_context import AppContext
from demo.ui import data_panel, train_tab
from tagger.data import read_files

pytestmark = pytest.mark.app
R = FIXTURES / "readers"


@pytest.fixture(scope="module")
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    context = AppContext(app_settings(tmp_path_factory.mktemp("data-panel"), tiny_base, tiny_tagger, prewarm_worker=False))
    yield context
    context.close()


def test_data_panel_several_files_of_two_formats(ctx: AppContext) -> None:
    report, picker, labels = data_panel.inspect(ctx, None, None, -1, [str(R / "doccano.jsonl"), str(R / "prodigy.jsonl")])
    assert report.startswith("**doccano.jsonl, prodigy.jsonl**: 14 sentences")
    assert "format doccano\\+prodigy" in report and "file doccano.jsonl \\(doccano, 9 sentences\\)" in report
    assert "conversion: records 14" in report and "spans: snapped to whole words 1" in report
    assert "example: spans: snapped to whole words: doccano.jsonl, line 4" in report
    assert picker.visible is False
    assert dict(labels.values.tolist()) == {"DRUG": 4, "LOC": 4, "PER": 3, "ORG": 2}


def test_data_panel_zip_upload(ctx: AppContext, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("doccano.jsonl", "doccano_old.jsonl", "doccano_entities.jsonl"):
            zf.write(R / name, f"export/{name}")
    report, _, _ = data_panel.data_report(ctx, str(archive), None)
    assert "11 sentences" in report and "file doccano\\_old.jsonl" in report


def test_data_panel_conllu_picker_shows_names(ctx: AppContext) -> None:
    report, picker, _ = data_panel.inspect(ctx, None, None, -1, [str(R / "ud_mini.conllu")])
    assert picker.visible and picker.value == "upos"
    assert picker.choices == [("UPOS", "upos"), ("XPOS", "xpos"), ("DEPREL", "deprel"), ("FEATS", "feats"), ("LEMMA", "lemma")]
    report, picker, labels = data_panel.inspect(ctx, None, None, "xpos", [str(R / "ud_mini.conllu")])
    assert "labels from xpos" in report and picker.value == "xpos" and "NNP" in labels["label"].tolist()


def test_data_panel_integer_ids_need_names(ctx: AppContext, tmp_path: Path) -> None:
    ids = tmp_path / "ids.jsonl"
    ids.write_bytes((R / "hf" / "train.jsonl").read_bytes())
    with pytest.warns(UserWarning):  # gr.Warning outside a request
        report, _, labels = data_panel.data_report(ctx, str(ids), None)
    assert report.startswith("❌") and "integer ids" in report and labels.empty
    report, picker, labels = data_panel.data_report(ctx, str(ids), None, None, "auto", "O, B-PER, I-PER, B-LOC, I-LOC")
    assert "2 sentences" in report and dict(labels.values.tolist()) == {"PER": 2, "LOC": 2}
    assert [c[1] for c in picker.choices] == ["ner_tags", "pos_tags"] and picker.value == "ner_tags"


def test_data_panel_format_override(ctx: AppContext, tmp_path: Path) -> None:
    odd = tmp_path / "export.data"
    odd.write_bytes((R / "doccano.jsonl").read_bytes())
    assert "format doccano" in data_panel.inspect(ctx, str(odd), None, -1, None, "doccano")[0]
    with pytest.warns(UserWarning):
        report = data_panel.inspect(ctx, str(odd), None, -1, None, "conllu")[0]
    assert report.startswith("❌ export.data, line 1: 1 tab-separated columns")


def test_data_panel_preview_uses_the_prediction_renderer(ctx: AppContext) -> None:
    hl = data_panel.preview(ctx, None, [str(R / "doccano.jsonl")], -1)
    pieces = [(p["token"], p["class_or_confidence"]) for p in hl.value]  # HighlightedText's own form of the value
    text = "".join(t for t, _ in pieces)
    assert text.split("\n")[0] == "Angela Merkel visited Paris ." and text.count("\n") == 4  # 5 sentences, one a line
    assert [p for p in pieces if p[1]][:2] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert hl.color_map["PER"] == "#f87171"  # the Tag tab's colour for PER
    assert data_panel.preview(ctx, None, None, -1).visible is False


def test_data_panel_prepare_carries_the_read_options(ctx: AppContext, tmp_path: Path) -> None:
    ids = tmp_path / "ids.jsonl"
    ids.write_bytes((R / "hf" / "train.jsonl").read_bytes() * 3)
    form = train_tab.TrainForm(**dict(TINY_TRAIN, label_column="ner_tags"), train_files=[str(ids), str(R / "doccano_entities.jsonl")],
                               label_names="O,B-PER,I-PER,B-LOC,I-LOC")
    checked = train_tab.prepare(ctx, form)
    assert checked.config.label_column == "ner_tags"
    assert checked.config.label_names == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
    assert checked.data.report.sources[0] == "ids.jsonl (jsonl, 6 sentences)"


def test_data_panel_bundled_reads_as_the_files_did() -> None:
    paths = [str(R / "doccano.jsonl"), str(R / "prodigy.jsonl"), str(R / "labelstudio.json")]
    want = read_files(paths)
    with data_panel.bundled(paths) as one:
        got = read_files([one])
        assert Path(one).suffix == ".zip"
    assert not Path(one).exists()
    assert [(s.words, s.tags, s.doc) for s in got.sentences] == [(s.words, s.tags, s.doc) for s in want.sentences]
    with data_panel.bundled(paths[:1]) as single:
        assert single == paths[0]


def test_data_panel_api_parameters_kept(ctx: AppContext) -> None:
    from demo.ui.app import build_app

    blocks, app_ctx = build_app(ctx.settings)
    try:
        info = blocks.get_api_info()["named_endpoints"]
        names = {ep: [p["parameter_name"] for p in info[ep]["parameters"]] for ep in ("/data_report", "/train")}
    finally:
        app_ctx.close()
    assert names["/data_report"] == ["f", "d", "files", "data_format", "label_names"]
    assert names["/train"][:10] == ["train_file", "dev_file", "base_label", "head", "epochs", "lr", "batch_size", "max_length",
                                    "label_column", "owner_token"]
    assert names["/train"][10:] == ["train_files", "data_format", "label_names", "corrections"]
    # the new parameters are optional for API clients (gradio_client refuses a call that omits a required one)
    optional = {p["parameter_name"]: p["parameter_has_default"] for ep in ("/data_report", "/train") for p in info[ep]["parameters"]}
    assert optional["files"] and optional["data_format"] and optional["label_names"] and optional["train_files"]
    assert optional["corrections"]


def test_data_panel_dev_file_in_another_format(ctx: AppContext, tmp_path: Path) -> None:
    conll = tmp_path / "dev.conll"
    conll.write_text("Tom B-PER\nslept O\n\nOslo B-LOC\n")
    report, picker, _ = data_panel.inspect(ctx, None, str(conll), -1, [str(R / "doccano.jsonl")])
    assert "dev file **dev.conll**: 2 sentences" in report and picker.value == -1


def test_data_panel_several_files_train_in_the_worker(ctx: AppContext) -> None:
    """Start with two training files of two formats: they reach the worker as one zip and train as one data set."""
    import json
    from types import SimpleNamespace

    from support import wait_for

    request = SimpleNamespace(username=None)
    files = [str(R / "doccano.jsonl"), str(R / "labelstudio.json")]
    form = train_tab.TrainForm(None, str(R / "doccano_entities.jsonl"), **dict(TINY_TRAIN, epochs=1), train_files=files)
    shown = train_tab.start(ctx, form, "", request)
    token = shown[7]
    wait_for(lambda: train_tab.status(ctx, "", token, request)["state"] in ("done", "failed"), 300, what="the job")
    state = train_tab.status(ctx, "", token, request)
    assert state["state"] == "done", state.get("error")
    name = train_tab.poll(ctx, token, None, request)[5]
    from demo.service.owners import identify

    meta = json.loads((ctx.registry.get(name, identify(token).owner).path / "tagger.json").read_text())
    assert meta["data_report"]["sources"] == ["doccano.jsonl (doccano, 9 sentences)", "labelstudio.json (labelstudio, 3 sentences)"]
    assert meta["config"]["data_format"] == "auto"


def test_app_public_endpoint_names_are_kept(ctx: AppContext) -> None:
    """API clients call these names: a new tab's private handler must not take one (Gradio renames the later
    of two same-named endpoints, e.g. /cancel -> /cancel_1, and the clients' calls fail)."""
    from demo.ui.app import build_app

    blocks, app_ctx = build_app(ctx.settings)
    try:
        names = set(blocks.get_api_info()["named_endpoints"])
    finally:
        app_ctx.close()
    assert names == {"/cancel", "/corrections", "/data_report", "/delete", "/download", "/evaluate", "/models", "/rename",
                     "/save_correction", "/status", "/suggest", "/tag", "/tag_file", "/train"}
