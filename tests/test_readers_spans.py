"""Span records (doccano, Prodigy/spaCy) -> word labels: every outcome of the alignment, and every
bad span value or record, each with the words and labels it gives or the one error it raises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import FIXTURES

from tagger.data import DataError, read_file
from tagger.readers import spanalign as sa
from tagger.words import split_words

pytestmark = pytest.mark.unit
R = FIXTURES / "readers"


def jsonl(tmp_path: Path, name: str, *records: dict) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def pairs(path: Path, **kwargs: object) -> list[list[tuple[str, str]]]:
    return [list(zip(s.words, s.tags)) for s in read_file(path, **kwargs).sentences]


# --- the pure alignment ------------------------------------------------------------------------


def test_readers_spans_align_outcomes() -> None:
    text = "New York City is big"
    words = [(s, e) for _, s, e in split_words(text)]
    spans = [sa.CharSpan(0, 8, "LOC"), sa.CharSpan(0, 13, "LOC"), sa.CharSpan(4, 13, "GPE"), sa.CharSpan(17, 19, "X")]
    tags, out = sa.align(text, words, spans)
    assert tags == ["B-LOC", "I-LOC", "I-LOC", "O", "B-X"]
    assert [o.dropped for o in out] == [sa.OVERLAP, "", sa.OVERLAP, ""]
    assert out[0].kept_instead == spans[1] and out[2].kept_instead == spans[1]
    assert out[3].snapped and (out[3].start, out[3].end) == (17, 20)  # "bi" cut "big"


def test_readers_spans_align_equal_length_keeps_the_first() -> None:
    tags, out = sa.align("a b", [(0, 1), (2, 3)], [sa.CharSpan(0, 1, "X"), sa.CharSpan(0, 1, "Y"), sa.CharSpan(0, 1, "X")])
    assert tags == ["B-X", "O"]
    assert [o.dropped for o in out] == ["", sa.OVERLAP, sa.DUPLICATE]


def test_readers_spans_align_spans_that_snap_onto_one_word_overlap() -> None:
    # two spans that share no character still overlap once snapped onto the same word
    tags, out = sa.align("Pariser", [(0, 7)], [sa.CharSpan(0, 5, "LOC"), sa.CharSpan(5, 7, "ORG")])
    assert tags == ["B-LOC"] and [o.dropped for o in out] == ["", sa.OVERLAP]


@pytest.mark.parametrize(("start", "end", "problem"), [
    (-1, 3, "negative offset"), (5, 2, "reversed (start after end)"), (0, 99, "outside the text (20 characters)"),
    (0.5, 3, "offsets must be integers"), (True, 3, "offsets must be integers"),
])
def test_readers_spans_problem_offsets(start: object, end: object, problem: str) -> None:
    assert sa.span_problem(20, start, end) == problem


# --- doccano ---------------------------------------------------------------------------------------


def test_readers_spans_doccano_fixture() -> None:
    ds = read_file(R / "doccano.jsonl")
    got = [list(zip(s.words, s.tags)) for s in ds.sentences]
    assert got[0] == [("Angela", "B-PER"), ("Merkel", "I-PER"), ("visited", "O"), ("Paris", "B-LOC"), (".", "O")]
    assert got[1][:4] == [("Sąd", "B-ORG"), ("Okręgowy", "I-ORG"), ("we", "I-ORG"), ("Wrocławiu", "I-ORG")]
    assert got[2] == [("The", "O"), ("Bundestag", "B-ORG"), ("met", "O"), (".", "O")]  # " Bundestag" trimmed
    assert got[3][:2] == [("Visit", "O"), ("Pariser", "B-LOC")]  # "Paris" snapped to the word
    assert [t for _, t in got[4]] == ["B-LOC", "I-LOC", "I-LOC", "O", "O", "O"]  # the longest of 3 nested spans
    assert {t for _, t in got[5]} == {"O"}  # no spans: all O
    assert [t for _, t in got[6]] == ["B-LOC", "O", "O", "O"]  # a duplicate is dropped, not doubled
    # a record of two sentences: split as prediction splits, one document
    assert [s.words for s in ds.sentences[7:]] == [["Merkel", "spoke", "."], ["Macron", "listened", "."]]
    assert ds.sentences[7].doc == ds.sentences[8].doc != ds.sentences[6].doc
    r = ds.report
    assert r.format == "doccano" and r.label_name == "spans"
    assert r.conversion == {
        "records": 8, "spans": 12, "spans: kept": 9, sa.TRIMMED: 1, sa.SNAPPED: 1, sa.OVERLAP: 2,
        "records without spans (all O)": 1, sa.DUPLICATE: 1,
    }
    assert f"{sa.SNAPPED}: doccano.jsonl, line 4: 'Paris' (LOC) -> 'Pariser'" in r.examples
    assert f"{sa.OVERLAP}: doccano.jsonl, line 5: 'New York' (LOC), kept 'New York City' (LOC)" in r.examples
    assert f"{sa.TRIMMED}: doccano.jsonl, line 3: ' Bundestag' (ORG) -> 'Bundestag'" in r.examples
    assert "conversion: records 8; spans 12; spans: kept 9" in r.summary()


def test_readers_spans_no_snap_drops_word_cutting_spans() -> None:
    ds = read_file(R / "doccano.jsonl", snap=False)
    assert [t for t in ds.sentences[3].tags] == ["O"] * 5
    assert ds.report.conversion[sa.CUT] == 1 and sa.SNAPPED not in ds.report.conversion
    assert f"{sa.CUT}: doccano.jsonl, line 4: 'Paris' (LOC)" in ds.report.examples


def test_readers_spans_doccano_old_and_entities_layouts() -> None:
    assert pairs(R / "doccano_old.jsonl") == [[("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC"), ("call", "O"), (".", "O")]]
    assert pairs(R / "doccano_entities.jsonl") == [[("Tom", "B-PER"), ("lives", "O"), ("in", "O"), ("Oslo", "B-LOC"), (".", "O")]]


def test_readers_spans_words_are_the_prediction_splitter_words(tmp_path: Path) -> None:
    text = "Dr. Müller's visit (2024) cost $5,000.\n\nThanks!"
    ds = read_file(jsonl(tmp_path, "w.jsonl", {"text": text, "label": []}))
    assert [w for s in ds.sentences for w in s.words] == [w for w, _, _ in split_words(text)]


def test_readers_spans_sentence_break_inside_a_span_is_undone(tmp_path: Path) -> None:
    text = "He joined Yahoo! Inc. in May."
    start = text.index("Yahoo")
    ds = read_file(jsonl(tmp_path, "y.jsonl", {"text": text, "label": [[start, start + len("Yahoo! Inc."), "ORG"]]}))
    assert len(ds.sentences) == 1  # the sentencizer splits after "Yahoo!"; the span joins the halves again
    assert ds.sentences[0].words[2:5] == ["Yahoo", "!", "Inc."] and ds.sentences[0].tags[2:5] == ["B-ORG", "I-ORG", "I-ORG"]
    assert ds.report.conversion["sentence breaks inside a span (sentences joined)"] == 1


# --- Prodigy ---------------------------------------------------------------------------------------


def test_readers_spans_prodigy_answers_and_tokens() -> None:
    ds = read_file(R / "prodigy.jsonl")
    got = [list(zip(s.words, s.tags)) for s in ds.sentences]
    assert got[0] == [("I", "O"), ("took", "O"), ("oxycodone", "B-DRUG"), ("and", "O"), ("xanax", "B-DRUG"), ("yesterday", "O"),
                      (".", "O")]
    assert [s.words[0] for s in ds.sentences] == ["I", "No", "Empty", "Tried", "Then"]  # reject/ignore not read
    # the "\n\n" token is no word, and ends a sentence, as at prediction time
    assert got[3:] == [[("Tried", "O"), ("kratom", "B-DRUG"), (".", "O")], [("Then", "O"), ("methadone", "B-DRUG"), ("helped", "O")]]
    c = ds.report.conversion
    assert c["records answered reject (not trained on)"] == 1 and c["records answered ignore (not trained on)"] == 1
    assert c["records without spans (all O)"] == 2 and c["records"] == 6
    assert "records answered reject (not trained on): prodigy.jsonl, line 2: 'Heroin is bad.'" in ds.report.examples
    assert ds.report.format == "prodigy"


def test_readers_spans_prodigy_tokens_win_over_the_splitter(tmp_path: Path) -> None:
    text = "took 10mg oxy"  # spaCy splits "10mg" into "10", "mg"; the annotator saw one token
    tokens = [{"text": "took", "start": 0, "end": 4}, {"text": "10mg", "start": 5, "end": 9}, {"text": "oxy", "start": 10, "end": 13}]
    path = jsonl(tmp_path, "t.jsonl", {"text": text, "tokens": tokens, "spans": [{"start": 10, "end": 13, "label": "DRUG"}]})
    assert pairs(path) == [[("took", "O"), ("10mg", "O"), ("oxy", "B-DRUG")]]


def test_readers_spans_only_rejected_records_is_an_error(tmp_path: Path) -> None:
    path = jsonl(tmp_path, "r.jsonl", {"text": "Heroin.", "spans": [{"start": 0, "end": 6, "label": "DRUG"}], "answer": "reject"})
    with pytest.raises(DataError) as err:
        read_file(path)
    assert str(err.value) == "r.jsonl: contains no sentences (records answered reject (not trained on) 1)"


# --- bad span values and records -------------------------------------------------------------------

BAD = [
    # id, record, line, the error's text after "bad.jsonl, line N: "
    ("beyond-text", {"text": "Hi Bob", "label": [[3, 9, "PER"]]}, 1,
     "span 1 [3, 9) 'PER': outside the text (6 characters); expected 0 <= start <= end <= 6, the text's length"),
    ("negative", {"text": "Hi Bob", "label": [[-3, 6, "PER"]]}, 1,
     "span 1 [-3, 6) 'PER': negative offset; expected 0 <= start <= end <= 6, the text's length"),
    ("reversed", {"text": "Hi Bob", "label": [[0, 2, "X"], [6, 3, "PER"]]}, 1,
     "span 2 [6, 3) 'PER': reversed (start after end); expected 0 <= start <= end <= 6, the text's length"),
    ("string-offsets", {"text": "Hi Bob", "spans": [{"start": "3", "end": "6", "label": "PER"}]}, 1,
     "span 1 [3, 6) 'PER': offsets must be integers; expected 0 <= start <= end <= 6, the text's length"),
    ("no-label", {"text": "Hi Bob", "label": [[3, 6, ""]]}, 1, "span 1 [3, 6): the label must be a non-empty string, got ''"),
    ("bad-entry", {"text": "Hi Bob", "label": [[3, 6]]}, 1,
     'span 1 ([3, 6]): expected [start, end, "TYPE"] or {"start", "end", "label"}'),
    ("classification", {"text": "Hi Bob", "label": ["positive"]}, 1,
     "\"label\" holds 'positive', a document label (text classification), not a span; expected [start, end, \"TYPE\"]"),
    ("unknown-keys", {"sentence": "Hi Bob", "ents": [[3, 6, "PER"]]}, 1,
     ('expected keys "tokens" and "tags" (or "ner_tags"), or "text" with spans in "label", "entities" or "spans" (doccano, Prodigy), '
     "or a Label Studio task; this record has keys: ents, sentence")),
    ("unknown-span-key", {"text": "Hi Bob", "ner": [[3, 6, "PER"]]}, 1,
     'unknown key "ner" holds what look like spans; expected them under "label", "entities" or "spans"'),
    ("bad-answer", {"text": "Hi Bob", "spans": [], "answer": "maybe"}, 1, "answer 'maybe'; expected \"accept\", \"reject\" or \"ignore\""),
    ("token-mismatch", {"text": "Hi Bob", "tokens": [{"text": "Hi", "start": 0, "end": 2}, {"text": "Rob", "start": 3, "end": 6}]}, 1,
     "token 2 'Rob' at [3, 6) does not match the text there ('Bob')"),
]


@pytest.mark.parametrize(("record", "line", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_readers_spans_bad_records(tmp_path: Path, record: dict, line: int, message: str) -> None:
    path = jsonl(tmp_path, "bad.jsonl", {"text": "A fine first record.", "label": []}, record) if line == 2 else \
        jsonl(tmp_path, "bad.jsonl", record)
    with pytest.raises(DataError) as err:
        read_file(path)
    assert str(err.value) == f"bad.jsonl, line {line}: {message}"


def test_readers_spans_error_names_the_later_record(tmp_path: Path) -> None:
    path = jsonl(tmp_path, "late.jsonl", {"text": "Fine.", "label": []}, {"text": "Fine too.", "label": []},
                 {"text": "Hi Bob", "label": [[3, 60, "PER"]]})
    with pytest.raises(DataError, match=r"^late\.jsonl, line 3: span 1 \[3, 60\) 'PER': outside the text"):
        read_file(path)


def test_readers_spans_empty_text_records_are_skipped_and_counted(tmp_path: Path) -> None:
    path = jsonl(tmp_path, "e.jsonl", {"text": "", "label": []}, {"text": "   ", "label": [[0, 2, "X"]]}, {"text": "Bob ran", "label": [[0, 3, "PER"]]})
    ds = read_file(path)
    assert [list(zip(s.words, s.tags)) for s in ds.sentences] == [[("Bob", "B-PER"), ("ran", "O")]]
    assert ds.report.conversion["records with empty text (skipped)"] == 2
    assert ds.report.conversion[sa.EMPTY] == 1  # the whitespace-only span is counted, not lost
    assert "records with empty text (skipped): e.jsonl, line 1: ''" in ds.report.examples
    with pytest.raises(DataError, match=r"^e\.jsonl, line 1: span 1 \[0, 3\) 'PER': outside the text \(0 characters\)"):
        read_file(jsonl(tmp_path, "e.jsonl", {"text": "", "label": [[0, 3, "PER"]]}))


def test_readers_spans_whitespace_only_span_is_dropped(tmp_path: Path) -> None:
    ds = read_file(jsonl(tmp_path, "w.jsonl", {"text": "Bob  ran", "label": [[3, 5, "X"], [0, 3, "PER"]]}))
    assert ds.sentences[0].tags == ["B-PER", "O"]
    assert ds.report.conversion[sa.EMPTY] == 1
