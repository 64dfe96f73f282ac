"""Continuing a trained tagger on new data (``TrainConfig.init_from``), the pure parts: the grown
label map, the training targets that keep the old model's knowledge, and scores restricted to
the types the new data annotates. No torch: the preflight and the UI use these too.

Corrections and new data sets usually annotate only some types: prodigy-drugs marks DRUG and
nothing else, so a person's name there is ``O``, which means "not a DRUG", not "not a person".
Trained on those ``O`` as they are, the model unlearns PER/LOC/ORG/MISC (catastrophic forgetting).
Hence two rules for the types the new data never annotates:

- **targets** (:func:`keep_old_predictions`): where the data says ``O`` and the old model tags a
  span with such a type, that span keeps the old model's tag as its training target (hard
  distillation from the old model, on the new data's own words; a span that touches a gold
  entity is dropped: the data's annotation wins);
- **scores** (:func:`only_types`): dev and before/after F1 count only the types the data
  annotates, so an old type still predicted is neither a false positive nor a reason to prefer
  an epoch that forgot it.

A type the data does annotate (a correction that keeps or fixes a PER) is taken from the data
everywhere, ``O`` included: there the data is the judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .errors import ModelError
from .schemes import iob2_spans, split_tag


def is_plain(labels: Iterable[str]) -> bool:
    """Plain labels (POS, chunks: no ``B-``/``I-`` prefix) rather than IOB2 entity tags.

    >>> is_plain(["O", "B-PER", "I-PER"]), is_plain(["NOUN", "VERB"]), is_plain(["O"])
    (False, True, False)
    """
    return any(split_tag(t)[0] == "" and t != "O" for t in labels)


def entity_types(tags: Iterable[str]) -> set[str]:
    """The entity types of IOB2 tags (or the plain labels themselves, ``O`` excluded).

    >>> sorted(entity_types(["O", "B-DRUG", "I-DRUG", "B-PER"])), sorted(entity_types(["NOUN", "O"]))
    (['DRUG', 'PER'], ['NOUN'])
    """
    return {split_tag(t)[1] or t for t in tags if t != "O"}


def grow_labels(old: Sequence[str], data: Sequence[str], model: str = "the model") -> list[str]:
    """The label map of a continued tagger: the old model's labels in their order (their ids, and
    so their classifier rows, stay), then the data's labels it lacks, in the data's order
    (:func:`tagger.preflight.label_list`: sorted types, ``B-`` before ``I-``). A plain-label
    model (POS) and entity data, or the other way round, cannot share a head: :class:`ModelError`.

    >>> grow_labels(["O", "B-LOC", "I-LOC", "B-PER", "I-PER"], ["O", "B-DRUG", "I-DRUG", "B-PER", "I-PER"])
    ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER', 'B-DRUG', 'I-DRUG']
    >>> grow_labels(["NOUN", "VERB"], ["O", "B-DRUG", "I-DRUG"], "models/pos")
    Traceback (most recent call last):
    ...
    tagger.errors.ModelError: models/pos tags plain labels (NOUN, VERB), the training data entity spans (DRUG); continue it on data with the same kind of labels, or start from a base encoder
    """
    if is_plain(old) != is_plain(data):
        def kind(labels: Sequence[str]) -> str:
            shown = ", ".join(sorted(entity_types(labels))[:6])
            return f"plain labels ({shown})" if is_plain(labels) else f"entity spans ({shown})"

        raise ModelError(f"{model} tags {kind(old)}, the training data {kind(data)}; continue it on data with the same kind of "
                         "labels, or start from a base encoder")
    known = set(old)
    return list(old) + [t for t in data if t not in known]


def keep_old_predictions(gold: Sequence[str], old: Sequence[str], annotated: set[str]) -> list[str]:
    """Training targets: ``gold``, plus the old model's entities (``old``, IOB2) of types the data
    never annotates wherever the data has ``O`` over the whole span.

    >>> gold = ["O", "O", "B-DRUG", "O", "O"]
    >>> old = ["B-PER", "I-PER", "B-ORG", "O", "B-LOC"]   # ORG overlaps the gold DRUG: the data wins
    >>> keep_old_predictions(gold, old, {"DRUG"})
    ['B-PER', 'I-PER', 'B-DRUG', 'O', 'B-LOC']
    >>> keep_old_predictions(gold, old, {"DRUG", "PER"})  # PER is annotated: its O is meant
    ['O', 'O', 'B-DRUG', 'O', 'B-LOC']
    """
    out = list(gold)
    for span in iob2_spans(old):
        if span.label in annotated or any(t != "O" for t in gold[span.start : span.end]):
            continue
        out[span.start : span.end] = [f"B-{span.label}"] + [f"I-{span.label}"] * (span.end - span.start - 1)
    return out


def only_types(tags: Sequence[str], types: set[str]) -> list[str]:
    """``tags`` with entities of other types turned to ``O`` (scoring on the data's types only).

    >>> only_types(["B-PER", "I-PER", "B-DRUG", "O"], {"DRUG"})
    ['O', 'O', 'B-DRUG', 'O']
    """
    return [t if t == "O" or (split_tag(t)[1] or t) in types else "O" for t in tags]
