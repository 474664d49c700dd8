"""The JSON Schema of a policy file *as written*, for editors (VS Code's YAML extension,
check-jsonschema) and for `kinerja schema --policy-file` and GET /v1/schemas/policy.json.

The loader validates the *merged* policy (engine/schemas/policy.schema.json): a child that
changes one weight is not a complete policy on its own. An editor sees one file, so this schema
is derived from the merged one: nothing below the top level is required (the parent may give
it), every entry of a mapping may be `~` (null: it removes the parent's entry), and choices
between kinds are any-of rather than exactly-one-of (a partial value may fit several). A file
without `extends` is still checked whole by `kinerja check`. Descriptions are in Bahasa
Indonesia, for the policy's author.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from engine.policy.document import policy_schema

SCHEMA_ID = "https://kinerja.invalid/v1/schemas/policy.json"
#: Top-level keys that are never merged, so `~` means nothing there.
_TOP_LEVEL_NOT_NULL = ("kinerja", "id", "title", "version", "extends", "berlaku_mulai", "berlaku_sampai", "tests")

#: Indonesian descriptions, keyed by the merged schema's English ones.
DESCRIPTIONS_ID = {
    "A Kinerja appraisal policy: the data it expects, its values (formulas, decision tables, matrices, weighted "
    "indicators), its outputs and its own test cases. See docs/policy-format.md.": "Kebijakan penilaian Kinerja sebagaimana ditulis dalam satu berkas: data yang diminta, nilai (rumus, tabel "
    "keputusan, matriks, indikator berbobot), keluaran, dan kasus ujinya sendiri. Berkas yang memakai `extends` "
    "cukup menulis bagian yang berubah; `~` menghapus bagian induk. Lihat docs/policy-format.md dan "
    "docs/panduan-kebijakan.md.",
    "A list input: the rule is checked for each of its items, in the item's scope.": "Masukan daftar: aturan diperiksa untuk setiap butirnya, dengan nama-nama butir itu.",
    "At most this percentage of the unit's employees.": "Paling banyak persentase ini dari pegawai unit.",
    "Conditions a record must meet beyond its input types, checked before anything is computed; a record that "
    "fails one is rejected with the requirement's message at its JSON pointer.": "Syarat yang harus dipenuhi rekaman selain tipe masukannya, diperiksa sebelum apa pun dihitung; rekaman "
    "yang gagal ditolak dengan pesan syarat itu di JSON pointer-nya.",
    "Default true. An optional input that is absent is 'missing': using it is a record error unless guarded with "
    "present().": "Bawaan true. Masukan tidak wajib yang tidak diisi bernilai 'missing': memakainya adalah kesalahan rekaman, "
    "kecuali dijaga dengan present().",
    "For each value of `by`, the conditions the unit's results must meet.": "Untuk setiap nilai `by`, syarat yang harus dipenuhi hasil unit.",
    "One cell per column: '-', '>= 91', '[76, 91)', a value or values.": "Satu sel per kolom: '-', '>= 91', '[76, 91)', satu nilai atau beberapa nilai.",
    "The author's version label; the engine also records a content hash.": "Label versi dari penulis; Kinerja juga mencatat hash isi kebijakan.",
    "The unit attribute that chooses the case (for example predikat, the unit's own predikat).": "Atribut unit yang memilih kasus (misalnya predikat, predikat unit itu sendiri).",
    "Values computed for each element of a list input, keyed by the list's name.": "Nilai yang dihitung untuk setiap butir masukan daftar, dikelompokkan menurut nama daftarnya.",
    "Weight sets keyed by the value of `by`; 'default' for any other value.": "Set bobot menurut nilai `by` (setiap nilai enum-nya, tanpa salah ketik); 'default' untuk nilai lainnya. "
    "Anak kebijakan dapat mengubah satu bobot saja.",
    "What JSON null means: an error (default) or 'not applicable'.": "Arti null pada JSON: kesalahan (bawaan) atau 'tidak berlaku' (not_applicable).",
    "A constant, usable as a bound in table cells.": "Sebuah tetapan, dapat dipakai sebagai batas pada sel tabel.",
    "A named value: a formula (text), a plain number, or a mapping with exactly one of formula, table, matrix, "
    "weighted.": "Nilai bernama: rumus (teks), angka, atau pemetaan dengan tepat satu dari formula, table, matrix, weighted "
    "(pada anak kebijakan cukup bagian yang berubah).",
    "An expression in the Kinerja formula language.": "Ungkapan dalam bahasa rumus Kinerja.",
    "At least this many employees.": "Paling sedikit sejumlah pegawai ini.",
    "At least this percentage.": "Paling sedikit persentase ini.",
    "At most this many employees.": "Paling banyak sejumlah pegawai ini.",
    "Chooses the weight set (for example jabatan).": "Memilih set bobot (misalnya jabatan).",
    "Counted together (for example [Butuh Perbaikan, Kurang/Misconduct]).": "Dihitung bersama (misalnya [Butuh Perbaikan, Kurang/Misconduct]).",
    "Every label this output may take; each must be reachable.": "Setiap label yang dapat keluar; masing-masing harus dapat dicapai. Urutkan dari yang terbaik.",
    "Expected named values, compared to the decimal places written.": "Nilai antara yang diharapkan, dibandingkan sampai banyak desimal yang ditulis.",
    "Expected outputs (a subset).": "Keluaran yang diharapkan (sebagian atau semua).",
    "First day this version is in force.": "Hari pertama versi ini berlaku.",
    "Id of the parent policy; see the merge rules in docs/policy-format.md.": "Id kebijakan induk; aturan penggabungan ada di docs/policy-format.md.",
    "JSON pointer of the offending part (inside each item with for_each); default: the record, or the item.": "JSON pointer bagian yang salah (di dalam setiap butir bila for_each); bawaan: rekaman, atau butirnya.",
    "Last day this version is in force.": "Hari terakhir versi ini berlaku.",
    "Must be true for the record to be accepted.": "Harus bernilai benar agar rekaman diterima.",
    "One bound on the share of some labels in a unit: exactly one of at_most, at_least (percentages), "
    "at_most_count, at_least_count.": "Satu batas bagian label tertentu dalam unit: tepat satu dari at_most, at_least (persen), at_most_count, "
    "at_least_count.",
    "Outputs that must not be reported (their `when` does not hold).": "Keluaran yang tidak boleh dilaporkan (syarat `when`-nya tidak terpenuhi).",
    "Policy id, lower case with dashes; the file is named <id>.yaml.": "Id kebijakan, huruf kecil dengan tanda hubung; berkasnya bernama <id>.yaml.",
    "Regulations this policy implements.": "Peraturan yang dijalankan kebijakan ini (dasar hukum).",
    "Rules over the results of a whole unit (for example the kurva distribusi), checked by `kinerja "
    "distribution`.": "Aturan atas hasil seluruh unit kerja (misalnya kurva distribusi), diperiksa dengan `kinerja distribution`.",
    "Said to the agency when the rule fails.": "Pesan untuk instansi bila syarat tidak terpenuhi.",
    "The column(s) the rows test.": "Kolom yang diuji oleh baris-baris tabel.",
    "The legal basis of this rule.": "Dasar hukum aturan ini (ditampilkan pada penjelasan).",
    "The output is reported only when this holds.": "Keluaran dilaporkan hanya bila syarat ini terpenuhi.",
    "The output whose labels are counted in each unit (for example predikat).": "Keluaran yang labelnya dihitung di setiap unit (misalnya predikat).",
    "The value reported; default: the value of the same name.": "Nilai yang dilaporkan; bawaan: nilai dengan nama yang sama.",
    "Value used when the input is absent (makes the input optional).": "Nilai yang dipakai bila masukan tidak diisi (membuat masukan tidak wajib).",
    "Version of this file format.": "Versi format berkas ini (selalu 1).",
    "What happens to units with few employees, where one person is a large share.": "Perlakuan untuk unit dengan sedikit pegawai, di mana satu orang sudah merupakan bagian besar.",
    "What the weights of every weight set must add up to.": "Jumlah yang harus dicapai bobot setiap set bobot.",
    "[low, high]; null for no bound.": "[bawah, atas]; null untuk tanpa batas.",
    "not_checked: the unit is listed but its shares are not checked.": "not_checked: unit dicantumkan tetapi bagiannya tidak diperiksa.",
    "renormalise: the weights of the indicators that apply are scaled up to the total; zero: an indicator that "
    "does not apply scores 0.": "renormalise: bobot indikator yang berlaku diskalakan sampai total; zero: indikator yang tidak berlaku "
    "bernilai 0.",
    "The rater-bias report per unit (`kinerja distribution --raters`): a superior whose ratings stand far above "
    "the unit's mean.": "Laporan bias penilai per unit (`kinerja distribution --raters`): atasan yang nilainya jauh di atas "
    "rata-rata unitnya.",
    "The text input that names each employee's superior (atasan langsung).": "Masukan teks yang menyebut atasan langsung setiap pegawai (misalnya NIP-nya).",
    "The value or input that is the superior's score of the employee.": "Nilai atau masukan yang merupakan penilaian atasan atas pegawai.",
    "The list input of individual ratings by others (peers, the public).": "Masukan daftar berisi penilaian per penilai lain (rekan, masyarakat).",
    "The field of each rating that holds its score (default nilai).": "Field setiap penilaian yang berisi nilainya (bawaan nilai).",
    "The field of each rating that holds the rater's kind (default jenis).": "Field setiap penilaian yang berisi jenis penilainya (bawaan jenis).",
    "The kind of the superior's own rating in the list, not counted twice.": "Jenis penilaian atasan sendiri di dalam daftar, agar tidak terhitung dua kali.",
    "Points above the unit's mean of all ratings from which a superior is reported as far above.": "Selisih poin di atas rata-rata semua penilaian unit, mulai dari mana atasan disebut jauh di atas.",
    "unique: exactly one row matches any input; first: the first matching row wins.": "unique: tepat satu baris cocok untuk setiap masukan; first: baris pertama yang cocok dipakai.",
}

#: Descriptions added where the merged schema has none (by top-level key).
_TOP_LEVEL_ID = {
    "title": "Judul kebijakan, seperti ditampilkan kepada pembaca.",
    "description": "Apa yang dilakukan kebijakan, dan setiap bacaan yang diambil di tempat peraturan diam.",
    "inputs": "Data yang harus dibawa setiap rekaman (per nama masukan). `nama: ~` menghapus masukan induk.",
    "values": "Nilai bernama: rumus, tabel keputusan, matriks, indikator berbobot. `nama: ~` menghapus nilai induk.",
    "outputs": "Yang dilaporkan hasil evaluasi, dengan pembulatannya (bawaan 2 desimal, half up).",
    "tests": "Kasus uji kebijakan ini sendiri, dijalankan oleh `kinerja test` (tidak diwarisi).",
}
_NULL = {"type": "null", "description": "~ (null) menghapus bagian ini dari kebijakan induk."}


def _written(node: Any, top: bool = False) -> Any:
    """The as-written form of one schema node (see the module's docstring)."""
    if isinstance(node, list):
        return [_written(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "required" and not top:
            continue  # the parent may give it
        if key == "minProperties":
            continue  # a child may change one entry of a mapping
        if key == "oneOf":
            kept = [v for v in value if not (isinstance(v, dict) and set(v) == {"required"})]
            if kept:
                result["anyOf"] = _written(kept)
            continue
        if key == "description" and isinstance(value, str):
            result[key] = DESCRIPTIONS_ID.get(value, value)
            continue
        if key == "properties" and isinstance(value, dict):
            result[key] = {
                name: (_written(sub) if top and name in _TOP_LEVEL_NOT_NULL else {"anyOf": [_written(sub), _NULL]})
                for name, sub in value.items()
            }
            continue
        if key == "additionalProperties" and isinstance(value, dict):
            result[key] = {"anyOf": [_written(value), _NULL]}
            continue
        if key in ("$defs",) and isinstance(value, dict):
            result[key] = {name: _written(sub) for name, sub in value.items()}
            continue
        result[key] = _written(value)
    return result


@lru_cache(maxsize=1)
def _cached() -> dict[str, Any]:
    merged = copy.deepcopy(policy_schema())
    schema: dict[str, Any] = _written(merged, top=True)
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Berkas kebijakan Kinerja"
    for name, text in _TOP_LEVEL_ID.items():
        entry = schema["properties"].get(name)
        target = entry["anyOf"][0] if isinstance(entry, dict) and "anyOf" in entry else entry
        if isinstance(target, dict) and "description" not in target:
            target["description"] = text
    return schema


def policy_file_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file as written (a fresh copy each call)."""
    return copy.deepcopy(_cached())
