"""Results are what a careful person with a fraction calculator gets (PRODUCT.md, "Exact").

The reference below is DOMAIN.md's pp-46-2011 rules written with fractions.Fraction, reading
every number from its decimal text; it is compared with the shipped policy on random data and
on the band edges where binary floats go wrong.
"""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest

from engine import api

PERILAKU = {"orientasi_pelayanan": 80, "integritas": 80, "komitmen": 80, "disiplin": 80, "kerja_sama": 80}


def half_up(value: Fraction, places: int = 2) -> Fraction:
    """Round to `places` decimals, halves away from zero (how pp-46-2011 results are reported)."""
    scaled = abs(value) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    return Fraction(whole if value >= 0 else -whole, 10**places)


def sebutan(nilai: Fraction) -> str:
    """PP 46/2011 Pasal 17 ayat (3), on the value rounded to 2 decimals."""
    rounded = half_up(nilai)
    if rounded >= 91:
        return "Sangat Baik"
    if rounded >= 76:
        return "Baik"
    if rounded >= 61:
        return "Cukup"
    if rounded >= 51:
        return "Kurang"
    return "Buruk"


def nilai_waktu(tw: Fraction, rw: Fraction) -> Fraction:
    """Perka BKN 1/2013: efficiency E = 100 - RW/TW x 100; the formula changes above 24."""
    efisiensi = 100 - rw / tw * 100
    if efisiensi <= 24:
        return (Fraction(176, 100) * tw - rw) / tw * 100
    return 76 - ((Fraction(176, 100) * tw - rw) / tw * 100 - 100)


def reference(texts: dict[str, str]) -> dict:
    """Every number from its text: TO, RO, TK, RK, TW, RW (one kegiatan), perilaku 80 each."""
    n = {k: Fraction(v) for k, v in texts.items()}
    kuantitas = n["RO"] / n["TO"] * 100
    kualitas = n["RK"] / n["TK"] * 100
    waktu = nilai_waktu(n["TW"], n["RW"])
    skp = (kuantitas + kualitas + waktu) / 3
    prestasi = skp * Fraction(6, 10) + 80 * Fraction(4, 10)
    return {
        "nilai_kuantitas": kuantitas,
        "nilai_kualitas": kualitas,
        "nilai_waktu": waktu,
        "outputs": {
            "nilai_skp": half_up(skp),
            "nilai_perilaku": Fraction(80),
            "nilai_prestasi_kerja": half_up(prestasi),
            "predikat": sebutan(prestasi),
        },
    }


def record(texts: dict[str, str]) -> dict:
    """A pp-46-2011 record with numbers as exact Decimals, as JSON decoding gives them."""
    d = {k: Decimal(v) for k, v in texts.items()}
    return {
        "kegiatan": [
            {
                "kuantitas": {"target": d["TO"], "realisasi": d["RO"]},
                "kualitas": {"target": d["TK"], "realisasi": d["RK"]},
                "waktu": {"target": d["TW"], "realisasi": d["RW"]},
            }
        ],
        "tugas_tambahan": 0,
        "kreativitas": 0,
        "perilaku": dict(PERILAKU),
    }


@pytest.fixture(scope="module")
def pp46():
    return api.load("pp-46-2011")


def check_against_reference(pp46, texts: dict[str, str]) -> None:
    result = api.evaluate(pp46, record(texts))
    assert "errors" not in result, (texts, result["errors"])
    wanted = reference(texts)
    kegiatan = result["values"]["kegiatan"][0]
    for name in ("nilai_kuantitas", "nilai_kualitas", "nilai_waktu"):
        assert Fraction(kegiatan[name]) == wanted[name], (texts, name, kegiatan[name], wanted[name])
    assert result["outputs"] == wanted["outputs"], texts


def _hundredths(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


def _random_texts(rng: random.Random) -> dict[str, str]:
    texts = {
        "TO": _hundredths(rng.randint(1, 10_000_00)),
        "RO": _hundredths(rng.randint(0, 10_000_00)),
        "TK": _hundredths(rng.randint(1, 100_00)),
        "RK": _hundredths(rng.randint(0, 100_00)),
    }
    if rng.random() < 0.5:  # on or next to the 24% edge: TW = 0.25 m, RW = 0.19 m (+/- 0.01)
        m = rng.randint(1, 2_000)
        texts["TW"], texts["RW"] = _hundredths(25 * m), _hundredths(19 * m + rng.choice((-1, 0, 0, 1)))
    else:
        texts["TW"], texts["RW"] = _hundredths(rng.randint(1, 36_00)), _hundredths(rng.randint(0, 48_00))
    return texts


def test_random_two_decimal_records_match_the_fraction_reference(pp46):
    rng = random.Random(46_2011)
    for _ in range(400):
        check_against_reference(pp46, _random_texts(rng))


def test_hypothesis_two_decimal_records_match_the_fraction_reference(pp46):
    hypothesis = pytest.importorskip("hypothesis", reason="hypothesis (the 'test' extra) is not installed")
    st = hypothesis.strategies
    target = st.integers(1, 10_000_00).map(_hundredths)
    amount = st.integers(0, 10_000_00).map(_hundredths)
    edge = st.tuples(st.integers(1, 2_000), st.sampled_from((-1, 0, 1))).map(
        lambda p: (_hundredths(25 * p[0]), _hundredths(19 * p[0] + p[1]))
    )
    waktu = st.one_of(edge, st.tuples(target, amount))

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(to=target, ro=amount, tk=target, rk=amount, tw_rw=waktu)
    def prop(to, ro, tk, rk, tw_rw):
        check_against_reference(pp46, {"TO": to, "RO": ro, "TK": tk, "RK": rk, "TW": tw_rw[0], "RW": tw_rw[1]})

    prop()


# The 24% edge, through the command line from JSON text ------------------------------------------


@pytest.mark.parametrize(
    "tw, rw, waktu",
    [
        ("12", "9.12", 100),  # E is exactly 24: (1.76 x 12 - 9.12) / 12 x 100 = 12 / 12 x 100
        ("12", "12", 76),  # on time is 76, by design
        ("12", "15", 51),  # late: (21.12 - 15) / 12 x 100 = 6.12 / 12 x 100
    ],
)
def test_nilai_waktu_at_the_24_percent_edge(tw, rw, waktu, pp46_record, run_cli):
    line = json.dumps(pp46_record()).replace('"target": 12, "realisasi": 12', f'"target": {tw}, "realisasi": {rw}')
    assert f'"realisasi": {rw}' in line
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", stdin=line)
    assert code == 0
    result = json.loads(out, parse_float=Decimal)
    assert Fraction(result["values"]["kegiatan"][0]["nilai_waktu"]) == waktu
    if rw == "9.12":  # why this edge matters: in binary floats E is 24.000000000000014, the other row
        assert 100 - 9.12 / 12 * 100 > 24


@pytest.mark.parametrize(
    "rw, waktu",
    [
        ("9.11", Fraction(911, 12)),  # E = 289/12, just above 24: 76 - (1201/12 - 100)
        ("9.13", Fraction(1199, 12)),  # E = 287/12, just below 24: (21.12 - 9.13) / 12 x 100
    ],
)
def test_nilai_waktu_next_to_the_edge(rw, waktu, pp46, pp46_record):
    record = pp46_record()
    record["kegiatan"][0]["waktu"] = {"target": 12, "realisasi": Decimal(rw)}
    assert api.evaluate(pp46, record)["values"]["kegiatan"][0]["nilai_waktu"] == waktu


# Sebutan from the value rounded to 2 decimals, at each band edge --------------------------------


@pytest.mark.parametrize(
    "kualitas, perilaku, prestasi, predikat",
    [
        # SKP with kualitas 90 is 266/3, and 0.6 x 266/3 = 53.2; nilai = 53.2 + 0.4 x perilaku
        ("90", "94.5", "91", "Sangat Baik"),
        ("90", "94.475", "90.99", "Baik"),
        ("90", "57", "76", "Baik"),
        ("90", "56.975", "75.99", "Cukup"),
        ("90", "19.5", "61", "Cukup"),
        ("90", "19.475", "60.99", "Kurang"),
        # perilaku 0: nilai = 0.2 x (100 + kualitas + 76)
        ("79", "0", "51", "Kurang"),
        ("78.95", "0", "50.99", "Buruk"),
        ("78.99", "0", "51", "Kurang"),  # 50.998 is reported, and judged, as 51.00
        # perilaku 100: 0.2 x (176 + 78.975) + 40 = 90.995 exactly, which rounds half up to 91.00
        ("78.975", "100", "91", "Sangat Baik"),
    ],
)
def test_sebutan_at_the_band_edges(kualitas, perilaku, prestasi, predikat, pp46_record, run_cli):
    line = json.dumps(pp46_record()).replace('"realisasi": 90', f'"realisasi": {kualitas}')
    line = line.replace(": 80", f": {perilaku}")
    assert line.count(f": {perilaku}") >= 5
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", stdin=line)
    assert code == 0
    outputs = json.loads(out, parse_float=Decimal)["outputs"]
    assert Fraction(outputs["nilai_prestasi_kerja"]) == Fraction(prestasi)
    assert outputs["predikat"] == predikat


# The rest of pp-46-2011, by hand ----------------------------------------------------------------


@pytest.mark.parametrize("tugas_tambahan, points", [(0, 0), (1, 1), (3, 1), (4, 2), (6, 2), (7, 3), (30, 3)])
@pytest.mark.parametrize("kreativitas", [0, 3, 6, 12])
def test_nilai_skp_adds_tugas_tambahan_and_kreativitas(tugas_tambahan, points, kreativitas, pp46, pp46_record):
    result = api.evaluate(pp46, pp46_record(tugas_tambahan=tugas_tambahan, kreativitas=kreativitas))
    assert result["values"]["nilai_skp"] == Fraction(266, 3) + points + kreativitas


@pytest.mark.parametrize(
    "biaya, aspek_biaya",
    [
        ({"target": 100, "realisasi": 80}, 96),  # E = 20: (176 - 80) / 100 x 100
        ({"target": 100, "realisasi": 50}, 50),  # E = 50 > 24: 76 - (126 - 100)
        ({"target": 100, "realisasi": 76}, 100),  # E = 24 exactly
    ],
)
def test_biaya_is_a_fourth_aspect_when_it_has_a_target(biaya, aspek_biaya, pp46, pp46_record):
    record = pp46_record()
    record["kegiatan"][0]["biaya"] = biaya
    result = api.evaluate(pp46, record)
    assert result["values"]["rata_rata_kegiatan"] == Fraction(100 + 90 + 76 + aspek_biaya, 4)


def test_biaya_with_target_0_is_not_an_aspect(pp46, pp46_record):
    record = pp46_record()
    record["kegiatan"][0]["biaya"] = {"target": 0, "realisasi": 0}
    assert api.evaluate(pp46, record)["values"]["rata_rata_kegiatan"] == Fraction(266, 3)


def test_kepemimpinan_is_a_sixth_behaviour_when_given(pp46, pp46_record):
    perilaku = {"orientasi_pelayanan": 80, "integritas": 81, "komitmen": 82, "disiplin": 83, "kerja_sama": 84}
    without = api.evaluate(pp46, pp46_record(perilaku=perilaku))
    with_it = api.evaluate(pp46, pp46_record(perilaku=perilaku | {"kepemimpinan": 91}))
    assert without["values"]["nilai_perilaku"] == 82
    assert with_it["values"]["nilai_perilaku"] == Fraction(501, 6)
    assert with_it["outputs"]["nilai_perilaku"] == Fraction("83.5")


def test_the_mean_of_several_kegiatan(pp46, pp46_record):
    second = {
        "kuantitas": {"target": 4, "realisasi": 3},
        "kualitas": {"target": 100, "realisasi": 80},
        "waktu": {"target": 12, "realisasi": 12},
    }  # 75, 80, 76 -> 77
    record = pp46_record()
    record["kegiatan"].append(second)
    result = api.evaluate(pp46, record)
    assert result["values"]["rata_rata_kegiatan"] == (Fraction(266, 3) + 77) / 2


# Exact text out ---------------------------------------------------------------------------------


def test_values_are_written_exactly(write_policy, run_cli):
    """The audit copy of a value with a finite decimal form is written digit for digit."""
    path = write_policy(
        "id: product\ninputs:\n  a: {type: number}\n  b: {type: number}\n"
        "values:\n  product: a * b\noutputs:\n  product: {}\n"
    )
    a, b = "12345678.12345678", "87654321.87654321"
    code, out, _ = run_cli("eval", "--policy", path, stdin=f'{{"a": {a}, "b": {b}}}')
    assert code == 0
    result = json.loads(out, parse_float=Decimal, parse_int=Decimal)
    exact = Fraction(a) * Fraction(b)
    assert Fraction(result["outputs"]["product"]) == half_up(exact)
    assert Fraction(result["values"]["product"]) == exact
