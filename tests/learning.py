"""What a training run in the app must show to count as having learned, for the app-level tests.

The tiny random base (``tiny_base``) trained with :data:`support.TINY_TRAIN` on the app fixture
(tests/fixtures/app_train.conll, dev app_dev.conll) as the app's worker trains it, measured with
``python bench/mutant_no_learning/measure.py`` (2 shared cores; the same figures with 1, 2 or 4 torch threads):

- learning: dev micro F1 78.0 (the app's seed 13), 85.0 / 82.1 / 97.4 / 86.5 (seeds 1-4), 87.2 / 76.2
  (two other tiny bases); the mean loss falls to 0.51-0.58 of the first epoch's (2.08-2.16 -> 1.07-1.24);
  without the dev file (``--holdout``: 4 held-out training sentences as dev, as the browser test trains):
  70.0 (seed 13), 95.2 / 75.0 / 100.0 (seeds 1-3);
- not learning (every optimizer step a no-op, bench/mutant_no_learning; or both learning rates 1e-12):
  dev F1 2.5-5.1 (4.4-4.9 held out), and the loss stays at ln(9) = 2.2 (last / first 0.99-1.01).

:data:`LEARNED_F1` and :data:`LOSS_FALL` sit between the two with a wide margin on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

LEARNED_F1 = 50.0  # learning: >= 70.0 measured; not learning: <= 5.1
LOSS_FALL = 0.8  # last loss / first loss: learning <= 0.58 measured; not learning 0.99-1.01
MEASURED = "learning runs reach dev F1 70-100 and non-learning ones 2-5 (bench/mutant_no_learning/measure.py)"


def assert_learned(f1: Any, where: str) -> None:
    """``f1`` (dev micro F1 in %) is one only a model that learned the fixture reaches."""
    assert f1 is not None and float(f1) >= LEARNED_F1, f"{where}: dev F1 {f1} < {LEARNED_F1}: the run did not learn ({MEASURED})"


def assert_loss_fell(losses: Sequence[Any], where: str) -> None:
    """The loss curve (numbers, or [epoch, loss] points as /status and the plots give them) ends
    well below where it started."""
    values = [float(v[-1]) if isinstance(v, list | tuple) else float(v) for v in losses]
    assert len(values) >= 2, f"{where}: {len(values)} loss point(s); a curve needs two"
    assert values[-1] <= LOSS_FALL * values[0], (
        f"{where}: the loss went from {values[0]:.3f} to {values[-1]:.3f} (> {LOSS_FALL:.0%} of the start): the run did not learn")


def micro_f1(table: Any) -> float:
    """The "micro avg" F1 of a scores table: a Styler or DataFrame (handlers) or ``{"headers", "data"}`` (gradio_client)."""
    table = getattr(table, "data", table)  # a Styler's frame
    if isinstance(table, dict):
        rows = {row[0]: dict(zip(table["headers"], row)) for row in table["data"]}
    else:
        rows = {row["type"]: row for row in table.to_dict("records")}
    return float(rows["micro avg"]["F1"])


def tag_entities(value: dict[str, Any]) -> list[tuple[int, int, str]]:
    """/tag's HighlightedText value -> (start, end, type) per entity."""
    return [(e["start"], e["end"], e["entity"]) for e in value["entities"]]


def pipeline_entities(folder: Path, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    """What ``transformers.pipeline("token-classification", aggregation_strategy="first")`` finds in
    each text with the model folder (a run's unzipped download): (start, end, type) per entity."""
    from transformers import pipeline

    tagger = pipeline("token-classification", model=str(folder), aggregation_strategy="first", device="cpu")
    return [[(e["start"], e["end"], e["entity_group"]) for e in tagger(text)] for text in texts]


def dev_texts(limit: int = 4) -> list[str]:
    """Sentences of the dev fixture as plain text (words joined by spaces; no hyphenated words,
    which spaCy and BERT's pre-tokenizer would cut differently)."""
    from support import DEV_FILE

    from tagger.data import read_file

    texts = [" ".join(s.words) for s in read_file(DEV_FILE).sentences]
    return [t for t in texts if "-" not in t][:limit]


def tiny_tagger_paris_org(factory: Any, base: Path) -> Path:
    """A second tiny tagger, trained as ``tiny_tagger`` but on data that calls Paris an organisation:
    a model that disagrees with ``tiny_tagger`` (compare views must find the sentences they tag
    differently). Trained once per session, under the session's base temporary folder."""
    from tagger.config import TrainConfig
    from tagger.train import train

    out = Path(factory.getbasetemp()) / "tiny-tagger-paris-org" / "model"
    if not (out / "tagger.json").is_file():  # the settings of support.train_tiny (tiny_tagger's)
        cfg = TrainConfig(base=str(base), head="linear", epochs=40, lr=5e-3, head_lr=5e-3, batch_size=2, warmup_ratio=0.0,
                          max_length=64, case_lower=0.0, case_upper=0.0, case_unknown=0.0, doc_context=False, seed=13)
        train(cfg, paris_org_sentences(), paris_org_sentences(), out)
    return out


def paris_org_sentences() -> list:
    from support import two_sentences

    first, second = two_sentences()
    tags = ["B-ORG" if w == "Paris" else t for w, t in zip(first.words, first.tags)]
    return [type(first)(first.words, tags), second]
