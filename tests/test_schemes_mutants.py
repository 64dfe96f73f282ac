"""Gaps found by mutation testing of tagger/schemes.py (docs/TESTING.md): the 5% rule that names a
file's scheme despite a few stray openers, all-O files, plain labels before prefixed ones in a
sentence, BIOES/BILOU repairs, and breaks_scheme on a well-formed sequence."""

from __future__ import annotations

import pytest

from tagger.schemes import SchemeError, Span, breaks_scheme, detect_scheme, iob2_spans, to_iob2

pytestmark = pytest.mark.unit


def _file(i_opens: int, b_opens: int) -> list[list[str]]:
    """Sentences opening ``i_opens`` entities with I- (IOB1 style) and ``b_opens`` with B- after O."""
    return [["I-PER", "O"]] * i_opens + [["O", "B-LOC"]] * b_opens


@pytest.mark.parametrize(("i_opens", "b_opens", "scheme"), [
    (19, 1, "IOB1+IOB2"),  # 1 > 5% of 19: a real mix
    (20, 1, "IOB1"),  # exactly 5%: still annotation slips
    (21, 1, "IOB1"),
    (1, 20, "IOB2"),
    (1, 21, "IOB2"),
    (2, 21, "IOB1+IOB2"),
    (3, 3, "IOB1+IOB2"),
])
def test_schemes_a_few_stray_openers_keep_the_majority_scheme(i_opens: int, b_opens: int, scheme: str) -> None:
    assert detect_scheme(_file(i_opens, b_opens)) == scheme


def test_schemes_all_outside_or_empty_is_iob2() -> None:
    assert detect_scheme([["O", "O"], ["O"]]) == "IOB2"
    assert detect_scheme([]) == "IOB2"


def test_schemes_plain_label_first_in_a_mixed_sentence_is_refused() -> None:
    with pytest.raises(SchemeError, match="plain label 'NNP' mixed with prefixed labels such as 'B-PER'"):
        detect_scheme([["NNP", "B-PER"]])


def test_schemes_bioes_and_bilou_enders_close_the_entity() -> None:
    """After S-/U-/E-/L- the entity is over: a following I-X opens a new one; an E-/L- of another
    type opens one too (ill-formed, read as seqeval reads an I- there)."""
    assert to_iob2(["S-PER", "I-PER"], "BIOES") == ["B-PER", "B-PER"]
    assert to_iob2(["U-PER", "I-PER"], "BILOU") == ["B-PER", "B-PER"]
    assert to_iob2(["B-PER", "E-PER", "I-PER"], "BIOES") == ["B-PER", "I-PER", "B-PER"]
    assert to_iob2(["B-PER", "L-PER", "I-PER"], "BILOU") == ["B-PER", "I-PER", "B-PER"]
    assert to_iob2(["B-LOC", "E-PER"], "BIOES") == ["B-LOC", "B-PER"]
    assert to_iob2(["B-LOC", "L-PER"], "BILOU") == ["B-LOC", "B-PER"]


def test_schemes_spans_read_bioes_and_bilou_enders() -> None:
    assert iob2_spans(["B-PER", "E-PER", "O"]) == [Span("PER", 0, 2)]
    assert iob2_spans(["B-PER", "L-PER"]) == [Span("PER", 0, 2)]


def test_schemes_breaks_scheme_accepts_well_formed_sentences() -> None:
    assert not breaks_scheme(["B-PER", "I-PER", "O", "B-LOC"], "IOB2")
    assert not breaks_scheme(["I-PER", "B-PER", "B-PER", "O", "I-LOC"], "IOB1")  # B- between adjacent same-type entities
    assert breaks_scheme(["I-PER", "I-PER", "B-LOC"], "IOB1")
    assert not breaks_scheme(["O", "I-PER"], "BIOES") and not breaks_scheme(["O", "B-PER"], "plain")  # only IOB1/IOB2 can break
