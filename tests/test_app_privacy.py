"""Private runs through the API (gradio_client), with two owner tokens: Alice trains a run through
/train; every endpoint that takes a model or a job refuses it to Bob (another token) and to an
anonymous caller, and lists it to nobody but Alice, who is served by the same calls.

The handler-level matrix (with the evaluate-run path, which has no API) is tests/test_ui_privacy.py;
the browser's pickers are tests/test_app_browser_jobs.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import DEV_FILE, TINY_TRAIN, TRAIN_FILE, app_client, running_app

pytestmark = pytest.mark.app
ALICE, BOB = "a" * 32, "b" * 32
OTHERS = {"another owner": BOB, "anonymous": ""}
TEXT = "Angela Merkel visited Paris today."


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "privacy-app", tiny_base, tiny_tagger, private_runs=True)


@pytest.fixture(scope="module")
def client(app, tmp_path_factory: pytest.TempPathFactory):
    return app_client(app, tmp_path_factory)


@pytest.fixture(scope="module")
def alice(client) -> dict[str, str]:
    """Alice's run and job: trained through /train with her token."""
    from gradio_client import handle_file

    s = TINY_TRAIN
    status, *_, name, job_id, token = client.submit(
        handle_file(str(TRAIN_FILE)), handle_file(str(DEV_FILE)), s["base_label"], s["head"], s["epochs"], s["lr"], s["batch_size"],
        s["max_length"], s["label_column"], ALICE, api_name="/train").result(timeout=600)
    assert token == ALICE and name and "Done" in status  # (that it learned is test_app_api's business)
    return {"name": name, "job": job_id}


def dev_file() -> Any:
    from gradio_client import handle_file

    return handle_file(str(DEV_FILE))


# (call with a token, what a refusal says); called with Alice's token each one works
CALLS: dict[str, tuple[Callable[[Any, dict[str, str], str], Any], str]] = {
    "/tag": (lambda c, a, t: c.predict(TEXT, a["name"], t, api_name="/tag"), "Unknown model"),
    "/evaluate model": (lambda c, a, t: c.predict(dev_file(), a["name"], "no comparison", -1, t, api_name="/evaluate"), "Unknown model"),
    "/evaluate compare_with": (lambda c, a, t: c.predict(dev_file(), "tiny", a["name"], -1, t, api_name="/evaluate"), "Unknown model"),
    "/download": (lambda c, a, t: c.predict(a["name"], t, api_name="/download"), "Unknown model"),
    "/status": (lambda c, a, t: c.predict(a["job"], t, api_name="/status"), "among yours"),
    "/cancel": (lambda c, a, t: c.predict(a["job"], t, api_name="/cancel"), "among yours"),
}
CHANGES: dict[str, Callable[[Any, dict[str, str], str], Any]] = {
    "/rename": lambda c, a, t: c.predict(a["name"], "mine now", t, api_name="/rename"),
    "/delete": lambda c, a, t: c.predict(a["name"], t, api_name="/delete"),
}


@pytest.mark.parametrize("endpoint", list(CALLS))
def test_app_privacy_endpoints_refuse_another_owners_run(client, alice: dict[str, str], endpoint: str) -> None:
    from gradio_client.exceptions import AppError

    call, message = CALLS[endpoint]
    for who, token in OTHERS.items():
        with pytest.raises(AppError, match=message) as err:
            call(client, alice, token)
        assert str(err.value).count(alice["name"]) <= 1, f"{endpoint} ({who}) lists the run among the choices: {err.value}"
    assert call(client, alice, ALICE) is not None  # the owner is served


def test_app_privacy_models_lists_a_run_to_its_owner_only(client, alice: dict[str, str]) -> None:
    assert alice["name"] in {m["name"] for m in client.predict(ALICE, api_name="/models")}
    for token in OTHERS.values():
        names = {m["name"] for m in client.predict(token, api_name="/models")}
        assert "tiny" in names and alice["name"] not in names  # the shared folders are listed, the run is not


def test_app_privacy_status_of_my_latest_job_is_mine(client, alice: dict[str, str]) -> None:
    from gradio_client.exceptions import AppError

    assert client.predict("", ALICE, api_name="/status")["id"] == alice["job"]
    for token in OTHERS.values():
        with pytest.raises(AppError, match="You have no training job"):
            client.predict("", token, api_name="/status")


def test_app_privacy_rename_and_delete_owner_only(app, client, alice: dict[str, str]) -> None:
    from gradio_client.exceptions import AppError

    for endpoint, call in CHANGES.items():
        for token in OTHERS.values():
            with pytest.raises(AppError, match="Unknown model"):
                call(client, alice, token)
        assert (app.ctx.settings.app_models_dir / alice["job"]).is_dir(), endpoint  # refused, and untouched
    assert client.predict(alice["name"], "mine now", ALICE, api_name="/rename") == "Renamed to **mine now**."
    for token in OTHERS.values():
        with pytest.raises(AppError, match="Unknown model"):
            client.predict("mine now", token, api_name="/delete")
    assert client.predict("mine now", ALICE, api_name="/delete") == "Deleted **mine now**."
    assert not (app.ctx.settings.app_models_dir / alice["job"]).exists()
