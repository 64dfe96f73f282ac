"""Web app timings: ``python app.py`` start -> first successful tag answer, and tag latency
through the API (gradio_client) for a ~40-word sentence.

Starts the app as a subprocess on a free 127.0.0.1 port (app-trained models go to a temp
folder), tags with the model called "default", stops the app.

    python bench/bench_app.py [--model models/default] [--calls 20] [--write]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import REPO, header, quantile, running_app, write_section  # adds the repo to sys.path

SENTENCE = (
    "German Chancellor Olaf Scholz met French President Emmanuel Macron and Ursula von der Leyen of the European "
    "Commission in Paris on Tuesday to discuss the budget, a spokesman for the Elysee Palace told Reuters in a "
    "statement issued in Brussels on Wednesday."
)


def first_answer(url: str, proc: subprocess.Popen, t0: float, timeout: float) -> tuple[float, float]:
    """Seconds from start until the server answers HTTP, and until the first tag answer."""
    import httpx
    from gradio_client import Client

    up = None
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                up = time.perf_counter() - t0
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    if up is None:
        raise SystemExit(f"the app did not answer within {timeout:.0f} s")
    Client(url, verbose=False).predict("Angela Merkel visited Paris.", "default", api_name="/tag")
    return up, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=REPO / "models" / "default", help="served as the app's default model")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--settle", type=float, default=20,
                    help="seconds to wait after the first answer (the app starts an idle training worker) before the latency calls")
    ap.add_argument("--write", action="store_true", help="also write the section into docs/BENCHMARKS.md")
    args = ap.parse_args()
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"no model at {args.model}")

    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp, running_app(tmp, args.model) as (proc, url, t0):
        up_s, first_s = first_answer(url, proc, t0, args.timeout)
        time.sleep(args.settle)
        client = Client(url, verbose=False)
        client.predict(SENTENCE, "default", api_name="/tag")  # one more warm-up call
        api_ms, model_ms = [], []
        n_words = n_entities = 0
        for _ in range(args.calls):
            t = time.perf_counter()
            result = client.predict(SENTENCE, "default", api_name="/tag")
            api_ms.append(1000 * (time.perf_counter() - t))
            m = re.search(r"in ([\d,]+) ms", result[5])
            if m:
                model_ms.append(float(m.group(1).replace(",", "")))
            n_words, n_entities = len(result[4]["data"]), len(result[2]["entities"])

    lines = header("Web app (app.py)")
    lines += [
        (f"- model: `{args.model}`; sentence of {n_words} words ({n_entities} entities); {args.calls} calls after "
        f"{args.settle:.0f} s of idle time; app defaults (1 tagging thread, idle training worker started)"),
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| `python app.py` start -> server answers HTTP | {up_s:.1f} s |",
        f"| `python app.py` start -> first tag answer (gradio_client) | {first_s:.1f} s |",
        f"| tag latency through the API, median | {statistics.median(api_ms):.0f} ms |",
        f"| tag latency through the API, p90 | {quantile(api_ms, 0.9):.0f} ms |",
    ]
    if model_ms:
        lines.append(f"| of which model time (split + predict), median | {statistics.median(model_ms):.0f} ms |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section("app", text)


if __name__ == "__main__":
    main()
