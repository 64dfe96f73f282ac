"""The plumbing between the handlers and Gradio (the service layer, :mod:`demo.service`, knows
nothing of Gradio; this module is where its errors and values meet the page).

- :func:`user_errors` is the ONE place where errors become what the user sees: a
  :class:`~tagger.errors.TaggerError` (library errors, and the app's own ``UnknownModel`` /
  ``JobRefused``) becomes ``gr.Error`` with its message; any other exception is logged with its
  traceback and the user sees :data:`INTERNAL_ERROR`. Every handler is decorated with it.
- :func:`bind` gives a module-level handler ``handler(ctx, ...)`` its context for wiring. (Not
  ``functools.partial``: Gradio reads type hints to inject ``gr.Request``/``gr.Progress``, and a
  partial hides them.)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import typing
from collections.abc import Callable
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext
from tagger.data import MAX_FILE_BYTES
from tagger.errors import TaggerError

from . import render

log = logging.getLogger(__name__)

INTERNAL_ERROR = "Internal error; see the server log."
_CSS = """
#tag-info p, #train-status p { margin: 0; }
footer { display: none !important; }
/* Highlighted text (class "chips") reads as running text: Gradio lays each segment out as a flex box
   with margins around every chip, which breaks lines between segments and puts a gap before
   punctuation ("Eritrea ."). Inline flow, no gaps from the template's whitespace, words kept whole. */
.chips .textfield { display: block; font-size: 0; line-height: 1.9; word-break: normal; overflow-wrap: anywhere; }
.chips .token-container { display: inline; font-size: 0; }
.chips .token { font-size: 0; }
.chips .line-break { display: block; }  /* Gradio's mark of a newline in the text (a sentence a line) */
.chips .token > * { font-size: var(--text-md); line-height: 1.45; white-space: pre-wrap; }
table.cm { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
table.cm th, table.cm td { padding: 3px 6px; text-align: right; }
table.cm th.cm-row { text-align: left; }
.cm-narrow { display: none; }
.cm-note { font-size: 12px; color: var(--body-text-color-subdued); margin-top: 6px; }
@media (max-width: 720px) { .cm-wide { display: none; } .cm-narrow { display: block; } table.cm { font-size: 12px; }
  table.cm th, table.cm td { padding: 2px 4px; } }
/* Phones: wide tables scroll inside their own box (PHONE_MIN_WIDTH, below) */
@media (max-width: 720px) {
%s
}
.job-progress { display: flex; align-items: center; gap: 10px; }
.job-progress progress { flex: 1; height: 12px; accent-color: #6366f1; }
.chips .token.highlighted { display: inline-block; margin: 0; padding: 0 3px; }
/* Lists of files to download: Gradio draws a × (remove from the list) on each row of any list of two or
   more files, output or not; in a list of results it only hides a download, so it is not drawn. */
.downloads .label-clear-button { display: none; }
"""


# The width (px) below which a wide table stops shrinking on a phone and scrolls inside its own box instead
# (the page never scrolls sideways). Gradio 6 sets every column's width in pixels from column_widths and the
# width of the table's viewport, in the header, the sizing row and the virtual body alike: widening the
# viewport keeps them lined up (hiding columns by CSS does not: the body keeps the hidden columns' room), and
# words are no longer broken letter by letter.
PHONE_MIN_WIDTH = {"runs-table": 1240, "entity-table": 660, "word-table": 560, "eval-disagreements": 900, "eval-errors": 860,
                   "scores-table": 600, "eval-scores": 600, "eval-compare-table": 600, "tagfile-preview": 480,
                   "tagfile-results": 480}


def phone_tables(widths: dict[str, int]) -> str:
    """CSS that lets each table of ``widths`` (:data:`PHONE_MIN_WIDTH`) scroll inside itself below its width.

    >>> print(phone_tables({"t": 400}))
      #t .table-wrap { overflow-x: auto; }
      #t .virtual-table-viewport { min-width: 400px; }
    """
    return "\n".join(f"  #{t} .table-wrap {{ overflow-x: auto; }}\n  #{t} .virtual-table-viewport {{ min-width: {w}px; }}"
                     for t, w in widths.items())


CSS = _CSS.replace("%s", phone_tables(PHONE_MIN_WIDTH), 1)


def reveal_file() -> Any:
    """A file output hidden until it holds a file (empty, it is a tall blank box) is shown."""
    return gr.File(visible=True)


def user_error(err: BaseException | str) -> gr.Error:
    """A ``gr.Error`` showing ``str(err)`` (Gradio renders it as HTML, so it is escaped)."""
    return gr.Error(render.plain(err), print_exception=False)


def _convert(err: Exception, fn: Callable[..., Any]) -> gr.Error:
    if isinstance(err, gr.Error):
        return err
    if isinstance(err, TaggerError):
        return user_error(err)
    log.error("unexpected error in %s", fn.__qualname__, exc_info=err)
    return gr.Error(INTERNAL_ERROR, print_exception=False)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a handler (function or generator): TaggerError -> gr.Error(message); anything
    else -> logged with its traceback, and gr.Error(INTERNAL_ERROR) for the user."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 -- the UI boundary: nothing escapes unconverted
                raise _convert(err, fn) from None

        return gen

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 -- the UI boundary: nothing escapes unconverted
            raise _convert(err, fn) from None

    return call


def bind(ctx: AppContext, handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler(ctx, *inputs)`` as ``f(*inputs)`` for an event listener. Keeps the parameter
    names (they are the API's parameter names), the type hints and generator-ness."""
    sig = inspect.signature(handler)
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def bound(*args: Any, **kwargs: Any) -> Any:
            yield from handler(ctx, *args, **kwargs)
    else:

        @functools.wraps(handler)
        def bound(*args: Any, **kwargs: Any) -> Any:
            return handler(ctx, *args, **kwargs)

    bound.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    return bound


def bind_form(ctx: AppContext, handler: Callable[..., Any], form: type, owner_after: str) -> Callable[..., Any]:
    """``handler(ctx, form_value, owner_token, request, ...)`` as a listener whose parameters are the
    fields of the dataclass ``form`` with ``owner_token`` right after the field ``owner_after``, then
    the handler's own remaining parameters (``request``, ``progress``): the API keeps one parameter per
    setting, and a new setting is one field of ``form``."""
    fields = [f.name for f in dataclasses.fields(form)]
    order = fields[: fields.index(owner_after) + 1] + ["owner_token"] + fields[fields.index(owner_after) + 1 :]
    defaults = {f.name: f.default for f in dataclasses.fields(form)}
    hints = typing.get_type_hints(handler)
    rest = [p for p in list(inspect.signature(handler).parameters.values())[3:]]
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default="" if n == "owner_token" else defaults[n],
                                annotation=str if n == "owner_token" else Any) for n in order]
    params += [p.replace(annotation=hints.get(p.name, p.annotation)) for p in rest]
    sig = inspect.Signature(params)

    def split(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        value = form(**{n: values.pop(n) for n in fields})
        return (ctx, value, values.pop("owner_token"), *values.values())

    if inspect.isgeneratorfunction(handler):

        def listener(*args: Any, **kwargs: Any) -> Any:
            yield from handler(*split(args, kwargs))
    else:

        def listener(*args: Any, **kwargs: Any) -> Any:
            return handler(*split(args, kwargs))

    listener.__name__ = listener.__qualname__ = handler.__name__
    listener.__doc__ = handler.__doc__
    listener.__signature__ = sig  # type: ignore[attr-defined]
    listener.__annotations__ = {p.name: p.annotation for p in params}
    return listener


def named(component: Any) -> Any:
    """Make an out-of-range value sent through the API fail with the setting's name in the
    message (gradio's own says only "Value 1000 is greater than maximum value 128"). Wraps the
    instance's ``preprocess``: a subclass would make gradio write a .pyi stub beside this file."""
    check = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return check(payload)
        except gr.Error as err:
            raise gr.Error(f"{component.label}: {err.message}") from None

    component.preprocess = preprocess
    return component


def launch_kwargs() -> dict[str, Any]:
    """Arguments for ``Blocks.launch``: theme, CSS, and the upload limit (the library's file limit)."""
    theme = gr.themes.Soft(
        primary_hue="indigo",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],  # no web-font download
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )
    return {"theme": theme, "css": CSS, "max_file_size": MAX_FILE_BYTES}
