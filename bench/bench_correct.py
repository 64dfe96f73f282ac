"""Correcting a model's suggestions (the Correct tab, issue #24): the edits the suggestions save, and
what the corrected texts buy as a learning curve.

A simulated user corrects the texts of a domain's training file with its gold labels, through the
app's own path: a :class:`~demo.service.correct_session.CorrectSession` asks the model for its
suggestions (``Predictor.predict_batch`` on the text, snapped as the tab offers them), the user
keeps each suggestion the gold agrees with (same span, same type), relabels a right span of the wrong
type, re-spans one that overlaps a gold entity (a selection that replaces it), removes one that
overlaps no gold entity and adds a gold entity nothing suggested; then accepts the text, which the
session saves to a :class:`~demo.service.corrections.CorrectionStore`. The accepted annotation is the
gold annotation (checked for every text); the edits are counted against labelling from scratch (one
edit per gold entity).

Texts: the training file's records shuffled with ``random.Random(--seed)`` (a text seen before is
skipped), the first N. Rounds (25, 50, 100, 200 texts): the store's JSONL export (what "Train on
these corrections" trains on), 20% held out as the tab does, trained (a) from the model with the
init-from defaults (``TrainConfig(init_from=...)``) and (b) from the bare encoder (``TrainConfig()``,
the same training and held-out sentences, the same epochs), both scored on the domain's test file
(the domain's own types; the old types a domain does not annotate are neither right nor wrong
there), (a) also on CoNLL-2003 test (first ``--conll-limit`` sentences; all of them from
``--conll-full-at`` texts on). The texts of round k+1 beyond round k's are suggested by round k's
model (a), as a user who trains and goes on correcting with the new model would see them; the
edits with the starting model's suggestions throughout are counted too.

    python bench/bench_correct.py                                   # both domains, all rounds
    python bench/bench_correct.py --sets drugs --rounds 25 50 --conll-limit 200 --epochs 1   # a quick part
    python bench/bench_correct.py --write                           # + docs/BENCHMARKS.md and docs/correct-learning-curve.png
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_init_from import SETS, _files
from common import CONLL, DATA, REPO, header, publish

from demo.service.correct_session import CorrectSession, Item, start_session
from demo.service.correction_spans import CorrectionError, check_spans, snap
from demo.service.corrections import CorrectionStore
from tagger.config import TrainConfig
from tagger.continual import entity_types, only_types
from tagger.data import Sentence, read_file, read_files
from tagger.meta import default_model_path
from tagger.metrics import score
from tagger.model import load_tagger
from tagger.predict import Predictor
from tagger.preflight import read_training_data
from tagger.train import train

ROUNDS = (25, 50, 100, 200)
OWNER = "bench-simulated-user"  # the store keys datasets by a hash of the owner id
EDITS = ("relabelled", "re-spanned", "removed", "added")  # what costs the user an action ("kept" costs none)
PNG = REPO / "docs" / "correct-learning-curve.png"


# ---------------------------------------------------------------------------------------------- the texts
@dataclass
class Text:
    text: str
    gold: list[dict[str, Any]]  # snapped as a person's selection is (check_spans), no overlaps
    source: str
    raw: str  # the record's line, to read the same texts with the project's reader


def _pair(span: Any) -> tuple[Any, Any, Any]:
    return (span.get("start"), span.get("end"), span.get("label")) if isinstance(span, dict) else tuple(span)


def gold_spans(text: str, raw: Sequence[Any]) -> tuple[list[dict[str, Any]], int]:
    """A record's gold spans (Prodigy dicts or doccano triples) as the store keeps a person's
    selection: each snapped to words (:func:`~demo.service.correction_spans.snap`), of overlapping
    ones the longest kept (the readers' rule), a punctuation-only span dropped. Returns the spans
    and how many were dropped.

    >>> gold_spans("I took Xanax and Valium.", [[7, 12, "DRUG"], {"start": 17, "end": 24, "label": "DRUG"}, [6, 7, "DRUG"]])
    ([{'start': 7, 'end': 12, 'label': 'DRUG'}, {'start': 17, 'end': 23, 'label': 'DRUG'}], 1)
    """
    snapped, dropped = [], 0
    for span in raw:
        start, end, label = _pair(span)
        try:
            s, e = snap(text, start, end)
        except CorrectionError:
            dropped += 1
            continue
        snapped.append((s, e, label))
    kept: list[tuple[int, int, str]] = []
    for s, e, label in sorted(snapped, key=lambda x: (x[0] - x[1], x[0])):  # longest first
        if all(e <= a or s >= b for a, b, _ in kept):
            kept.append((s, e, label))
        else:
            dropped += 1
    return check_spans(text, [list(x) for x in kept]), dropped


def load_texts(name: str, seed: int) -> tuple[list[Text], Counter[str]]:
    """The domain's training records (accepted ones), shuffled with ``seed``, each text once."""
    records: list[tuple[dict[str, Any], str, str]] = []
    for path in _files(SETS[name][0]):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                records.append((json.loads(line), line, f"{path.name}, line {n}"))
    random.Random(seed).shuffle(records)
    notes: Counter[str] = Counter()
    out, seen = [], set()
    for obj, line, where in records:
        text = obj.get("text") or ""
        if obj.get("answer", "accept") != "accept" or not text.strip() or text in seen:
            notes["rejected, empty or repeated texts skipped"] += 1
            continue
        seen.add(text)
        spans, dropped = gold_spans(text, obj.get("spans") or obj.get("label") or [])
        notes["gold spans dropped (punctuation only, or overlapping a longer one)"] += dropped
        out.append(Text(text, spans, where, line))
    return out, notes


# ---------------------------------------------------------------------------------------------- the simulated user
def _key(span: dict[str, Any]) -> tuple[int, int, str]:
    return span["start"], span["end"], span["label"]


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def correct(session: CorrectSession, gold: Sequence[dict[str, Any]]) -> Counter[str]:
    """Turn the suggestions on screen into ``gold`` with the session's own edits; count them."""
    item = session.current
    assert item is not None and item.spans is not None
    want = {_key(g) for g in gold}
    by_span = {(g["start"], g["end"]): g["label"] for g in gold}
    edits: Counter[str] = Counter()
    for s in list(item.spans):
        if _key(s) in want:
            edits["kept"] += 1
        elif (s["start"], s["end"]) in by_span:
            session.relabel(s["start"], s["end"], by_span[s["start"], s["end"]])
            edits["relabelled"] += 1
        elif not any(_overlap(s, g) for g in gold):
            session.remove(s["start"], s["end"])
            edits["removed"] += 1
    for g in gold:
        on_screen = session.current.spans or []  # type: ignore[union-attr]
        if _key(g) in {_key(s) for s in on_screen}:
            continue
        replaces = any(_overlap(s, g) for s in on_screen)
        session.add(g["start"], g["end"], g["label"])  # replaces the suggestions it overlaps
        edits["re-spanned" if replaces else "added"] += 1
    final = {_key(s) for s in session.current.spans or []}  # type: ignore[union-attr]
    if final != want:
        raise RuntimeError(f"the simulated user did not reach the gold annotation of {item.source}: {sorted(final ^ want)}")
    return edits


def correct_texts(texts: Sequence[Text], predict: Callable[[Sequence[str]], list[Any]], model: str, store: CorrectionStore | None,
                  dataset: str, domain_types: set[str]) -> Counter[str]:
    """One pass of the Correct tab over ``texts`` with ``predict``'s suggestions: edits counted, each
    text accepted into ``dataset`` (with a store) or skipped (counting only)."""
    items = [Item(t.text, t.source) for t in texts]
    session = start_session(model, dataset, items, [], None, False, set())
    edits: Counter[str] = Counter()
    for t in texts:
        session.suggest(predict)
        # suggestions of a type the domain never annotates (the old PER... on drug comments): each one costs an edit
        edits["foreign"] += sum(1 for s in session.current.spans or [] if s["label"] not in domain_types)  # type: ignore[union-attr]
        edits.update(correct(session, t.gold))
        edits["gold"] += len(t.gold)
        session.decide("accept" if store is not None else "skip", store, OWNER)  # type: ignore[arg-type]
    return edits


# ---------------------------------------------------------------------------------------------- scoring
def tags_of(predictor: Predictor, sentences: Sequence[Sentence]) -> list[list[str]]:
    return [[label for label, _ in p] for p in predictor.tag_words([s.words for s in sentences], [s.doc for s in sentences])]


def scores(predictor: Predictor, sentences: Sequence[Sentence], types: set[str] | None, new: set[str] | None = None) -> dict[str, Any]:
    """Entity P/R/F1 on ``types`` (all when None), and ``new``: the same on the new types alone."""
    pred, gold = tags_of(predictor, sentences), [s.tags for s in sentences]
    if types is not None:
        gold, pred = [only_types(g, types) for g in gold], [only_types(p, types) for p in pred]
    out = score(gold, pred)
    if new:
        out["new"] = score([only_types(g, new) for g in gold], [only_types(p, new) for p in pred])
    return out


def _brief(s: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in s.items() if k != "accuracy"}


# ---------------------------------------------------------------------------------------------- a round
@dataclass
class Domain:
    name: str
    texts: list[Text]
    test: list[Sentence]
    types: set[str]
    new: set[str]
    notes: Counter[str]
    rows: list[dict[str, Any]] = field(default_factory=list)


def _train_one(config: TrainConfig, data: tuple[list[Sentence], list[Sentence]], out: Path, test: Any,
               dom: Domain) -> tuple[dict[str, Any], Predictor]:
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = train(config, *data, out)
    seconds = time.perf_counter() - t0
    predictor = Predictor(load_tagger(out, device="cpu"))
    return {"seconds": seconds, "loop_seconds": result.loop_seconds, "load": load, "best_epoch": result.best_epoch,
            "held_out": _brief(result.dev), "test": _brief(scores(predictor, test, dom.types, dom.new))}, predictor


def usable_split(train_part: list[Sentence], dev_part: list[Sentence]) -> tuple[list[Sentence], list[Sentence], int]:
    """The held-out split, with the held-out sentences that hold a type no training sentence has
    moved to the training part (the trainer refuses such a split: "the dev data has labels the
    training data lacks"; few corrected texts with a rare type meet it). Returns how many moved.

    >>> a, b = Sentence(["Paris"], ["B-LOC"]), Sentence(["Polish"], ["B-NAT"])
    >>> [len(x) if isinstance(x, list) else x for x in usable_split([a], [b, a])]
    [2, 1, 1]
    """
    seen = entity_types(t for s in train_part for t in s.tags)
    moved = [s for s in dev_part if not entity_types(s.tags) <= seen]
    return train_part + moved, [s for s in dev_part if s not in moved], len(moved)


def train_round(n: int, export: Path, dom: Domain, args: argparse.Namespace, conll: dict[str, list[Sentence]],
                work: Path) -> tuple[dict[str, Any], Predictor]:
    """Train (a) from the model and (b) from the encoder on the export; score both."""
    epochs = {"epochs": args.epochs} if args.epochs else {}
    continued = TrainConfig(init_from=str(args.model), device="cpu", **epochs)
    fresh = TrainConfig(device="cpu", **epochs)
    data = read_training_data(continued, export, None)  # 20% held out (seeded), as the Correct tab's job does
    train_part, dev_part, moved = usable_split(data.train, data.dev)
    a, model = _train_one(continued, (train_part, dev_part), work / f"model-{n}", dom.test, dom)
    b, _ = _train_one(fresh, (train_part, dev_part), work / f"encoder-{n}", dom.test, dom)
    a["conll"] = {key: _brief(scores(model, sents, None)) for key, sents in conll.items()
                 if key == "subset" or (args.conll_full_at and n >= args.conll_full_at)}
    return {"texts": n, "train_sentences": len(train_part), "dev_sentences": len(dev_part), "moved": moved, "model": a, "encoder": b}, model


def export_check(texts: Sequence[Text], export: Path, work: Path) -> dict[str, int]:
    """Entities per the project's reader: of the original records, and of the store's export."""
    original = work / "original.jsonl"
    original.write_text("".join(t.raw + "\n" for t in texts), encoding="utf-8")

    def entities(path: Path) -> int:
        return sum(tag.startswith("B-") for s in read_file(path).sentences for tag in s.tags)

    return {"original": entities(original), "export": entities(export)}


def run_domain(name: str, args: argparse.Namespace, conll: dict[str, list[Sentence]], before_conll: dict[str, Any]) -> Domain:
    texts, notes = load_texts(name, args.seed)
    rounds = sorted(args.rounds)
    if rounds[-1] > len(texts):
        raise SystemExit(f"{name}: {len(texts)} texts, fewer than the round of {rounds[-1]}")
    test = read_files(_files(SETS[name][1])).sentences
    types = {g["label"] for t in texts for g in t.gold}
    default = Predictor(load_tagger(args.model, device="cpu"))
    dom = Domain(name, texts, test, types, types - entity_types(default.labels), notes)
    dom.rows.append({"texts": 0, "model": {"test": _brief(scores(default, test, types, dom.new)), "conll": before_conll}})
    with tempfile.TemporaryDirectory(prefix="bench-correct-") as tmp:
        work = args.keep_models / name if args.keep_models else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        store, dataset = CorrectionStore(work / "models"), f"{name}-simulated"
        suggester, by_default, by_loop, done = default, Counter(), Counter(), 0
        for n in rounds:
            chunk = texts[done:n]
            loop = correct_texts(chunk, suggester.predict_batch, "previous round", store, dataset, types)
            by_default += loop if suggester is default else correct_texts(chunk, default.predict_batch, "default", None, dataset, types)
            by_loop += loop
            (work / f"export-{n}").mkdir()  # the tab exports into a fresh folder too
            export, _ = store.training_file(OWNER, dataset, work / f"export-{n}")
            row, suggester = train_round(n, export, dom, args, conll, work)
            row.update(edits_default=dict(by_default), edits_loop=dict(by_loop), reader=export_check(texts[:n], export, work))
            dom.rows.append(row)
            done = n
            print(f"[{name}] {n} texts: " + json.dumps({k: v for k, v in row.items() if k in ("model", "encoder")})[:400], flush=True)
    return dom


# ---------------------------------------------------------------------------------------------- output
def _f1(s: dict[str, Any] | None) -> str:
    return "" if s is None else f"{s['f1']:.1f}"


def _conll(a: dict[str, Any]) -> str:
    c = a.get("conll") or {}
    full = f" ({c['full']['f1']:.2f})" if "full" in c else ""
    return f"{c['subset']['f1']:.2f}{full}" if "subset" in c else ""


def curve_table(domains: Sequence[Domain]) -> list[str]:
    out = [("| domain | corrected texts | sentences trained (held out) | test F1 (a) from the model | test F1 (b) from the encoder | "
           "new types F1 (a / b) | CoNLL-2003 F1 (a): subset (full) | seconds (a) [loop] | load (a) | seconds (b) [loop] | load (b) |"),
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for d in domains:
        for r in d.rows:
            a, b = r["model"], r.get("encoder")
            if not r["texts"]:
                out.append(f"| {d.name} | 0 (the model as shipped) | | {_f1(a['test'])} | | {_f1(a['test'].get('new'))} | {_conll(a)} | | | | |")
                continue
            out.append(f"| {d.name} | {r['texts']} | {r['train_sentences']:,} ({r['dev_sentences']:,}) | {_f1(a['test'])} | "
                       f"{_f1(b['test'])} | {_f1(a['test'].get('new'))} / {_f1(b['test'].get('new'))} | {_conll(a)} | "
                       f"{a['seconds']:.0f} [{a['loop_seconds']:.0f}] | {a['load']:.1f} | {b['seconds']:.0f} [{b['loop_seconds']:.0f}] | "
                       f"{b['load']:.1f} |")
    return out


def _edits(e: dict[str, int], texts: int) -> str:
    total = sum(e.get(k, 0) for k in EDITS)
    parts = " / ".join(str(e.get(k, 0)) for k in ("kept", *EDITS))
    return f"{total:,} ({total / texts:.2f}) | {parts}"


def edits_table(domains: Sequence[Domain]) -> list[str]:
    out = [("| domain | texts | gold entities = edits from scratch (per text) | edits with the shipped model's suggestions (per text) | "
           "kept / relabelled / re-spanned / removed / added | of a type the domain lacks | edits with the previous round's model "
           "(per text) | kept / relabelled / re-spanned / removed / added |"),
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for d in domains:
        for r in d.rows[1:]:
            n, e0, e1 = r["texts"], r["edits_default"], r["edits_loop"]
            out.append(f"| {d.name} | {n} | {e0.get('gold', 0):,} ({e0.get('gold', 0) / n:.2f}) | {_edits(e0, n)} | "
                       f"{e0.get('foreign', 0):,} | {_edits(e1, n)} |")
    return out


def type_table(domains: Sequence[Domain]) -> list[str]:
    out = ["| domain | type | test support | the model as shipped | (a) from the model | (b) from the encoder |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for d in domains:
        before, last = d.rows[0]["model"]["test"]["per_type"], d.rows[-1]
        a, b = last["model"]["test"]["per_type"], last["encoder"]["test"]["per_type"]
        for typ in sorted(d.types):
            support = max(x.get(typ, {}).get("support", 0) for x in (before, a, b))
            cells = " | ".join(f"{x[typ]['f1']:.1f}" if typ in x else "0.0" for x in (before, a, b))
            out.append(f"| {d.name} | {typ}{' (new)' if typ in d.new else ''} | {support:,} | {cells} |")
    return out


def notes_lines(domains: Sequence[Domain], args: argparse.Namespace, conll: dict[str, list[Sentence]]) -> list[str]:
    out = []
    for d in domains:
        checks = ", ".join(f"{r['texts']}: {r['reader']['original']:,} / {r['reader']['export']:,}" for r in d.rows[1:])
        moved = ", ".join(f"{r['moved']} at {r['texts']} texts" for r in d.rows[1:] if r["moved"])
        if moved:
            checks += (f"; held-out sentences with a type no training sentence had, moved to the training part (the trainer refuses "
                       f"such a split): {moved}")
        skipped = "; ".join(f"{k}: {v}" for k, v in sorted(d.notes.items()) if v) or "no span dropped, no text skipped"
        out.append(f"- {d.name}: {len(d.texts):,} distinct training texts; {skipped}. Gold entities as the project's reader reads the "
                   f"original records / the store's export, per round: {checks}. Types: {', '.join(sorted(d.types))} "
                   f"(new to the model: {', '.join(sorted(d.new)) or 'none'}).")
    hundred = [f"{d.name} {r['model']['seconds']:.0f} s (load {r['model']['load']:.1f})" for d in domains for r in d.rows if r["texts"] == 100]
    if hundred:
        out.append(f"- Retraining on 100 corrected texts, continued from the model (a), the whole run: {', '.join(hundred)}; "
                   "target <= 180 s on 2 CPU cores.")
    sizes = ", ".join(f"{k} {len(v):,} sentences" for k, v in conll.items())
    out.append(f"- CoNLL-2003 test (eng.testb): {sizes}; the full file is scored from {args.conll_full_at} texts on."
               if args.conll_full_at else f"- CoNLL-2003 test (eng.testb): {sizes}.")
    return out


def plot(domains: Sequence[Domain], path: Path) -> None:
    """The learning curves, one panel per domain, small enough for the docs (a temporary name, then renamed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(domains), figsize=(4.2 * len(domains), 3.3), squeeze=False)
    for ax, d in zip(axes[0], domains):
        rows = d.rows[1:]
        xs = [r["texts"] for r in rows]
        ax.plot(xs, [r["model"]["test"]["f1"] for r in rows], "o-", color="tab:blue", label="(a) from the model (init_from)")
        ax.plot(xs, [r["encoder"]["test"]["f1"] for r in rows], "s--", color="tab:orange", label="(b) from the bare encoder")
        ax.axhline(d.rows[0]["model"]["test"]["f1"], color="grey", linestyle=":", label="the model as shipped")
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.minorticks_off()
        ax.set_ylim(0, 100)
        ax.set_title(f"{d.name} ({', '.join(sorted(d.types)) if len(d.types) < 3 else f'{len(d.types)} types'})", fontsize=10)
        ax.set_xlabel("corrected texts")
        ax.set_ylabel("test entity F1")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["drugs", "multileg"])
    ap.add_argument("--rounds", nargs="+", type=int, default=list(ROUNDS), help="corrected texts at each retraining")
    ap.add_argument("--epochs", type=int, help="epochs of both runs (default: TrainConfig's, 4)")
    ap.add_argument("--seed", type=int, default=13, help="the order the texts are corrected in (random.Random(seed).shuffle)")
    ap.add_argument("--conll-limit", type=int, default=1000, help="score (a) on the first N CoNLL-2003 test sentences (0: all)")
    ap.add_argument("--conll-full-at", type=int, default=200, help="from this many texts on, also on the full CoNLL-2003 test (0: never)")
    ap.add_argument("--model", type=Path, default=default_model_path(), help="the tagger that suggests and is continued")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument("--keep-models", type=Path, help="keep the trained models and the store in this folder")
    ap.add_argument("--write", action="store_true", help="put the section into docs/BENCHMARKS.md and draw " + PNG.name)
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"needs the data sets at {DATA}", file=sys.stderr)
        return 2
    if min(args.rounds) < 2:
        ap.error("--rounds: each round needs at least 2 texts (one is held out)")
    lines = header("Correcting suggestions: learning curve")  # the load at the start, before this process adds to it
    test = read_files([CONLL / "eng.testb"]).sentences
    conll = {"subset": test[: args.conll_limit] if args.conll_limit else test}
    if args.conll_full_at and args.conll_limit:
        conll["full"] = test
    default = Predictor(load_tagger(args.model, device="cpu"))
    before = {key: _brief(scores(default, sents, None)) for key, sents in conll.items()}
    domains = [run_domain(name, args, conll, before) for name in args.sets]
    if args.json:
        args.json.write_text(json.dumps([{"set": d.name, "rows": d.rows, "notes": d.notes} for d in domains], indent=2), encoding="utf-8")
    lines += report(domains, args, conll)
    if args.write:
        plot(domains, PNG)
    publish("correct-learning-curve", lines, args.write)
    return 0


def report(domains: Sequence[Domain], args: argparse.Namespace, conll: dict[str, list[Sentence]]) -> list[str]:
    epochs = args.epochs or TrainConfig.epochs
    return [
        (f"A simulated user corrects the shipped model's suggestions with the gold labels (`bench/bench_correct.py`: the Correct "
         f"tab's session and store, the store's JSONL export trained on), texts in the order `random.Random({args.seed})` shuffles "
         f"the training file(s) into. At each round: (a) continued from the model with the init-from defaults "
         f"(`TrainConfig(init_from=...)`: lr 5e-5, head_lr 5e-3), (b) from the bare encoder (`TrainConfig()`), both {epochs} "
         "epochs on the same 80% of the sentences (20% held out for the best epoch, as the tab's job does), scored on the "
         "domain's test file (its own types only). Seconds: the whole training run (for (a) including tagging the texts with "
         "the old model for the `keep_old_types` targets), in brackets the optimisation loop; load: `os.getloadavg()` (1 min) "
         "when it started. Texts beyond the previous round are suggested by that round's model (a)."), "",
        *curve_table(domains), "",
        "Edits (cumulative over the texts corrected so far; an edit: one relabel, re-span, removal or addition):", "",
        *edits_table(domains), "",
        f"Per type after {domains[0].rows[-1]['texts']} texts (test F1):", "",
        *type_table(domains), "",
        *notes_lines(domains, args, conll),
        *(["", "![Learning curve](correct-learning-curve.png)"] if args.write else []),
    ]


if __name__ == "__main__":
    sys.exit(main())
