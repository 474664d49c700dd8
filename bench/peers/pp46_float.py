"""pp-46-2011 as a hand-written script would do it: stdlib `json`, binary floats, file to file.

The "hand-written float script" of the end-to-end target: `kinerja eval` should be no slower than
this. It follows DOMAIN.md and policies/pp-46-2011.yaml, writes one JSON line per record with the
id and the four outputs (2 decimals, half up), and validates nothing.

Run: python bench/peers/pp46_float.py IN.jsonl OUT.jsonl
"""

from __future__ import annotations

import json
import math
import sys

PERILAKU = ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama")


def half_up(x: float) -> float:
    return math.floor(x * 100 + 0.5) / 100


def efisiensi_nilai(target: float, realisasi: float) -> float:
    """Waktu and biaya: 76 + efficiency up to 24%, 100 - efficiency above it."""
    nilai = (1.76 * target - realisasi) / target * 100
    return nilai if 100 - realisasi / target * 100 <= 24 else 76 - (nilai - 100)


def nilai_kegiatan(k: dict) -> float:
    aspek = [
        k["kuantitas"]["realisasi"] / k["kuantitas"]["target"] * 100,
        k["kualitas"]["realisasi"] / k["kualitas"]["target"] * 100,
        efisiensi_nilai(k["waktu"]["target"], k["waktu"]["realisasi"]),
    ]
    biaya = k.get("biaya")
    if biaya and biaya["target"] > 0:
        aspek.append(efisiensi_nilai(biaya["target"], biaya["realisasi"]))
    return sum(aspek) / len(aspek)


def evaluate(record: dict) -> dict:
    kegiatan = record["kegiatan"]
    tambahan = record["tugas_tambahan"]
    skp = (
        sum(nilai_kegiatan(k) for k in kegiatan) / len(kegiatan)
        + (0 if tambahan == 0 else 1 if tambahan <= 3 else 2 if tambahan <= 6 else 3)
        + record["kreativitas"]
    )
    p = record["perilaku"]
    names = PERILAKU + ("kepemimpinan",) if "kepemimpinan" in p else PERILAKU
    perilaku = sum(p[n] for n in names) / len(names)
    nilai = half_up(skp * 0.6 + perilaku * 0.4)
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


def main(source: str, target: str) -> None:
    with open(source, "rb") as lines, open(target, "w", encoding="utf-8") as out:
        for line in lines:
            record = json.loads(line)
            out.write(json.dumps({"id": record.get("id"), "policy": {"id": "pp-46-2011"}, "outputs": evaluate(record)}))
            out.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
