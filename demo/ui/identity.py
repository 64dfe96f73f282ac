"""The browser side of ownership (:mod:`demo.service.owners`): each browser keeps a random owner token
in its local storage (``gr.BrowserState``, so reloads, new tabs and the next day find the same
runs), mirrored into a hidden ``owner_token`` box that every endpoint takes as its last input.
API clients pass the token ``/train`` returned in that same parameter. A Hugging Face login
(Spaces with OAuth) takes precedence over the token.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext
from demo.service.owners import Caller, OwnerError, identify

from .plumbing import bind, user_errors

STORAGE_KEY = "bert-tagger-owner"


@dataclass
class Identity:
    state: gr.BrowserState  # the token in the browser's local storage
    token: gr.Textbox  # hidden: the token as an input of every endpoint (``owner_token``)


def caller(owner_token: Any, request: Any = None, create: bool = False) -> Caller:
    """Who calls, from the ``owner_token`` input and the request's login."""
    return identify(owner_token, request, create=create)


@user_errors
def init_owner(ctx: AppContext, stored: Any, request: gr.Request) -> tuple[str, str]:
    """On page load: the browser's token (a new one the first time, or if what it kept is not a
    token) -> (local storage, the hidden box)."""
    try:
        who = identify(stored, request, create=True)
    except OwnerError:
        who = identify("", request, create=True)
    return who.token, who.token


def oauth_available() -> bool:
    """Hugging Face OAuth is configured (Spaces set ``OAUTH_CLIENT_ID`` with ``hf_oauth: true``) and
    Gradio's OAuth extra is installed (``gradio[oauth]``, which such Spaces install)."""
    return bool(os.environ.get("OAUTH_CLIENT_ID")) and importlib.util.find_spec("authlib") is not None


def build(ctx: AppContext) -> Identity:
    if oauth_available():  # a Space with `hf_oauth: true`: runs can belong to the login instead
        gr.LoginButton()
    state = gr.BrowserState("", storage_key=STORAGE_KEY, secret=ctx.browser_secret)
    token = gr.Textbox("", visible=False, label="Owner token", elem_id="owner-token")
    return Identity(state, token)


def wire(ctx: AppContext, ui: Identity, blocks: gr.Blocks) -> Any:
    """The page-load event that sets the token; hang everything that needs the owner on it (``.then``)."""
    return blocks.load(bind(ctx, init_owner), ui.state, [ui.state, ui.token], queue=False, api_visibility="private")
