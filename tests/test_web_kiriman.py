"""The agencies' pages through Flask's test client, on SQLite and PostgreSQL: preview stores nothing,
Kirim stores once, who sees what, templates, results, the employee's sheet, and the README's
conversion of examples/serang.jsonl to a filled template."""

from __future__ import annotations

import io
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from webtools import add_user, csrf_token, sign_in

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
from isi_templat import fill  # noqa: E402

from engine.service.store import AuditEntry, Submission

RECORDS = 12


def serang(count: int | None = RECORDS) -> list[dict]:
    with open(ROOT / "examples" / "serang.jsonl", encoding="utf-8") as handle:
        return [json.loads(line, parse_float=Decimal) for line in handle if line.strip()][:count]


@pytest.fixture
def agency(app, client):
    add_user(app, "opd1", "agency", "dinkes")
    add_user(app, "opd2", "agency", "bappeda")
    add_user(app, "rev1", "reviewer")
    sign_in(client, "opd1")
    return client


def preview(client, data: bytes, units: bytes | None = None, period: str = "2025-06"):
    form = {
        "csrf_token": csrf_token(client.get("/kiriman/baru").data),
        "policy": "serang",
        "period": period,
        "berkas": (io.BytesIO(data), "serang.xlsx"),
    }
    if units is not None:
        form["unit"] = (io.BytesIO(units), "unit.yaml")
    return client.post("/kiriman/baru", data=form, content_type="multipart/form-data")


def token_of(page) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)


def count(app, model) -> int:
    with app.extensions["kinerja_store"].session() as session:
        return session.query(model).count()


def template(client) -> bytes:
    answer = client.get("/kebijakan/serang/templat.xlsx")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    return answer.data


def send(client, page) -> str:
    answer = client.post(
        "/kiriman/kirim", data={"csrf_token": csrf_token(page.data), "token": token_of(page), "kirim": "1"}
    )
    assert answer.status_code == 303
    return answer.headers["Location"]


def test_a_preview_stores_nothing_and_kirim_stores_once(app, agency):
    page = preview(agency, fill(template(agency), serang()))
    assert page.status_code == 200 and 'name="kirim"' in page.get_data(as_text=True)
    assert count(app, Submission) == 0
    first = send(agency, page)
    assert send(agency, page) == first  # a double click or a refresh: the same submission
    assert count(app, Submission) == 1
    with app.extensions["kinerja_store"].session() as session:
        entries = session.query(AuditEntry).filter(AuditEntry.action.in_(["upload.preview", "submission.create"])).all()
    assert [(e.action, e.actor, e.agency) for e in entries] == [
        ("upload.preview", "u:opd1", "dinkes"),
        ("submission.create", "u:opd1", "dinkes"),
    ]


def test_a_file_with_an_error_offers_no_kirim(app, agency):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(fill(template(agency), serang())))
    book["Pegawai"]["A6"] = 1.98503e17  # a NIP Excel turned into a number
    out = io.BytesIO()
    book.save(out)
    page = preview(agency, out.getvalue())
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and 'name="kirim"' not in text
    assert 'data-row="6" data-column="A"' in text and "Tidak ada yang disimpan" in text
    assert count(app, Submission) == 0


def test_kirim_with_an_unknown_or_someone_elses_token_is_404(app, agency, client):
    page = preview(agency, fill(template(agency), serang()))
    token = token_of(page)
    answer = agency.post("/kiriman/kirim", data={"csrf_token": csrf_token(page.data), "token": "0" * 32})
    assert answer.status_code == 404
    other = app.test_client()
    sign_in(other, "opd2")
    page_of_other = other.get("/kiriman/baru")
    answer = other.post("/kiriman/kirim", data={"csrf_token": csrf_token(page_of_other.data), "token": token})
    assert answer.status_code == 404 and count(app, Submission) == 0


def test_another_agency_gets_404_and_a_reviewer_reads_everything(app, agency):
    location = send(agency, preview(agency, fill(template(agency), serang())))
    evaluation = re.search(r'href="(/evaluasi/[0-9a-f]+)"', agency.get(location).get_data(as_text=True)).group(1)
    urls = [location, location + "/hasil.csv", location + "/hasil.xlsx", evaluation]
    other = app.test_client()
    sign_in(other, "opd2")
    assert [other.get(url).status_code for url in urls] == [404, 404, 404, 404]
    assert location.rsplit("/", 1)[1] not in other.get("/kiriman").get_data(as_text=True)
    reviewer = app.test_client()
    sign_in(reviewer, "rev1")
    assert [reviewer.get(url).status_code for url in urls] == [200, 200, 200, 200]
    assert reviewer.get("/kiriman/baru").status_code == 404  # reviewers send nothing


def test_results_filter_and_sort_on_the_server(app, agency):
    units = (ROOT / "examples" / "serang-units.yaml").read_bytes()
    records = serang(60)
    location = send(agency, preview(agency, fill(template(agency), records), units))
    everything = agency.get(location).get_data(as_text=True)
    assert everything.count('href="/evaluasi/') == 60
    baik = agency.get(location + "?predikat=Baik").get_data(as_text=True)
    expected = sum(
        1 for line in agency.get(location + "/hasil.csv").get_data(as_text=True).splitlines() if ",Baik," in line
    )
    assert baik.count('href="/evaluasi/') == expected > 0
    import yaml

    kasemen = yaml.safe_load(units)["units"][0]
    members = set(kasemen["members"]) & {str(r["id"]) for r in records}
    unit = agency.get(location + f"?unit={kasemen['id']}").get_data(as_text=True)
    assert unit.count('href="/evaluasi/') == len(members) and 0 < len(members) < 60
    ascending = agency.get(location + "?urut=nip&arah=naik").get_data(as_text=True)
    nips = re.findall(r'href="/evaluasi/[0-9a-f]+">(\d+)<', ascending)
    assert nips == sorted(nips) and len(nips) == 60


def test_a_units_file_with_a_mistake_is_shown_and_nothing_is_kept(app, agency):
    page = preview(agency, fill(template(agency), serang()), b"units: [{name: tanpa id}]\n")
    assert page.status_code == 422 and "Kesalahan dalam berkas unit" in page.get_data(as_text=True)


def test_the_employee_sheet_explains_and_suggests_only_realisasi(app, agency):
    location = send(agency, preview(agency, fill(template(agency), serang())))
    for evaluation in re.findall(r'href="(/evaluasi/[0-9a-f]+)"', agency.get(location).get_data(as_text=True)):
        text = agency.get(evaluation).get_data(as_text=True)
        assert "Bagaimana setiap angka diperoleh" in text and "dasar:" in text
        suggestions = re.search(r"akan mencapai.*?</ol>", text, flags=re.S)
        if suggestions:
            items = re.findall(r"<li>(.*?)</li>", suggestions.group(0), flags=re.S)
            assert items and all(".realisasi" in item and ".target" not in item for item in items)


def test_the_readme_conversion_gives_a_file_sent_whole(app, agency, run_cli, tmp_path):
    """README, The web: `kinerja template serang`, then examples/isi_templat.py with serang.jsonl."""
    code, _out, err = run_cli("template", "serang", "-o", tmp_path / "templat.xlsx")
    assert code == 0, err
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "isi_templat.py"),
            str(tmp_path / "templat.xlsx"),
            str(ROOT / "examples" / "serang.jsonl"),
            "-o",
            str(tmp_path / "serang.xlsx"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    page = preview(agency, (tmp_path / "serang.xlsx").read_bytes())
    assert page.status_code == 200, re.findall(r"<td>([^<]*)</td>\s*</tr>", page.get_data(as_text=True))[:5]
    location = send(agency, page)
    code, expected, err = run_cli(
        "eval", "--policy", "serang", "--period", "2025-06", "--format", "csv", ROOT / "examples" / "serang.jsonl"
    )
    assert agency.get(location + "/hasil.csv").get_data(as_text=True) == expected


def test_a_policy_published_under_a_new_id_can_be_chosen_and_sent(app, agency):
    """A region's child published from the workbench (a new id) is offered on the upload form, with
    its templates, and a file sent under it is evaluated by it."""
    from webtools import serang_threshold_copy

    from engine import service

    store = app.extensions["kinerja_store"]
    assert (
        service.publish_policy(store, service.Caller("a", "admin", None), {"policy": serang_threshold_copy()})[0] == 201
    )
    form = agency.get("/kiriman/baru").get_data(as_text=True)
    assert '<option value="serang-ambang"' in form and "/kebijakan/serang-ambang/templat.xlsx" in form
    filled = fill(agency.get("/kebijakan/serang-ambang/templat.xlsx").data, serang())
    page = agency.post(
        "/kiriman/baru",
        data={
            "csrf_token": csrf_token(form.encode()),
            "policy": "serang-ambang",
            "period": "2025-06",
            "berkas": (io.BytesIO(filled), "ambang.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "serang-ambang" in page.get_data(as_text=True)
    location = send(agency, page)
    with store.session() as session:
        assert {s.policy_id for s in session.query(Submission)} == {"serang-ambang"}
    assert agency.get(location).status_code == 200
