"""What an agency's upload costs: the template filled with N records (engine.evaluate.datatemplate), then
read (engine.evaluate.sheets.read_upload) and previewed (read and every record evaluated), as .xlsx and as
CSV. Prints the median of a few runs per step; nothing is asserted.

    python bench/sheets.py [--records 5000] [--runs 3] [--policy serang]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import api
from engine.evaluate import sheets
from engine.evaluate.io import decode_json

EXAMPLES = {"pp-46-2011": "pp-46-2011", "pp-30-2019": "pp-30-2019"}


def _records(policy: str, count: int) -> list[dict]:
    name = EXAMPLES.get(policy, policy)
    base = [decode_json(line) for line in (ROOT / "examples" / f"{name}.jsonl").read_bytes().splitlines() if line]
    return [dict(base[i % len(base)], id=str(199000000000000000 + i)) for i in range(count)]


def _csv(loaded, records: list[dict]) -> bytes:
    """The records as the CSV template's columns (one item per list; enough for timing)."""
    header = sheets.template_csv(loaded).decode().strip().split(",")
    lines = [",".join(header)]
    for record in records:
        row = []
        for key in header:
            node = record
            for part in key.split("."):
                node = (
                    node[int(part)]
                    if isinstance(node, list) and part.isdigit() and int(part) < len(node)
                    else node.get(part)
                    if isinstance(node, dict)
                    else None
                )
            row.append(
                ""
                if node is None or isinstance(node, (dict, list))
                else ("ya" if node is True else "tidak" if node is False else str(node))
            )
        lines.append(",".join(row))
    return ("\n".join(lines) + "\n").encode()


def _median(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--policy", action="append")
    args = parser.parse_args()
    for policy in args.policy or ["serang", "pp-46-2011"]:
        loaded = api.load(policy)
        records = _records(policy, args.records)
        workbook = sheets.template_xlsx(loaded, records)
        table = _csv(loaded, records)
        timings = {
            "template": _median(args.runs, lambda: sheets.template_xlsx(loaded)),
            "fill": _median(1, lambda: sheets.template_xlsx(loaded, records)),
            "read xlsx": _median(args.runs, lambda: sheets.read_upload(loaded, "x.xlsx", workbook)),
            "preview xlsx": _median(args.runs, lambda: sheets.preview(loaded, "x.xlsx", workbook)),
            "preview csv": _median(args.runs, lambda: sheets.preview(loaded, "x.csv", table)),
        }
        shown = ", ".join(f"{step} {seconds:.2f} s" for step, seconds in timings.items())
        print(
            f"{policy}: {args.records} records ({len(workbook) / 1e6:.1f} MB .xlsx, {len(table) / 1e6:.1f} MB .csv): "
            f"{shown}"
        )


if __name__ == "__main__":
    main()
