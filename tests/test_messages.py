"""Every message a person reads has an Indonesian text, with the same placeholders as its English id.

The messages are found as the catalogue tool finds them (Babel's extractors over babel.cfg's
patterns), so a message added without its Indonesian text fails here, not in front of a user.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from engine import i18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("engine/**.py", "python"), ("server.py", "python"), ("engine/**/templates/**.html", "jinja2")]


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)[^{}]*\}", text))


def _messages() -> list[tuple[str, int, str]]:
    found = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"engine/**/templates/**.html": {}}
    ):
        ids = message if isinstance(message, tuple) else (message,)
        found += [(filename, lineno, text) for text in ids if text]
    return found


def test_every_message_has_an_indonesian_text():
    table = i18n.catalogue("id")
    missing = [f"{file}:{line}: {text!r}" for file, line, text in _messages() if text not in table]
    assert not missing, "no Indonesian text in engine/locale/id/LC_MESSAGES/kinerja.po for:\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", ["id"])
def test_translations_keep_their_placeholders(lang):
    wrong = []
    for message_id, text in i18n.catalogue(lang).items():
        texts = text if isinstance(text, tuple) else (text,)
        wrong += [f"{message_id!r} -> {t!r}" for t in texts if _placeholders(t) != _placeholders(message_id)]
    assert not wrong, "\n".join(wrong)


def test_language_follows_the_context_and_the_environment(monkeypatch):
    monkeypatch.delenv("KINERJA_LANG", raising=False)
    assert i18n.language() == "id"
    monkeypatch.setenv("KINERJA_LANG", "en")
    assert i18n.language() == "en"
    with i18n.using("id"):
        assert i18n.language() == "id"
    assert i18n.negotiate("fr;q=1, en-GB;q=0.8, id;q=0.5") == "en"
    assert i18n.negotiate("fr") is None


def test_each_message_has_one_entry_in_the_catalogue():
    """The catalogue merges as a union across branches (.gitattributes): a message added on two
    branches must still have one Indonesian text, not two that disagree."""
    text = (i18n.LOCALE_DIR / "id" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").read_text(encoding="utf-8")
    ids = re.findall(r'^msgid (".*"(?:\n".*")*)', text, flags=re.M)
    repeated = sorted({m for m in ids if ids.count(m) > 1})
    assert not repeated, "messages with more than one entry: " + ", ".join(repeated)
