"""Generate the fictional example data of the `kertapati` policy (deterministic, stdlib only).

    python3 examples/make_kertapati.py

writes, beside this script:
- kertapati.jsonl        one record per employee (>= 300), every predikat present;
- kertapati-units.yaml   the units, each with its own predikat and its members' ids;
- kertapati-bad.jsonl    deliberately bad records, one kind of mistake each.

The data is fictional: names of units, NIPs and numbers are invented. Each employee is given a
planned (rating hasil kerja, rating perilaku) pair first, chosen so that most units satisfy the
kurva distribusi of their own predikat (DOMAIN.md) and one does not; the numbers are then drawn
around the planned ratings and checked with an exact replica of policies/kertapati.yaml, so the
engine's result is known in advance (a drawn record that misses its plan is drawn again).
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

from fiktif import BERAKHLAK, MATRIX, exact

SEED = 20240101
YEAR = 2024  # the appraisal year
HERE = Path(__file__).resolve().parent

# --- the rules of policies/kertapati.yaml, replicated exactly ------------------------------------
BATAS_CAPAIAN_MAKSIMUM = Fraction(120)
BATAS_HASIL_DI_ATAS, BATAS_HASIL_SESUAI = Fraction(100), Fraction(76)
BATAS_PERILAKU_DI_ATAS, BATAS_PERILAKU_SESUAI, BATAS_NILAI_DASAR = Fraction(90), Fraction(76), Fraction(76)
PUBLIK = {"guru", "kepala_sekolah", "tenaga_kesehatan", "petugas_pelayanan"}
WEIGHTS = {
    "guru": {
        "kualitas_pengajaran": 35,
        "kehadiran_siswa": 20,
        "partisipasi_orang_tua": 15,
        "disiplin": 15,
        "kerja_sama": 15,
    },
    "kepala_sekolah": {
        "kualitas_pengajaran": 25,
        "kehadiran_siswa": 20,
        "partisipasi_orang_tua": 20,
        "disiplin": 15,
        "kerja_sama": 20,
    },
    "tenaga_kesehatan": {"kecepatan_pelayanan": 30, "ketepatan_pelayanan": 40, "disiplin": 15, "kerja_sama": 15},
    "petugas_pelayanan": {"kecepatan_pelayanan": 35, "ketepatan_pelayanan": 35, "disiplin": 15, "kerja_sama": 15},
    "default": {"hasil_tugas": 70, "disiplin": 15, "kerja_sama": 15},
}

# indicator: (direction, realisasi at most 100, possible targets, decimals of realisasi)
INDICATORS = {
    "kualitas_pengajaran": ("naik", True, [80, 85], 2),
    "kehadiran_siswa": ("naik", True, [90, 92, 95], 2),
    "partisipasi_orang_tua": ("naik", True, [60, 65, 70, 75], 2),
    "kecepatan_pelayanan": ("turun", False, [10, 15, 20, 30], 2),
    "ketepatan_pelayanan": ("naik", True, [90, 95, 97], 2),
    "hasil_tugas": ("naik", False, [30, 45, 60, 90, 120], 0),
    "disiplin": ("naik", True, [95], 2),
    "kerja_sama": ("naik", True, [75, 80], 2),
}


def capaian_indikator(name: str, target, realisasi) -> Fraction:
    t, r = exact(target), exact(realisasi)
    if INDICATORS[name][0] == "turun":
        value = max((2 * t - r) / t * 100, Fraction(0))
    else:
        value = r / t * 100
    return min(value, BATAS_CAPAIAN_MAKSIMUM)


def capaian_triwulan(jabatan: str, quarter: dict) -> Fraction:
    weights = WEIGHTS.get(jabatan, WEIGHTS["default"])
    total = sum(weights.values())
    return (
        sum(w * capaian_indikator(n, quarter[n]["target"], quarter[n]["realisasi"]) for n, w in weights.items()) / total
    )


def rating_band(c: Fraction) -> str:
    return "di_atas" if c >= BATAS_HASIL_DI_ATAS else "sesuai" if c >= BATAS_HASIL_SESUAI else "di_bawah"


def rating_hasil_kerja(jabatan: str, quarters: list) -> str:
    values = [capaian_triwulan(jabatan, q) for q in quarters]
    mean = sum(values) / len(values)
    below = sum(1 for v in values if rating_band(v) == "di_bawah")
    if mean < BATAS_HASIL_SESUAI or below * 2 > len(values):
        return "di_bawah"
    if mean >= BATAS_HASIL_DI_ATAS and below == 0:
        return "di_atas"
    return "sesuai"


MINIMUM_REKAN_SEJAWAT, MINIMUM_MASYARAKAT, BATAS_PANGKAS = 3, 5, 5


def gabungan(scores: list) -> Fraction:
    """360 feedback of one kind: without the highest and the lowest from 5 raters on, else the mean."""
    values = [exact(v) for v in scores]
    if len(values) >= BATAS_PANGKAS:
        return (sum(values) - max(values) - min(values)) / (len(values) - 2)
    return sum(values) / len(values)


def nilai_perilaku(jabatan: str, perilaku: dict, umpan_balik: list) -> Fraction:
    atasan = sum(exact(perilaku[k]) for k in BERAKHLAK) / 7
    parts = [(60, atasan)]
    rekan = [r["nilai"] for r in umpan_balik if r["jenis"] == "rekan_sejawat"]
    if len(rekan) >= MINIMUM_REKAN_SEJAWAT:
        parts.append((25, gabungan(rekan)))
    if jabatan in PUBLIK:
        parts.append((15, gabungan([r["nilai"] for r in umpan_balik if r["jenis"] == "masyarakat"])))
    return sum(w * v for w, v in parts) / sum(w for w, _ in parts)


def rating_perilaku(jabatan: str, perilaku: dict, umpan_balik: dict) -> str:
    nilai = nilai_perilaku(jabatan, perilaku, umpan_balik)
    lowest = min(exact(perilaku[k]) for k in BERAKHLAK)
    if nilai >= BATAS_PERILAKU_DI_ATAS:
        return "di_atas" if lowest >= BATAS_NILAI_DASAR else "sesuai"
    return "sesuai" if nilai >= BATAS_PERILAKU_SESUAI else "di_bawah"


# --- units and their planned predikat ----------------------------------------------------------
# (id, name, unit predikat, {jabatan: count}, {predikat: count}); the counts of each unit add up.
UNITS = [
    (
        "disdik-sdn-3-kertapati",
        "SD Negeri 3 Kertapati",
        "Baik",
        {"kepala_sekolah": 1, "guru": 27, "pengadministrasi": 6},
        {"Sangat Baik": 6, "Baik": 22, "Butuh Perbaikan": 4, "Kurang/Misconduct": 1, "Sangat Kurang": 1},
    ),
    (
        "disdik-smpn-1-kertapati",
        "SMP Negeri 1 Kertapati",
        "Istimewa",
        {"kepala_sekolah": 1, "guru": 46, "pengadministrasi": 9},
        {"Sangat Baik": 36, "Baik": 17, "Butuh Perbaikan": 2, "Kurang/Misconduct": 1},
    ),
    # violates the kurva distribusi on purpose: Baik 84% (at most 70%) and no Butuh Perbaikan or
    # Kurang/Misconduct (at least one needed)
    (
        "disdik-sman-2-kertapati",
        "SMA Negeri 2 Kertapati",
        "Baik",
        {"kepala_sekolah": 1, "guru": 41, "pengadministrasi": 8},
        {"Sangat Baik": 8, "Baik": 42},
    ),
    (
        "dinkes-puskesmas-kertapati",
        "UPTD Puskesmas Kertapati",
        "Butuh Perbaikan",
        {"tenaga_kesehatan": 36, "petugas_pelayanan": 4, "pengadministrasi": 5},
        {"Sangat Baik": 3, "Baik": 10, "Butuh Perbaikan": 28, "Kurang/Misconduct": 3, "Sangat Kurang": 1},
    ),
    (
        "disdukcapil-kertapati",
        "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Kertapati",
        "Kurang",
        {"petugas_pelayanan": 30, "analis": 4, "pengadministrasi": 8},
        {"Sangat Baik": 2, "Baik": 6, "Butuh Perbaikan": 6, "Kurang/Misconduct": 26, "Sangat Kurang": 2},
    ),
    (
        "bkpsdm-kertapati",
        "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia Kabupaten Kertapati",
        "Baik",
        {"analis": 20, "pengadministrasi": 22, "petugas_pelayanan": 6},
        {"Sangat Baik": 10, "Baik": 33, "Butuh Perbaikan": 3, "Kurang/Misconduct": 2},
    ),
    (
        "dpmptsp-upt-kertapati-ilir",
        "UPT Pelayanan Perizinan Terpadu Kecamatan Kertapati Ilir",
        "Sangat Kurang",
        {"petugas_pelayanan": 20, "pengadministrasi": 8, "analis": 2},
        {"Sangat Kurang": 19, "Kurang/Misconduct": 3, "Butuh Perbaikan": 2, "Baik": 6},
    ),
]

# superiors (atasan langsung) per unit, and the one who rates far above the unit on purpose, so
# that `kinerja distribution --raters` has something to report (the bias is known in advance)
SUPERIORS = {"bkpsdm-kertapati": 3, "dinkes-puskesmas-kertapati": 2, "disdukcapil-kertapati": 2}
LENIENT = ("bkpsdm-kertapati", 0)

# predikat -> the (hasil, perilaku) pairs that give it, with their frequency
PAIRS = {
    "Sangat Baik": [(("di_atas", "di_atas"), 1)],
    "Baik": [(("di_atas", "sesuai"), 3), (("sesuai", "sesuai"), 5), (("sesuai", "di_atas"), 2)],
    "Butuh Perbaikan": [(("di_bawah", "sesuai"), 7), (("di_bawah", "di_atas"), 3)],
    "Kurang/Misconduct": [(("sesuai", "di_bawah"), 7), (("di_atas", "di_bawah"), 3)],
    "Sangat Kurang": [(("di_bawah", "di_bawah"), 1)],
}


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()

    def choice_weighted(self, options):
        values, weights = zip(*options)
        return self.rng.choices(values, weights=weights)[0]

    # NIP: birth date YYYYMMDD + TMT CPNS YYYYMM + gender digit + 3-digit sequence
    def nip(self, min_service: int = 1) -> tuple[str, int]:
        while True:
            birth_year = self.rng.randint(1966, 2000)
            age_at_tmt = self.rng.randint(20, 35)
            tmt_year = birth_year + age_at_tmt
            if tmt_year > YEAR - min_service:
                continue
            month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
            tmt_month = self.rng.choice([1, 2, 3, 4, 12])
            gender = self.rng.choice("12")
            sequence = self.rng.randint(1, 999)
            nip = f"{birth_year:04d}{month:02d}{day:02d}{tmt_year:04d}{tmt_month:02d}{gender}{sequence:03d}"
            if nip not in self.used_ids:
                self.used_ids.add(nip)
                return nip, YEAR - tmt_year

    def jenjang(self, jabatan: str, service: int) -> str | None:
        r = self.rng.random()
        if jabatan == "guru":
            return "ahli_pertama" if service < 10 else "ahli_muda" if service < 20 else "ahli_madya"
        if jabatan == "kepala_sekolah":
            return "ahli_utama" if service >= 30 and r < 0.3 else "ahli_madya"
        if jabatan == "tenaga_kesehatan":
            if r < 0.4:
                return "ahli_pertama" if service < 12 else "ahli_muda"
            return "pemula" if service < 3 else "terampil" if service < 9 else "mahir" if service < 18 else "penyelia"
        if jabatan == "analis":
            return (
                "ahli_pertama"
                if service < 8
                else "ahli_muda"
                if service < 18
                else "ahli_utama"
                if service >= 30 and r < 0.25
                else "ahli_madya"
            )
        if jabatan == "petugas_pelayanan" and r < 0.2:
            return "pemula" if service < 5 else "terampil"
        return None

    # --- numbers around a planned rating ---------------------------------------------------------
    def targets(self, jabatan: str) -> dict:
        return {name: self.rng.choice(INDICATORS[name][2]) for name in WEIGHTS.get(jabatan, WEIGHTS["default"])}

    def realisasi(self, name: str, target: int, c: float):
        direction, bounded, _, places = INDICATORS[name]
        value = target * (2 - c / 100) if direction == "turun" else target * c / 100
        value = max(value, 0)
        if bounded:  # a percentage or a 0-100 score: never above 100, and rarely exactly 100
            value = min(value, self.rng.uniform(97.5, 100) if value > 97.5 else value)
        if places == 0:
            return int(round(value))
        value = round(value, places)
        return int(value) if value == int(value) else value

    def quarter(self, jabatan: str, number: int, targets: dict, low: float, high: float) -> dict | None:
        for _ in range(200):
            centre = self.rng.uniform(low, high)
            quarter = {"nomor": number}
            for name, target in targets.items():
                c = centre + self.rng.gauss(0, 4)
                quarter[name] = {"target": target, "realisasi": self.realisasi(name, target, c)}
            if low <= capaian_triwulan(jabatan, quarter) < high:
                return quarter
        return None  # these targets cannot reach the band: the caller draws again

    def quarters(self, jabatan: str, plan: str, numbers: list[int]) -> list:
        n = len(numbers)
        while True:
            targets = self.targets(jabatan)
            variant = self.rng.random()
            if plan == "di_atas":
                bands = [(100.5, 110)] * n
            elif plan == "sesuai":
                if variant < 0.8 or n == 1:
                    bands = [(78, 99.5)] * n
                elif variant < 0.93:  # one weak quarter, still Sesuai
                    bands = [(66, 75.5)] + [(84, 99.5)] * (n - 1)
                else:  # average at least 100 but one quarter Di Bawah: Sesuai, not Di Atas
                    bands = [(70, 75.9)] + [(108, 116)] * (n - 1)
            else:
                if variant < 0.85 or n == 1:
                    bands = [(56, 75.5)] * n
                else:  # most quarters Di Bawah although the average is at least 76
                    weak = n // 2 + 1
                    bands = [(68, 75.5)] * weak + [(104, 114)] * (n - weak)
            self.rng.shuffle(bands)
            result = [self.quarter(jabatan, number, targets, *band) for number, band in zip(numbers, bands)]
            if None not in result and rating_hasil_kerja(jabatan, result) == plan:
                return result

    def raters(self, jenis: str, count: int, centre: float) -> list:
        """Individual raters' scores (whole numbers, as forms collect them) around a centre."""
        return [
            {"jenis": jenis, "nilai": max(0, min(100, round(centre + self.rng.uniform(-7, 7))))} for _ in range(count)
        ]

    def behaviour(self, jabatan: str, plan: str, lenient: bool = False) -> tuple[dict, list]:
        while True:
            variant = self.rng.random()
            if plan == "di_atas":
                scores = [self.rng.randint(87, 99) for _ in BERAKHLAK]
                rekan, masyarakat = self.rng.uniform(86, 98), self.rng.uniform(84, 98)
            elif plan == "sesuai" and variant < 0.92:
                scores = [self.rng.randint(75, 92) for _ in BERAKHLAK]
                rekan, masyarakat = self.rng.uniform(76, 92), self.rng.uniform(74, 93)
            elif plan == "sesuai":  # high on average, but one core value below 76 holds it at Sesuai
                scores = [self.rng.randint(92, 99) for _ in BERAKHLAK]
                scores[self.rng.randrange(7)] = self.rng.randint(66, 75)
                rekan, masyarakat = self.rng.uniform(90, 98), self.rng.uniform(90, 98)
            else:
                scores = [self.rng.randint(58, 80) for _ in BERAKHLAK]
                rekan, masyarakat = self.rng.uniform(60, 80), self.rng.uniform(60, 82)
            if lenient:  # a superior who rates well above what peers and the public see
                scores = [min(100, v + 12) for v in scores]
                rekan, masyarakat = rekan - 6, masyarakat - 6
            perilaku = dict(zip(BERAKHLAK, scores))
            r = self.rng.random()
            umpan_balik = self.raters(
                "rekan_sejawat", 2 if r < 0.08 else 3 if r < 0.3 else self.rng.randint(4, 7), rekan
            )
            if jabatan in PUBLIK:
                umpan_balik += self.raters("masyarakat", self.rng.randint(5, 9), masyarakat)
            if rating_perilaku(jabatan, perilaku, umpan_balik) == plan:
                return perilaku, umpan_balik

    def employee(self, jabatan: str, predikat: str, atasan: str | None = None, lenient: bool = False) -> dict:
        hasil, perilaku_plan = self.choice_weighted(PAIRS[predikat])
        r = self.rng.random()
        numbers = [1, 2, 3, 4] if r < 0.92 else [2, 3, 4] if r < 0.97 else [3, 4]
        nip, service = self.nip(min_service=1 if len(numbers) == 4 else 0)
        record = {"id": nip, "jabatan": jabatan}
        jenjang = self.jenjang(jabatan, service)
        if jenjang:
            record["jenjang"] = jenjang
        record["triwulan"] = self.quarters(jabatan, hasil, numbers)
        record["perilaku"], record["umpan_balik"] = self.behaviour(jabatan, perilaku_plan, lenient)
        if atasan is not None:
            record["atasan"] = atasan
        assert (
            MATRIX[
                (
                    rating_hasil_kerja(jabatan, record["triwulan"]),
                    rating_perilaku(jabatan, record["perilaku"], record["umpan_balik"]),
                )
            ]
            == predikat
        )
        return record


def units_yaml(units: list) -> str:
    lines = [
        "# Units of examples/kertapati.jsonl (fictional). Each employee belongs to exactly one unit.",
        "# predikat: the unit's own organisational predikat, which bounds its employees' predikat",
        "# (kurva distribusi, DOMAIN.md). SMA Negeri 2 Kertapati violates it on purpose.",
        "units:",
    ]
    for unit_id, name, predikat, members in units:
        lines += [f"  - id: {unit_id}", f"    name: {name}", f"    predikat: {predikat}", "    members: ["]
        for i in range(0, len(members), 5):
            chunk = ", ".join(json.dumps(m) for m in members[i : i + 5])
            lines.append(f"        {chunk}{',' if i + 5 < len(members) else ''}")
        lines.append("      ]")
    return "\n".join(lines) + "\n"


def bad_records(gen: Generator) -> list[str]:
    """One deliberate mistake per line, each on an otherwise valid record."""

    def base(jabatan="guru", predikat="Baik"):
        return gen.employee(jabatan, predikat)

    lines = []
    r = base()
    r["jenjang"] = "ahli muda"  # wrong enum code (ahli_muda)
    lines.append(r)
    r = base()
    del r["perilaku"]["kolaboratif"]  # missing required field
    lines.append(r)
    r = base("pengadministrasi")
    r["triwulan"][1]["hasil_tugas"]["target"] = 0  # zero target
    lines.append(r)
    r = base("petugas_pelayanan")
    r["umpan_balik"][0]["nilai"] = -82.5  # negative number
    lines.append(r)
    r = base()
    r["triwulan"][0]["disiplin"]["realisasi"] = "96,5"  # text where a number belongs
    lines.append(r)
    r = base("tenaga_kesehatan")
    r["umpan_balik"][-1]["jenis"] = "masyarakt"  # unknown rater kind
    lines.append(r)
    r = base("analis")
    r["triwulan"] = []  # an empty list where at least one item is needed
    lines.append(r)
    text = [json.dumps(x, ensure_ascii=False) for x in lines]
    broken = json.dumps(base("kepala_sekolah"), ensure_ascii=False)
    text.append(broken[: broken.index('"perilaku"')] + '"perilaku": {"berorientasi_pelayanan": 88,')  # malformed JSON
    return text


def main() -> None:
    gen = Generator(SEED)
    records, units = [], []
    for unit_id, name, predikat, jabatan_counts, predikat_counts in UNITS:
        assert sum(jabatan_counts.values()) == sum(predikat_counts.values()), unit_id
        jabatan = [j for j, n in jabatan_counts.items() for _ in range(n)]
        planned = [p for p, n in predikat_counts.items() for _ in range(n)]
        gen.rng.shuffle(planned)
        members = []
        superiors = [gen.nip(min_service=10)[0] for _ in range(SUPERIORS.get(unit_id, 1))]
        for index, (j, p) in enumerate(zip(jabatan, planned)):
            atasan = superiors[index % len(superiors)]
            record = gen.employee(j, p, atasan, lenient=(unit_id, index % len(superiors)) == LENIENT)
            records.append(record)
            members.append(record["id"])
        units.append((unit_id, name, predikat, members))
    (HERE / "kertapati.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    (HERE / "kertapati-units.yaml").write_text(units_yaml(units), "utf-8")
    (HERE / "kertapati-bad.jsonl").write_text("\n".join(bad_records(gen)) + "\n", "utf-8")
    print(f"{len(records)} records in {len(units)} units")


if __name__ == "__main__":
    main()
