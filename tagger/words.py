"""Text -> words with character offsets, and words -> sentences: spaCy's rule-based tokenizer and
sentencizer (``spacy.blank``, no model download). Torch-free, so the data readers use the very
same splitter as prediction: a span-annotated text is trained on the words it is tagged with.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

Offsets = tuple[str, int, int]  # (word, start, end) with character offsets into the text


@lru_cache(maxsize=4)
def _spacy_pipeline(language: str) -> Any:
    import spacy  # deferred: only raw text needs it

    nlp = spacy.blank(language)
    nlp.add_pipe("sentencizer")  # rule-based (sentence-final punctuation), no model download
    return nlp


def is_word(text: str) -> bool:
    """Whether a token carries a label: whitespace / invisible-only tokens do not.

    >>> is_word("Paris"), is_word(" \\n"), is_word("\\u200b")
    (True, False, False)
    """
    first = text[:1]
    if first.isprintable() and first and not first.isspace():  # nearly every word: no scan
        return True
    return any(c.isprintable() and not c.isspace() for c in text)


_is_word = is_word  # the name tagger.predict used before this module existed


def split_words(text: str, language: str = "en") -> list[Offsets]:
    """Words with character offsets, from spaCy's rule-based tokenizer (no model download).

    >>> split_words("Angela Merkel's visit, 2024.")
    [('Angela', 0, 6), ('Merkel', 7, 13), ("'s", 13, 15), ('visit', 16, 21), (',', 21, 22), ('2024', 23, 27), ('.', 27, 28)]
    """
    return [(t.text, t.idx, t.idx + len(t.text)) for t in _spacy_pipeline(language).tokenizer(text) if is_word(t.text)]


def _group(texts: Sequence[str], starts: Sequence[bool]) -> list[list[int]]:
    """Token texts and sentence starts (spaCy's sentencizer) -> sentences as indices of the word
    tokens; a token holding a blank line (two newlines) also ends a sentence (headlines, list items).

    >>> _group(["Hi", ".", "\\n\\n", "Bye", "Next"], [True, False, False, False, True])
    [[0, 1], [3], [4]]
    """
    out: list[list[int]] = []
    current: list[int] = []
    for i, (t, start) in enumerate(zip(texts, starts)):
        if start and current:
            out.append(current)
            current = []
        if is_word(t):
            current.append(i)
        elif t.count("\n") >= 2 and current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _starts(doc: Any) -> list[bool]:
    from spacy.attrs import SENT_START

    return [int(x) == 1 for x in doc.to_array([SENT_START])]  # per token; reading the array spares spaCy Token objects


def split_sentences(text: str, language: str = "en") -> list[list[Offsets]]:
    """The words of :func:`split_words`, grouped into sentences: spaCy's sentencizer splits after
    sentence-final punctuation, and a blank line always ends a sentence (headlines, list items).

    >>> [[w for w, _, _ in s] for s in split_sentences("Merkel met Macron. They spoke.\\n\\nPARIS 1996")]
    [['Merkel', 'met', 'Macron', '.'], ['They', 'spoke', '.'], ['PARIS', '1996']]
    """
    from spacy.attrs import IDX, LENGTH, SENT_START

    doc = _spacy_pipeline(language)(text)
    rows = doc.to_array([IDX, LENGTH, SENT_START]).tolist()
    spans = [(int(i), int(i) + int(n)) for i, n, _ in rows]
    groups = _group([text[a:b] for a, b in spans], [int(s) == 1 for _, _, s in rows])
    return [[(text[spans[k][0]:spans[k][1]], spans[k][0], spans[k][1]) for k in g] for g in groups]


def sentence_groups(tokens: Sequence[str], language: str = "en") -> list[list[int]]:
    """Given tokens (a file's own word segmentation), the indices of the word tokens grouped into
    sentences by the same sentencizer and blank-line rule as :func:`split_sentences`.

    >>> sentence_groups(["Hi", "there", ".", "\\n\\n", "Bye", "now", "!", " "])
    [[0, 1, 2], [4, 5, 6]]
    """
    from spacy.tokens import Doc

    nlp = _spacy_pipeline(language)
    keep = [i for i, t in enumerate(tokens) if t]  # spaCy refuses empty words
    if not keep:
        return []
    texts = [tokens[i] for i in keep]
    doc = nlp.get_pipe("sentencizer")(Doc(nlp.vocab, words=texts))
    return [[keep[k] for k in g] for g in _group(texts, _starts(doc))]


# Abbreviations whose final period belongs to the name ("Apple Inc.", "Martin Luther King Jr."), beside
# spaCy's own exceptions (``GmbH.``, ``S.A.`` and upper-case forms are not among them)
KEEP_PERIOD = frozenset({"inc.", "corp.", "ltd.", "co.", "jr.", "sr.", "st.", "mr.", "mrs.", "ms.", "dr.", "bros.", "mt.", "ft.",
                         "no.", "vs.", "plc.", "llc.", "gmbh.", "s.a.", "n.v."})
TRAILING = ".,;:!?\"')]}»”’"  # closing punctuation an entity never ends with (unless the period of an abbreviation)


def is_punctuation(word: str) -> bool:
    """Whether every character of ``word`` is punctuation (Unicode category P*; symbols such as
    ``$`` are not).

    >>> is_punctuation("."), is_punctuation("--"), is_punctuation("M&M"), is_punctuation("$"), is_punctuation("")
    (True, True, False, False, False)
    """
    return bool(word) and all(unicodedata.category(c).startswith("P") for c in word)


@lru_cache(maxsize=4)
def _tokenizer_exceptions(language: str) -> frozenset[str]:
    """Words spaCy's tokenizer keeps whole with their punctuation (``Inc.``, ``Dr.``, ``Jan.``, ``Ph.D.``)."""
    return frozenset(_spacy_pipeline(language).tokenizer.rules or {})


def is_abbreviation(word: str, language: str = "en") -> bool:
    """Whether the final period of ``word`` belongs to it: initials and dotted forms (``U.S.``,
    ``J.``, ``e.g.``), a company or title abbreviation (:data:`KEEP_PERIOD`, any case), or one of
    the language's spaCy tokenizer exceptions (``Inc.``, ``Jan.``).

    >>> [is_abbreviation(w) for w in ("U.S.", "J.", "Inc.", "GMBH.", "Jan.", "M&M.", "3.", "Paris.", "U.S")]
    [True, True, True, True, True, False, False, False, False]
    """
    head = word[:-1]
    if not word.endswith(".") or not any(c.isalnum() for c in head):
        return False
    return ("." in head or (len(head) == 1 and head.isalpha()) or word.lower() in KEEP_PERIOD
            or word in _tokenizer_exceptions(language))


def entity_end(word: str, language: str = "en") -> int:
    """How much of an entity's LAST word the entity keeps: the word without the closing
    punctuation glued to it (sentence punctuation, closing quotes and brackets: spaCy's tokenizer
    keeps a period after a capital, "M&M.", as one token, and a person's selection may take any of
    them), except the period of an abbreviation (:func:`is_abbreviation`). A word that is only
    punctuation, or one spaCy's tokenizer keeps whole as an exception (``Ol'``), is kept whole.

    The project's one rule for it: :mod:`tagger.predict` ends a predicted entity with it, and the
    app's Correct tab snaps a person's selection with it (:func:`demo.service.correction_spans.snap`).

    >>> words = ["M&M.", "Paris", "Kenya,", "IBM),", 'Paris!"', "Sony’", "U.S.", "U.S.,", "Inc.", "Corp.", "J.", "Ol'", "3.", ".", "!?"]
    >>> [w[:entity_end(w)] for w in words]
    ['M&M', 'Paris', 'Kenya', 'IBM', 'Paris', 'Sony', 'U.S.', 'U.S.', 'Inc.', 'Corp.', 'J.', "Ol'", '3', '.', '!?']
    """
    core = word.rstrip(TRAILING)
    if len(core) == len(word) or not any(c.isalnum() for c in core) or word in _tokenizer_exceptions(language):
        return len(word)  # nothing to cut, only punctuation, or a word spaCy keeps whole ("Ol'", "Mass.")
    if word[len(core)] == "." and is_abbreviation(core + ".", language):
        return len(core) + 1
    return len(core)
