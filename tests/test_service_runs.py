"""demo.service.runs (the runs on disk), demo.service.owners (who sees and changes what) and the settings that
choose the models folder and private runs. File-system only: no torch, no server."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from demo.service.owners import OwnerError, identify, login_name, token_owner
from demo.service.registry import ModelRegistry
from demo.service.runs import JOB_FILE, RunError, RunStore, is_complete
from demo.service.settings import DEFAULT_MODELS_DIR, AppSettings, models_dir_default, private_runs_default

pytestmark = pytest.mark.unit
ALICE, BOB = token_owner("a" * 32), token_owner("b" * 32)


def fake_run(root: Path, run_id: str, owner: str | None = None, created: float = 1000.0, name: str | None = None,
             **meta: object) -> Path:
    """A folder as save_tagger leaves it (config, weights, tagger.json last)."""
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    record = {"id": run_id, "owner": owner, "created": created, "train_file": "train.conll"}
    if name:
        record["name"] = name
    body = {"labels": ["O", "B-PER", "I-PER"], "config": {"base": "tiny", "head": "linear", "epochs": 2}, "dev": {"f1": 81.234},
            "device": "cpu", "precision": "fp32", "train_seconds": 12.5, "run": record, **meta}
    (folder / "tagger.json").write_text(json.dumps(body))
    return folder


def test_runs_lists_complete_runs_newest_first(tmp_path: Path) -> None:
    fake_run(tmp_path, "trained-1", ALICE, created=1000)
    fake_run(tmp_path, "trained-2", BOB, created=2000)
    store = RunStore(tmp_path)
    assert [r.id for r in store.runs()] == ["trained-2", "trained-1"]
    summary = ModelRegistry(None, [], store).run_summaries()[1]
    assert summary["name"] == "trained-1" and summary["dev_f1"] == 81.2 and summary["device"] == "cpu"
    assert summary["labels"] == ["O", "B-PER", "I-PER"] and summary["base"] == "tiny" and summary["test_f1"] is None
    assert summary["seconds"] == 12.5  # a version-1 record: train_seconds was the wall time
    # whose it is, said to the caller (never the owner's id): shared runs, a caller without a token, then Alice
    assert summary["owner"] == "another user" and not summary["changeable"]
    mine = ModelRegistry(None, [], store).run_summaries(ALICE)[1]
    assert mine["owner"] == "you" and mine["changeable"]
    store.close()


def test_runs_startup_removes_incomplete_runs_and_temp_folders_only(tmp_path: Path) -> None:
    root = tmp_path / "models"
    fake_run(root, "trained-ok", ALICE)
    job = root / "trained-killed"  # a job that was training when the app died
    job.mkdir()
    (job / JOB_FILE).write_text(json.dumps({"id": "trained-killed", "owner": ALICE, "config": {"epochs": 3}}))
    (job / "train").mkdir()
    (job / "train" / "data.conll").write_text("w O\n")
    half = root / "trained-half"  # config written, tagger.json (written last) missing
    half.mkdir()
    (half / "config.json").write_text("{}")
    (root / ".trained-ok.tmp-abc123").mkdir()  # a save interrupted mid-write
    (root / ".trained-x.old-42").mkdir()
    (root / "trained-ok" / ".tagger.json.tmp-zz").write_text("{")  # an interrupted rename
    stranger = root / "notes"  # not ours: left alone
    stranger.mkdir()
    (stranger / "readme.txt").write_text("mine")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text("{}")
    (root / "link").symlink_to(outside, target_is_directory=True)  # never followed, never removed

    store = RunStore(root)
    assert store.exclusive
    left = sorted(p.name for p in root.iterdir())
    assert left == [".lock", "link", "notes", "trained-ok"]
    assert [r.id for r in store.runs()] == ["trained-ok"]
    assert not (root / "trained-ok" / ".tagger.json.tmp-zz").exists()
    assert (outside / "config.json").is_file() and (stranger / "readme.txt").is_file()
    assert [(r["id"], r["owner"]) for r in store.interrupted] == [("trained-killed", ALICE)]
    store.close()


def test_runs_second_app_on_the_same_folder_removes_nothing_recent(tmp_path: Path) -> None:
    first = RunStore(tmp_path)
    job = tmp_path / "trained-running"
    job.mkdir()
    (job / JOB_FILE).write_text("{}")
    (tmp_path / ".trained-running.tmp-1").mkdir()
    second = RunStore(tmp_path)  # the first one holds the lock: its job may be running
    assert not second.exclusive
    assert job.is_dir() and (tmp_path / ".trained-running.tmp-1").is_dir()
    old = time.time() - 7200
    os.utime(tmp_path / ".trained-running.tmp-1", (old, old))
    second.cleanup()  # an old leftover of a save goes; a job folder is never removed without the lock
    assert not (tmp_path / ".trained-running.tmp-1").exists() and job.is_dir()
    first.close()
    second.close()
    third = RunStore(tmp_path)
    assert third.exclusive and not job.exists()
    third.close()


def test_runs_reserve_copies_uploads_and_discard_removes_only_unfinished(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "models")
    upload = tmp_path / "data.conll"
    upload.write_text("Paris B-LOC\n")
    run_id, folder, copies = store.reserve({"owner": ALICE}, {"train": str(upload), "dev": None})
    assert run_id.startswith("trained-") and folder.parent == store.root
    assert json.loads((folder / JOB_FILE).read_text())["id"] == run_id
    assert Path(copies["train"]).read_text() == "Paris B-LOC\n" and copies["dev"] is None
    assert not is_complete(folder) and store.runs() == []
    second, _, _ = store.reserve({"owner": ALICE}, {"train": str(upload)})
    assert second != run_id  # same second: a suffix, never a clash
    assert store.discard(run_id) and not folder.exists()
    fake_run(store.root, "trained-done", ALICE)
    assert not store.discard("trained-done") and is_complete(store.root / "trained-done")  # complete: kept
    for bad in ("../models", "..", ".lock"):
        assert not store.discard(bad)
    assert upload.is_file()


def test_runs_private_runs_are_seen_and_changed_by_their_owner_only(tmp_path: Path) -> None:
    fake_run(tmp_path, "trained-a", ALICE)
    fake_run(tmp_path, "trained-b", BOB)
    fake_run(tmp_path, "trained-legacy", None)  # trained before owners existed
    private = RunStore(tmp_path, private=True)
    assert [r.id for r in private.visible(ALICE)] == ["trained-a"]
    assert private.visible(None) == []
    with pytest.raises(RunError, match="No run named 'trained-b' among yours"):
        private.find("trained-b", ALICE)
    with pytest.raises(RunError, match="No run named"):
        private.delete("trained-b", ALICE)
    assert (tmp_path / "trained-b").is_dir()
    private.close()
    shared = RunStore(tmp_path, private=False)
    assert {r.id for r in shared.visible(None)} == {"trained-a", "trained-b", "trained-legacy"}
    with pytest.raises(RunError, match="Only the owner of 'trained-b' can delete it"):
        shared.delete("trained-b", ALICE)
    shared.delete("trained-legacy", ALICE)  # nobody's: anyone may, when runs are shared
    shared.delete("trained-b", BOB)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["trained-a"]
    shared.close()


def test_runs_rename_changes_the_display_name_only(tmp_path: Path) -> None:
    fake_run(tmp_path, "trained-a", ALICE)
    fake_run(tmp_path, "trained-b", ALICE, created=2000)
    store = RunStore(tmp_path, private=True)
    run = store.rename("trained-a", "  NER on filings ", ALICE)
    assert run.name == "NER on filings" and run.id == "trained-a" and (tmp_path / "trained-a").is_dir()
    assert store.find("NER on filings", ALICE).id == "trained-a"
    assert store.find("trained-a", ALICE).name == "NER on filings"  # the id still finds it
    with pytest.raises(RunError, match="taken"):
        store.rename("trained-b", "NER on filings", ALICE)
    with pytest.raises(RunError, match="taken"):
        store.rename("trained-b", "default", ALICE, taken={"default"})
    with pytest.raises(RunError, match="1 to 64 characters"):
        store.rename("trained-b", "x" * 65, ALICE)
    with pytest.raises(RunError, match="control characters"):
        store.rename("trained-b", "a\nb", ALICE)
    with pytest.raises(RunError, match="No run named"):
        store.rename("trained-b", "mine now", BOB)
    meta = json.loads((tmp_path / "trained-a" / "tagger.json").read_text())
    assert meta["run"]["name"] == "NER on filings" and meta["run"]["owner"] == ALICE and meta["dev"]["f1"] == 81.234
    store.close()


def test_runs_cap_counts_per_owner_when_private(tmp_path: Path) -> None:
    for i in range(4):
        fake_run(tmp_path, f"trained-a{i}", ALICE, created=1000 + i)
    fake_run(tmp_path, "trained-b0", BOB, created=500)  # the oldest run of all, but Bob's
    store = RunStore(tmp_path, max_per_owner=2, private=True)
    removed = store.enforce_cap(ALICE, keep="trained-a3")
    assert sorted(r.id for r in removed) == ["trained-a0", "trained-a1"]
    assert sorted(r.id for r in store.runs()) == ["trained-a2", "trained-a3", "trained-b0"]
    store.close()
    shared = RunStore(tmp_path, max_per_owner=2, private=False)  # shared: one list, oldest first out
    assert [r.id for r in shared.enforce_cap(ALICE)] == ["trained-b0"]
    shared.close()


def test_runs_total_cap_across_owners(tmp_path: Path) -> None:
    for i, owner in enumerate([ALICE, BOB, ALICE, BOB]):
        fake_run(tmp_path, f"trained-{i}", owner, created=1000 + i)
    store = RunStore(tmp_path, max_per_owner=5, private=True, max_total=3)
    assert [r.id for r in store.enforce_cap(BOB, keep="trained-3")] == ["trained-0"]
    store.close()


def test_runs_zip_is_a_model_folder_without_the_owner(tmp_path: Path) -> None:
    fake_run(tmp_path / "m", "trained-a", ALICE, name="NER: v2/final")
    store = RunStore(tmp_path / "m")
    path = store.zip(store.find("NER: v2/final", ALICE), tmp_path)
    assert path.name == "NER-v2-final.zip"
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        meta = json.loads(zf.read("NER-v2-final/tagger.json"))
    assert names == ["NER-v2-final/config.json", "NER-v2-final/model.safetensors", "NER-v2-final/tagger.json"]
    assert "owner" not in meta["run"] and meta["run"]["name"] == "NER: v2/final"
    store.close()


# ------------------------------------------------------------------------------------ owners
def test_runs_owner_from_token_login_or_new_token() -> None:
    caller = identify("", create=True)
    assert caller.known and len(caller.token) == 32 and caller.owner == token_owner(caller.token)
    assert identify(caller.token).owner == caller.owner  # the same token: the same owner
    assert identify("").owner is None
    with pytest.raises(OwnerError, match="not a token this app hands out"):
        identify("../../etc/passwd")

    class Req:
        username = None
        request = type("R", (), {"scope": {"session": {"oauth_info": {"userinfo": {"preferred_username": "ada"},
                                                                       "expires_at": time.time() + 60}}}})()

    assert login_name(Req()) == "ada"
    assert identify("", Req()).owner == "hf:ada"  # the Hugging Face login wins over tokens
    Req.request.scope["session"]["oauth_info"]["expires_at"] = time.time() - 1
    assert login_name(Req()) is None


# ------------------------------------------------------------------------------------ settings
def test_runs_models_dir_goes_to_persistent_storage_on_spaces(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert models_dir_default({"SPACE_ID": "me/app"}, data)[1] is False  # no /data: lost at restart
    data.mkdir()
    assert models_dir_default({"SPACE_ID": "me/app"}, data) == (data / "bert-tagger" / "models", True)
    assert models_dir_default({"SPACE_ID": "me/app", "TAGGER_MODELS_DIR": str(tmp_path / "x")}, data)[1] is False
    assert models_dir_default({"TAGGER_MODELS_DIR": str(tmp_path / "x")}, data) == (tmp_path / "x", True)
    blocked = tmp_path / "blocked"  # a /data where the runs folder cannot be made (also as root): a file in the way
    blocked.mkdir()
    (blocked / "bert-tagger").write_text("not a folder")
    assert models_dir_default({}, blocked) == (DEFAULT_MODELS_DIR, True)
    assert models_dir_default({"SPACE_ID": "me/app"}, blocked) == (DEFAULT_MODELS_DIR, False)


def test_runs_private_by_default_on_a_space_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert private_runs_default({"SPACE_ID": "me/app"}) and not private_runs_default({})
    assert private_runs_default({"TAGGER_PRIVATE_RUNS": "1"})
    assert not private_runs_default({"SPACE_ID": "me/app", "TAGGER_PRIVATE_RUNS": "0"})
    monkeypatch.setenv("SPACE_ID", "me/app")
    monkeypatch.setenv("TAGGER_TRAIN_PARALLEL", "2")
    monkeypatch.setenv("TAGGER_TRAIN_QUEUE", "7")
    monkeypatch.delenv("TAGGER_PRIVATE_RUNS", raising=False)
    settings = AppSettings.from_env()
    assert settings.private_runs and settings.train_parallel == 2 and settings.train_queue == 7



def test_registry_a_broken_model_folder_is_named_in_one_error_for_every_tab(tmp_path: Path) -> None:
    """Tag, Tag a file, Evaluate and Correct all load through ``predictor``: one message, naming the model."""
    from tagger.errors import ModelError

    broken = tmp_path / "dirs" / "broken"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    store = RunStore(tmp_path / "runs")
    registry = ModelRegistry(None, [tmp_path / "dirs"], store)
    with pytest.raises(ModelError, match="^Cannot load model 'broken': "):
        registry.predictor("broken")
    store.close()
