"""Who owns a run or a training job, and who may see or change it.

With private runs (on a Space, or ``TAGGER_PRIVATE_RUNS=1``) only a run's owner sees it, tags
with it, downloads, renames, cancels or deletes it. Shared runs (the default elsewhere) are
visible to everyone; changing one is still its owner's (or anyone's, for a run with no owner,
as runs trained before owners existed).

An owner is one of:

- ``hf:<username>``: the Hugging Face login, where the Space enables OAuth (or the name from
  Gradio's own ``auth``);
- ``t-<hash>``: a random owner token kept in the browser (``gr.BrowserState``) or by an API
  client (``/train`` returns it). Only its SHA-256 is ever stored, so a ``tagger.json`` or a
  zip never carries the token itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tagger.errors import TaggerError

TOKEN_BYTES = 24  # 32 URL-safe characters
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")


class OwnerError(TaggerError, ValueError):
    """An owner token that is not one this app hands out."""


def new_token() -> str:
    """A fresh random owner token (32 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_owner(token: str) -> str:
    """The owner id of a token: its hash, never the token.

    >>> token_owner("x" * 32)
    't-c62e4615bd39e222572f3a1bf7c2132e'
    """
    return "t-" + hashlib.sha256(token.encode("ascii")).hexdigest()[:32]


def login_name(request: Any) -> str | None:
    """The logged-in user of a request: Gradio ``auth``'s username, or the Hugging Face OAuth
    login (Spaces with ``hf_oauth: true``). None for anonymous visitors and API clients."""
    if request is None:
        return None
    name = getattr(request, "username", None)
    if isinstance(name, str) and name:
        return name
    underlying = getattr(request, "request", None) or request
    scope = getattr(underlying, "scope", None)
    session = scope.get("session", {}) if isinstance(scope, dict) else getattr(underlying, "session", None) or {}
    info = session.get("oauth_info") if hasattr(session, "get") else None
    if not isinstance(info, dict):
        return None
    expires = info.get("expires_at")
    if expires is not None and expires < time.time():
        return None
    user = (info.get("userinfo") or {}).get("preferred_username")
    return user if isinstance(user, str) and user else None


@dataclass(frozen=True)
class Caller:
    """Who is asking: ``owner`` is None for an anonymous caller without a token (who then
    sees shared runs only and owns nothing); ``token`` is what the browser or client keeps."""

    owner: str | None
    token: str = ""

    @property
    def known(self) -> bool:
        return self.owner is not None


def identify(token: Any, request: Any = None, *, create: bool = False) -> Caller:
    """The caller from their login (preferred) or owner token. ``create``: give a caller
    without either a new token (starting a job makes one an owner).

    >>> identify("").owner is None
    True
    >>> identify("", create=True).known
    True
    >>> identify("x" * 32).owner == token_owner("x" * 32)
    True
    """
    token = token.strip() if isinstance(token, str) else ""
    if token and not _TOKEN.fullmatch(token):
        raise OwnerError("owner_token: not a token this app hands out (pass the owner_token /train returned, or nothing)")
    login = login_name(request)
    if login:
        return Caller(f"hf:{login}", token)
    if token:
        return Caller(token_owner(token), token)
    if create:
        token = new_token()
        return Caller(token_owner(token), token)
    return Caller(None, "")


def can_see(run_owner: str | None, caller: str | None, private: bool) -> bool:
    """Shared runs: everyone. Private runs: the owner only (a run without owner: nobody).

    >>> can_see("t-1", "t-2", private=False), can_see("t-1", "t-2", private=True), can_see(None, None, private=True)
    (True, False, False)
    """
    if not private:
        return True
    return run_owner is not None and run_owner == caller


def can_change(run_owner: str | None, caller: str | None, private: bool) -> bool:
    """Cancel, rename, delete: the owner; for a run with no owner, anyone when runs are shared.

    >>> can_change("t-1", "t-1", True), can_change("t-1", "t-2", False), can_change(None, "t-2", False)
    (True, False, True)
    """
    if run_owner is None:
        return not private
    return run_owner == caller
