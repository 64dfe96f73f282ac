"""Reading speed of every data format, and the memory a 50 MB span JSONL file takes to read.

The same synthetic sentences (a fixed seed) are written in each format into a temporary folder;
each file is read with ``tagger.data.read_file`` (the best of ``--repeat`` rounds over all formats), and its MB/s and
sentences/s are given as a ratio to the CoNLL reader timed in the same run. Span formats without
tokens go through spaCy's word splitter and sentencizer, as at prediction time.

Memory: a doccano JSONL file of ``--big-mb`` MB (and one a fifth of it) is read in a fresh process
each; VmRSS before and after and the peak (VmHWM) show what the result holds and what reading
costs on top of it. JSON lines are read one line at a time, so that overhead stays flat as the file
grows; a CoNLL file of the same size (decoded whole, then scanned) is the reference. The sentence
limit (``tagger.corpus.MAX_SENTENCES``) is lifted for these runs, and so is the 50 MB file limit.

    python bench/bench_readers.py [--sentences 20000] [--big-mb 50] [--write]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, fmt, header, publish

sys.path.insert(0, str(REPO))

WORDS = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he",
    "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "they", "you", "were", "her", "she",
    "there", "been", "one", "all", "we", "their", "has", "would", "when", "if", "so", "no", "will", "more", "other",
    "its", "out", "up", "into", "them", "about", "could", "time", "only", "report", "market", "shares", "said", "year",
    "government", "people", "company", "week"
]
ENTITIES = {"PER": ["Angela Merkel", "John Smith", "Ana", "Mr. Brown"], "LOC": ["Paris", "New York", "Sąd Okręgowy"],
            "ORG": ["Siemens AG", "European Commission", "Reuters"], "MISC": ["German", "Olympic Games"]}
UPOS = ["NOUN", "VERB", "DET", "ADP", "ADJ", "PROPN", "PUNCT"]


def sentences(n: int, seed: int = 7) -> list[tuple[list[str], list[str]]]:
    """``n`` sentences of ~15 words ending in a period, about one entity per sentence."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words, tags = [], []
        for _ in range(rng.randint(8, 20)):
            if rng.random() < 0.08:
                label = rng.choice(list(ENTITIES))
                ent = rng.choice(ENTITIES[label]).split()
                words += ent
                tags += [f"B-{label}"] + [f"I-{label}"] * (len(ent) - 1)
            else:
                words.append(rng.choice(WORDS))
                tags.append("O")
        words.append(".")
        tags.append("O")
        out.append((words, tags))
    return out


def _spans(words: list[str], tags: list[str], offset: int) -> tuple[str, list[list]]:
    text, spans, pos, open_span = [], [], offset, None
    for w, t in zip(words, tags):
        if open_span and not t.startswith("I-"):
            spans.append(open_span)
            open_span = None
        if t.startswith("B-"):
            open_span = [pos, pos + len(w), t[2:]]
        elif t.startswith("I-") and open_span:
            open_span[1] = pos + len(w)
        text.append(w)
        pos += len(w) + 1
    if open_span:
        spans.append(open_span)
    return " ".join(text), spans


def paragraphs(sents: list[tuple[list[str], list[str]]], per: int = 3) -> list[tuple[str, list[list]]]:
    """Records of ``per`` sentences: (text, [[start, end, label], ...])."""
    out = []
    for i in range(0, len(sents), per):
        texts, spans, offset = [], [], 0
        for words, tags in sents[i : i + per]:
            t, s = _spans(words, tags, offset)
            texts.append(t)
            spans += s
            offset += len(t) + 1
        out.append((" ".join(texts), spans))
    return out


def write_all(folder: Path, sents: list[tuple[list[str], list[str]]]) -> dict[str, Path]:
    """One file per format, all holding ``sents``."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from spacy.tokens import Doc, DocBin

    from tagger.words import _spacy_pipeline

    f: dict[str, Path] = {}
    names = ["O", *sorted({t for _, tags in sents for t in tags} - {"O"})]
    ids = {t: i for i, t in enumerate(names)}
    f["conll"] = folder / "train.conll"
    f["conll"].write_text("".join("".join(f"{w} NN O {t}\n" for w, t in zip(ws, ts)) + "\n" for ws, ts in sents), encoding="utf-8")
    f["conllu"] = folder / "train.conllu"
    f["conllu"].write_text("".join("".join(f"{i}\t{w}\t{w.lower()}\t{UPOS[len(w) % 7]}\tNN\t_\t0\tdep\t_\t_\n"
                                           for i, w in enumerate(ws, 1)) + "\n" for ws, _ in sents), encoding="utf-8")
    f["jsonl tokens/tags"] = folder / "tokens.jsonl"
    f["jsonl tokens/tags"].write_text("".join(json.dumps({"tokens": ws, "tags": ts}) + "\n" for ws, ts in sents), encoding="utf-8")
    ids_dir = folder / "ids"
    ids_dir.mkdir()
    (ids_dir / "dataset_info.json").write_text(json.dumps({"features": {"ner_tags": {"feature": {"names": names, "_type": "ClassLabel"},
                                                                                      "_type": "List"}}}))
    f["jsonl integer ids"] = ids_dir / "train.jsonl"
    f["jsonl integer ids"].write_text("".join(json.dumps({"tokens": ws, "ner_tags": [ids[t] for t in ts]}) + "\n" for ws, ts in sents))
    paras = paragraphs(sents)
    f["doccano (spaCy words)"] = folder / "doccano.jsonl"
    f["doccano (spaCy words)"].write_text("".join(json.dumps({"text": t, "label": s}, ensure_ascii=False) + "\n" for t, s in paras),
                                          encoding="utf-8")
    nlp = _spacy_pipeline("en")
    with (folder / "prodigy.jsonl").open("w", encoding="utf-8") as out:
        for t, s in paras:
            toks = [{"text": x.text, "start": x.idx, "end": x.idx + len(x.text), "id": x.i} for x in nlp.tokenizer(t)]
            out.write(json.dumps({"text": t, "tokens": toks, "spans": [{"start": a, "end": b, "label": c} for a, b, c in s],
                                  "answer": "accept"}, ensure_ascii=False) + "\n")
    f["prodigy (own tokens)"] = folder / "prodigy.jsonl"
    tasks = [{"id": i, "data": {"text": t}, "annotations": [{"id": i, "completed_by": 1, "result": [
        {"type": "labels", "value": {"start": a, "end": b, "labels": [c]}} for a, b, c in s]}]} for i, (t, s) in enumerate(paras)]
    f["Label Studio JSON"] = folder / "labelstudio.json"
    f["Label Studio JSON"].write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    f["CSV list-valued rows"] = folder / "autotrain.csv"
    f["CSV list-valued rows"].write_text("tokens,tags\n" + "".join(
        '"' + json.dumps(ws).replace('"', '""') + '","' + json.dumps(ts).replace('"', '""') + '"\n' for ws, ts in sents), encoding="utf-8")
    f["CSV row per token"] = folder / "rows.csv"
    f["CSV row per token"].write_text("sentence_id,word,tag\n" + "".join(
        "".join(f"{i},\"{w}\",{t}\n" for w, t in zip(ws, ts)) for i, (ws, ts) in enumerate(sents)), encoding="utf-8")
    f["Parquet (ids)"] = folder / "train.parquet"
    features = {"ner_tags": {"feature": {"names": names, "_type": "ClassLabel"}, "_type": "List"}}
    schema = pa.schema([("tokens", pa.list_(pa.string())), ("ner_tags", pa.list_(pa.int64()))],
                       metadata={"huggingface": json.dumps({"info": {"features": features}})})
    table = pa.Table.from_pylist([{"tokens": ws, "ner_tags": [ids[t] for t in ts]} for ws, ts in sents], schema=schema)
    pq.write_table(table, f["Parquet (ids)"])
    db = DocBin()
    for i in range(0, len(sents), 3):
        chunk = sents[i : i + 3]
        db.add(Doc(nlp.vocab, words=[w for ws, _ in chunk for w in ws], ents=[t for _, ts in chunk for t in ts],
                   sent_starts=[j == 0 for ws, _ in chunk for j in range(len(ws))]))
    f["spaCy DocBin"] = folder / "train.spacy"
    db.to_disk(f["spaCy DocBin"])
    return f


def time_read(path: Path) -> tuple[float, int]:
    from tagger.data import read_file

    t0 = time.perf_counter()
    ds = read_file(path, max_bytes=10**10)
    return time.perf_counter() - t0, ds.report.sentences


def _status() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = float(value.split()[0]) / 1024
    return out


def child(path: str) -> None:
    """In a fresh process: read ``path`` and print RSS before/after and the peak (MB) as JSON."""
    from tagger import corpus, data
    from tagger.words import split_words

    corpus.MAX_SENTENCES = 10**8
    split_words("warm up spaCy.")
    before = _status()
    t0 = time.perf_counter()
    ds = data.read_file(path, max_bytes=10**10)
    seconds = time.perf_counter() - t0
    after = _status()
    print(json.dumps({"seconds": seconds, "sentences": ds.report.sentences, "before": before["VmRSS"], "after": after["VmRSS"],
                      "peak": after["VmHWM"]}))


def measure(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def big_file(folder: Path, kind: str, mb: float) -> Path:
    """A doccano JSONL (or CoNLL) file of about ``mb`` MB: the benchmark sentences repeated."""
    sents = sentences(4000, seed=11)
    paras = paragraphs(sents)
    if kind == "doccano":
        unit = "".join(json.dumps({"text": t, "label": s}, ensure_ascii=False) + "\n" for t, s in paras).encode()
    else:
        unit = "".join("".join(f"{w} NN O {t}\n" for w, t in zip(ws, ts)) + "\n" for ws, ts in sents).encode()
    path = folder / f"big-{mb:g}.{'jsonl' if kind == 'doccano' else 'conll'}"
    with path.open("wb") as out:
        for _ in range(max(1, round(mb * 1e6 / len(unit)))):
            out.write(unit)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="rounds over all formats; the best time of each is kept")
    ap.add_argument("--big-mb", type=float, default=50)
    ap.add_argument("--write", action="store_true", help="put the section into docs/BENCHMARKS.md")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    lines = header("Data readers: MB/s per format, memory of a 50 MB span file (bench_readers.py)")
    from tagger.words import split_words

    split_words("warm up spaCy.")
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        files = write_all(Path(tmp), sentences(args.sentences))
        # rounds over all formats (best per format): a slow spell of this shared machine hits every format
        # alike instead of one, and the CoNLL reference is timed as often as the rest
        best: dict[str, tuple[float, int]] = {}
        for _ in range(args.repeat):
            for name, path in files.items():
                seconds, n = time_read(path)
                best[name] = min(best.get(name, (seconds, n)), (seconds, n))
        rows, ref = [], None
        for name, path in files.items():
            seconds, n = best[name]
            mb = path.stat().st_size / 1e6
            speed = (mb / seconds, n / seconds)
            ref = ref or speed
            rows.append(f"| {name} | {mb:.1f} | {n:,} | {fmt(seconds, 2)} | {speed[0]:.1f} | {speed[1]:,.0f} | "
                        f"{speed[0] / ref[0]:.2f} | {speed[1] / ref[1]:.2f} |")
            print(rows[-1], flush=True)
        lines += [(f"{args.sentences:,} synthetic sentences (~15 words, ~1 entity each) in every format; the best of "
                   f"{args.repeat} rounds of `read_file` over all formats; ratios to the CoNLL reader in this run (sentences/s "
                   "is the fairer comparison: the same sentences take 0.4-19 MB depending on the format)."), "",
                  "| format | MB | sentences | s | MB/s | sentences/s | MB/s vs CoNLL | sentences/s vs CoNLL |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *rows, ""]
        mem = []
        for kind, mb in (("doccano", args.big_mb / 5), ("doccano", args.big_mb), ("conll", args.big_mb)):
            path = big_file(Path(tmp), kind, mb)
            m = measure(path)
            size = path.stat().st_size / 1e6
            mem.append(f"| {kind} {'JSONL' if kind == 'doccano' else 'columns'} | {size:.1f} | {m['sentences']:,} | {m['seconds']:.0f} | "
                       f"{m['after'] - m['before']:.0f} | {m['peak'] - m['after']:.0f} | {(m['peak'] - m['after']) / size:.2f} |")
            print(mem[-1], flush=True)
            path.unlink()
        lines += [("Memory, each file read in a fresh process (spaCy loaded first): *kept* = RSS after minus before (the "
                  "sentences read), *overhead* = peak RSS minus RSS after (what reading cost on top of its result)."), "",
                  "| file | MB | sentences | s | kept MB | overhead MB | overhead per file MB |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |", *mem]
    publish("readers", lines, args.write)


if __name__ == "__main__":
    main()
