"""Helpers for the web's tests (Flask test client): users, the CSRF token of a page, signing in.

Shared by tests/test_web_*.py; they go through the pages as a browser would (GET the form, read
its csrf_token, POST it back)."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

from engine.service import accounts

PASSWORD = "rahasia-yang-panjang"


def csrf_token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1).decode()


def add_user(app, username: str, role: str, agency: str | None = None, password: str = PASSWORD):
    return accounts.create_user(app.extensions["kinerja_store"], username, password, role, agency)


def sign_in(client, username: str, password: str = PASSWORD, lang: str | None = None):
    """Sign in through /masuk; returns the response to the POST."""
    headers = {"Accept-Language": lang} if lang else {}
    token = csrf_token(client.get("/masuk", headers=headers).data)
    return client.post(
        "/masuk", data={"username": username, "password": password, "csrf_token": token}, headers=headers
    )


def post_form(client, page_url: str, url: str, data: dict, **kwargs):
    """POST `data` to `url` with the CSRF token of the form on `page_url`."""
    token = csrf_token(client.get(page_url).data)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def serang_threshold_copy(title: str = "Serang, Di Atas mulai 105") -> str:
    """serang with Di Atas from an average capaian of 105 instead of 100, as the workbench writes it,
    less the parent's cases it copies: the change moves their expectations, and a policy whose own
    cases fail cannot be published (engine.service.failing_cases)."""
    from engine import api
    from engine.service import workbench

    loaded = api.load("serang")
    text = workbench.child_yaml(
        loaded,
        workbench.changes_from(loaded, {"values/batas_di_atas/formula": "105"}),
        workbench.Identity("serang-ambang", "1", title, "2024-01-01"),
    )
    head, _sep, cases = text.partition("\ntests:\n")
    assert cases and not re.search(r"^\S", cases, flags=re.M), "tests: is the child's last block"
    return head + "\n"


def shoot(page, path: Path, full_page: bool = False) -> None:
    """Save a screenshot for people to look at; a browser that cannot capture one does not fail the test.

    Chromium under load now and then answers "Unable to capture screenshot" right after a
    navigation. The pictures are evidence for reviewers, not what the tests assert, so this waits
    for the page, retries twice and then only warns."""
    for attempt in range(3):
        try:
            page.wait_for_load_state("load")
            page.screenshot(path=str(path), full_page=full_page)
            return
        except Exception as error:  # playwright.Error; imported lazily so the quick set needs no browser
            if attempt == 2:
                warnings.warn(f"no screenshot {path.name}: {error}", stacklevel=2)
            time.sleep(0.5)
