"""Policy P as someone would hand-write it with binary floats and stdlib `json`: fast, and wrong
near the band edges and rounding midpoints. Written from BENCH.md alone."""

from __future__ import annotations

import json
import math

BOBOT = (25, 20, 20, 15, 10, 10)
TERBALIK = (False, False, False, False, True, True)
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
MATRIKS = {
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
_IKI = tuple(zip((f"iki_{i}" for i in range(1, 7)), BOBOT, TERBALIK))


def parse(line: bytes) -> dict:
    return json.loads(line)


def half_up(x: float) -> float:
    return math.floor(x * 100 + 0.5) / 100


def evaluate(record: dict) -> dict:
    total = 0.0
    for name, weight, terbalik in _IKI:
        indikator = record[name]
        r, t = indikator["realisasi"], indikator["target"]
        c = max((2 * t - r) / t * 100, 0.0) if terbalik else r / t * 100
        total += weight * min(c, 120.0)
    hasil = total / 100
    scores = record["berakhlak"]
    perilaku = sum(scores[name] for name in BERAKHLAK) / 7 * 20
    rating_hasil = "di_atas" if hasil > 110 else "sesuai" if hasil >= 90 else "di_bawah"
    rating_perilaku = "di_atas" if perilaku > 90 else "sesuai" if perilaku >= 70 else "di_bawah"
    return {
        "hasil_kerja": half_up(hasil),
        "perilaku": half_up(perilaku),
        "rating_hasil_kerja": rating_hasil,
        "rating_perilaku": rating_perilaku,
        "predikat": MATRIKS[rating_hasil, rating_perilaku],
    }


def make():
    return lambda records: [evaluate(r) for r in records]


def outputs(result: dict) -> dict:
    return result
