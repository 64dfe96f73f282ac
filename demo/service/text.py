"""Escaping user-controlled text (file names, run names, label names) for the places it is shown:
Markdown (status lines, model cards) and Gradio's messages (rendered as HTML). Pure functions."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def md(text: object) -> str:
    """Escape user-controlled text for a Markdown component (no HTML, no Markdown syntax).

    >>> md("a_*b*")
    'a\\\\_\\\\*b\\\\*'
    >>> md("<script>")
    '&lt;script&gt;'
    """
    # quotes stay: they are plain text in Markdown, and an entity like &#x27; would show as such once # is escaped
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def plain(text: object) -> str:
    """Escape user-controlled text for a gr.Error/gr.Warning message (rendered as HTML, as element text).

    >>> plain("<img src=x>")
    '&lt;img src=x&gt;'
    """
    return html.escape(str(text), quote=False)
