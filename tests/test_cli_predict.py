"""``predict`` (tagger.cli_predict) through a parser of its own: the text forms as before (TEXT,
--file, --lines, stdin), --input to stdout or to a file in each format, and one ``error:`` line with
exit 2 for each bad request, with no output file left."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from support import two_sentences_conll

from tagger import bulk
from tagger.cli_predict import add_predict, run_predict


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tagger")
    add_predict(parser.add_subparsers(dest="command", required=True))
    return run_predict(parser.parse_args(["predict", *argv]))


@pytest.fixture
def texts(tmp_path: Path) -> Path:
    path = tmp_path / "texts.txt"
    path.write_text("Angela Merkel visited Paris today .\n\nJohn lives in Berlin now\n")
    return path


def test_cli_predict_text_file_and_stdin_as_before(tiny_tagger: Path, texts: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(["Angela Merkel visited Paris today .", "--model", str(tiny_tagger)]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    obj = json.loads(line)
    assert set(obj) == {"text", "entities", "words"}
    assert [(e["text"], e["label"]) for e in obj["entities"]] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert run(["--file", str(texts), "--lines", "--model", str(tiny_tagger)]) == 0
    assert [json.loads(ln)["text"] for ln in capsys.readouterr().out.strip().splitlines()] == [
        "Angela Merkel visited Paris today .", "John lives in Berlin now"]
    assert run(["--file", str(texts), "--model", str(tiny_tagger)]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert len(json.loads(line)["words"]) == 11
    monkeypatch.setattr("sys.stdin", io.StringIO("John lives in Berlin now\n\n"))
    assert run(["--model", str(tiny_tagger)]) == 0
    assert [json.loads(ln)["text"] for ln in capsys.readouterr().out.strip().splitlines()] == ["John lives in Berlin now"]


def test_cli_predict_input_to_stdout_and_files(tiny_tagger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.conll"
    src.write_text("-DOCSTART- O\n\n" + two_sentences_conll())
    assert run(["--input", str(src), "--model", str(tiny_tagger)]) == 0
    captured = capsys.readouterr()
    (line,) = captured.out.strip().splitlines()  # JSON lines on stdout, one per document
    rec = json.loads(line)
    assert rec["text"] == "Angela Merkel visited Paris today . John lives in Berlin now" and len(rec["tokens"]) == 11
    assert [(s["text"], s["label"]) for s in rec["spans"]] == [("Angela Merkel", "PER"), ("Paris", "LOC"), ("John", "PER"), ("Berlin", "LOC")]
    # stderr is no terminal here: no progress bar, just the summary
    assert captured.err.startswith("tagged 1 document, 2 sentences, 11 words: 4 entities;") and "\r" not in captured.err
    out = tmp_path / "sub" / "x.conll"
    assert run(["--input", str(src), "--output", str(out), "--model", str(tiny_tagger), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert out.read_text().splitlines() == ["-DOCSTART-\tO", "", "Angela\tB-PER", "Merkel\tI-PER", "visited\tO", "Paris\tB-LOC",
                                            "today\tO", ".\tO", "", "John\tB-PER", "lives\tO", "in\tO", "Berlin\tB-LOC", "now\tO"]
    assert run(["--input", str(src), "--output", str(tmp_path / "x.txt"), "--to", "csv", "--model", str(tiny_tagger),
                "--threshold", "0.5", "--quiet"]) == 0
    assert (tmp_path / "x.txt").read_text().splitlines()[0] == "id,start,end,text,label,score"


def test_cli_predict_text_and_lines_input_formats(tiny_tagger: Path, texts: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--input", str(texts), "--lines", "--model", str(tiny_tagger), "--quiet"]) == 0
    assert [json.loads(ln)["id"] for ln in capsys.readouterr().out.splitlines()] == ["texts.txt:1", "texts.txt:3"]
    table = tmp_path / "t.csv"
    table.write_text("id,body\n1,Angela Merkel visited Paris today .\n")
    assert run(["--input", str(table), "--text-column", "body", "--model", str(tiny_tagger), "--quiet"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["id"] == "1" and len(json.loads(line)["spans"]) == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["--input", "{empty}"], "error: empty.txt: the file is empty; expected plain text"),
    (["--input", "{jsonl}", "--text-field", "body"], 'error: in.jsonl, line 1: no "body" field; the record has "text"'),
    (["--input", "{jsonl}", "--threshold", "1.5"], "error: threshold must be a number from 0 to 1"),
    (["--input", "{jsonl}", "--output", "{out}.xml"], "error: out.xml: unknown output format (extension '.xml')"),
    (["--input", "{jsonl}", "--to", "spacy"], "error: a .spacy DocBin is binary; give an output file"),
    (["--input", "{big}", "--max-mb", "0.001"], "error: big.txt: the file is 6.0 KB, over the limit of 1.0 KB; raise the limit (--max-mb"),
    (["--input", "{missing}"], "error: missing.txt: file not found"),
    (["--input", "{binary}", "--output", "{out}.jsonl"], "error: bin.txt: this is a binary file (NUL bytes)"),
    (["Paris", "--output", "{out}.jsonl"], "error: --output goes with --input FILE"),
    (["--input", "{jsonl}", "Paris"], "error: give TEXT, --file or --input, one of them"),
])
def test_cli_predict_bad_requests_exit_2_with_one_line(argv: list[str], message: str, tiny_tagger: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    files = {"empty": tmp_path / "empty.txt", "jsonl": tmp_path / "in.jsonl", "big": tmp_path / "big.txt", "binary": tmp_path / "bin.txt"}
    files["empty"].write_text("")
    files["jsonl"].write_text('{"text": "Paris"}\n')
    files["big"].write_text("Paris " * 1000)
    files["binary"].write_bytes(b"\x00\x01\x02")
    values = {**{k: str(v) for k, v in files.items()}, "out": str(tmp_path / "out"), "missing": str(tmp_path / "missing.txt")}
    before = sorted(tmp_path.iterdir())
    assert run([a.format(**values) for a in argv] + ["--model", str(tiny_tagger)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and err.startswith(message), err
    assert sorted(tmp_path.iterdir()) == before  # no output, no temporary file


def test_cli_predict_ctrl_c_leaves_no_file(tiny_tagger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Angela Merkel visited Paris today ."}\n' * 50)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk, "tag_batch", interrupted)
    assert run(["--input", str(src), "--output", str(tmp_path / "out.jsonl"), "--model", str(tiny_tagger)]) == 130
    assert capsys.readouterr().err.strip() == "error: interrupted; no output file was written"
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]


def test_cli_predict_progress_bar_on_a_terminal(tiny_tagger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Angela Merkel visited Paris today ."}\n' * 300)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert run(["--input", str(src), "--output", str(tmp_path / "o.jsonl"), "--model", str(tiny_tagger), "--batch-size", "500"]) == 0
    err = capsys.readouterr().err
    assert "words/s" in err and "documents]" in err and "\r" in err  # tqdm's bar: bytes read of the total, words/s
    assert err.rstrip().splitlines()[-1].startswith("tagged 300 documents")
    assert run(["--input", str(src), "--output", str(tmp_path / "o.jsonl"), "--model", str(tiny_tagger), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
