"""Shared helpers of the benchmark scripts: machine description, data paths, markdown output.

Each script prints one markdown section; ``--write`` also puts it into docs/BENCHMARKS.md,
replacing that script's previous section (between ``<!-- bench:NAME -->`` markers).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("TAGGER_SHARED_DATA", REPO.parent / "shared" / "data"))
CONLL = DATA / "conll2003"
BENCHMARKS_MD = REPO / "docs" / "BENCHMARKS.md"

if str(REPO) not in sys.path:  # `python bench/x.py` works without PYTHONPATH
    sys.path.insert(0, str(REPO))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def busy_processes() -> list[str]:
    """Other training jobs running now (their timings would be meaningless)."""
    try:
        out = subprocess.run(["pgrep", "-af", "tagger train"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return []
    me = str(os.getpid())
    return [ln for ln in out.splitlines() if ln and not ln.startswith(me + " ") and "pgrep" not in ln]


def machine_line() -> str:
    import torch
    import transformers

    flags = cpu_flags()
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    if "avx512_vnni" in flags or "avx_vnni" in flags:
        simd += "+VNNI"
    mem = ""
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        pass
    return (
        f"{os.cpu_count()} CPU cores ({cpu_model()}, {simd}){mem}; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), transformers {transformers.__version__}"
    )


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        script_s = str(script.relative_to(REPO))
    except ValueError:
        script_s = str(script)
    return "python " + " ".join(shlex.quote(a) for a in [script_s, *sys.argv[1:]])


def header(title: str) -> list[str]:
    lines = [
        f"## {title}",
        "",
        f"- date: {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- machine: {machine_line()}",
        f"- command: `{command_line()}` (from the repository root)",
    ]
    busy = busy_processes()
    if busy:
        lines.append(f"- **WARNING: other training jobs were running; timings are not meaningful**: {'; '.join(busy)}")
    lines.append(f"- load average at start (1/5/15 min): {load_average()} (a quiet 2-core machine reads below ~0.3)")
    return lines + [""]


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def footer() -> list[str]:
    """Closing line: the load at the end shows whether something else ran meanwhile."""
    return ["", f"Load average at the end (1/5/15 min): {load_average()}; this process itself adds up to ~2."]


def publish(name: str, lines: list[str], write: bool) -> str:
    """The section (``lines`` + footer) as markdown: printed, and with ``write`` put into docs/BENCHMARKS.md."""
    md = "\n".join(lines + footer()) + "\n"
    print(md)
    if write:
        write_section(name, md)
    return md


def section_suffix(attention_dropout: float | None) -> str:
    """Section-name suffix of a run with a non-default ``--attention-dropout``."""
    return "" if attention_dropout is None else f"-attention-dropout-{attention_dropout:g}"


def write_section(name: str, markdown: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section between ``<!-- bench:name -->`` and ``<!-- /bench:name -->``."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n\nWritten by the scripts in `bench/` (`--write`).\n\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quantile(values: list[float], p: float) -> float:
    """Nearest-rank quantile (p95 of 20 values = the 19th smallest).

    >>> quantile([float(v) for v in range(1, 21)], 0.95)
    19.0
    """
    import math

    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def window_lengths(base: str, sentences: list[list[str]], max_length: int) -> list[int]:
    """Sub-tokens (incl. [CLS]/[SEP]) of each training window tagger.train builds from ``sentences``."""
    from tagger.features import make_features
    from tagger.model import load_tokenizer, resolve_base

    tok = load_tokenizer(resolve_base(base))
    return [len(f.input_ids) for f in make_features(tok, sentences, max_length, overlap=False)]


def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(models_dir: str | Path, model: Path | None = None, quiet: bool = True) -> Iterator[tuple[subprocess.Popen, str, float]]:
    """``python app.py`` on a free 127.0.0.1 port, app-trained models in ``models_dir``; yields
    (process, url, start time) and stops it afterwards (SIGINT, then kill)."""
    port = free_port()
    env = dict(os.environ, TAGGER_MODELS_DIR=str(models_dir), GRADIO_ANALYTICS_ENABLED="False", PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(REPO / "app.py"), "--port", str(port)] + (["--default-model", str(model)] if model else [])
    out = subprocess.DEVNULL if quiet else None
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        yield proc, f"http://127.0.0.1:{port}/", t0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
