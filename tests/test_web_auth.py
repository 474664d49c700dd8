"""The web's foundation through its pages: signing in and out, CSRF, roles, 404 for what is not
yours, the rate limit on failed sign-ins, languages, the users page and `kinerja users`."""

from __future__ import annotations

import pytest
from webtools import PASSWORD, add_user, csrf_token, post_form, sign_in

from engine.service.store import AuditEntry


@pytest.fixture
def people(app):
    add_user(app, "admin1", "admin")
    add_user(app, "opd1", "agency", "dinkes")
    add_user(app, "opd2", "agency", "bappeda")
    add_user(app, "rev1", "reviewer")
    return app


def audit(app) -> list[AuditEntry]:
    with app.extensions["kinerja_store"].session() as session:
        return list(session.query(AuditEntry).order_by(AuditEntry.id))


def test_pages_need_a_signed_in_user(client, people):
    answer = client.get("/kiriman")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/masuk?next=/kiriman")
    assert client.get("/").headers["Location"] == "/masuk"


def test_signing_in_sets_a_safe_session_cookie_and_signing_out_ends_it(client, people):
    answer = sign_in(client, "opd1")
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/kiriman")
    assert page.status_code == 200 and b"opd1" in page.data
    client.post("/keluar", data={"csrf_token": csrf_token(page.data)})
    assert client.get("/kiriman").status_code == 302


def test_a_wrong_password_is_refused_in_indonesian(client, people):
    answer = sign_in(client, "opd1", "bukan-kata-sandinya")
    assert answer.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in answer.get_data(as_text=True)
    assert client.get("/kiriman").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(client, people):
    client.get("/masuk")
    answer = client.post("/masuk", data={"username": "opd1", "password": PASSWORD})
    assert answer.status_code == 400
    assert "Formulir sudah kedaluwarsa" in answer.get_data(as_text=True)
    assert client.get("/kiriman").status_code == 302


def test_the_api_needs_no_csrf_token(client, people):
    from engine.service import create_key

    _, secret = create_key(people.extensions["kinerja_store"], "agency", "dinkes")
    answer = client.post("/v1/submissions", json={}, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"


def test_too_many_failed_sign_ins_are_slowed_down(client, people):
    for _attempt in range(5):
        assert sign_in(client, "opd1", "salah-salah-salah").status_code == 401
    answer = sign_in(client, "opd1")  # even the right password waits now
    assert answer.status_code == 429
    assert "Terlalu banyak percobaan" in answer.get_data(as_text=True)


def test_successful_sign_ins_are_not_counted_against_the_limit(client, people):
    for _attempt in range(8):
        assert sign_in(client, "opd1").status_code == 302
        client.post("/keluar", data={"csrf_token": csrf_token(client.get("/kiriman").data)})


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(client, people):
    from engine.service.accounts import disable_user

    sign_in(client, "opd1")
    assert client.get("/kiriman").status_code == 200
    disable_user(people.extensions["kinerja_store"], "opd1")
    assert client.get("/kiriman").status_code == 302
    assert sign_in(client, "opd1").status_code == 401


def test_the_wrong_role_gets_404(client, people):
    sign_in(client, "opd1")
    assert client.get("/pengguna").status_code == 404
    assert "Halaman tidak ditemukan" in client.get("/pengguna").get_data(as_text=True)
    client.post("/keluar", data={"csrf_token": csrf_token(client.get("/kiriman").data)})
    sign_in(client, "rev1")
    assert client.get("/kiriman/baru").status_code == 404


def test_an_unknown_page_is_an_html_404_and_the_api_keeps_problem_json(client, people):
    page = client.get("/tidak-ada")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/v1/tidak-ada")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_next_never_leaves_the_site(client, people):
    token = csrf_token(client.get("/masuk").data)
    answer = client.post(
        "/masuk", data={"username": "opd1", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/"}
    )
    assert answer.headers["Location"] == "/"


def test_language_follows_accept_language_then_the_switch(client, people):
    assert "Sign in" in client.get("/masuk", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Masuk" in client.get("/masuk").get_data(as_text=True)
    page = client.get("/masuk")
    client.post("/bahasa", data={"lang": "en", "next": "/masuk", "csrf_token": csrf_token(page.data)})
    text = client.get("/masuk").get_data(as_text=True)
    assert 'lang="en"' in text and "Username" in text


def test_an_admin_adds_and_disables_users_on_the_users_page_audited(client, people):
    sign_in(client, "admin1")
    answer = post_form(
        client,
        "/pengguna",
        "/pengguna",
        {"username": "opd3", "password": PASSWORD, "role": "agency", "agency": "dinsos"},
    )
    assert answer.status_code == 302
    assert "opd3" in client.get("/pengguna").get_data(as_text=True)
    refused = post_form(
        client, "/pengguna", "/pengguna", {"username": "opd4", "password": PASSWORD, "role": "agency", "agency": ""}
    )
    assert refused.status_code == 422 and "memerlukan instansi" in refused.get_data(as_text=True)
    assert post_form(client, "/pengguna", "/pengguna/opd3/nonaktifkan", {}).status_code == 302
    entries = [(e.actor, e.action, e.object) for e in audit(people)]
    assert ("u:admin1", "user.create", "user/opd3") in entries
    assert ("u:admin1", "user.disable", "user/opd3") in entries
    client.post("/keluar", data={"csrf_token": csrf_token(client.get("/pengguna").data)})
    assert sign_in(client, "opd3").status_code == 401


def test_passwords_are_stored_as_argon2_hashes(people):
    from engine.service.store import User

    with people.extensions["kinerja_store"].session() as session:
        hashes = [u.password_hash for u in session.query(User)]
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_the_session_key_is_kept_in_the_database_for_every_process(db_url):
    from server import create_app

    first, second = create_app({"DATABASE_URL": db_url}), create_app({"DATABASE_URL": db_url})
    try:
        assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    finally:
        first.extensions["kinerja_store"].dispose()
        second.extensions["kinerja_store"].dispose()


def test_kinerja_users_create_reads_the_password_from_stdin(run_cli, db_url, tmp_path):
    code, out, err = run_cli(
        "users", "create", "opd9", "--role", "agency", "--agency", "dinkes", "--db", db_url, stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    assert "opd9" in out
    code, out, _err = run_cli("users", "list", "--db", db_url)
    assert code == 0 and "opd9" in out and "dinkes" in out
    code, _out, err = run_cli("users", "create", "opd8", "--role", "agency", "--db", db_url, stdin=PASSWORD + "\n")
    assert code == 2 and "instansi" in err
    code, _out, err = run_cli("users", "create", "opd7", "--role", "reviewer", "--db", db_url, stdin="pendek\n")
    assert code == 2 and "paling sedikit 10" in err
    assert run_cli("users", "disable", "opd9", "--db", db_url)[0] == 0
    from engine.service import accounts
    from engine.service.store import open_store

    store = open_store(db_url)
    try:
        assert accounts.sign_in(store, "opd9", PASSWORD) is None
    finally:
        store.dispose()
