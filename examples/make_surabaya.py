"""Contoh data fiktif untuk kebijakan `surabaya` (policies/surabaya.yaml).

Menulis, dari direktori examples/:
  surabaya.jsonl        satu rekaman bulanan per pegawai (>= 300 pegawai, fiktif)
  surabaya-bad.jsonl    rekaman yang sengaja salah, untuk mencoba pesan kesalahan
  surabaya-units.yaml   unit kerja, predikat unit dan anggotanya (untuk `kinerja distribution`)

Deterministik (benih tetap) dan hanya memakai pustaka standar: `python3 examples/make_surabaya.py`.
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

from fiktif import choose, dec, half_up, nip, number, write_units

SEED = 20250202
HERE = Path(__file__).resolve().parent

UNITS = [
    dict(
        id="dispendukcapil-mpp-siola",
        name="Layanan Adminduk Mal Pelayanan Publik Siola",
        predikat="Istimewa",
        jenis="layanan",
        plan={"Sangat Baik": 33, "Baik": 15, "Butuh Perbaikan": 2},
    ),
    dict(
        id="dpmptsp-pelayanan-perizinan",
        name="DPMPTSP Bidang Pelayanan Perizinan",
        predikat="Baik",
        jenis="layanan",
        plan={"Sangat Baik": 9, "Baik": 30, "Butuh Perbaikan": 4, "Kurang/Misconduct": 2},
    ),
    dict(
        id="kecamatan-tegalsari-pelayanan",
        name="Kecamatan Tegalsari, Seksi Pelayanan",
        predikat="Baik",
        jenis="wilayah",
        plan={"Sangat Baik": 5, "Baik": 30},
        catatan="melanggar: Baik 86% (> 70%) dan tidak ada Butuh Perbaikan atau Kurang/Misconduct",
    ),
    dict(
        id="kecamatan-rungkut-pelayanan",
        name="Kecamatan Rungkut, Seksi Pelayanan",
        predikat="Butuh Perbaikan",
        jenis="wilayah",
        plan={"Butuh Perbaikan": 25, "Baik": 10, "Sangat Baik": 4, "Kurang/Misconduct": 1},
    ),
    dict(
        id="bapenda-upt-pbb",
        name="Bapenda, UPT Pelayanan PBB",
        predikat="Baik",
        jenis="layanan",
        plan={"Sangat Baik": 12, "Baik": 34, "Butuh Perbaikan": 3, "Kurang/Misconduct": 1},
    ),
    dict(
        id="kelurahan-kapasari",
        name="Kelurahan Kapasari",
        predikat="Kurang",
        jenis="wilayah",
        plan={"Kurang/Misconduct": 19, "Butuh Perbaikan": 4, "Baik": 6, "Sangat Baik": 1},
    ),
    dict(
        id="kecamatan-pabean-cantian-pelayanan",
        name="Kecamatan Pabean Cantian, Seksi Pelayanan",
        predikat="Sangat Kurang",
        jenis="wilayah",
        plan={"Sangat Kurang": 20, "Kurang/Misconduct": 2, "Butuh Perbaikan": 2, "Baik": 6},
    ),
    dict(
        id="dispendukcapil-pencatatan-sipil",
        name="Dispendukcapil, Bidang Pelayanan Pencatatan Sipil",
        predikat="Butuh Perbaikan",
        jenis="layanan",
        plan={"Butuh Perbaikan": 20, "Baik": 14, "Sangat Baik": 6},
        catatan="melanggar: Butuh Perbaikan 50% (< 60%) dan Sangat Baik 15% (> 10%)",
    ),
]

JABATAN_UNIT = {
    "layanan": [("petugas_pelayanan", 50), ("verifikator", 25), ("kepala_seksi", 8), ("pengadministrasi", 17)],
    "wilayah": [("petugas_pelayanan", 40), ("verifikator", 15), ("kepala_seksi", 10), ("pengadministrasi", 35)],
}

KOMBINASI = {
    "Sangat Baik": [(("di_atas", "di_atas"), 1)],
    "Baik": [(("di_atas", "sesuai"), 30), (("sesuai", "sesuai"), 55), (("sesuai", "di_atas"), 15)],
    "Butuh Perbaikan": [(("di_bawah", "sesuai"), 70), (("di_bawah", "di_atas"), 30)],
    "Kurang/Misconduct": [(("di_atas", "di_bawah"), 20), (("sesuai", "di_bawah"), 80)],
    "Sangat Kurang": [(("di_bawah", "di_bawah"), 1)],
}

BOBOT = {
    "petugas_pelayanan": {"waktu_layanan": 40, "kualitas_layanan": 40, "jumlah_layanan": 20},
    "verifikator": {"waktu_layanan": 30, "kualitas_layanan": 50, "jumlah_layanan": 20},
    "kepala_seksi": {"waktu_layanan": 35, "kualitas_layanan": 35, "jumlah_layanan": 30},
    "pengadministrasi": {"kualitas_layanan": 40, "jumlah_layanan": 60},
}

PAGU_KELAS = {5: 3_100_000, 6: 3_600_000, 7: 4_250_000, 8: 5_000_000, 9: 5_900_000, 10: 7_000_000, 11: 8_300_000}


def jenjang_dan_kelas(rng: random.Random, jabatan: str, tahun: int):
    if jabatan == "verifikator" and rng.random() < 0.5:
        j = "ahli_pertama" if tahun < 8 else "ahli_muda" if tahun < 18 else "ahli_madya"
        return j, {"ahli_pertama": 8, "ahli_muda": 9, "ahli_madya": 10}[j]
    if jabatan == "petugas_pelayanan" and rng.random() < 0.3:
        j = "terampil" if tahun < 6 else "mahir" if tahun < 14 else "penyelia"
        return j, {"terampil": 6, "mahir": 7, "penyelia": 8}[j]
    if jabatan == "kepala_seksi":
        return None, rng.choice([9, 9, 10])
    return None, rng.choice([5, 6, 6, 7, 7])


def capaian_hasil(rec: dict) -> F:
    total = F(0)
    for name, weight in BOBOT[rec["jabatan"]].items():
        r, t = F(str(rec[name]["realisasi"])), F(str(rec[name]["target"]))
        c = max(F(0), (2 * t - r) / t * 100) if name == "waktu_layanan" else r / t * 100
        total += weight * min(c, F(120))
    return total / 100


def rating_hasil(c: F, inovasi: bool) -> str:
    c = half_up(c)
    if c >= 100 or (c >= 90 and inovasi):
        return "di_atas"
    return "sesuai" if c >= 76 else "di_bawah"


def make_hasil(rng: random.Random, jabatan: str, band: str) -> dict:
    inovasi_path = band == "di_atas" and rng.random() < 0.3
    ranges = {"di_atas": (99, 114), "sesuai": (79, 100.5), "di_bawah": (45, 78)}
    low, high = (90, 101) if inovasi_path else ranges[band]
    for _ in range(3000):
        rec: dict = {"jabatan": jabatan}
        if jabatan != "pengadministrasi":
            t = rng.choice([15, 20, 30, 45])
            c = rng.uniform(low, high)
            rec["waktu_layanan"] = {"target": t, "realisasi": number(dec(t * (200 - c) / 100))}
        t = rng.choice([90, 95])
        rec["kualitas_layanan"] = {
            "target": t,
            "realisasi": number(min(Decimal(100), dec(t * rng.uniform(low, high) / 100))),
        }
        t = rng.randrange(250, 901, 25) if jabatan != "kepala_seksi" else rng.randrange(1500, 4001, 100)
        rec["jumlah_layanan"] = {"target": t, "realisasi": round(t * rng.uniform(low, high) / 100)}
        inovasi = inovasi_path or rng.random() < 0.04
        if inovasi:
            rec["inovasi"] = True
        if rating_hasil(capaian_hasil(rec), inovasi) == band and (
            not inovasi_path or half_up(capaian_hasil(rec)) < 100
        ):
            return rec
    raise RuntimeError(f"no hasil for {jabatan} {band}")


def gabungan_rekan(rekan: list) -> F:
    """Rekan kerja: dari 5 penilai, tanpa satu nilai tertinggi dan satu terendah; selain itu rata-rata."""
    values = [F(str(r["nilai"])) for r in rekan]
    if len(values) >= 5:
        return (sum(values) - max(values) - min(values)) / (len(values) - 2)
    return sum(values) / len(values)


def nilai_perilaku(atasan: Decimal, rekan: list) -> F:
    a = F(str(atasan))
    if len(rekan) >= 2:
        return a * F(6, 10) + gabungan_rekan(rekan) * F(4, 10)
    return a


def rating_perilaku(value: F) -> str:
    value = half_up(value)
    return "di_atas" if value >= 90 else "sesuai" if value >= 76 else "di_bawah"


def make_perilaku(rng: random.Random, band: str, lenient: bool = False) -> dict:
    """Penilai satu per satu (DOMAIN.md, umpan balik 360): satu atasan dan nol atau lebih rekan.
    Atasan yang longgar menilai di ujung atas, rekannya di ujung bawah pita yang sama."""
    low, high = {"di_atas": (88, 98), "sesuai": (74, 92), "di_bawah": (55, 80)}[band]
    a_low, a_high, r_low, r_high = (
        (high - 2, min(100, high + 6), low - 10, high - 8) if lenient else (low, high, low - 4, min(100, high + 4))
    )
    for _ in range(2000):
        atasan = dec(rng.uniform(a_low, a_high), "0.1") if rng.random() < 0.3 else Decimal(rng.randint(a_low, a_high))
        rekan = [
            {"jenis": "rekan_kerja", "nilai": rng.randint(r_low, r_high)}
            for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 4, 5, 6, 7]))
        ]
        if rating_perilaku(nilai_perilaku(atasan, rekan)) == band:
            return {"penilai": [{"jenis": "atasan", "nilai": number(atasan)}] + rekan}
    raise RuntimeError(band)


# atasan langsung per unit; yang pertama di Bapenda menilai jauh di atas unitnya, dengan sengaja,
# agar `kinerja distribution --raters` punya yang dilaporkan (biasnya diketahui sebelumnya)
ATASAN_PER_UNIT = {"bapenda-upt-pbb": 3, "dpmptsp-pelayanan-perizinan": 2}
ATASAN_LONGGAR = ("bapenda-upt-pbb", 0)


def make_disiplin(rng: random.Random, band: str) -> dict:
    if band == "di_bawah":
        tk = rng.choices([0, 1, 2, 3, 5], weights=[40, 25, 15, 12, 8])[0]
        menit = rng.choices([0, rng.randint(30, 240), rng.randint(240, 900)], weights=[20, 50, 30])[0]
    else:
        tk = rng.choices([0, 1], weights=[95, 5])[0]
        menit = rng.choices([0, rng.randint(5, 60), rng.randint(60, 180)], weights=[60, 30, 10])[0]
    return {"hari_tanpa_keterangan": tk, "menit_kurang_jam_kerja": menit}


def build(rng: random.Random):
    used: set = set()
    contoh_batas: list = []
    records, units = [], []
    for unit in UNITS:
        planned = [p for p, n in unit["plan"].items() for _ in range(n)]
        rng.shuffle(planned)
        members = []
        superiors = [nip(rng, used) for _ in range(ATASAN_PER_UNIT.get(unit["id"], 1))]
        for index, predikat in enumerate(planned):
            jabatan = choose(rng, JABATAN_UNIT[unit["jenis"]])
            code = nip(rng, used)
            jenjang, kelas = jenjang_dan_kelas(rng, jabatan, 2025 - int(code[8:12]))
            hasil_band, perilaku_band = choose(rng, KOMBINASI[predikat])
            rec = {"id": code}
            if jabatan == "pengadministrasi" and hasil_band == "sesuai" and not contoh_batas:
                # Satu kasus tepat di bawah 85: 0,4 x 84,97 + 0,6 x 85 = 84,988 -> 84,99, rumus skor TPP
                # memberi 100,0357 dan clamp membatasinya 100 (DOMAIN.md).
                contoh_batas.append(code)
                rec.update(
                    {
                        "jabatan": jabatan,
                        "kualitas_layanan": {"target": 100, "realisasi": 84.97},
                        "jumlah_layanan": {"target": 500, "realisasi": 425},
                    }
                )
            else:
                rec.update(make_hasil(rng, jabatan, hasil_band))
            rec["atasan"] = superiors[index % len(superiors)]
            rec.update(make_perilaku(rng, perilaku_band, (unit["id"], index % len(superiors)) == ATASAN_LONGGAR))
            rec["tpp_pagu"] = PAGU_KELAS[kelas]
            rec.update(make_disiplin(rng, perilaku_band))
            if jenjang:
                rec["jenjang"] = jenjang
            records.append(rec)
            members.append(code)
        units.append((unit, members))
    return records, units


def bad_records(good: list) -> list[str]:
    """Rekaman baik di awal dan akhir; di antaranya rekaman yang masing-masing salah di satu tempat."""
    taken: set = set()

    def pick(jabatan: str) -> dict:
        i = next(i for i, r in enumerate(good) if r["jabatan"] == jabatan and i not in taken)
        taken.add(i)
        return json.loads(json.dumps(good[i]))

    lines = [json.dumps(pick("petugas_pelayanan"))]  # baik
    r = pick("verifikator")
    r["jabatan"] = "verifikasi"  # kode enum salah
    lines.append(json.dumps(r))
    r = pick("pengadministrasi")
    del r["penilai"]  # field wajib tidak ada
    lines.append(json.dumps(r))
    r = pick("petugas_pelayanan")
    r["waktu_layanan"]["target"] = 0  # target nol
    lines.append(json.dumps(r))
    r = pick("pengadministrasi")
    r["menit_kurang_jam_kerja"] = -30  # angka negatif
    lines.append(json.dumps(r))
    r = pick("verifikator")
    r["penilai"].append({"jenis": "rekan_kerja", "nilai": "sangat baik"})  # teks di tempat angka
    lines.append(json.dumps(r))
    r = pick("kepala_seksi")
    r["inovasi_pelayanan"] = True  # field tak dikenal
    lines.append(json.dumps(r))
    r = pick("petugas_pelayanan")
    del r["waktu_layanan"]  # lolos skema, gagal saat dihitung
    lines.append(json.dumps(r))
    text = json.dumps(pick("pengadministrasi"))
    lines.append(text.replace('"tpp_pagu": ', '"tpp_pagu": Rp', 1))  # JSON rusak
    lines.append(json.dumps(pick("verifikator")))  # baik
    return lines


def main() -> None:
    rng = random.Random(SEED)
    records, units = build(rng)
    (HERE / "surabaya.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (HERE / "surabaya-bad.jsonl").write_text("\n".join(bad_records(records)) + "\n", encoding="utf-8")
    write_units(HERE / "surabaya-units.yaml", units, "surabaya")
    print(f"surabaya: {len(records)} pegawai, {len(units)} unit")


if __name__ == "__main__":
    main()
