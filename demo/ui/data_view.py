"""Gold-labelled sentences -> the value the Tag tab shows for predictions, so a user sees the
converted data the way the model's output will look. Pure functions; the highlighting itself is
:func:`demo.ui.render.entity_value` and :func:`demo.ui.render.color_map`, as for predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tagger.schemes import iob2_spans

from . import render

PREVIEW_SENTENCES = 5


@dataclass(frozen=True)
class GoldEntity:
    text: str
    start: int
    end: int
    label: str
    score: float = 1.0  # gold: certain


@dataclass(frozen=True)
class GoldView:
    """Shaped like :class:`tagger.predict.Prediction` where the renderer looks (text, entities)."""

    text: str
    entities: tuple[GoldEntity, ...]


def gold_view(sentences: Sequence[tuple[Sequence[str], Sequence[str]]]) -> GoldView:
    """(words, IOB2 or plain tags) pairs -> one text (words joined by spaces, a sentence a line)
    with its labelled spans at character offsets.

    >>> v = gold_view([(["Angela", "Merkel", "met", "Macron"], ["B-PER", "I-PER", "O", "B-PER"]), (["Hi"], ["INTJ"])])
    >>> v.text
    'Angela Merkel met Macron\\nHi'
    >>> [(e.text, e.label, e.start, e.end) for e in v.entities]
    [('Angela Merkel', 'PER', 0, 13), ('Macron', 'PER', 18, 24), ('Hi', 'INTJ', 25, 27)]
    """
    text_parts: list[str] = []
    entities: list[GoldEntity] = []
    offset = 0
    for words, tags in sentences:
        starts, pos = [], offset
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        line = " ".join(words)
        for span in iob2_spans(list(tags)):
            start, end = starts[span.start], starts[span.end - 1] + len(words[span.end - 1])
            entities.append(GoldEntity(line[start - offset:end - offset], start, end, span.label))
        text_parts.append(line)
        offset += len(line) + 1
    return GoldView("\n".join(text_parts), tuple(entities))


def pick(sentences: Sequence[Any], n: int = PREVIEW_SENTENCES) -> list[Any]:
    """The first ``n`` sentences that carry a label (all ``O`` shows nothing), topped up in order.

    >>> from tagger.data import Sentence
    >>> s = [Sentence(["a"], ["O"]), Sentence(["B"], ["B-X"]), Sentence(["c"], ["O"])]
    >>> [x.words[0] for x in pick(s, 2)]
    ['B', 'a']
    """
    labelled = [s for s in sentences[:5000] if any(t != "O" for t in s.tags)][:n]
    if len(labelled) < n:
        chosen = {id(s) for s in labelled}
        labelled += [s for s in sentences[: n * 2] if id(s) not in chosen][: n - len(labelled)]
    return labelled


def preview_value(sentences: Sequence[Any], n: int = PREVIEW_SENTENCES) -> tuple[dict[str, Any], dict[str, str]]:
    """(HighlightedText value, colour map) of ``n`` sentences with their gold labels.

    >>> from tagger.data import Sentence
    >>> value, colors = preview_value([Sentence(["Paris", "rocks"], ["B-LOC", "O"])])
    >>> value["entities"], colors
    ([{'entity': 'LOC', 'start': 0, 'end': 5, 'score': 1.0, 'word': 'Paris'}], {'LOC': '#4ade80'})
    """
    view = gold_view([(s.words, s.tags) for s in pick(sentences, n)])
    types = list(dict.fromkeys(e.label for e in view.entities))
    return render.entity_value(view), render.color_map(types)
