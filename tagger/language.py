"""Which language a text looks like: a cheap check (script, then stop words) to warn a user who
tags text in a language the model was not trained on. Pure, no model, no download.

Not a language identifier for short or mixed texts: it answers only when the evidence is clear
(enough stop words of one language, or a non-Latin script), else ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch", "pt": "Portuguese"}
# Frequent function words, none shared between the lists (a word in two lists is evidence for neither)
_STOP = {
    "en": "the and of to in is that for it with was on are as by this be at from have or which an not but were they has",
    "de": "der die und das ist nicht ein eine den dem des mit sich auf für ich sie auch wird werden nach bei oder wurde vom zum zur",
    "fr": "le la les et des est une du dans qui pas pour sur au avec ce il sont aux par cette ont été nous vous leur être",
    "es": "el los las y del que es por con para una se su al lo como más pero sus le ya fue este esta entre cuando muy sin",
    "it": "il di che è della per gli nel alla sono con dei delle anche più ma questo ha dal degli nella tra essere",
    "nl": "de het een van en is dat niet op te zijn met voor aan er maar om ook als bij nog wordt werd naar heeft",
    "pt": "o os e do da que não em para com uma os no na por mais as dos como mas foi ao ele das à seu sua ou",
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_HITS = 3  # stop words needed before a guess is made


def _lists() -> dict[str, set[str]]:
    words = {lang: set(text.split()) for lang, text in _STOP.items()}
    counts = Counter(w for ws in words.values() for w in ws)
    return {lang: {w for w in ws if counts[w] == 1} for lang, ws in words.items()}


STOP_WORDS = _lists()


@dataclass(frozen=True)
class Guess:
    code: str  # "en", "de", ... or a script name ("Cyrillic", "CJK", ...) for non-Latin text
    name: str  # for people: "German", "Cyrillic script"
    share: float  # the share of the evidence that points to it


def script_of(text: str) -> str | None:
    """The dominant non-Latin script of the letters of ``text``, or None when they are mostly Latin.

    >>> script_of("Москва — столица России"), script_of("Paris et Berlin"), script_of("東京は日本の首都です")
    ('CYRILLIC', None, 'CJK')
    """
    scripts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            first = name.split(" ")[0] if name else "OTHER"
            scripts["CJK" if first in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL") else first] += 1
    total = sum(scripts.values())
    if not total:
        return None
    script, n = scripts.most_common(1)[0]
    return script if script != "LATIN" and n / total > 0.5 else None


def guess_language(text: str) -> Guess | None:
    """The language ``text`` most likely is, when the evidence is clear; None otherwise.

    >>> guess_language("Angela Merkel met the French president in Paris on Tuesday, and they spoke of the budget.").code
    'en'
    >>> guess_language("Die Bundeskanzlerin traf den französischen Präsidenten in Paris, und sie sprachen über den Haushalt.").name
    'German'
    >>> guess_language("Le président a rencontré la chancelière à Berlin pour parler du budget de l'Union.").code
    'fr'
    >>> guess_language("Москва — столица России.").name
    'Cyrillic script'
    >>> guess_language("Paris, Berlin.") is None
    True
    """
    script = script_of(text)
    if script is not None:
        return Guess(script.lower(), f"{script.title() if script != 'CJK' else 'CJK'} script", 1.0)
    hits: Counter[str] = Counter()
    for word in _WORD.findall(text.lower()):
        for lang, words in STOP_WORDS.items():
            if word in words:
                hits[lang] += 1
    total = sum(hits.values())
    if total < MIN_HITS:
        return None
    lang, n = hits.most_common(1)[0]
    return Guess(lang, NAMES[lang], n / total) if n / total >= 0.6 else None


def mismatch(text: str, model_language: str) -> Guess | None:
    """The language ``text`` looks like when it is clearly not ``model_language`` (a code such as
    "en"), else None: what a warning to the user is made of.

    >>> mismatch("Der Präsident und die Kanzlerin sind nicht in Berlin, sagte der Sprecher.", "en").name
    'German'
    >>> mismatch("The president and the chancellor are not in Berlin, said the spokesman.", "en") is None
    True
    """
    guess = guess_language(text)
    return guess if guess is not None and guess.code != model_language else None
