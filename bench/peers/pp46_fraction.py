"""pp-46-2011 in plain Python with fractions.Fraction: the independent exact reference.

The bench compares every record `kinerja eval` writes for pp-46-2011 with this script's outputs
(issue 15: "checks pp-46 on every record against an independent Fraction reference, not a sample
against itself"). It shares no code with Kinerja: the rules are written out again from DOMAIN.md
and policies/pp-46-2011.yaml, the numbers read from the JSON text as Fractions, rounding half up
to 2 decimals where the policy rounds. It validates nothing (the bench's records are valid).

Run: python bench/peers/pp46_fraction.py IN.jsonl OUT.jsonl [START:END]
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction

PERILAKU = ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama")
HUNDRED = Fraction(100)


def half_up(x: Fraction) -> Fraction:
    """To 2 decimals, a midpoint away from zero (the values here are never negative)."""
    scaled = x * 100
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    return Fraction(whole + (2 * rest >= scaled.denominator), 100)


def efisiensi_nilai(target: Fraction, realisasi: Fraction) -> Fraction:
    """Waktu and biaya: 76 + efficiency up to 24%, 100 - efficiency above it."""
    nilai = (Fraction(176, 100) * target - realisasi) / target * 100
    return nilai if 100 - realisasi / target * 100 <= 24 else 76 - (nilai - 100)


def nilai_kegiatan(k: dict) -> Fraction:
    aspek = [
        k["kuantitas"]["realisasi"] / k["kuantitas"]["target"] * 100,
        k["kualitas"]["realisasi"] / k["kualitas"]["target"] * 100,
        efisiensi_nilai(k["waktu"]["target"], k["waktu"]["realisasi"]),
    ]
    biaya = k.get("biaya")
    if biaya and biaya["target"] > 0:
        aspek.append(efisiensi_nilai(biaya["target"], biaya["realisasi"]))
    return sum(aspek, Fraction(0)) / len(aspek)


def evaluate(record: dict) -> dict:
    kegiatan = record["kegiatan"]
    tambahan = record["tugas_tambahan"]
    skp = (
        sum((nilai_kegiatan(k) for k in kegiatan), Fraction(0)) / len(kegiatan)
        + (0 if tambahan == 0 else 1 if tambahan <= 3 else 2 if tambahan <= 6 else 3)
        + record["kreativitas"]
    )
    p = record["perilaku"]
    names = PERILAKU + ("kepemimpinan",) if "kepemimpinan" in p else PERILAKU
    perilaku = sum((p[n] for n in names), Fraction(0)) / len(names)
    nilai = half_up(skp * Fraction(6, 10) + perilaku * Fraction(4, 10))
    predikat = (
        "Sangat Baik"
        if nilai >= 91
        else "Baik"
        if nilai >= 76
        else "Cukup"
        if nilai >= 61
        else "Kurang"
        if nilai >= 51
        else "Buruk"
    )
    return {
        "nilai_skp": half_up(skp),
        "nilai_perilaku": half_up(perilaku),
        "nilai_prestasi_kerja": nilai,
        "predikat": predikat,
    }


def text(value) -> str:
    """A Fraction with at most 2 decimals as its exact decimal text; anything else as is."""
    if isinstance(value, Fraction):
        cents = value.numerator * (100 // value.denominator)
        return f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
    return value


def main(source: str, target: str, lines_range: str = "") -> None:
    """Every line of `source`, or lines START:END (from 0, END excluded)."""
    start, _, end = lines_range.partition(":")
    first, last = int(start or 0), int(end) if end else None
    with open(source, "rb") as lines, open(target, "w", encoding="utf-8") as out:
        for index, line in enumerate(lines):
            if index < first:
                continue
            if last is not None and index >= last:
                break
            record = json.loads(line, parse_float=Fraction, parse_int=Fraction)
            outputs = {name: text(value) for name, value in evaluate(record).items()}
            out.write(json.dumps({"id": str(record.get("id")), "outputs": outputs}))
            out.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
