"""Spreadsheets: templates, uploads read with each problem at its cell, preview, results."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from engine import api
from engine.evaluate import sheets
from engine.evaluate.io import decode_json, encode

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ["kertapati", "palu", "permenpanrb-6-2022", "pp-30-2019", "pp-46-2011", "serang", "sinabang", "surabaya"]
EXAMPLES = {
    "kertapati": "kertapati",
    "palu": "palu",
    "permenpanrb-6-2022": "permenpanrb-6-2022",
    "pp-30-2019": "pp-30-2019",
    "pp-46-2011": "pp-46-2011",
    "serang": "serang",
    "sinabang": "sinabang",
    "surabaya": "surabaya",
}
FIRST_DATA_ROW = sheets.KEY_ROW + 2  # below the example row


def _records(name: str, limit: int | None = None) -> list[dict]:
    lines = (ROOT / "examples" / f"{name}.jsonl").read_bytes().splitlines()
    return [decode_json(line) for line in lines[:limit] if line.strip()]


def _keys(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[sheets.KEY_ROW] if cell.value}


def _cell(value):
    """A record value as an operator types it into the template."""
    if isinstance(value, list):
        return f"{value[0]}-{value[1]}"  # a target range
    if value is None:
        return "-"
    return value


def _dig(node, key: str):
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None, False
        node = node[part]
    return node, True


def fill(template: bytes, records: list[dict]) -> bytes:
    """The template filled in with openpyxl as an operator would: a row per record, a row per item."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    main = book[sheets.MAIN_SHEET]
    keys = _keys(main)
    for offset, record in enumerate(records):
        for key, column in keys.items():
            value, found = _dig(record, key)
            if found:
                main.cell(FIRST_DATA_ROW + offset, column, _cell(value))
    for sheet in book.worksheets:
        if sheet.title in (sheets.MAIN_SHEET, sheets.GUIDE_SHEET, sheets.CHOICES_SHEET):
            continue
        keys, row = _keys(sheet), FIRST_DATA_ROW
        for record in records:
            for item in record.get(sheet.title, []):
                sheet.cell(row, 1, record["id"])
                for key, column in keys.items():
                    if key != "id":
                        value, found = _dig(item, key)
                        if found:
                            sheet.cell(row, column, _cell(value))
                row += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _eval_jsonl(run_cli, policy: str, name: str, limit: int, tmp_path: Path) -> list[dict]:
    path = tmp_path / "records.jsonl"
    lines = (ROOT / "examples" / f"{name}.jsonl").read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:limit]))
    _code, out, _err = run_cli("eval", "--policy", policy, path)
    return [json.loads(line) for line in out.splitlines()]


def _canonical(results):
    return [json.loads(encode(result)) for result in results]


@pytest.fixture
def run_cli(monkeypatch):
    from engine.cli import main

    def run(*args, stdin: bytes | str = b""):
        raw_in = io.BytesIO(stdin.encode("utf-8") if isinstance(stdin, str) else stdin)
        raw_out = io.BytesIO()
        stdout = io.TextIOWrapper(raw_out, encoding="utf-8", write_through=True)
        stderr = io.StringIO()
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(raw_in, encoding="utf-8"))
        monkeypatch.setattr("sys.stdout", stdout)
        monkeypatch.setattr("sys.stderr", stderr)
        code = main([str(a) for a in args])
        stdout.flush()
        return code, raw_out.getvalue().decode("utf-8"), stderr.getvalue()

    return run


# Templates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_template_round_trip_equals_kinerja_eval(policy, run_cli, tmp_path):
    loaded = api.load(policy)
    records = _records(EXAMPLES[policy], 40)
    data = fill(sheets.template_xlsx(loaded), records)
    result = sheets.preview(loaded, "isian.xlsx", data)
    assert result.errors == []
    assert [row.id for row in result.rows] == [r["id"] for r in records]
    expected = _eval_jsonl(run_cli, policy, EXAMPLES[policy], 40, tmp_path)
    assert _canonical([row.result for row in result.rows]) == [
        {k: v for k, v in r.items() if k != "line"} for r in expected
    ]
    assert result.ok == all("errors" not in r for r in expected)


@pytest.mark.parametrize("policy", POLICIES)
def test_template_speaks_indonesian_and_checks_enums(policy):
    loaded = api.load(policy)
    book = openpyxl.load_workbook(io.BytesIO(sheets.template_xlsx(loaded)))
    main = book[sheets.MAIN_SHEET]
    assert main["A1"].value == "NIP (id rekaman)"
    assert main["A4"].value == "contoh"
    assert main.column_dimensions["A"].number_format == "@"
    enums = [c for c in sheets.layout(loaded.policy)[0].columns if c.spec.enum is not None or c.spec.type == "boolean"]
    lists = [v for v in main.data_validations.dataValidation if v.type == "list"]
    assert len(lists) == len(enums)
    for sheet in sheets.layout(loaded.policy)[1:]:
        assert book[sheet.title]["A3"].value == "id"
    assert book[sheets.CHOICES_SHEET].sheet_state == "hidden"


def test_template_labels_come_from_the_policy():
    book = openpyxl.load_workbook(io.BytesIO(sheets.template_xlsx(api.load("pp-46-2011"))))
    kegiatan = book["kegiatan"]
    labels = {kegiatan.cell(3, c).value: kegiatan.cell(1, c).value for c in range(1, kegiatan.max_column + 1)}
    assert labels["kuantitas.target"] == "Kuantitas (output): Target kuantitas (TO)"
    main = book[sheets.MAIN_SHEET]
    keys = {main.cell(3, c).value: c for c in range(1, main.max_column + 1)}
    description = main.cell(2, keys["kreativitas"]).value
    assert "3 (unit kerja)" in description and "0, 3, 6, 12" in description


def test_template_csv_is_read_by_kinerja_eval(run_cli, tmp_path):
    template = sheets.template_csv(api.load("pp-46-2011")).decode("utf-8")
    header = next(csv.reader(io.StringIO(template)))
    assert header[:2] == ["id", "kegiatan.0.kuantitas.target"]
    row = {
        "id": "198503122010011002",
        "kegiatan.0.kuantitas.target": "1",
        "kegiatan.0.kuantitas.realisasi": "1",
        "kegiatan.0.kualitas.target": "100",
        "kegiatan.0.kualitas.realisasi": "90",
        "kegiatan.0.waktu.target": "12",
        "kegiatan.0.waktu.realisasi": "12",
        "tugas_tambahan": "0",
        "kreativitas": "0",
        "perilaku.orientasi_pelayanan": "80",
        "perilaku.integritas": "80",
        "perilaku.komitmen": "80",
        "perilaku.disiplin": "80",
        "perilaku.kerja_sama": "80",
    }
    path = tmp_path / "isian.csv"
    path.write_text(template + ",".join(row.get(key, "") for key in header) + "\n", encoding="utf-8")
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert (code, err) == (0, "")
    assert json.loads(out)["outputs"]["predikat"] == "Baik"


def test_template_command_writes_both_formats(run_cli, tmp_path):
    code, _out, _err = run_cli("template", "serang", "--format", "xlsx", "-o", tmp_path / "t.xlsx")
    assert code == 0
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames[0] == sheets.MAIN_SHEET
    code, out, _err = run_cli("template", "serang", "--format", "csv")
    assert code == 0 and out.startswith("id,jenjang,bulan,jabatan,")


# Uploads: every problem at its cell --------------------------------------------------------


def _workbook(policy: str, records: list[dict], edit=None) -> bytes:
    """The policy's template filled with `records`, then changed by `edit(book)`."""
    data = fill(sheets.template_xlsx(api.load(policy)), records)
    if edit is None:
        return data
    book = openpyxl.load_workbook(io.BytesIO(data))
    edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_of(sheet, key: str) -> str:
    return openpyxl.utils.get_column_letter(_keys(sheet)[key])


def test_bad_rows_are_shown_at_their_sheet_row_and_column():
    records = _records("pp-46-2011")

    def spoil(book):
        main, kegiatan = book[sheets.MAIN_SHEET], book["kegiatan"]
        main[f"{_column_of(main, 'perilaku.integritas')}{FIRST_DATA_ROW + 1}"] = 130  # 2nd employee
        kegiatan[f"{_column_of(kegiatan, 'waktu.target')}{FIRST_DATA_ROW + 2}"] = None  # 3rd item, required

    result = sheets.preview(api.load("pp-46-2011"), "isian.xlsx", _workbook("pp-46-2011", records, spoil))
    bad = {(e.sheet, e.row, e.column, e.path, e.code) for row in result.rows for e in row.errors}
    main_column = _column_of(
        openpyxl.load_workbook(io.BytesIO(_workbook("pp-46-2011", records)))[sheets.MAIN_SHEET], "perilaku.integritas"
    )
    assert (sheets.MAIN_SHEET, FIRST_DATA_ROW + 1, main_column, "/perilaku/integritas", "maximum") in bad
    owner = next(row for row in result.rows if any(e.sheet == "kegiatan" for e in row.errors))
    (error,) = [e for e in owner.errors if e.sheet == "kegiatan"]
    item = [i for i, r in enumerate(records) if r["id"] == owner.id][0]
    index = 2 - sum(len(r["kegiatan"]) for r in records[:item])
    assert (error.row, error.header, error.code) == (FIRST_DATA_ROW + 2, "waktu.target", "required")
    assert error.path == f"/kegiatan/{index}/waktu/target"
    assert not result.ok and result.invalid >= 1


def test_locate_maps_pointers_to_cells():
    records = _records("pp-46-2011")
    upload = sheets.read_upload(api.load("pp-46-2011"), "isian.xlsx", _workbook("pp-46-2011", records))
    row = upload.rows[0]
    n = len(records[0]["kegiatan"])
    assert sheets.locate(row, "/kegiatan/0/kuantitas/target")[:2] == ("kegiatan", FIRST_DATA_ROW)
    assert sheets.locate(row, f"/kegiatan/{n - 1}")[:2] == ("kegiatan", FIRST_DATA_ROW + n - 1)
    assert sheets.locate(row, "/perilaku/integritas")[:2] == (sheets.MAIN_SHEET, FIRST_DATA_ROW)
    assert sheets.locate(row, "/nothing/here") == (sheets.MAIN_SHEET, FIRST_DATA_ROW, "A")


def test_a_nip_excel_turned_into_a_number_is_an_error_at_its_cell():
    records = _records("permenpanrb-6-2022")

    def as_number(book):
        book[sheets.MAIN_SHEET][f"A{FIRST_DATA_ROW}"] = 1.98503012345678e17
        book[sheets.MAIN_SHEET][f"A{FIRST_DATA_ROW + 1}"] = "1.98503E+17"

    result = sheets.preview(
        api.load("permenpanrb-6-2022"), "isian.xlsx", _workbook("permenpanrb-6-2022", records, as_number)
    )
    for row in result.rows[:2]:
        (error,) = row.errors
        assert (error.column, error.code, error.row) == ("A", "id_number", row.row)
        assert "Teks" in error.message
    assert result.rows[2].ok


def test_numbers_are_read_exactly_and_a_formula_is_refused():
    records = _records("pp-30-2019")

    def edit(book):
        iki = book["iki"]
        iki[f"{_column_of(iki, 'realisasi')}{FIRST_DATA_ROW}"] = 0.1 + 0.2  # pasted from a computation
        iki[f"{_column_of(iki, 'realisasi')}{FIRST_DATA_ROW + 3}"] = "=1+2"  # the second employee's first

    upload = sheets.read_upload(api.load("pp-30-2019"), "isian.xlsx", _workbook("pp-30-2019", records, edit))
    first, second = upload.rows
    assert first.record["iki"][0]["realisasi"] == Decimal("0.3")
    assert second.record is None
    (error,) = second.errors
    assert (error.sheet, error.row, error.code) == ("iki", FIRST_DATA_ROW + 3, "formula")


# Hostile workbooks ---------------------------------------------------------------------------


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "data,code",
    [
        (b"not a workbook at all", "xlsx"),
        (b"PK\x03\x04 broken", "xlsx"),
        (_zip({"hello.txt": b"hi"}), "xlsx"),
        (_zip({"xl/bomb.xml": b"\0" * 3_000_000}), "too_large"),  # 3 MB in 3 KB, over the limit set below
    ],
)
def test_a_hostile_workbook_is_a_clear_error(data, code, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_XLSX_UNCOMPRESSED_BYTES", 2_000_000)
    upload = sheets.read_upload(api.load("pp-46-2011"), "isian.xlsx", data)
    assert upload.rows == []
    assert [e.code for e in upload.errors] == [code]
    assert upload.errors[0].sheet == "isian.xlsx"


def test_an_entity_bomb_in_a_sheet_is_a_clear_error():
    template = sheets.template_xlsx(api.load("permenpanrb-6-2022"))
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;'
        b'&lol;&lol;&lol;&lol;&lol;">]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        b'main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData>'
        b"</worksheet>"
    )
    members["xl/worksheets/sheet1.xml"] = bomb
    upload = sheets.read_upload(api.load("permenpanrb-6-2022"), "isian.xlsx", _zip(members))
    assert upload.rows == [] and [e.code for e in upload.errors] == ["xlsx"]


def test_too_many_rows_is_an_error_with_its_place(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_SHEET_ROWS", 6)
    records = _records("permenpanrb-6-2022")
    data = _workbook("permenpanrb-6-2022", records + [dict(r, id=r["id"] + "9") for r in records])
    upload = sheets.read_upload(api.load("permenpanrb-6-2022"), "isian.xlsx", data)
    assert [(e.code, e.row) for e in upload.errors] == [("too_many_rows", 7)]


# CSV -----------------------------------------------------------------------------------------

PERMEN_CSV = "id;rating_hasil_kerja;rating_perilaku;jenjang\n"


def test_windows_1252_csv_is_detected(run_cli, tmp_path):
    text = "id,rating_hasil_kerja,rating_perilaku,catatan\n198503122010011002,di_atas,sesuai,Ané\n"
    upload = sheets.read_upload(api.load("permenpanrb-6-2022"), "data.csv", text.encode("cp1252"))
    assert upload.rows[0].record["catatan"] == "Ané"
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("cp1252"))
    code, out, _err = run_cli("eval", "--policy", "permenpanrb-6-2022", path)
    result = json.loads(out)
    assert [e["path"] for e in result["errors"]] == ["/catatan"]  # read, then refused by name, not by encoding


def test_a_row_that_cannot_be_decoded_is_an_error_for_that_row_alone():
    data = (
        (b"id,rating_hasil_kerja,rating_perilaku\na,di_atas,sesuai\n")
        + b"b,di_atas,ses\xc3\n"
        + "c,sesuai,sesuai\né,sesuai,sesuai\n".encode()
    )
    upload = sheets.read_upload(api.load("permenpanrb-6-2022"), "data.csv", data)
    assert [row.record["id"] if row.record else None for row in upload.rows] == ["a", None, "c", "é"]
    assert [(e.row, e.code) for e in upload.rows[1].errors] == [(3, "encoding")]


def test_semicolon_csv_with_decimal_commas(run_cli, tmp_path):
    header = (
        "id;iki.0.target;iki.0.realisasi;iki.0.arah;iki.1.target;iki.1.realisasi;nilai_perilaku;"
        "umpan_balik_360;ide_baru\n"
    )
    rows = "\ufeff" + header + "199104222015031003;7-8;7,5;;100;120;110;ya;true\n"
    path = tmp_path / "data.csv"
    path.write_bytes(rows.encode("utf-8"))
    code, out, err = run_cli("eval", "--policy", "pp-30-2019", path)
    assert (code, err) == (0, "")
    expected = _eval_jsonl(run_cli, "pp-30-2019", "pp-30-2019", 2, tmp_path)[1]
    assert json.loads(out)["outputs"] == expected["outputs"]
    upload = sheets.read_upload(api.load("pp-30-2019"), "data.csv", rows.encode("utf-8"))
    assert upload.rows[0].record["iki"][0] == {"target": [7, 8], "realisasi": Decimal("7.5")}


def test_a_grouping_is_never_guessed_away():
    data = b"id;tugas_tambahan;kreativitas\na;1.500;3\nb;2,25;3\n"
    upload = sheets.read_upload(api.load("pp-46-2011"), "data.csv", data)
    assert upload.rows[0].record["tugas_tambahan"] == "1.500"  # left as text: the reader says why
    assert upload.rows[1].record["tugas_tambahan"] == Decimal("2.25")


def test_a_nip_in_scientific_notation_in_a_csv_is_an_error_at_its_cell():
    data = (PERMEN_CSV + "1,98503E+17;di_atas;sesuai;\n").encode()
    (row,) = sheets.read_upload(api.load("permenpanrb-6-2022"), "data.csv", data).rows
    assert [(e.row, e.column, e.code) for e in row.errors] == [(2, "A", "id_number")]


# Output cannot attack its reader ---------------------------------------------------------------


def _hostile_results():
    return [
        {"id": '=HYPERLINK("http://x")', "outputs": {"predikat": "@SUM(1)", "angka_kredit": Decimal("-12.5")}},
        {"id": "-1", "outputs": {"predikat": "+cmd", "angka_kredit": -3}},
        {"id": "b", "errors": [{"path": "", "code": "x", "message": "=bad"}]},
    ]


def test_csv_results_are_neutralised_and_numbers_stay_numbers():
    rows = list(csv.reader(io.StringIO(sheets.results_csv(_hostile_results(), ["predikat", "angka_kredit"]).decode())))
    assert rows[1] == ['\'=HYPERLINK("http://x")', "'@SUM(1)", "-12.5", ""]
    assert rows[2] == ["'-1", "'+cmd", "-3", ""]
    assert rows[3][0] == "b" and rows[3][3] == "/: =bad"


def test_xlsx_results_are_neutralised_and_numbers_stay_numbers():
    data = sheets.results_xlsx(_hostile_results(), ["predikat", "angka_kredit"])
    sheet = openpyxl.load_workbook(io.BytesIO(data))[sheets.RESULTS_SHEET]
    assert [c.value for c in sheet[2]] == ['\'=HYPERLINK("http://x")', "'@SUM(1)", -12.5, None]
    assert [c.data_type for c in sheet[2]][:3] == ["s", "s", "n"]
    assert [c.value for c in sheet[3]] == ["'-1", "'+cmd", -3, None]
    assert sheet["D4"].value == "/: =bad"


def test_kinerja_eval_reads_and_writes_xlsx(run_cli, tmp_path):
    records = _records("pp-46-2011")
    path = tmp_path / "isian.xlsx"
    path.write_bytes(_workbook("pp-46-2011", records))
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert (code, err) == (0, "")
    expected = _eval_jsonl(run_cli, "pp-46-2011", "pp-46-2011", 10, tmp_path)
    assert [json.loads(line) for line in out.splitlines()] == expected
    target = tmp_path / "hasil.xlsx"
    code, _out, _err = run_cli("eval", "--policy", "pp-46-2011", path, "--format", "xlsx", "-o", target)
    sheet = openpyxl.load_workbook(target)[sheets.RESULTS_SHEET]
    assert [c.value for c in sheet[1]] == [
        "id",
        "nilai_skp",
        "nilai_perilaku",
        "nilai_prestasi_kerja",
        "predikat",
        "errors",
    ]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        [
            r["id"],
            *(
                float(r["outputs"][k]) if k != "predikat" else r["outputs"][k]
                for k in ("nilai_skp", "nilai_perilaku", "nilai_prestasi_kerja", "predikat")
            ),
            None,
        ]
        for r in expected
    ]


def test_template_with_records_evaluates_as_the_records(run_cli, tmp_path):
    target = tmp_path / "serang.xlsx"
    code, _out, _err = run_cli("template", "serang", "--records", ROOT / "examples" / "serang.jsonl", "-o", target)
    assert code == 0
    code, out, _err = run_cli("eval", "--policy", "serang", target)
    expected = _eval_jsonl(run_cli, "serang", "serang", 10_000, tmp_path)
    assert [json.loads(line) for line in out.splitlines()] == expected


def test_template_refuses_records_it_would_lose(run_cli, tmp_path):
    source = tmp_path / "records.jsonl"
    source.write_text('{"id": "1", "rating_hasil_kerja": "sesuai", "rating_perilaku": "sesuai", "catatan": "x"}\n')
    code, _out, err = run_cli("template", "permenpanrb-6-2022", "--records", source, "-o", tmp_path / "t.xlsx")
    assert code == 2 and "catatan" in err


def test_preview_chooses_the_version_per_record():
    from engine.api import Chooser

    chooser = Chooser("pp-46-2011", "2020")
    data = fill(sheets.template_xlsx(chooser.default), _records("pp-46-2011"))
    result = sheets.preview(chooser, "isian.xlsx", data)
    assert result.ok and result.valid == 3
    assert result.policy == chooser.default.ref


def test_an_empty_template_is_an_error_not_an_empty_success():
    loaded = api.load("pp-46-2011")
    result = sheets.preview(loaded, "isian.xlsx", sheets.template_xlsx(loaded))
    assert not result.ok and [e.code for e in result.errors] == ["no_records"]


def test_list_rows_of_an_unknown_nip_are_located_errors():
    records = _records("pp-30-2019")

    def edit(book):
        iki = book["iki"]
        iki[f"A{FIRST_DATA_ROW}"] = "199999999999999999"
        iki[f"{_column_of(iki, 'realisasi')}{FIRST_DATA_ROW + 3}"] = "=1+2"

    upload = sheets.read_upload(api.load("pp-30-2019"), "isian.xlsx", _workbook("pp-30-2019", records, edit))
    assert [(e.sheet, e.row, e.column, e.code) for e in upload.errors] == [("iki", FIRST_DATA_ROW, "A", "unknown_id")]
    (error,) = upload.rows[1].errors
    assert (error.path, error.code) == ("/iki/0/realisasi", "formula")


def test_too_many_columns_is_an_error_of_the_sheet():
    records = _records("permenpanrb-6-2022")

    def widen(book):
        book[sheets.MAIN_SHEET].cell(FIRST_DATA_ROW, sheets.MAX_COLUMNS + 5, "catatan")

    upload = sheets.read_upload(
        api.load("permenpanrb-6-2022"), "isian.xlsx", _workbook("permenpanrb-6-2022", records, widen)
    )
    assert [(e.sheet, e.code) for e in upload.errors] == [(sheets.MAIN_SHEET, "too_many_columns")]


def test_an_overlong_csv_line_is_an_error_for_that_line_alone(monkeypatch, run_cli, tmp_path):
    from engine.evaluate import tabular

    monkeypatch.setattr(tabular, "SAMPLE_BYTES", 64)
    monkeypatch.setattr(tabular, "MAX_LINE_BYTES", 200)
    text = PERMEN_CSV + "a;di_atas;sesuai;\n" + "b;" + "x" * 500 + ";sesuai;\n" + "c;sesuai;sesuai;\n"
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    code, out, _err = run_cli("eval", "--policy", "permenpanrb-6-2022", path)
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == ["a", None, "c"]
    assert results[1]["errors"][0]["code"] == "too_large" and results[1]["line"] == 3


def test_input_format_xlsx_on_standard_input(run_cli):
    data = (ROOT / "examples" / "permenpanrb-6-2022.xlsx").read_bytes()
    code, out, _err = run_cli("eval", "--policy", "permenpanrb-6-2022", "--input-format", "xlsx", "-", stdin=data)
    assert code == 0 and len(out.splitlines()) == 3
    code, out, _err = run_cli("eval", "--policy", "permenpanrb-6-2022", "--input-format", "xlsx", "-", stdin="id,x\n")
    assert code == 1 and json.loads(out)["errors"][0]["code"] == "xlsx"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(text):
    results = [{"id": text, "outputs": {"predikat": text}}]
    rows = list(csv.reader(io.StringIO(sheets.results_csv(results, ["predikat"]).decode(), newline="")))
    assert rows[1][:2] == ["'" + text, "'" + text]
    sheet = openpyxl.load_workbook(io.BytesIO(sheets.results_xlsx(results, ["predikat"])))[sheets.RESULTS_SHEET]
    shown = "'" + text.replace("\r", "\n")  # XML itself reads a carriage return as a line feed
    assert [c.value for c in sheet[2]][:2] == [shown, shown]
