"""Helpers shared by the example-data generators (examples/make_*.py): fictional NIPs, exact
numbers, seeded choices. Stdlib only; the generators run as plain scripts beside this file."""

from __future__ import annotations

import calendar
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

F = Fraction

#: The seven BerAKHLAK core values, in the order the regional policies list them.
BERAKHLAK = ["berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif"]
#: The predikat matrix of PermenPANRB 6/2022 (rating hasil kerja, rating perilaku) -> predikat.
MATRIX = {
    ("di_atas", "di_bawah"): "Kurang/Misconduct",
    ("di_atas", "sesuai"): "Baik",
    ("di_atas", "di_atas"): "Sangat Baik",
    ("sesuai", "di_bawah"): "Kurang/Misconduct",
    ("sesuai", "sesuai"): "Baik",
    ("sesuai", "di_atas"): "Baik",
    ("di_bawah", "di_bawah"): "Sangat Kurang",
    ("di_bawah", "sesuai"): "Butuh Perbaikan",
    ("di_bawah", "di_atas"): "Butuh Perbaikan",
}


def choose(rng: random.Random, options):
    values, weights = zip(*options)
    return rng.choices(values, weights=weights)[0]


def dec(value, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def number(value: Decimal):
    """A JSON number from a Decimal: an int when whole, else a float whose shortest text is the decimal."""
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def half_up(x: F, places: int = 2) -> F:
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return F(q.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def nip(rng: random.Random, used: set) -> str:
    """NIP fiktif 18 digit: lahir YYYYMMDD + TMT CPNS YYYYMM + jenis kelamin + nomor urut."""
    while True:
        year = rng.randint(1965, 2000)
        month = rng.randint(1, 12)
        day = rng.randint(1, calendar.monthrange(year, month)[1])
        tmt_year = year + rng.randint(20, 35)
        if tmt_year > 2024:
            continue
        tmt_month = rng.choice([1, 2, 3, 4, 12]) if rng.random() < 0.7 else rng.randint(1, 12)
        code = f"{year:04d}{month:02d}{day:02d}{tmt_year:04d}{tmt_month:02d}{rng.choice('12')}{rng.randint(1, 6):03d}"
        if code not in used:
            used.add(code)
            return code


def exact(x) -> Fraction:
    return Fraction(Decimal(str(x)))


def write_units(path: Path, units, region: str) -> None:
    """The units file `kinerja distribution` reads, members four to a line."""
    out = [
        f"# Unit kerja contoh (fiktif) untuk examples/{region}.jsonl; dibuat oleh examples/make_{region}.py.",
        "# predikat = predikat kinerja unit itu sendiri (Istimewa, Baik, Butuh Perbaikan, Kurang, Sangat Kurang).",
        "units:",
    ]
    for unit, members in units:
        out.append(f"  - id: {unit['id']}")
        out.append(f"    name: {unit['name']}")
        out.append(f"    predikat: {unit['predikat']}")
        if unit.get("catatan"):
            out.append(f"    # sengaja {unit['catatan']}")
        rows = [", ".join(f'"{m}"' for m in members[i : i + 4]) for i in range(0, len(members), 4)]
        out.append("    members: [" + (",\n              ".join(rows)) + "]")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
