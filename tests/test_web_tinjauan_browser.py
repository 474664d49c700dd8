"""The two walkthroughs of issue 13 in a real browser (Playwright driving Debian's chromium), on
SQLite and PostgreSQL, with a screenshot of each step.

1. A reviewer compares serang with a copy whose Di Atas threshold is 105 instead of 100 and sees
   the transition matrix and who moves (the same records `kinerja diff --data` reports), replays a
   submission, filters the audit log, and finds nothing to change.
2. An admin changes the bidan weights of serang in the workbench form, sees the child policy's
   YAML, checks it, runs its cases, tries a record, sees the impact, is refused publishing while a
   case fails, fixes the case and publishes; the new version is then in force for its period.

Screenshots go to $KINERJA_SCREENSHOTS/tinjauan (default: the test's temporary directory).
Without chromium the tests are skipped and say why, unless KINERJA_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
import webtools
from webtools import PASSWORD, add_user, serang_threshold_copy

from engine import api, service
from engine.evaluate.io import decode_json, encode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "serang.jsonl"
RECORDS = [decode_json(line.encode("utf-8")) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIDAN = "values/capaian_hasil_kerja/weighted/weights/bidan/"


def chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        message = "chromium or Playwright is not installed: apt-get install -y chromium; pip install playwright"
        if os.environ.get("KINERJA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("KINERJA_SCREENSHOTS", tmp_path)) / "tinjauan"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(app):
    """The app served on 127.0.0.1 with users and two agencies' serang submissions stored."""
    from werkzeug.serving import make_server

    store = app.extensions["kinerja_store"]
    add_user(app, "admin1", "admin")
    add_user(app, "rev1", "reviewer")
    for agency, part in (("dinkes", RECORDS[:150]), ("bapenda", RECORDS[150:])):
        body = {"policy": "serang", "period": "2025-01", "records": part}
        service.submit(store, service.Caller(f"kunci-{agency}", "agency", agency), body, None, encode(body))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=BROWSER_ARGS)
        yield launched
        launched.close()


def sign_in(browser, site: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID", accept_downloads=True)
    page.goto(f"{site}/masuk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary, form[action='/masuk'] button[type=submit]")
    page.wait_for_load_state()
    return page


def shoot(page, shots: Path, name: str, full_page: bool = True) -> None:
    webtools.shoot(page, shots / f"{name}.png", full_page=full_page)


def writing_forms(page) -> list[str]:
    """Forms on the page that would write something (not the language switch, signing out or a replay)."""
    actions = page.eval_on_selector_all("form[method=post]", "forms => forms.map(f => f.getAttribute('action'))")
    return [a for a in actions if not a.startswith(("/bahasa", "/keluar", "/tinjauan/ulang"))]


def test_a_reviewer_compares_replays_and_reads_the_audit_log(app, site, browser, shots, tmp_path, run_cli):
    text = serang_threshold_copy()
    assert (
        service.publish_policy(
            app.extensions["kinerja_store"], service.Caller("admin", "admin", None), {"policy": text}
        )[0]
        == 201
    )
    copy = tmp_path / "serang-ambang.yaml"
    copy.write_text(text, encoding="utf-8")
    _, diff_out, _ = run_cli("diff", "serang", copy, "--data", EXAMPLE)
    cli_movers = sorted(re.findall(r"^  (\d+): (.+) -> (.+)$", diff_out, flags=re.MULTILINE))
    assert cli_movers

    page = sign_in(browser, site, "rev1")
    page.goto(f"{site}/kebijakan/serang#nilai-batas_di_atas")
    assert page.is_visible("#nilai-batas_di_atas")
    shoot(page, shots, "01-buku-aturan-serang", full_page=False)  # at the threshold's rule
    page.goto(f"{site}/tinjauan")
    page.fill("input[name=lama]", "serang")
    page.fill("input[name=baru]", "serang-ambang")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#matriks-perpindahan")
    shoot(page, shots, "02-tinjauan-serang-vs-ambang")
    rows = page.eval_on_selector_all(
        "#daftar-pindah tbody tr", "rows => rows.map(r => Array.from(r.children).map(c => c.textContent.trim()))"
    )
    assert sorted((r[0], r[3], r[4]) for r in rows) == cli_movers
    matrix = page.inner_text("#matriks-perpindahan")
    assert "Sangat Baik" in matrix and page.is_visible("#grafik-unit svg") and page.is_visible("#tabel-unit")
    assert writing_forms(page) == []
    with page.expect_download() as download:
        page.click("text=Unduh daftarnya (CSV)")
    assert len(Path(download.value.path()).read_text(encoding="utf-8").strip().splitlines()) == len(cli_movers) + 1

    page.goto(f"{site}/tinjauan/evaluasi")
    assert writing_forms(page) == []
    page.click("button[name=ulang_kiriman] >> nth=0")
    page.wait_for_selector("#ringkasan-ulang")
    assert "150 sama persis, 0 berbeda" in page.inner_text("#ringkasan-ulang")
    shoot(page, shots, "03-ulang-kiriman")

    page.goto(f"{site}/audit")
    page.select_option("select[name=apa]", "evaluation.replay")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    entries = page.eval_on_selector_all("#log-audit tbody tr", "rows => rows.map(r => r.textContent)")
    assert len(entries) == 1 and "u:rev1" in entries[0] and "evaluation.replay" in entries[0]
    assert writing_forms(page) == []
    shoot(page, shots, "04-log-audit-disaring")

    for url in ("/bengkel", "/bengkel/serang", "/pengguna"):
        assert page.goto(f"{site}{url}").status == 404
    shoot(page, shots, "05-peninjau-bengkel-404")
    page.close()


def test_an_admin_changes_a_weight_tests_tries_and_publishes(app, site, browser, shots):
    page = sign_in(browser, site, "admin1")
    page.goto(f"{site}/bengkel/serang")
    page.fill("#f-id", "serang-bobot")
    page.fill("#f-title", "Serang, bobot bidan 60/20/20")
    page.fill("#f-berlaku_mulai", "2026-01-01")
    page.fill(f"input[name='{BIDAN}capaian_cakupan_imunisasi']", "60")
    shoot(page, shots, "10-bengkel-formulir-angka")
    page.click("button[value=buat]")
    page.wait_for_selector("#teks")
    text = page.input_value("#teks")
    assert "bidan: {capaian_cakupan_imunisasi: 60}" in text
    shoot(page, shots, "11-bengkel-yaml-turunan")

    page.click("button[value=periksa]")  # the weights no longer add up: shown at its line
    page.wait_for_selector("ul.diagnostics")
    assert "weights.sum" in page.inner_text("ul.diagnostics") and page.is_visible("#gutter .mark")
    shoot(page, shots, "12-bengkel-periksa-salah")
    page.fill(
        "#teks",
        page.input_value("#teks").replace(
            "bidan: {capaian_cakupan_imunisasi: 60}",
            "bidan: {capaian_cakupan_imunisasi: 60, capaian_pelayanan_kesehatan: 20}",
        ),
    )
    page.click("button[value=periksa]")
    page.wait_for_load_state()
    assert "lolos semua pemeriksaan" in page.inner_text("#periksa")

    page.click("button[value=uji]")
    page.wait_for_selector("#ringkasan-uji")
    summary = page.inner_text("#ringkasan-uji")
    total = len(api.load("serang").policy.tests)
    assert summary.startswith(f"{total - 2} dari {total} kasus lulus")
    shoot(page, shots, "13-bengkel-uji-dua-gagal")

    page.click("#coba summary")
    for name, value in {
        "jabatan": "bidan",
        "imunisasi-target": "95",
        "imunisasi-realisasi": "92,15",
        "pelayanan_kesehatan-target": "400",
        "pelayanan_kesehatan-realisasi": "420",
        "tpp_pagu": "5000000",
        "apel_senin_tidak_hadir": "0",
    }.items():
        if name == "jabatan":
            page.select_option(f"#c-{name}", value)
        else:
            page.fill(f"#c-{name}", value)
    for aspect in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif"):
        page.fill(f"#c-perilaku-{aspect}", "92")
    page.click("button[value=coba]")
    page.wait_for_selector("#hasil-coba")
    tried = page.inner_text("#hasil-coba")
    assert "Baik" in tried and "99" in tried  # (60 x 97 + 20 x 105) / 80 = 99: Sesuai, so Baik
    shoot(page, shots, "14-bengkel-coba")

    page.click("button[value=dampak]")
    page.wait_for_selector("#dampak #matriks-perpindahan")
    shoot(page, shots, "15-bengkel-dampak")

    page.click("button[value=terbitkan]")
    page.wait_for_selector("#ditolak")
    assert "2 dari" in page.inner_text("#ditolak")
    shoot(page, shots, "16-bengkel-terbitkan-ditolak")

    fixed = (
        page.input_value("#teks")
        .replace("expect: {capaian_hasil_kerja: 101,", "expect: {capaian_hasil_kerja: 100.2,")
        .replace(
            "expect: {capaian_hasil_kerja: 100, rating_hasil_kerja: di_atas, rating_perilaku: di_atas, "
            "predikat: Sangat Baik,",
            "expect: {capaian_hasil_kerja: 99, rating_hasil_kerja: sesuai, rating_perilaku: di_atas, predikat: Baik,",
        )
    )
    page.fill("#teks", fixed)
    page.click("button[value=uji]")
    page.wait_for_selector("#ringkasan-uji")
    assert page.inner_text("#ringkasan-uji").startswith(f"{total} dari {total} kasus lulus")
    page.click("button[value=terbitkan]")
    page.wait_for_selector("#terbit")
    assert "serang-bobot versi 1" in page.inner_text("#terbit")
    shoot(page, shots, "17-bengkel-terbit")

    page.goto(f"{site}/kebijakan")
    assert "serang-bobot" in page.inner_text("table.data")
    shoot(page, shots, "18-kebijakan-dengan-versi-baru")
    store = app.extensions["kinerja_store"]
    record = {
        "jabatan": "bidan",
        "imunisasi": {"target": 95, "realisasi": decode_json(b"92.15")},
        "pelayanan_kesehatan": {"target": 400, "realisasi": 420},
        "tpp_pagu": 5000000,
        "keterlambatan": [],
        "apel_senin_tidak_hadir": 0,
        "perilaku": {
            k: 92
            for k in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
        },
    }
    result = service.evaluate("serang-bobot", {"records": [record], "period": "2026-02"}, store)["results"][0]
    listed = service.list_versions(store, "serang-bobot")["versions"]
    assert result["policy"]["hash"] == listed[0]["hash"] and result["outputs"]["predikat"] == "Baik"
    page.close()
