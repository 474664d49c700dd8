"""Fill a Kinerja data template (.xlsx) with records from a JSON Lines file, as an operator would
by typing or pasting: `python examples/isi_templat.py templat.xlsx examples/serang.jsonl -o serang.xlsx`.

The template's third row holds the keys by which each column is read (`perilaku.integritas`); a
list input (`keterlambatan`) has a sheet of its own, one row per item, the NIP in column A. The
example row (NIP `contoh`) is left as it is. NIPs are written as text, numbers as numbers.
"""

from __future__ import annotations

import argparse
import io
import json
from decimal import Decimal

KEY_ROW = 3  # labels (1), descriptions (2), keys (3), example (4)


def _dig(record: dict, key: str):
    value = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _cell(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def fill(template: bytes, records: list[dict]) -> bytes:
    """The template with one row per record (and per list item on the list sheets)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(template))
    for sheet in book.worksheets:
        keys = [cell.value for cell in sheet[KEY_ROW]]
        if not keys or keys[0] != "id":
            continue
        row = sheet.max_row + 1
        is_list = (
            sheet.title in (records[0] if records else {}) and isinstance(records[0][sheet.title], list)
            if records
            else False
        )
        for record in records:
            items = record.get(sheet.title) if is_list else [record]
            for item in items or ():
                for column, key in enumerate(keys, start=1):
                    if key is None:
                        continue
                    value = str(record["id"]) if key == "id" else _dig(item, key)
                    cell = sheet.cell(row, column, _cell(value))
                    if key == "id":
                        cell.number_format = "@"
                row += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template")
    parser.add_argument("records")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.records, encoding="utf-8") as handle:
        records = [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]
    with open(args.template, "rb") as handle:
        data = fill(handle.read(), records)
    with open(args.output, "wb") as handle:
        handle.write(data)


if __name__ == "__main__":
    main()
