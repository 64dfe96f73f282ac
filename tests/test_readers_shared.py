"""The real files in ../shared/data load with no manual conversion, with the counts their READMEs
give (skips cleanly without ../shared)."""

from __future__ import annotations

import pytest
from support import SHARED_DATA, needs_shared

from tagger.data import read_file, read_files
from tagger.readers import spanalign as sa

UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}
MULTILEG = {"ORG", "DATE", "LOC", "PER", "PROFESSION", "AMOUNT_VALUE", "AMOUNT_UNIT", "NATIONALITY", "TITLE", "IDNUM", "URL"}


@needs_shared("ud-english-gum/en_gum-ud-train.conllu", "ud-english-gum/en_gum-ud-dev.conllu")
@pytest.mark.parametrize(("name", "sentences", "words", "documents"), [
    ("en_gum-ud-train.conllu", 3_753, 69_760, 81), ("en_gum-ud-dev.conllu", 784, 15_593, 18),
])
def test_readers_shared_ud_gum_upos(name: str, sentences: int, words: int, documents: int) -> None:
    ds = read_file(SHARED_DATA / "ud-english-gum" / name)
    r = ds.report
    assert (r.format, r.label_name, r.scheme) == ("conllu", "upos", "plain")
    assert (r.sentences, r.words, r.documents) == (sentences, words, documents)
    assert set(r.labels) == UPOS
    assert ds.sentences[0].words[:3] == (["Aesthetic", "Appreciation", "and"] if "train" in name else ["Introduction"])


@needs_shared("ud-english-gum/en_gum-ud-dev.conllu")
def test_readers_shared_ud_gum_xpos() -> None:
    r = read_file(SHARED_DATA / "ud-english-gum" / "en_gum-ud-dev.conllu", label_column="xpos").report
    assert r.label_name == "xpos" and {"NN", "NNP", "VBZ"} <= set(r.labels)


@needs_shared("prodigy-drugs/drugs_training.jsonl", "prodigy-drugs/drugs_eval.jsonl")
@pytest.mark.parametrize(("name", "records", "spans", "empty"), [
    ("drugs_training.jsonl", 1_477, 1_105, 1_009 + 14), ("drugs_eval.jsonl", 500, 362, 354 + 3),
])
def test_readers_shared_prodigy_drugs(name: str, records: int, spans: int, empty: int) -> None:
    ds = read_file(SHARED_DATA / "prodigy-drugs" / name)
    r = ds.report
    assert r.format == "prodigy" and r.labels == {"DRUG": spans}
    assert r.conversion["records"] == r.documents == records  # every record has text: one document each
    assert r.conversion["spans"] == r.conversion[sa.KEPT] == spans  # every span sits on the annotator's tokens
    assert r.conversion["records without spans (all O)"] == empty
    assert r.sentences > records  # comments are split into sentences as prediction splits them


@needs_shared("doccano-multileg-en/train")
def test_readers_shared_doccano_multileg_fifty_files_as_one() -> None:
    files = sorted((SHARED_DATA / "doccano-multileg-en" / "train").glob("*.jsonl"))
    assert len(files) == 50
    ds = read_files(files)
    r = ds.report
    assert r.format == "doccano" and len(r.sources) == 50
    c = r.conversion
    assert (c["records"], c["spans"], c["records without spans (all O)"]) == (2_500, 5_353, 982)
    dropped = sum(v for k, v in c.items() if k.startswith("spans: dropped"))
    assert c[sa.KEPT] + dropped == 5_353
    assert set(r.labels) == MULTILEG and sum(r.labels.values()) == c[sa.KEPT]
    assert r.documents == 2_500  # each record is a document, never joined across files
    assert c.get(sa.SNAPPED, 0) > 0 and any(e.startswith(sa.SNAPPED) for e in r.examples)  # shown, not silent


@needs_shared("doccano-multileg-en/test")
def test_readers_shared_doccano_multileg_test() -> None:
    r = read_files(sorted((SHARED_DATA / "doccano-multileg-en" / "test").glob("*.jsonl"))).report
    assert (r.conversion["records"], r.conversion["spans"]) == (656, 1_229)
    assert set(r.labels) <= MULTILEG
