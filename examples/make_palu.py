"""Generate the fictional example data of the `palu` policy (deterministic, stdlib only).

    python3 examples/make_palu.py

writes, beside this script:
- palu.jsonl        one record per employee (>= 300), every predikat present;
- palu-units.yaml   the units, each with its own predikat and its members' ids;
- palu-bad.jsonl    deliberately bad records, one kind of mistake each.

The data is fictional: names of units, NIPs and numbers are invented. Each employee is given a
planned (rating hasil kerja, rating perilaku) pair first, chosen so that most units satisfy the
kurva distribusi of their own predikat (DOMAIN.md) and one does not; the numbers are then drawn
around the planned ratings and checked with an exact replica of policies/palu.yaml, so the
engine's result is known in advance (a drawn record that misses its plan is drawn again).
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

from fiktif import BERAKHLAK, MATRIX, exact

SEED = 20240202
YEAR = 2024  # the appraisal year
HERE = Path(__file__).resolve().parent

# --- the rules of policies/palu.yaml, replicated exactly -----------------------------------------
BATAS_CAPAIAN_MAKSIMUM = Fraction(120)
BATAS_HASIL_DI_ATAS, BATAS_HASIL_SESUAI = Fraction(100), Fraction(76)
BATAS_PERILAKU_DI_ATAS, BATAS_PERILAKU_SESUAI, BATAS_NILAI_DASAR_MINIMUM = Fraction(90), Fraction(76), Fraction(60)

# indicator: (direction, realisasi at most 100, possible targets, decimals of realisasi, uraian RHK)
INDICATORS = {
    "ketuntasan_belajar": (
        "naik",
        True,
        [75, 80, 85],
        2,
        "Meningkatnya ketuntasan belajar siswa pada mata pelajaran yang diampu",
    ),
    "kehadiran_siswa": ("naik", True, [90, 92, 95], 2, "Meningkatnya kehadiran siswa di kelas yang diampu"),
    "angka_partisipasi_sekolah": (
        "naik",
        True,
        [95, 96.5, 98],
        2,
        "Meningkatnya angka partisipasi sekolah usia 7-15 tahun di wilayah binaan",
    ),
    "angka_putus_sekolah": ("turun", False, [0.8, 1, 1.5], 2, "Menurunnya angka putus sekolah di wilayah binaan"),
    "cakupan_imunisasi": (
        "naik",
        True,
        [90, 92, 95],
        2,
        "Tercapainya cakupan imunisasi dasar lengkap di wilayah kerja",
    ),
    "waktu_tunggu_pelayanan": ("turun", False, [30, 45, 60], 2, "Menurunnya waktu tunggu pelayanan pasien (menit)"),
    "dokumen_diterbitkan": ("naik", False, [800, 1200, 2400, 3600], 0, "Terbitnya dokumen kependudukan yang dimohon"),
    "waktu_penyelesaian_dokumen": ("turun", False, [3, 5, 7], 2, "Cepatnya penyelesaian dokumen (hari kerja)"),
    "indeks_kepuasan_masyarakat": ("naik", True, [80, 82.5, 85], 2, "Meningkatnya kepuasan masyarakat atas layanan"),
    "laporan_tepat_waktu": ("naik", False, [4, 12, 24], 0, "Tersusunnya laporan kegiatan tepat waktu"),
    "realisasi_anggaran": ("naik", True, [90, 95], 2, "Terserapnya anggaran kegiatan sesuai rencana"),
}
# jabatan: (indicators of its RHK utama, indicators for RHK tambahan); all from the policy's catalogue
CATALOGUE = {
    "guru": (["ketuntasan_belajar", "kehadiran_siswa"], ["laporan_tepat_waktu"]),
    "pengelola_pendidikan": (
        ["angka_partisipasi_sekolah", "angka_putus_sekolah"],
        ["laporan_tepat_waktu", "realisasi_anggaran"],
    ),
    "tenaga_kesehatan": (
        ["cakupan_imunisasi", "waktu_tunggu_pelayanan"],
        ["indeks_kepuasan_masyarakat", "laporan_tepat_waktu"],
    ),
    "petugas_pelayanan": (
        ["dokumen_diterbitkan", "waktu_penyelesaian_dokumen"],
        ["indeks_kepuasan_masyarakat", "laporan_tepat_waktu"],
    ),
    "pengadministrasi": (["laporan_tepat_waktu", "realisasi_anggaran"], []),
}
# an indicator some employees use outside their position's catalogue (the policy reports it)
OUTSIDE = {
    "guru": "angka_partisipasi_sekolah",
    "pengadministrasi": "indeks_kepuasan_masyarakat",
    "pengelola_pendidikan": "kehadiran_siswa",
    "tenaga_kesehatan": "realisasi_anggaran",
    "petugas_pelayanan": "realisasi_anggaran",
}


def capaian_rhk(rhk: dict) -> Fraction:
    t, r = exact(rhk["target"]), exact(rhk["realisasi"])
    if INDICATORS[rhk["indikator"]][0] == "turun":
        value = max((2 * t - r) / t * 100, Fraction(0))
    else:
        value = r / t * 100
    return min(value, BATAS_CAPAIAN_MAKSIMUM)


def rating_band(c: Fraction) -> str:
    return "di_atas" if c >= BATAS_HASIL_DI_ATAS else "sesuai" if c >= BATAS_HASIL_SESUAI else "di_bawah"


def rating_hasil_kerja(rhk: list) -> str:
    values = [capaian_rhk(r) for r in rhk]
    mean = sum(values) / len(values)
    below = [rating_band(v) == "di_bawah" for v in values]
    utama_below = sum(1 for r, b in zip(rhk, below) if b and r["jenis"] == "utama")
    if mean < BATAS_HASIL_SESUAI or sum(below) * 2 > len(rhk):
        return "di_bawah"
    if mean >= BATAS_HASIL_DI_ATAS and utama_below == 0:
        return "di_atas"
    return "sesuai"


def rating_perilaku(perilaku: dict) -> str:
    values = [exact(perilaku[k]) for k in BERAKHLAK]
    nilai = sum(values) / 7
    if nilai < BATAS_PERILAKU_SESUAI or min(values) < BATAS_NILAI_DASAR_MINIMUM:
        return "di_bawah"
    return "di_atas" if nilai >= BATAS_PERILAKU_DI_ATAS else "sesuai"


# --- units and their planned predikat ----------------------------------------------------------
UNITS = [
    (
        "disdikbud-palu",
        "Dinas Pendidikan dan Kebudayaan Kota Palu",
        "Baik",
        {"pengelola_pendidikan": 30, "pengadministrasi": 18},
        {"Sangat Baik": 9, "Baik": 32, "Butuh Perbaikan": 4, "Kurang/Misconduct": 2, "Sangat Kurang": 1},
    ),
    (
        "disdikbud-sdn-5-palu",
        "SD Negeri 5 Palu",
        "Istimewa",
        {"guru": 32, "pengadministrasi": 4},
        {"Sangat Baik": 24, "Baik": 11, "Butuh Perbaikan": 1},
    ),
    (
        "disdikbud-smpn-4-palu",
        "SMP Negeri 4 Palu",
        "Baik",
        {"guru": 50, "pengadministrasi": 8},
        {"Sangat Baik": 12, "Baik": 40, "Butuh Perbaikan": 4, "Kurang/Misconduct": 1, "Sangat Kurang": 1},
    ),
    # violates the kurva distribusi on purpose: Butuh Perbaikan 52.5% (at least 60%) and Sangat
    # Baik 15% (at most 10%)
    (
        "dinkes-puskesmas-palu-timur",
        "UPTD Puskesmas Palu Timur",
        "Butuh Perbaikan",
        {"tenaga_kesehatan": 32, "petugas_pelayanan": 3, "pengadministrasi": 5},
        {"Sangat Baik": 6, "Baik": 10, "Butuh Perbaikan": 21, "Kurang/Misconduct": 2, "Sangat Kurang": 1},
    ),
    (
        "disdukcapil-palu",
        "Dinas Kependudukan dan Pencatatan Sipil Kota Palu",
        "Kurang",
        {"petugas_pelayanan": 32, "pengadministrasi": 12},
        {"Sangat Baik": 3, "Baik": 6, "Butuh Perbaikan": 6, "Kurang/Misconduct": 27, "Sangat Kurang": 2},
    ),
    (
        "kecamatan-palu-barat",
        "Kantor Kecamatan Palu Barat",
        "Sangat Kurang",
        {"petugas_pelayanan": 14, "pengadministrasi": 12},
        {"Baik": 6, "Butuh Perbaikan": 2, "Kurang/Misconduct": 2, "Sangat Kurang": 16},
    ),
    (
        "dinkes-palu",
        "Dinas Kesehatan Kota Palu",
        "Baik",
        {"tenaga_kesehatan": 30, "pengadministrasi": 14, "petugas_pelayanan": 8},
        {"Sangat Baik": 11, "Baik": 35, "Butuh Perbaikan": 3, "Kurang/Misconduct": 2, "Sangat Kurang": 1},
    ),
]

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
    def nip(self) -> tuple[str, int]:
        while True:
            birth_year = self.rng.randint(1966, 2000)
            tmt_year = birth_year + self.rng.randint(20, 35)
            if tmt_year > YEAR - 1:
                continue
            month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
            tmt_month = self.rng.choice([1, 2, 3, 4, 12])
            nip = (
                f"{birth_year:04d}{month:02d}{day:02d}{tmt_year:04d}{tmt_month:02d}{self.rng.choice('12')}"
                f"{self.rng.randint(1, 999):03d}"
            )
            if nip not in self.used_ids:
                self.used_ids.add(nip)
                return nip, YEAR - tmt_year

    def jenjang(self, jabatan: str, service: int) -> str | None:
        r = self.rng.random()
        if jabatan == "guru":
            return "ahli_pertama" if service < 10 else "ahli_muda" if service < 20 else "ahli_madya"
        if jabatan == "pengelola_pendidikan":
            return (
                "ahli_pertama"
                if service < 8
                else "ahli_muda"
                if service < 18
                else "ahli_utama"
                if service >= 30 and r < 0.25
                else "ahli_madya"
            )
        if jabatan == "tenaga_kesehatan":
            if r < 0.4:
                return "ahli_pertama" if service < 12 else "ahli_muda"
            return "pemula" if service < 3 else "terampil" if service < 9 else "mahir" if service < 18 else "penyelia"
        if jabatan == "petugas_pelayanan" and r < 0.2:
            return "pemula" if service < 5 else "terampil"
        return None

    # --- numbers around a planned rating ---------------------------------------------------------
    def realisasi(self, indikator: str, target, c: float):
        direction, bounded, _, places, _ = INDICATORS[indikator]
        value = target * (2 - c / 100) if direction == "turun" else target * c / 100
        value = max(value, 0)
        if bounded:  # a percentage or a 0-100 score: never above 100, and rarely exactly 100
            value = min(value, self.rng.uniform(97.5, 100) if value > 97.5 else value)
        if places == 0:
            return int(round(value))
        value = round(value, places)
        return int(value) if value == int(value) else value

    def one_rhk(self, jenis: str, indikator: str, low: float, high: float) -> dict | None:
        target = self.rng.choice(INDICATORS[indikator][2])
        for _ in range(200):
            rhk = {
                "jenis": jenis,
                "uraian": INDICATORS[indikator][4],
                "indikator": indikator,
                "target": target,
                "realisasi": self.realisasi(indikator, target, self.rng.uniform(low, high)),
            }
            if low <= capaian_rhk(rhk) < high or (high > 120 and capaian_rhk(rhk) == 120):
                return rhk
        return None  # this target cannot reach the band: the caller draws again

    def skp(self, jabatan: str, plan: str) -> list:
        utama, tambahan = CATALOGUE[jabatan]
        while True:
            extra = self.rng.choice([0, 1, 1, 2]) if tambahan else 0
            kinds = [("utama", i) for i in utama] + [("tambahan", self.rng.choice(tambahan)) for _ in range(extra)]
            if self.rng.random() < 0.03:  # an indicator outside the position's catalogue, as an RHK tambahan
                kinds.append(("tambahan", OUTSIDE[jabatan]))
            n, variant = len(kinds), self.rng.random()
            if plan == "di_atas":
                bands = [(98, 114)] * n
            elif plan == "sesuai":
                if variant < 0.8:
                    bands = [(80, 99.5)] * n
                elif variant < 0.92 or n < 3:  # one weak RHK, still Sesuai
                    bands = [(66, 75.9)] + [(84, 99.5)] * (n - 1)
                else:  # average at least 100 but an RHK utama Di Bawah: Sesuai, not Di Atas
                    bands = [(68, 75.9)] + [(114, 125)] * (n - 1)
            else:
                if variant < 0.85 or n < 3:
                    bands = [(55, 75.5)] * n
                else:  # most RHK Di Bawah although the average is at least 76
                    weak = n // 2 + 1
                    bands = [(66, 75.5)] * weak + [(110, 125)] * (n - weak)
                    self.rng.shuffle(bands)
            result = [self.one_rhk(jenis, indikator, *band) for (jenis, indikator), band in zip(kinds, bands)]
            if None not in result and rating_hasil_kerja(result) == plan:
                return result

    def behaviour(self, plan: str) -> dict:
        while True:
            variant = self.rng.random()
            if plan == "di_atas":
                scores = [self.rng.randint(86, 99) for _ in BERAKHLAK]
            elif plan == "sesuai":
                scores = [self.rng.randint(72, 92) for _ in BERAKHLAK]
            elif variant < 0.8:
                scores = [self.rng.randint(58, 80) for _ in BERAKHLAK]
            else:  # a good average, but one core value below 60
                scores = [self.rng.randint(80, 95) for _ in BERAKHLAK]
                scores[self.rng.randrange(7)] = self.rng.randint(45, 59)
            perilaku = dict(zip(BERAKHLAK, scores))
            if rating_perilaku(perilaku) == plan:
                return perilaku

    def employee(self, jabatan: str, predikat: str) -> dict:
        hasil, perilaku_plan = self.choice_weighted(PAIRS[predikat])
        nip, service = self.nip()
        record = {"id": nip, "jabatan": jabatan}
        jenjang = self.jenjang(jabatan, service)
        if jenjang:
            record["jenjang"] = jenjang
        record["rhk"] = self.skp(jabatan, hasil)
        record["perilaku"] = self.behaviour(perilaku_plan)
        assert MATRIX[(rating_hasil_kerja(record["rhk"]), rating_perilaku(record["perilaku"]))] == predikat
        return record


def units_yaml(units: list) -> str:
    lines = [
        "# Units of examples/palu.jsonl (fictional). Each employee belongs to exactly one unit.",
        "# predikat: the unit's own organisational predikat, which bounds its employees' predikat",
        "# (kurva distribusi, DOMAIN.md). UPTD Puskesmas Palu Timur violates it on purpose.",
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
    lines = []
    r = gen.employee("guru", "Baik")
    r["rhk"][0]["jenis"] = "pokok"  # wrong enum code (utama)
    lines.append(r)
    r = gen.employee("pengelola_pendidikan", "Baik")
    del r["rhk"][1]["realisasi"]  # missing required field
    lines.append(r)
    r = gen.employee("tenaga_kesehatan", "Baik")
    r["rhk"][0]["target"] = 0  # zero target
    lines.append(r)
    r = gen.employee("petugas_pelayanan", "Baik")
    r["rhk"][1]["realisasi"] = -2.5  # negative number
    lines.append(r)
    r = gen.employee("pengadministrasi", "Baik")
    r["perilaku"]["loyal"] = "baik"  # text where a number belongs
    lines.append(r)
    r = gen.employee("guru", "Baik")
    r["unit_kerja"] = "SMP Negeri 4 Palu"  # a field the policy does not declare
    lines.append(r)
    r = gen.employee("pengadministrasi", "Baik")
    r["rhk"] = []  # an empty list where at least one RHK is needed
    lines.append(r)
    text = [json.dumps(x, ensure_ascii=False) for x in lines]
    broken = json.dumps(gen.employee("guru", "Baik"), ensure_ascii=False)
    text.append(broken[:-1] + ",}")  # malformed JSON: a trailing comma
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
        for j, p in zip(jabatan, planned):
            record = gen.employee(j, p)
            records.append(record)
            members.append(record["id"])
        units.append((unit_id, name, predikat, members))
    (HERE / "palu.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    (HERE / "palu-units.yaml").write_text(units_yaml(units), "utf-8")
    (HERE / "palu-bad.jsonl").write_text("\n".join(bad_records(gen)) + "\n", "utf-8")
    print(f"{len(records)} records in {len(units)} units")


if __name__ == "__main__":
    main()
