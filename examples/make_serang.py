"""Contoh data fiktif untuk kebijakan `serang` (policies/serang.yaml).

Menulis, dari direktori examples/:
  serang.jsonl        satu rekaman bulanan per pegawai (>= 300 pegawai, fiktif)
  serang-bad.jsonl    rekaman yang sengaja salah, untuk mencoba pesan kesalahan
  serang-units.yaml   unit kerja, predikat unit dan anggotanya (untuk `kinerja distribution`)

Deterministik (benih tetap) dan hanya memakai pustaka standar: `python3 examples/make_serang.py`.
Rating setiap pegawai direncanakan dari rencana predikat unitnya, lalu angkanya diambil acak dan
diperiksa dengan aturan yang sama seperti kebijakan (hitungan pecahan eksak) sampai cocok.
Semua nama, NIP dan angka adalah fiktif.
"""

from __future__ import annotations

import calendar
import json
import random
from decimal import Decimal
from fractions import Fraction as F
from pathlib import Path

from fiktif import BERAKHLAK, choose, dec, half_up, number, write_units

SEED = 20250101
HERE = Path(__file__).resolve().parent

# Rencana unit: predikat unit dan banyaknya pegawai per predikat. Dua unit sengaja melanggar
# kurva distribusi (lihat `catatan`).
UNITS = [
    dict(
        id="dinkes-puskesmas-kasemen",
        name="Puskesmas Kasemen",
        predikat="Baik",
        jenis="puskesmas",
        ikm=(80, "83.40"),
        plan={"Sangat Baik": 8, "Baik": 32, "Butuh Perbaikan": 5, "Kurang/Misconduct": 2, "Sangat Kurang": 1},
    ),
    dict(
        id="dinkes-puskesmas-taktakan",
        name="Puskesmas Taktakan",
        predikat="Istimewa",
        jenis="puskesmas",
        ikm=(80, "86.25"),
        plan={"Sangat Baik": 26, "Baik": 12, "Butuh Perbaikan": 2},
    ),
    dict(
        id="dinkes-puskesmas-walantaka",
        name="Puskesmas Walantaka",
        predikat="Butuh Perbaikan",
        jenis="puskesmas",
        ikm=(80, "74.10"),
        plan={"Butuh Perbaikan": 22, "Baik": 9, "Sangat Baik": 3, "Kurang/Misconduct": 1},
    ),
    dict(
        id="dinkes-sekretariat",
        name="Sekretariat Dinas Kesehatan",
        predikat="Baik",
        jenis="kantor",
        ikm=None,
        plan={"Sangat Baik": 5, "Baik": 21, "Butuh Perbaikan": 3, "Kurang/Misconduct": 1},
    ),
    dict(
        id="disdik-sdn-3-serang",
        name="SD Negeri 3 Serang",
        predikat="Baik",
        jenis="sekolah",
        ikm=(78, "81.90"),
        plan={"Sangat Baik": 4, "Baik": 36},
        catatan="melanggar: Baik 90% (> 70%) dan tidak ada Butuh Perbaikan atau Kurang/Misconduct",
    ),
    dict(
        id="disdik-smpn-5-serang",
        name="SMP Negeri 5 Serang",
        predikat="Kurang",
        jenis="sekolah",
        ikm=(78, "70.20"),
        plan={"Kurang/Misconduct": 28, "Butuh Perbaikan": 6, "Baik": 8, "Sangat Baik": 3},
    ),
    dict(
        id="disdik-bidang-pembinaan-sd",
        name="Bidang Pembinaan SD Dinas Pendidikan",
        predikat="Sangat Kurang",
        jenis="kantor",
        ikm=None,
        plan={"Sangat Kurang": 19, "Kurang/Misconduct": 3, "Butuh Perbaikan": 2, "Baik": 6},
    ),
    dict(
        id="disdik-sekretariat",
        name="Sekretariat Dinas Pendidikan",
        predikat="Istimewa",
        jenis="kantor",
        ikm=None,
        plan={"Sangat Baik": 27, "Baik": 7, "Butuh Perbaikan": 1},
        catatan="melanggar: Sangat Baik 77% (> 70%)",
    ),
]

JABATAN_UNIT = {
    "puskesmas": [("bidan", 40), ("perawat", 35), ("dokter", 10), ("staf", 15)],
    "sekolah": [("guru", 85), ("staf", 15)],
    "kantor": [("staf", 100)],
}

KOMBINASI = {  # predikat -> (rating hasil, rating perilaku) dengan bobot kemungkinan
    "Sangat Baik": [(("di_atas", "di_atas"), 1)],
    "Baik": [(("di_atas", "sesuai"), 30), (("sesuai", "sesuai"), 55), (("sesuai", "di_atas"), 15)],
    "Butuh Perbaikan": [(("di_bawah", "sesuai"), 70), (("di_bawah", "di_atas"), 30)],
    "Kurang/Misconduct": [(("di_atas", "di_bawah"), 20), (("sesuai", "di_bawah"), 80)],
    "Sangat Kurang": [(("di_bawah", "di_bawah"), 1)],
}

BOBOT = {
    "bidan": {"imunisasi": 50, "pelayanan_kesehatan": 30, "ikm": 20},
    "perawat": {"imunisasi": 30, "pelayanan_kesehatan": 50, "ikm": 20},
    "dokter": {"imunisasi": 20, "pelayanan_kesehatan": 60, "ikm": 20},
    "guru": {"ketuntasan_belajar": 70, "ikm": 30},
    "staf": {"layanan_administrasi": 60, "ikm": 40},
}

# Pagu TPP bulanan (rupiah) menurut kelas jabatan: fiktif, dalam kisaran 2,5-9 juta.
PAGU_KELAS = {
    5: 2_550_000,
    6: 2_900_000,
    7: 3_450_000,
    8: 4_100_000,
    9: 4_900_000,
    10: 5_800_000,
    11: 6_900_000,
    12: 8_250_000,
}


def nip(rng: random.Random, used: set, masa_kerja_min: int = 0) -> str:
    """NIP fiktif 18 digit: lahir YYYYMMDD + TMT CPNS YYYYMM + jenis kelamin + nomor urut."""
    while True:
        year = rng.randint(1965, 2000)
        month = rng.randint(1, 12)
        day = rng.randint(1, calendar.monthrange(year, month)[1])
        tmt_year = year + rng.randint(20, 35)
        if tmt_year > 2024 or 2024 - tmt_year < masa_kerja_min:
            continue
        tmt_month = rng.choice([1, 2, 3, 4, 12]) if rng.random() < 0.7 else rng.randint(1, 12)
        code = f"{year:04d}{month:02d}{day:02d}{tmt_year:04d}{tmt_month:02d}{rng.choice('12')}{rng.randint(1, 6):03d}"
        if code not in used:
            used.add(code)
            return code


def masa_kerja(code: str) -> int:
    return 2025 - int(code[8:12])


def jenjang_dan_kelas(rng: random.Random, jabatan: str, tahun: int):
    if jabatan in ("bidan", "perawat"):
        if rng.random() < 0.55:  # lulusan D3: jenjang keterampilan
            j = "terampil" if tahun < 8 else "mahir" if tahun < 16 else "penyelia"
            return j, {"terampil": 6, "mahir": 7, "penyelia": 8}[j]
        j = "ahli_pertama" if tahun < 8 else "ahli_muda" if tahun < 18 else "ahli_madya"
        return j, {"ahli_pertama": 8, "ahli_muda": 9, "ahli_madya": 11}[j]
    if jabatan == "dokter":
        j = "ahli_pertama" if tahun < 6 else "ahli_muda" if tahun < 14 else "ahli_madya"
        return j, {"ahli_pertama": 9, "ahli_muda": 10, "ahli_madya": 12}[j]
    if jabatan == "guru":
        j = "ahli_pertama" if tahun < 8 else "ahli_muda" if tahun < 16 else "ahli_madya"
        return j, {"ahli_pertama": 8, "ahli_muda": 9, "ahli_madya": 10}[j]
    return None, rng.choice([5, 6, 6, 7, 7, 8])  # staf pelaksana: tanpa jenjang fungsional


def rating_hasil(c: F) -> str:
    c = half_up(c)
    return "di_atas" if c >= 100 else "sesuai" if c >= 76 else "di_bawah"


def capaian_hasil(record: dict) -> F:
    total = F(0)
    applied = F(0)
    for name, weight in BOBOT[record["jabatan"]].items():
        if name not in record:
            continue  # hanya IKM yang boleh kosong (tidak berlaku)
        data = record[name]
        c = min(F(str(data["realisasi"])) / F(str(data["target"])) * 100, F(120))
        total += weight * c
        applied += weight
    return total / applied


def sample_capaian(rng: random.Random, band: str) -> float:
    return {"di_atas": rng.uniform(99, 114), "sesuai": rng.uniform(79, 100.5), "di_bawah": rng.uniform(48, 78)}[band]


def make_hasil(rng: random.Random, jabatan: str, band: str, ikm) -> dict:
    for _ in range(2000):
        rec: dict = {"jabatan": jabatan}
        if jabatan in ("bidan", "perawat", "dokter"):
            t = rng.choice([90, 92, 95])
            rec["imunisasi"] = {
                "target": t,
                "realisasi": number(min(Decimal(100), dec(t * sample_capaian(rng, band) / 100))),
            }
            t = rng.randrange(150, 601, 10)
            rec["pelayanan_kesehatan"] = {"target": t, "realisasi": round(t * sample_capaian(rng, band) / 100)}
        elif jabatan == "guru":
            t = rng.choice([75, 78, 80, 85])
            rec["ketuntasan_belajar"] = {
                "target": t,
                "realisasi": number(min(Decimal(100), dec(t * sample_capaian(rng, band) / 100))),
            }
        else:
            t = rng.randrange(40, 201, 5)
            rec["layanan_administrasi"] = {"target": t, "realisasi": round(t * sample_capaian(rng, band) / 100)}
        if ikm is not None:
            rec["ikm"] = {"target": ikm[0], "realisasi": number(Decimal(ikm[1]))}
        if rating_hasil(capaian_hasil(rec)) == band:
            return rec
    raise RuntimeError(f"no hasil for {jabatan} {band}")


def rating_perilaku(scores: list) -> str:
    mean = half_up(F(sum(scores)) / 7)
    if mean >= 90 and min(scores) >= 76:
        return "di_atas"
    return "sesuai" if mean >= 76 else "di_bawah"


def make_perilaku(rng: random.Random, band: str) -> dict:
    low, high = {"di_atas": (86, 99), "sesuai": (74, 93), "di_bawah": (58, 80)}[band]
    for _ in range(2000):
        scores = [rng.randint(low, high) for _ in BERAKHLAK]
        if rating_perilaku(scores) == band:
            return dict(zip(BERAKHLAK, scores))
    raise RuntimeError(band)


def make_keterlambatan(rng: random.Random, perilaku_band: str) -> list:
    chance = {"di_atas": 0.15, "sesuai": 0.4, "di_bawah": 0.85}[perilaku_band]
    if rng.random() > chance:
        return []
    days = rng.choices([1, 2, 3, 4, 6, 9], weights=[35, 25, 15, 12, 8, 5])[0]
    if perilaku_band != "di_bawah":
        days = min(days, 4)
    result = []
    for _ in range(days):
        kind = rng.choices(["pendek", "sedang", "lama", "sangat_lama", "tanpa_rekaman"], weights=[60, 20, 8, 6, 6])[0]
        if kind == "tanpa_rekaman":
            result.append({})
        else:
            low, high = {"pendek": (1, 30), "sedang": (31, 60), "lama": (61, 90), "sangat_lama": (91, 180)}[kind]
            result.append({"menit": rng.randint(low, high)})
    return result


def build(rng: random.Random):
    used: set = set()
    records, units = [], []
    for unit in UNITS:
        planned = [p for p, n in unit["plan"].items() for _ in range(n)]
        rng.shuffle(planned)
        members = []
        for predikat in planned:
            jabatan = choose(rng, JABATAN_UNIT[unit["jenis"]])
            code = nip(rng, used, masa_kerja_min=2 if jabatan == "dokter" else 0)
            jenjang, kelas = jenjang_dan_kelas(rng, jabatan, masa_kerja(code))
            hasil_band, perilaku_band = choose(rng, KOMBINASI[predikat])
            rec = {"id": code}
            rec.update(make_hasil(rng, jabatan, hasil_band, unit["ikm"]))
            rec["perilaku"] = make_perilaku(rng, perilaku_band)
            rec["tpp_pagu"] = PAGU_KELAS[kelas]
            rec["keterlambatan"] = make_keterlambatan(rng, perilaku_band)
            rec["apel_senin_tidak_hadir"] = rng.choices(
                [0, 1, 2, 3], weights=[80, 13, 5, 2] if perilaku_band != "di_bawah" else [30, 35, 25, 10]
            )[0]
            if jenjang:
                rec["jenjang"] = jenjang
            records.append(rec)
            members.append(code)
        units.append((unit, members))
    return records, units


def bad_records(rng: random.Random, good: list) -> list[str]:
    """Satu atau dua rekaman baik, lalu rekaman yang masing-masing salah di satu tempat."""
    taken: set = set()

    def pick(jabatan: str) -> dict:
        """A copy of the next good record of this jabatan not used yet (each bad record has its own id)."""
        i = next(i for i, r in enumerate(good) if r["jabatan"] == jabatan and i not in taken)
        taken.add(i)
        return json.loads(json.dumps(good[i]))

    lines = [json.dumps(pick("bidan"))]  # baik
    r = pick("guru")
    r["jabatan"] = "Guru"  # kode enum salah
    lines.append(json.dumps(r))
    r = pick("staf")
    del r["perilaku"]["loyal"]  # field wajib tidak ada
    lines.append(json.dumps(r))
    r = pick("bidan")
    r["imunisasi"]["target"] = 0  # target nol
    lines.append(json.dumps(r))
    r = pick("staf")
    r["keterlambatan"] = [{"menit": 20}, {"menit": -15}]  # angka negatif
    lines.append(json.dumps(r))
    r = pick("guru")
    r["tpp_pagu"] = "4.100.000"  # teks di tempat angka
    lines.append(json.dumps(r))
    r = pick("perawat")
    r["apel_senin_absen"] = r.pop("apel_senin_tidak_hadir")  # field tak dikenal (salah eja)
    lines.append(json.dumps(r))
    r = pick("bidan")
    del r["imunisasi"]  # lolos skema, gagal saat dihitung
    lines.append(json.dumps(r))
    text = json.dumps(pick("guru"))
    lines.append(text[: text.index('"perilaku"')] + '"perilaku": {"berorientasi_pelayanan": 85,}')  # JSON rusak
    lines.append(json.dumps(pick("staf")))  # baik
    return lines


def main() -> None:
    rng = random.Random(SEED)
    records, units = build(rng)
    (HERE / "serang.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (HERE / "serang-bad.jsonl").write_text("\n".join(bad_records(rng, records)) + "\n", encoding="utf-8")
    write_units(HERE / "serang-units.yaml", units, "serang")
    print(f"serang: {len(records)} pegawai, {len(units)} unit")


if __name__ == "__main__":
    main()
