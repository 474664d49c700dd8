"""The agencies' web in a real browser (Playwright driving Debian's chromium), on SQLite and PostgreSQL.

The server runs in a thread (werkzeug on 127.0.0.1, a free port) over a fresh database. Each test
walks the pages as an operator would; screenshots of the main pages are written under
$KINERJA_SCREENSHOTS (else the test's temporary folder), named after the page.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from webtools import PASSWORD, add_user, shoot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
from isi_templat import KEY_ROW, fill  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Records of examples/serang.jsonl used (enough for two units, quick to evaluate).
SERANG_RECORDS = 60
FIRST_DATA_ROW = KEY_ROW + 2  # after the keys and the example row


def chromium() -> str:
    """Debian's chromium; CI sets KINERJA_REQUIRE_BROWSER=1, so there a missing browser fails."""
    found = shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium")
    if not found:
        message = "chromium is not installed: apt-get install -y chromium (.ci/run installs it)"
        if os.environ.get("KINERJA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def screenshots(tmp_path, request):
    folder = Path(os.environ.get("KINERJA_SCREENSHOTS") or tmp_path / "screenshots")
    folder = folder / request.node.callspec.params.get("db_url", "db") if hasattr(request.node, "callspec") else folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(db_url):
    """The whole app served on 127.0.0.1 in a thread: (base URL, app)."""
    from werkzeug.serving import make_server

    from server import create_app

    app = create_app({"DATABASE_URL": db_url})
    add_user(app, "opd1", "agency", "dinkes")
    add_user(app, "opd2", "agency", "bappeda")
    add_user(app, "admin1", "admin")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["kinerja_store"].dispose()


def new_page(browser, base: str, lang: str = "id-ID"):
    context = browser.new_context(
        base_url=base, locale=lang, accept_downloads=True, extra_http_headers={"Accept-Language": lang}
    )
    return context.new_page()


def sign_in(page, username: str, password: str = PASSWORD):
    page.goto("/masuk")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")


def signing_in(response) -> bool:
    return response.url.endswith("/masuk") and response.request.method == "POST"


def stored_submissions(app) -> int:
    from engine.service.store import Submission

    with app.extensions["kinerja_store"].session() as session:
        return session.query(Submission).count()


def records(name: str, count: int | None = None) -> list[dict]:
    with open(ROOT / "examples" / name, encoding="utf-8") as handle:
        found = [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]
    return found[:count]


def column_of(workbook: bytes, key: str, sheet: str = "Pegawai") -> str:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    book = load_workbook(io.BytesIO(workbook), read_only=True)
    keys = [cell.value for cell in next(book[sheet].iter_rows(min_row=KEY_ROW, max_row=KEY_ROW))]
    return get_column_letter(keys.index(key) + 1)


def set_cell(workbook: bytes, row: int, column: str, value, sheet: str = "Pegawai") -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(workbook))
    book[sheet][f"{column}{row}"] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def upload(page, policy: str, period: str, path: Path, units: Path | None = None):
    page.goto("/kiriman/baru")
    page.select_option("#policy", policy)
    page.fill("#period", period)
    page.set_input_files("#berkas", str(path))
    if units is not None:
        page.set_input_files("#unit", str(units))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_load_state()


def kinerja_eval_csv(tmp_path: Path, policy: str, period: str, rows: list[dict]) -> str:
    """What `kinerja eval --format csv` writes for these records."""
    from engine import cli
    from engine.evaluate.io import encode

    source = tmp_path / "records.jsonl"
    source.write_bytes(b"".join(encode(r) + b"\n" for r in rows))
    target = tmp_path / "eval.csv"
    assert cli.main(
        ["eval", "--policy", policy, "--period", period, str(source), "--format", "csv", "-o", str(target)]
    ) in (0, 1)
    return target.read_text(encoding="utf-8")


# The walkthrough ------------------------------------------------------------------------------


def test_an_agency_sends_a_file_sees_errors_at_their_cells_and_reads_its_results(browser, site, screenshots, tmp_path):
    base, app = site
    page = new_page(browser, base)
    page.goto("/masuk")
    shoot(page, screenshots / "masuk.png", full_page=True)
    sign_in(page, "opd1")
    assert page.url.endswith("/")
    page.goto("/kiriman/baru")
    shoot(page, screenshots / "kiriman-baru.png", full_page=True)

    template = download(page, "a[href='/kebijakan/serang/templat.xlsx']")
    data = records("serang.jsonl", SERANG_RECORDS)
    good = fill(template, data)
    perilaku, imunisasi = column_of(good, "perilaku.akuntabel"), column_of(good, "imunisasi.realisasi")
    bad = set_cell(good, FIRST_DATA_ROW + 2, perilaku, "sembilan puluh")
    bad = set_cell(bad, FIRST_DATA_ROW + 7, imunisasi, 150)
    (tmp_path / "salah.xlsx").write_bytes(bad)
    upload(page, "serang", "2025-06", tmp_path / "salah.xlsx")
    shoot(page, screenshots / "pratinjau-galat.png")
    errors = page.locator("table.errors tbody tr")
    places = {
        (errors.nth(i).get_attribute("data-row"), errors.nth(i).get_attribute("data-column"))
        for i in range(errors.count())
    }
    assert places == {(str(FIRST_DATA_ROW + 2), perilaku), (str(FIRST_DATA_ROW + 7), imunisasi)}
    assert page.locator("table.errors td.cell-error").count() == 2
    assert page.locator("button[name=kirim]").count() == 0
    assert "Tidak ada yang disimpan" in page.inner_text("main")
    assert stored_submissions(app) == 0

    (tmp_path / "benar.xlsx").write_bytes(good)
    upload(page, "serang", "2025-06", tmp_path / "benar.xlsx", ROOT / "examples" / "serang-units.yaml")
    shoot(page, screenshots / "pratinjau.png", full_page=True)
    assert page.locator("table.errors").count() == 0
    assert stored_submissions(app) == 0  # a preview stores nothing
    # A double click, a second tab and a refresh all send the same one-time token.
    statuses = page.evaluate("""async () => {
        const form = document.getElementById('kirim-form');
        const send = () => fetch(form.action, {method: 'POST', body: new FormData(form), redirect: 'manual'});
        const answers = await Promise.all([send(), send()]);
        return answers.map(a => a.type === 'opaqueredirect' ? 303 : a.status);
    }""")
    assert statuses == [303, 303]
    page.dblclick("button[name=kirim]")
    page.wait_for_url(re.compile(r"/kiriman/[0-9a-f]{32}$"))
    page.reload()
    assert stored_submissions(app) == 1
    shoot(page, screenshots / "kiriman-hasil.png")
    shoot(page, screenshots / "kiriman-hasil-penuh.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    shoot(page, screenshots / "kiriman-hasil-ponsel.png")
    page.set_viewport_size({"width": 1280, "height": 720})
    submission_url = page.url
    import yaml

    units = yaml.safe_load((ROOT / "examples" / "serang-units.yaml").read_text(encoding="utf-8"))["units"]
    assert page.locator("section.chart svg").count() == len(units)  # one chart per unit
    assert page.locator("#tabel-hasil tbody tr").count() == SERANG_RECORDS

    # Filter by predikat, then sort: server-side, no script needed.
    page.select_option("select[name=predikat]", "Baik")
    page.click("form.filters button[type=submit]")
    predikat_column = page.locator("#tabel-hasil thead th").all_inner_texts().index("predikat")
    shown = page.locator(f"#tabel-hasil tbody tr td:nth-child({predikat_column + 1})").all_inner_texts()
    assert shown and set(shown) == {"Baik"}
    page.click("#tabel-hasil thead th a:text-is('tpp')")
    page.click("#tabel-hasil thead th a:text-is('tpp')")  # descending
    tpp_column = page.locator("#tabel-hasil thead th").all_inner_texts().index("tpp ▼")
    values = [
        Decimal(v.replace(".", "").replace(",", "."))
        for v in page.locator(f"#tabel-hasil tbody tr td:nth-child({tpp_column + 1})").all_inner_texts()
    ]
    assert values == sorted(values, reverse=True)

    # The downloads equal `kinerja eval` on the same records.
    page.goto(submission_url)
    downloaded = download(page, "a[href$='/hasil.csv']").decode("utf-8")
    assert downloaded == kinerja_eval_csv(tmp_path, "serang", "2025-06", data)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(download(page, "a[href$='/hasil.xlsx']")), read_only=True)
    sheet_rows = [
        [("" if v is None else str(v)) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)
    ]
    expected = list(csv.reader(io.StringIO(downloaded)))
    assert [row[0] for row in sheet_rows] == [row[0] for row in expected]
    assert len(sheet_rows) == SERANG_RECORDS + 1

    # One employee's sheet, on screen and printed on A4.
    page.click("#tabel-hasil tbody tr:first-child td:first-child a")
    page.wait_for_url(re.compile(r"/evaluasi/[0-9a-f]{32}$"))
    text = page.inner_text("main")
    assert "Lembar penilaian kinerja" in text and "dasar:" in text
    shoot(page, screenshots / "evaluasi.png")
    shoot(page, screenshots / "evaluasi-penuh.png", full_page=True)
    page.emulate_media(media="print")
    shoot(page, screenshots / "evaluasi-cetak.png", full_page=True)
    page.pdf(path=str(screenshots / "evaluasi.pdf"), format="A4")
    assert (screenshots / "evaluasi.pdf").stat().st_size > 0
    evaluation_url = page.url

    # Another agency sees none of it.
    other = new_page(browser, base)
    sign_in(other, "opd2")
    for url in (submission_url, evaluation_url, submission_url + "/hasil.csv"):
        answer = other.goto(url)
        assert answer.status == 404, url
        assert "Halaman ini tidak ada, atau bukan untuk Anda." in other.inner_text("main")
    shoot(other, screenshots / "404.png", full_page=True)
    assert submission_url.rsplit("/", 1)[1] not in other.goto("/kiriman").text()


def test_the_kurva_distribusi_is_drawn_beside_its_limits_with_each_violation_in_words(
    browser, site, screenshots, tmp_path
):
    base, app = site
    page = new_page(browser, base)
    sign_in(page, "opd1")
    page.goto("/kiriman/baru")
    template = download(page, "a[href='/kebijakan/permenpanrb-6-2022/templat.xlsx']")
    (tmp_path / "kurva.xlsx").write_bytes(fill(template, records("kurva-distribusi.jsonl")))
    upload(
        page, "permenpanrb-6-2022", "2025", tmp_path / "kurva.xlsx", ROOT / "examples" / "kurva-distribusi-units.yaml"
    )
    page.click("button[name=kirim]")
    page.wait_for_url(re.compile(r"/kiriman/[0-9a-f]{32}$"))
    shoot(page, screenshots / "kurva-distribusi.png", full_page=True)
    charts = page.locator("section.chart")
    assert charts.count() == 3
    verdicts = [charts.nth(i).locator("li.bad").count() for i in range(3)]
    assert verdicts[0] >= 1 and verdicts[1] == 0 and verdicts[2] >= 1  # DOMAIN.md: A and C violate, B meets
    assert "dilanggar: 8 dari 10 pegawai (80%)" in charts.nth(0).inner_text()
    assert charts.nth(0).locator("svg title").count() == 1 and charts.nth(0).locator("table").count() == 1


def test_a_form_without_its_csrf_token_is_refused(browser, site, screenshots):
    base, _app = site
    page = new_page(browser, base)
    page.goto("/masuk")
    page.evaluate("document.querySelector('main form input[name=csrf_token]').remove()")
    page.fill("#username", "opd1")
    page.fill("#password", PASSWORD)
    with page.expect_response(signing_in) as answer:
        page.click("button[type=submit].primary")
    assert answer.value.status == 400
    assert "Formulir sudah kedaluwarsa" in page.inner_text("main")
    assert page.goto("/kiriman").url.endswith("/masuk?next=/kiriman")


def test_too_many_failed_sign_ins_are_slowed_down(browser, site, screenshots):
    base, _app = site
    page = new_page(browser, base)
    for _attempt in range(5):
        sign_in(page, "opd1", "kata-sandi-salah")
        assert "Nama pengguna atau kata sandi salah" in page.inner_text("main")
    with page.expect_response(signing_in) as answer:
        sign_in(page, "opd1")
    assert answer.value.status == 429
    assert "Terlalu banyak percobaan" in page.inner_text("main")
    shoot(page, screenshots / "masuk-dibatasi.png", full_page=True)


#: English words that a page in Indonesian never shows (data such as NIPs and labels are Indonesian).
ENGLISH = re.compile(
    r"\b(the|and|of|is|are|must|with|was|were|not|this|your|record|records|file|sign|"
    r"download|submission|submissions|results|error|errors|employee|page|valid)\b",
    re.IGNORECASE,
)


def test_no_page_shows_an_untranslated_english_message(browser, site, tmp_path):
    base, app = site
    from engine import i18n

    english = sorted(
        (m for m, t in i18n.catalogue("id").items() if isinstance(t, str) and t != m and len(m) > 12),
        key=len,
        reverse=True,
    )
    page = new_page(browser, base)
    sign_in(page, "opd1")
    page.goto("/kiriman/baru")
    template = download(page, "a[href='/kebijakan/serang/templat.xlsx']")
    good = fill(template, records("serang.jsonl", 12))
    # A formula where a value belongs: an error the spreadsheet reader reports at its cell.
    (tmp_path / "salah.xlsx").write_bytes(set_cell(good, FIRST_DATA_ROW, column_of(good, "perilaku.loyal"), "=80+5"))
    (tmp_path / "benar.xlsx").write_bytes(good)
    visited = {}
    upload(page, "serang", "2025-06", tmp_path / "salah.xlsx")
    visited["pratinjau-galat"] = page.inner_text("body")
    upload(page, "serang", "2025-06", tmp_path / "benar.xlsx", ROOT / "examples" / "serang-units.yaml")
    visited["pratinjau"] = page.inner_text("body")
    page.click("button[name=kirim]")
    page.wait_for_url(re.compile(r"/kiriman/[0-9a-f]{32}$"))
    visited["hasil"] = page.inner_text("body")
    page.click("#tabel-hasil tbody tr:first-child td:first-child a")
    visited["evaluasi"] = page.inner_text("body")
    for path in ("/", "/kiriman", "/kiriman/baru", "/tidak-ada"):
        page.goto(path)
        visited[path] = page.inner_text("body")
    admin = new_page(browser, base)
    admin.goto("/masuk")
    visited["masuk"] = admin.inner_text("body")
    sign_in(admin, "admin1")
    admin.goto("/pengguna")
    visited["pengguna"] = admin.inner_text("body")
    found = []
    for name, text in visited.items():
        text = text.replace("Kinerja", "")
        found += [f"{name}: {m!r}" for m in english if m in text]
        found += [f"{name}: …{text[max(0, w.start() - 30) : w.end() + 30]!r}…" for w in ENGLISH.finditer(text)]
    assert not found, "English on an Indonesian page:\n" + "\n".join(found[:30])
