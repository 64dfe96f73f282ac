"""Packaging: pyproject lists every package, the default tagger is found from anywhere, the
``tagger`` command offers ``app``. (The full `pip install .` into a fresh venv is checked by hand:
see the README's "Installing".)"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support import REPO

from tagger import meta

pytestmark = pytest.mark.unit


def test_packaging_lists_every_package_folder() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(REPO).parts) for top in ("tagger", "demo") for p in (REPO / top).rglob("__init__.py")}
    assert set(config["packages"]) == found | {"tagger_default"}
    assert config["package-dir"]["tagger_default"] == "models/default"


def test_packaging_default_model_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(meta.DEFAULT_MODEL_ENV, str(tmp_path))
    assert meta.default_model_path() == tmp_path
    monkeypatch.delenv(meta.DEFAULT_MODEL_ENV)
    package = tmp_path / "site" / meta.DEFAULT_MODEL_PACKAGE
    package.mkdir(parents=True)
    (package / "config.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(meta, "_installed_locations", lambda: [str(package)])
    assert meta.default_model_path() == package  # an installed wheel's package data
    package.joinpath("config.json").unlink()
    assert meta.default_model_path() == meta.REPO_DEFAULT_MODEL  # a checkout


def test_packaging_finds_an_installed_default_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / meta.DEFAULT_MODEL_PACKAGE
    package.mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    importlib.invalidate_caches()
    locations = meta._installed_locations()
    assert locations and Path(locations[0]).name == meta.DEFAULT_MODEL_PACKAGE  # a package folder without __init__.py


def test_packaging_app_command_is_an_entry_point_of_the_app() -> None:
    """``tagger app`` comes from the app's entry point (the library never imports ``demo``), and the
    installed metadata has it (``pip install -e .`` registers it)."""
    from importlib.metadata import entry_points

    from tagger.cli import PLUGIN_GROUP

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"][PLUGIN_GROUP] == {"app": "demo.launch:main"}
    installed = {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}
    assert installed.get("app") == "demo.launch:main", "run `pip install -e .` to register the entry point"


def test_packaging_cli_lists_app_and_app_parses_its_own_options() -> None:
    from demo.launch import parse_args

    out = subprocess.run([sys.executable, "-m", "tagger", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0 and "app" in out.stdout and "launch the web app" in out.stdout
    args = parse_args(["--port", "7999", "--models-dir", "runs"], prog="tagger app")
    assert args.port == 7999 and args.models_dir == [Path("runs")]
    usage = subprocess.run([sys.executable, "-m", "tagger", "app", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: tagger app")
