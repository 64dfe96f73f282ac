"""``python -m tagger train|evaluate|predict|report`` end to end with the tiny base, and the
one-line ``error: file, line N: ...`` exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO
from support import two_sentences_conll

from tagger.cli import main

TRAIN_TEXT = two_sentences_conll()
BAD_TEXT = "EU B-ORG\nrejects O extra\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli-data")
    paths = {
        "train": folder / "train.txt",
        "bad": folder / "bad.txt",
        "one": folder / "one.txt",
        "all_o": folder / "all_o.txt",
        "texts": folder / "texts.txt",
    }
    paths["train"].write_text(TRAIN_TEXT)
    paths["bad"].write_text(BAD_TEXT)
    paths["one"].write_text("John B-PER\nlives O\n")
    paths["all_o"].write_text("a O\nb O\n\nc O\n")
    paths["texts"].write_text("Angela Merkel visited Paris today .\n\nJohn lives in Berlin now\n")
    return paths


@pytest.fixture(scope="module")
def cli_model(files: dict[str, Path], tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-model") / "model"
    threads = torch.get_num_threads()
    rc = main([
        "train", "--train", str(files["train"]), "--dev", str(files["train"]), "--test", str(files["train"]),
        "--base", str(tiny_base), "--head", "linear", "--epochs", "2", "--batch-size", "2", "--max-length", "64",
        "--lr", "1e-3", "--fp16", "--threads", "1", "--out", str(out),
    ])
    assert rc == 0
    assert torch.get_num_threads() == threads  # --threads held for the run only
    return out


def test_cli_train_writes_checkpoint(cli_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = json.loads((cli_model / "tagger.json").read_text())
    assert meta["test_file"] == "train.txt" and "f1" in meta["test"]
    assert meta["config"]["max_length"] == 64 and meta["config"]["epochs"] == 2
    assert meta["config"]["threads"] == 1
    assert meta["data_report"]["sentences"] == 2
    assert (cli_model / "model.safetensors").is_file()


def test_cli_evaluate_json(cli_model: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["evaluate", "--data", str(files["train"]), "--model", str(cli_model), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    scores = json.loads(out[0])
    assert {"precision", "recall", "f1", "per_type"} <= set(scores)
    assert all(0 <= scores[k] <= 100 for k in ("precision", "recall", "f1"))


def test_cli_evaluate_table(tiny_tagger: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["evaluate", "--data", str(files["train"]), "--model", str(tiny_tagger)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["type", "prec", "rec", "f1", "support"]
    assert out.splitlines()[-1].split() == ["micro", "avg", "100.00", "100.00", "100.00"]  # overfit


def test_cli_predict_text_and_file(tiny_tagger: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["predict", "Angela Merkel visited Paris today .", "--model", str(tiny_tagger)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) == {"text", "entities", "words"}
    assert [(e["text"], e["label"]) for e in obj["entities"]] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert main(["predict", "--file", str(files["texts"]), "--lines", "--model", str(tiny_tagger)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(ln)["text"] for ln in lines] == ["Angela Merkel visited Paris today .", "John lives in Berlin now"]
    assert main(["predict", "--file", str(files["texts"]), "--model", str(tiny_tagger)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and len(json.loads(lines[0])["words"]) == 11


def test_cli_report(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(files["train"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("train.txt: 2 sentences, 11 words, 1 document\n")
    assert "scheme IOB2" in out and "labels: PER 2, LOC 2" in out


BAD_RUNS = {
    "report-ragged": (["report", "{bad}"], "error: bad.txt, line 2: 3 columns, expected 2"),
    "evaluate-ragged": (["evaluate", "--data", "{bad}", "--model", "{model}"], "error: bad.txt, line 2: 3 columns"),
    "train-ragged": (["train", "--train", "{bad}", "--base", "{base}", "--out", "{out}"], "error: bad.txt, line 2: 3 columns"),
    "train-bad-dev": (["train", "--train", "{train}", "--dev", "{bad}", "--base", "{base}", "--out", "{out}"],
                      "error: bad.txt, line 2: 3 columns"),
    "train-one-sentence": (["train", "--train", "{one}", "--base", "{base}", "--out", "{out}"],
                           "error: training data: need at least 2 sentences"),
    "train-all-o": (["train", "--train", "{all_o}", "--base", "{base}", "--out", "{out}"], "error: the training data has a single label"),
    "train-bad-config": (["train", "--train", "{train}", "--epochs", "0", "--out", "{out}"], "error: epochs must be 1..100, got 0"),
    "train-bad-attention-dropout": (["train", "--train", "{train}", "--attention-dropout", "1.5", "--out", "{out}"],
                                    "error: attention_dropout must be in [0, 1) or None, got 1.5"),
    "report-missing": (["report", "{missing}"], "error: missing.txt: file not found"),
    "report-label-column": (["report", "{train}", "--label-column", "5"], "error: train.txt: label column 5 does not exist"),
    "predict-no-model": (["predict", "Paris", "--model", "{missing}"], "error: cannot load model"),
    "predict-missing-file": (["predict", "--file", "{missing}", "--model", "{model}"], "error: [Errno 2] No such file"),
    "predict-too-long": (["predict", "x" * 200_001, "--model", "{model}"], "error: text has 200,001 characters"),
}


@pytest.mark.parametrize(("argv", "message"), list(BAD_RUNS.values()), ids=list(BAD_RUNS))
def test_cli_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, files: dict[str, Path], tiny_base: Path, tiny_tagger: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    values = {**{k: str(v) for k, v in files.items()}, "base": str(tiny_base), "model": str(tiny_tagger),
              "out": str(tmp_path / "out"), "missing": str(tmp_path / "missing.txt")}
    capsys.readouterr()
    rc = main([a.format(**values) if a.startswith("{") else a for a in argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
    assert errors[0].startswith(message)
    assert not (tmp_path / "out").exists()


def test_cli_subprocess_bad_file(files: dict[str, Path]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tagger", "report", str(files["bad"])],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: bad.txt, line 2: 3 columns, expected 2 like line 1 (whitespace-separated)"]


class _FakeEntryPoint:
    """An entry point of the ``tagger.commands`` group, as ``importlib.metadata`` gives one."""

    def __init__(self, name: str, target: object) -> None:
        self.name, self.group, self._target = name, "tagger.commands", target

    def load(self) -> object:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


@pytest.mark.unit
def test_cli_app_without_the_app_installed_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tagger import cli

    monkeypatch.setattr(cli, "_plugins", dict)
    assert main(["app", "--port", "7999"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert "not installed" in err and "python app.py" in err and "Traceback" not in err


@pytest.mark.unit
def test_cli_plugin_commands_run_with_their_own_options(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.metadata

    from tagger import cli

    calls: list[tuple[list[str], str]] = []
    found = [
        _FakeEntryPoint("hello", lambda argv, prog: calls.append((argv, prog)) or 3),
        _FakeEntryPoint("report", lambda argv, prog: calls.append((argv, prog))),  # a built-in name: the built-in wins
        _FakeEntryPoint("broken", ImportError("No module named 'gradio'")),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [ep for ep in found if ep.group == group])
    assert sorted(cli._plugins()) == ["broken", "hello"]
    assert main(["hello", "--x", "1"]) == 3 and calls == [(["--x", "1"], "tagger hello")]
    assert main(["broken"]) == 2
    assert capsys.readouterr().err.splitlines() == ["error: tagger broken: No module named 'gradio'"]
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert "hello" in listing and "launch the web app" in listing  # plugins and the app are listed
