"""Contoh data fiktif untuk kebijakan `sinabang` (policies/sinabang.yaml), penilaian triwulan I.

Menulis, dari direktori examples/:
  sinabang.jsonl        satu rekaman triwulan I per pegawai (>= 300 pegawai, fiktif)
  sinabang-bad.jsonl    rekaman yang sengaja salah, untuk mencoba pesan kesalahan
  sinabang-units.yaml   unit kerja, predikat unit dan anggotanya (untuk `kinerja distribution`)

Deterministik (benih tetap) dan hanya memakai pustaka standar: `python3 examples/make_sinabang.py`.
Rating setiap pegawai direncanakan dari rencana predikat unitnya, lalu angkanya diambil acak dan
diperiksa dengan aturan yang sama seperti kebijakan (hitungan pecahan eksak) sampai cocok.
Semua nama, NIP dan angka adalah fiktif.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from fractions import Fraction as F
from pathlib import Path

from fiktif import BERAKHLAK, choose, dec, half_up, nip, number, write_units

SEED = 20250303
HERE = Path(__file__).resolve().parent
PERIODE = "triwulan_1"

UNITS = [
    dict(
        id="disdukcapil-pendaftaran-penduduk",
        name="Disdukcapil Simeulue, Pelayanan Pendaftaran Penduduk",
        predikat="Baik",
        jenis="dokumen",
        plan={"Sangat Baik": 10, "Baik": 30, "Butuh Perbaikan": 3, "Kurang/Misconduct": 2},
    ),
    dict(
        id="disdukcapil-pencatatan-sipil",
        name="Disdukcapil Simeulue, Pelayanan Pencatatan Sipil",
        predikat="Istimewa",
        jenis="dokumen",
        plan={"Sangat Baik": 26, "Baik": 14},
    ),
    dict(
        id="disdukcapil-pengelolaan-informasi",
        name="Disdukcapil Simeulue, Pengelolaan Informasi Administrasi Kependudukan",
        predikat="Baik",
        jenis="dokumen",
        plan={"Sangat Baik": 8, "Baik": 26, "Butuh Perbaikan": 4, "Kurang/Misconduct": 2},
    ),
    dict(
        id="dpmptsp-perizinan-pengaduan",
        name="DPMPTSP Simeulue, Perizinan dan Pengaduan",
        predikat="Butuh Perbaikan",
        jenis="pengaduan",
        plan={"Butuh Perbaikan": 22, "Baik": 10, "Sangat Baik": 3},
    ),
    dict(
        id="disdik-pembinaan-sd",
        name="Dinas Pendidikan Simeulue, Bidang Pembinaan SD",
        predikat="Baik",
        jenis="pendidikan",
        plan={"Sangat Baik": 6, "Baik": 34},
        catatan="melanggar: Baik 85% (> 70%) dan tidak ada Butuh Perbaikan atau Kurang/Misconduct",
    ),
    dict(
        id="disdik-pembinaan-smp",
        name="Dinas Pendidikan Simeulue, Bidang Pembinaan SMP",
        predikat="Baik",
        jenis="pendidikan",
        plan={"Sangat Baik": 8, "Baik": 27, "Butuh Perbaikan": 4, "Sangat Kurang": 1},
    ),
    dict(
        id="camat-simeulue-timur-pelayanan",
        name="Kantor Camat Simeulue Timur, Seksi Pelayanan",
        predikat="Kurang",
        jenis="kecamatan",
        plan={"Kurang/Misconduct": 22, "Butuh Perbaikan": 5, "Baik": 6, "Sangat Baik": 2},
    ),
    dict(
        id="camat-teupah-selatan-pelayanan",
        name="Kantor Camat Teupah Selatan, Seksi Pelayanan",
        predikat="Sangat Kurang",
        jenis="kecamatan",
        plan={"Sangat Kurang": 19, "Butuh Perbaikan": 3, "Kurang/Misconduct": 2, "Baik": 6},
    ),
]

JABATAN_UNIT = {
    "dokumen": [("petugas_dokumen", 70), ("petugas_pengaduan", 15), ("kepala_seksi_pelayanan", 15)],
    "pengaduan": [("petugas_pengaduan", 55), ("petugas_dokumen", 30), ("kepala_seksi_pelayanan", 15)],
    "pendidikan": [("pengelola_program_pendidikan", 85), ("petugas_pengaduan", 15)],
    "kecamatan": [("petugas_dokumen", 50), ("petugas_pengaduan", 30), ("kepala_seksi_pelayanan", 20)],
}

KOMBINASI = {
    "Sangat Baik": [(("di_atas", "di_atas"), 1)],
    "Baik": [(("di_atas", "sesuai"), 30), (("sesuai", "sesuai"), 55), (("sesuai", "di_atas"), 15)],
    "Butuh Perbaikan": [(("di_bawah", "sesuai"), 70), (("di_bawah", "di_atas"), 30)],
    "Kurang/Misconduct": [(("di_atas", "di_bawah"), 20), (("sesuai", "di_bawah"), 80)],
    "Sangat Kurang": [(("di_bawah", "di_bawah"), 1)],
}

# nama input -> (bobot, makin rendah makin baik?, berlaku hanya bila ada pengaduan?)
BOBOT = {
    "petugas_dokumen": {"waktu_pengurusan_dokumen": 60, "dokumen_terbit": 40},
    "petugas_pengaduan": {"waktu_respons_pengaduan": 40, "penyelesaian_pengaduan": 40, "sosialisasi_layanan": 20},
    "kepala_seksi_pelayanan": {
        "waktu_pengurusan_dokumen": 30,
        "dokumen_terbit": 20,
        "waktu_respons_pengaduan": 30,
        "penyelesaian_pengaduan": 20,
    },
    "pengelola_program_pendidikan": {"program_pendidikan": 70, "waktu_respons_pengaduan": 30},
}
TERBALIK = {"waktu_pengurusan_dokumen", "waktu_respons_pengaduan"}
PENGADUAN = {"waktu_respons_pengaduan", "penyelesaian_pengaduan"}


def jenjang(rng: random.Random, jabatan: str, tahun: int):
    if jabatan == "petugas_dokumen" and rng.random() < 0.35:  # misalnya Administrator Database Kependudukan
        return "terampil" if tahun < 6 else "mahir" if tahun < 14 else "penyelia"
    if jabatan == "pengelola_program_pendidikan" and rng.random() < 0.6:
        return "ahli_pertama" if tahun < 8 else "ahli_muda" if tahun < 18 else "ahli_madya"
    return None


def capaian_hasil(rec: dict) -> F:
    total, applied = F(0), F(0)
    for name, weight in BOBOT[rec["jabatan"]].items():
        if name in PENGADUAN and rec["jumlah_pengaduan"] == 0:
            continue
        r, t = F(str(rec[name]["realisasi"])), F(str(rec[name]["target"]))
        c = max(F(0), (2 * t - r) / t * 100) if name in TERBALIK else r / t * 100
        total += weight * min(max(c, F(0)), F(120))
        applied += weight
    return total / applied


def rating_hasil(c: F) -> str:
    c = half_up(c)
    return "di_atas" if c >= 100 else "sesuai" if c >= 76 else "di_bawah"


def make_hasil(rng: random.Random, jabatan: str, band: str) -> dict:
    low, high = {"di_atas": (99, 114), "sesuai": (79, 100.5), "di_bawah": (45, 78)}[band]
    needs = BOBOT[jabatan]
    for _ in range(3000):
        rec: dict = {"jabatan": jabatan}
        if any(name in PENGADUAN for name in needs):
            rec["jumlah_pengaduan"] = rng.choices([0, rng.randint(1, 8), rng.randint(9, 45)], weights=[12, 40, 48])[0]
        for name in needs:
            if name in PENGADUAN and rec["jumlah_pengaduan"] == 0:
                continue
            c = rng.uniform(low, 135 if band == "di_atas" and name in TERBALIK else high)
            if name == "waktu_pengurusan_dokumen":
                t = rng.choice([3, 5, 7, 14])
                rec[name] = {"target": t, "realisasi": number(dec(t * (200 - c) / 100))}
            elif name == "waktu_respons_pengaduan":
                t = rng.choice([24, 48])
                rec[name] = {"target": t, "realisasi": number(dec(t * (200 - c) / 100))}
            elif name == "penyelesaian_pengaduan":
                t = rng.choice([80, 85, 90])
                rec[name] = {"target": t, "realisasi": number(min(Decimal(100), dec(t * c / 100)))}
            elif name == "dokumen_terbit":
                t = rng.randrange(150, 901, 10)
                rec[name] = {"target": t, "realisasi": round(t * c / 100)}
            elif name == "sosialisasi_layanan":
                t = rng.choice([3, 4, 6])
                rec[name] = {"target": t, "realisasi": max(0, round(t * c / 100))}
            else:  # program_pendidikan
                t = rng.choice([6, 8, 10, 12])
                rec[name] = {"target": t, "realisasi": max(0, round(t * c / 100))}
        if rating_hasil(capaian_hasil(rec)) == band:
            return rec
    raise RuntimeError(f"no hasil for {jabatan} {band}")


def rating_perilaku(values: list) -> str:
    atas, bawah = values.count("di_atas"), values.count("di_bawah")
    if bawah >= 4:
        return "di_bawah"
    return "di_atas" if atas >= 4 and bawah == 0 else "sesuai"


def make_perilaku(rng: random.Random, band: str) -> dict:
    weights = {"di_atas": [65, 35, 0], "sesuai": [20, 70, 10], "di_bawah": [5, 25, 70]}[band]
    for _ in range(2000):
        values = rng.choices(["di_atas", "sesuai", "di_bawah"], weights=weights, k=7)
        if rating_perilaku(values) == band:
            return dict(zip(BERAKHLAK, values))
    raise RuntimeError(band)


def build(rng: random.Random):
    used: set = set()
    records, units = [], []
    for unit in UNITS:
        planned = [p for p, n in unit["plan"].items() for _ in range(n)]
        rng.shuffle(planned)
        members = []
        for predikat in planned:
            jabatan = choose(rng, JABATAN_UNIT[unit["jenis"]])
            code = nip(rng, used)
            hasil_band, perilaku_band = choose(rng, KOMBINASI[predikat])
            rec = {"id": code, "periode": PERIODE}
            rec.update(make_hasil(rng, jabatan, hasil_band))
            rec["perilaku"] = make_perilaku(rng, perilaku_band)
            j = jenjang(rng, jabatan, 2025 - int(code[8:12]))
            if j:
                rec["jenjang"] = j
            records.append(rec)
            members.append(code)
        units.append((unit, members))
    return records, units


def bad_records(good: list) -> list[str]:
    """Rekaman baik di awal dan akhir; di antaranya rekaman yang masing-masing salah di satu tempat."""
    taken: set = set()

    def pick(jabatan: str, where=lambda r: True) -> dict:
        i = next(i for i, r in enumerate(good) if r["jabatan"] == jabatan and i not in taken and where(r))
        taken.add(i)
        return json.loads(json.dumps(good[i]))

    lines = [json.dumps(pick("petugas_dokumen"))]  # baik
    r = pick("petugas_dokumen")
    r["perilaku"]["harmonis"] = "baik"  # kode enum salah
    lines.append(json.dumps(r))
    r = pick("pengelola_program_pendidikan")
    del r["periode"]  # field wajib tidak ada
    lines.append(json.dumps(r))
    r = pick("petugas_dokumen")
    r["waktu_pengurusan_dokumen"]["target"] = 0  # target nol
    lines.append(json.dumps(r))
    r = pick("petugas_pengaduan", lambda r: r.get("jumlah_pengaduan", 0) > 0)
    r["jumlah_pengaduan"] = -4  # angka negatif
    lines.append(json.dumps(r))
    r = pick("kepala_seksi_pelayanan")
    r["dokumen_terbit"]["realisasi"] = "tiga ratus"  # teks di tempat angka
    lines.append(json.dumps(r))
    r = pick("petugas_dokumen")
    r["waktu_pengurusan_dokumen"]["realisasi_hari"] = r["waktu_pengurusan_dokumen"].pop("realisasi")
    lines.append(json.dumps(r))  # field tak dikenal
    r = pick("petugas_pengaduan", lambda r: r.get("jumlah_pengaduan", 0) > 0)
    del r["waktu_respons_pengaduan"]  # lolos skema, gagal saat dihitung
    lines.append(json.dumps(r))
    lines.append(json.dumps(pick("petugas_pengaduan"))[:-1])  # JSON rusak (terpotong)
    lines.append(json.dumps(pick("pengelola_program_pendidikan")))  # baik
    return lines


def main() -> None:
    rng = random.Random(SEED)
    records, units = build(rng)
    (HERE / "sinabang.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (HERE / "sinabang-bad.jsonl").write_text("\n".join(bad_records(records)) + "\n", encoding="utf-8")
    write_units(HERE / "sinabang-units.yaml", units, "sinabang")
    print(f"sinabang: {len(records)} pegawai, {len(units)} unit")


if __name__ == "__main__":
    main()
