"""Policy P in plain Python with `fractions.Fraction`: the exact reference every engine is checked against.

Written from BENCH.md alone and sharing no code with Kinerja, so that agreement means something.
"""

from __future__ import annotations

import json
from fractions import Fraction

BOBOT = (25, 20, 20, 15, 10, 10)
TERBALIK = (False, False, False, False, True, True)  # indicators 5 and 6: lower is better
CAPAIAN_MAKS = 120
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
# PermenPANRB 6/2022: (rating hasil kerja, rating perilaku) -> predikat
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
_HALF = Fraction(1, 2)


def parse(line: bytes) -> dict:
    """Decimal numerals straight to fractions: no binary float ever touches them."""
    return json.loads(line, parse_float=Fraction)


def capaian(indikator: dict, terbalik: bool) -> Fraction:
    r, t = Fraction(indikator["realisasi"]), Fraction(indikator["target"])
    c = (2 * t - r) / t * 100 if terbalik else r / t * 100
    return min(max(c, Fraction(0)), Fraction(CAPAIAN_MAKS))


def hasil_kerja(record: dict) -> Fraction:
    """Unrounded: ratings compare this exact value, only the report is rounded."""
    return (
        sum(w * capaian(record[f"iki_{i}"], terbalik) for i, (w, terbalik) in enumerate(zip(BOBOT, TERBALIK), start=1))
        / 100
    )


def perilaku(record: dict) -> Fraction:
    scores = record["berakhlak"]
    return Fraction(sum(scores[name] for name in BERAKHLAK), len(BERAKHLAK)) * 20


def half_up(x: Fraction) -> Fraction:
    """Two decimals, half up (x is never negative here)."""
    return Fraction((x * 100 + _HALF).__floor__(), 100)


def rating(x: Fraction, di_atas_lebih_dari: int, sesuai_paling_sedikit: int) -> str:
    return "di_atas" if x > di_atas_lebih_dari else "sesuai" if x >= sesuai_paling_sedikit else "di_bawah"


def evaluate(record: dict) -> dict:
    hasil, nilai_perilaku = hasil_kerja(record), perilaku(record)
    rating_hasil, rating_perilaku = rating(hasil, 110, 90), rating(nilai_perilaku, 90, 70)
    return {
        "hasil_kerja": half_up(hasil),
        "perilaku": half_up(nilai_perilaku),
        "rating_hasil_kerja": rating_hasil,
        "rating_perilaku": rating_perilaku,
        "predikat": MATRIKS[rating_hasil, rating_perilaku],
    }


def make():
    return lambda records: [evaluate(r) for r in records]


def outputs(result: dict) -> dict:
    return result
