"""The reviewers' and authors' pages through the Flask test client (issue 13): who sees what,
reviewers change nothing, the compare page agrees with the service, the workbench publishes only
a policy whose checks and cases pass."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from webtools import add_user, csrf_token, serang_threshold_copy, sign_in

from engine import service
from engine.evaluate.io import decode_json, encode

ROOT = Path(__file__).resolve().parent.parent
RECORDS = [
    decode_json(line.encode("utf-8"))
    for line in (ROOT / "examples" / "serang.jsonl").read_text(encoding="utf-8").splitlines()
]
BIDAN = "values/capaian_hasil_kerja/weighted/weights/bidan/"
#: Forms whose POST writes something other than a replay's audit entry, the language or signing out.
HARMLESS_POSTS = ("/bahasa", "/keluar", "/tinjauan/ulang")


@pytest.fixture
def people(app):
    add_user(app, "admin1", "admin")
    add_user(app, "opd1", "agency", "dinkes")
    add_user(app, "rev1", "reviewer")
    store = app.extensions["kinerja_store"]
    body = {"policy": "serang", "period": "2025-01", "records": RECORDS[:120]}
    service.submit(store, service.Caller("k1", "agency", "dinkes"), body, None, encode(body))
    body = {"policy": "serang", "period": "2025-01", "records": RECORDS[120:]}
    service.submit(store, service.Caller("k2", "agency", "bapenda"), body, None, encode(body))
    return app


def posting_forms(page: str) -> list[str]:
    return [
        action
        for action in re.findall(r'<form[^>]*method="post"[^>]*action="([^"]*)"', page)
        if not action.startswith(HARMLESS_POSTS)
    ]


def test_agencies_read_rulebooks_but_not_reviews_audit_or_workbench(client, people):
    sign_in(client, "opd1")
    page = client.get("/kebijakan/serang").get_data(as_text=True)
    assert 'id="nilai-batas_di_atas"' in page and "Dasar hukum" in page
    for url in (
        "/tinjauan",
        "/tinjauan/evaluasi",
        "/audit",
        "/bengkel",
        "/bengkel/serang",
        "/tinjauan?lama=serang&baru=serang",
        "/tinjauan/pindah.csv?lama=serang&baru=serang",
    ):
        assert client.get(url).status_code == 404, url


def test_reviewers_read_everything_and_change_nothing(client, people):
    sign_in(client, "rev1")
    for url in (
        "/kebijakan",
        "/kebijakan/serang",
        "/kebijakan/pp-46-2011",
        "/tinjauan/evaluasi",
        "/audit",
        "/tinjauan?lama=serang&baru=pp-46-2011&kebijakan=serang",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert posting_forms(page.get_data(as_text=True)) == [], url
    token = csrf_token(client.get("/kebijakan").data)
    for url in ("/bengkel", "/bengkel/serang", "/pengguna"):
        assert client.get(url).status_code == 404
    for url, data in (
        ("/bengkel/serang", {"id": "x", BIDAN + "capaian_cakupan_imunisasi": "60"}),
        ("/bengkel/serang/draf", {"teks": "kinerja: 1", "aksi": "terbitkan"}),
        ("/pengguna", {"username": "baru", "password": "x" * 12, "role": "admin"}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    with people.extensions["kinerja_store"].session() as session:
        from engine.service.store import PolicyVersion

        assert session.query(PolicyVersion).filter(PolicyVersion.published).count() == 0


def test_the_compare_page_shows_the_matrix_movers_and_tpp(client, people, tmp_path):
    text = serang_threshold_copy("Serang ambang 105")
    assert (
        service.publish_policy(
            people.extensions["kinerja_store"], service.Caller("a", "admin", None), {"policy": text}
        )[0]
        == 201
    )
    sign_in(client, "rev1")
    page = client.get("/tinjauan?lama=serang&baru=serang-ambang").get_data(as_text=True)
    from engine.service import review as review_service

    expected = review_service.compare(
        people.extensions["kinerja_store"], service.Caller("r", "reviewer", None), "serang", "serang-ambang"
    )
    assert expected.movers and 'id="matriks-perpindahan"' in page and "<svg" in page
    assert f"{len(expected.movers)} berubah predikat" in html.unescape(page)
    for mover in expected.movers[:5]:
        assert mover.record_id in page
    assert "batas_di_atas" in page and "Perubahan jumlah TPP" in page
    csv_text = client.get("/tinjauan/pindah.csv?lama=serang&baru=serang-ambang").get_data(as_text=True)
    assert len(csv_text.strip().splitlines()) == len(expected.movers) + 1


def test_the_audit_page_filters_and_pages(client, people):
    sign_in(client, "rev1")
    page = client.get("/audit?apa=submission.create").get_data(as_text=True)
    assert page.count("<code>submission.create</code>") == 2
    assert "k1" in page and "k2" in page
    assert "k2" not in client.get("/audit?siapa=k1").get_data(as_text=True).split('id="log-audit"')[1]
    assert "Tidak ada catatan yang cocok" in client.get("/audit?sampai=2000-01-01").get_data(as_text=True)
    assert client.get("/audit?dari=kemarin").status_code == 422


def test_a_reviewer_replays_a_submission_and_it_is_audited(client, people):
    sign_in(client, "rev1")
    listing = client.get("/tinjauan/evaluasi").get_data(as_text=True)
    submission = re.search(r'name="kiriman" value="([0-9a-f]{32})"', listing).group(1)
    answer = client.post("/tinjauan/ulang", data={"kiriman": submission, "csrf_token": csrf_token(listing.encode())})
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "120 evaluasi diulang" in text and "120 sama persis, 0 berbeda" in text
    assert "rev1" in client.get("/audit?apa=evaluation.replay").get_data(as_text=True)


def test_the_workbench_refuses_to_publish_while_a_case_fails(client, people):
    sign_in(client, "admin1")
    form = client.get("/bengkel/serang")
    assert form.status_code == 200 and f'name="{BIDAN}capaian_cakupan_imunisasi"' in form.get_data(as_text=True)
    token = csrf_token(form.data)
    made = client.post(
        "/bengkel/serang",
        data={
            "csrf_token": token,
            "id": "serang-bobot",
            "version": "1",
            "title": "Serang bobot 60/20/20",
            "berlaku_mulai": "2026-01-01",
            BIDAN + "capaian_cakupan_imunisasi": "60",
            BIDAN + "capaian_pelayanan_kesehatan": "20",
        },
    )
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", made.get_data(as_text=True), re.S).group(1))
    assert "bidan: {capaian_cakupan_imunisasi: 60, capaian_pelayanan_kesehatan: 20}" in text
    refused = client.post("/bengkel/serang/draf", data={"csrf_token": token, "teks": text, "aksi": "terbitkan"})
    assert refused.status_code == 422 and 'id="ditolak"' in refused.get_data(as_text=True)
    fixed = text.replace("expect: {capaian_hasil_kerja: 101,", "expect: {capaian_hasil_kerja: 100.2,").replace(
        "expect: {capaian_hasil_kerja: 100, rating_hasil_kerja: di_atas, rating_perilaku: di_atas, predikat: Sangat Baik,",
        "expect: {capaian_hasil_kerja: 99, rating_hasil_kerja: sesuai, rating_perilaku: di_atas, predikat: Baik,",
    )
    published = client.post("/bengkel/serang/draf", data={"csrf_token": token, "teks": fixed, "aksi": "terbitkan"})
    assert published.status_code == 201 and 'id="terbit"' in published.get_data(as_text=True)
    assert "serang-bobot" in client.get("/kebijakan").get_data(as_text=True)
    missing = client.post("/bengkel/serang/draf", data={"teks": fixed, "aksi": "terbitkan"})
    assert missing.status_code == 400  # no CSRF token


def test_the_workbench_tries_an_uploaded_file_and_downloads_the_yaml(client, people):
    import io

    sign_in(client, "admin1")
    token = csrf_token(client.get("/bengkel/serang").data)
    made = client.post(
        "/bengkel/serang",
        data={"csrf_token": token, "id": "serang-coba", "version": "1", "title": "Coba", "berlaku_mulai": "2026-01-01"},
    )
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", made.get_data(as_text=True), re.S).group(1))
    lines = (ROOT / "examples" / "serang.jsonl").read_bytes().splitlines()[:2]
    tried = client.post(
        "/bengkel/serang/draf",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "teks": text,
            "aksi": "coba",
            "berkas": (io.BytesIO(b"\n".join(lines) + b"\n"), "dua.jsonl"),
        },
    )
    page = tried.get_data(as_text=True)
    expected = [
        service.evaluate("serang", {"records": [decode_json(line)]})["results"][0]["outputs"]["predikat"]
        for line in lines
    ]
    assert tried.status_code == 200 and page.count('<article class="try">') == 2
    found = re.findall(r"<dt>predikat</dt><dd>([^<]+)</dd>", page)
    assert found == expected
    downloaded = client.post("/bengkel/serang/draf", data={"csrf_token": token, "teks": text, "aksi": "unduh"})
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="serang-coba.yaml"'
    assert downloaded.get_data(as_text=True) == text
