"""demo.ui.plumbing: the one place where errors become gr.Error, and handler binding."""

from __future__ import annotations

import inspect
import logging

import gradio as gr
import pytest

from demo.ui.plumbing import INTERNAL_ERROR, bind, user_errors
from tagger.errors import DataError, TaggerError

pytestmark = pytest.mark.unit


PROGRESS = gr.Progress()


@user_errors
def handler(ctx: dict, text: str, request: gr.Request, progress: gr.Progress = PROGRESS) -> str:
    """Doc of the handler."""
    if text == "tagger":
        raise DataError("up/load.conll", 3, "2 columns, expected 4 <b>")
    if text == "bug":
        raise KeyError("secret internals")
    if text == "gr":
        raise gr.Error("as is")
    return f"{ctx['name']}:{text}"


@user_errors
def stream(ctx: dict, n: int) -> object:
    yield from range(n)
    raise ZeroDivisionError("late bug")


def test_plumbing_tagger_error_becomes_gr_error_with_escaped_message() -> None:
    with pytest.raises(gr.Error) as info:
        handler({"name": "x"}, "tagger", None)
    assert info.value.message == "load.conll, line 3: 2 columns, expected 4 &lt;b&gt;"
    assert info.value.print_exception is False


def test_plumbing_other_errors_are_logged_and_shown_as_internal(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="demo.ui.plumbing"), pytest.raises(gr.Error) as info:
        handler({"name": "x"}, "bug", None)
    assert info.value.message == INTERNAL_ERROR and "secret" not in info.value.message
    record = caplog.records[-1]
    assert "handler" in record.getMessage() and record.exc_info and record.exc_info[0] is KeyError  # traceback in the log


def test_plumbing_gr_error_passes_through() -> None:
    with pytest.raises(gr.Error, match="as is"):
        handler({"name": "x"}, "gr", None)


def test_plumbing_generators_convert_errors_after_yields() -> None:
    gen = bind({"name": "x"}, stream)(2)
    assert inspect.isgenerator(gen)
    assert next(gen) == 0 and next(gen) == 1
    with pytest.raises(gr.Error, match=INTERNAL_ERROR):
        next(gen)


def test_plumbing_bind_drops_ctx_and_keeps_what_gradio_reads() -> None:
    from gradio import utils

    bound = bind({"name": "x"}, handler)
    assert bound("hi", None) == "x:hi"
    assert list(inspect.signature(bound).parameters) == ["text", "request", "progress"]
    assert bound.__doc__ == "Doc of the handler."
    # Gradio finds gr.Request through the type hints (a functools.partial would hide them)
    assert [name for name, *_ in utils.get_function_params(bound)] == ["text", "progress"]
    assert inspect.isgeneratorfunction(bind({}, stream))


def test_plumbing_unknown_model_and_job_refusal_are_tagger_errors() -> None:
    from demo.service.job_queue import JobRefused
    from demo.service.registry import UnknownModel

    assert issubclass(UnknownModel, TaggerError) and issubclass(JobRefused, TaggerError)


def test_plumbing_app_import_loads_no_torch() -> None:
    """The UI process imports torch only when it tags or trains (a fresh interpreter proves it)."""
    import subprocess
    import sys

    from support import REPO

    code = ("import sys, demo.ui.app, demo.ui.tag_tab, demo.ui.train_tab, demo.service.progress; "
            "print(sorted(m for m in ('torch', 'transformers', 'accelerate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
