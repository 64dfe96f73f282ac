"""The built wheel, installed where the checkout cannot be imported: it carries the shipped default
tagger as package data, and its ``tagger`` command tags text from any folder.

The wheel is built from a fresh copy of the sources (an in-tree build would leave ``build/`` in the
checkout, and setuptools packs whatever stale modules an old ``build/lib`` still holds). It goes into a
fresh venv that sees the project's dependencies (torch, spaCy ... are too big to install per run)
through a ``.pth`` line naming this environment's site-packages. A ``.pth`` line only adds a folder to
``sys.path``: the ``.pth`` files inside that folder (such as an editable install's import hook for the
checkout) are not run, so ``tagger`` can only come from the wheel; the test proves it from inside.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import REPO, needs_default

pytestmark = [pytest.mark.slow, needs_default]

# what `pip wheel .` reads: the build config, the files it names, and the packages' folders
SOURCES = ("pyproject.toml", "README.md", "requirements.txt", "requirements-dev.txt", "tagger", "demo", "models/default")
OPTIONAL = ("setup.cfg",)  # setuptools reads it when present (today it holds only the mutmut config)
SHIPPED = ("model.safetensors", "tagger.json", "config.json", "tokenizer.json", "tokenizer_config.json", "tagger_casing.py")
TIMEOUT = 600  # seconds per step: generous, a busy 2-core machine


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert out.returncode == 0, f"{args} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    for name in (*SOURCES, *(f for f in OPTIONAL if (REPO / f).is_file())):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    # no build isolation: setuptools comes from this environment, so no index is needed
    _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "wheels"], tmp)
    (wheel,) = (tmp / "wheels").glob("bert_tagger-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path, env: dict[str, str]) -> Path:
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp)
    purelib = _run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env).strip()
    Path(purelib, "project-dependencies.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()), encoding="utf-8")
    # pip is one of those dependencies; --ignore-installed: never touch this environment's bert-tagger
    _run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel], tmp, env)
    return venv


def test_packaging_wheel_installs_and_tags_outside_the_checkout(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"tagger_default/{f}" for f in SHIPPED} <= names, sorted(n for n in names if n.startswith("tagger_default/"))
    sources = {p.relative_to(REPO).as_posix() for top in ("tagger", "demo") for p in (REPO / top).rglob("*.py")}
    assert sources - names == set(), "modules of the checkout missing from the wheel"
    assert not any(n.startswith(("tests/", "bench/", "models/")) for n in names)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TAGGER_DEFAULT_MODEL")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TAGGER_CACHE=str(tmp_path / "cache"), PYTHONNOUSERSITE="1")
    venv = _fresh_venv(tmp_path, wheel, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    probe = ("import importlib.util, json, sys, tagger, demo.launch; from tagger.meta import default_model_path; "
             "print(json.dumps({'tagger': tagger.__file__, 'demo': demo.launch.__file__, 'default': str(default_model_path()), "
             "'app_py': importlib.util.find_spec('app') is not None, 'path': sys.path}))")
    seen = json.loads(_run([venv / "bin" / "python", "-c", probe], elsewhere, env))
    inside = venv.resolve()
    for key in ("tagger", "demo", "default"):
        assert Path(seen[key]).resolve().is_relative_to(inside), (key, seen[key])
    assert Path(seen["default"]).name == "tagger_default"  # the package data, not a checkout's models/default
    assert all((Path(seen["default"]) / f).is_file() for f in SHIPPED)
    assert not seen["app_py"] and str(REPO) not in seen["path"]  # the checkout's root (app.py) is not importable

    out = _run([venv / "bin" / "tagger", "predict", "Angela Merkel visited Paris."], elsewhere, env)
    entities = [(e["text"], e["label"]) for e in json.loads(out)["entities"]]
    assert entities == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    usage = _run([venv / "bin" / "tagger", "app", "--help"], elsewhere, env)  # the app's entry point, from the wheel
    assert usage.startswith("usage: tagger app")
