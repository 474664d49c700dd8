"""The rulebook as a small document: what it says about a checked policy (sections, paragraphs,
tables, formulas, in Bahasa Indonesia), decided once for both writers (engine.review.rulebook.writers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from engine.language import nodes as n
from engine.language.printer import path_text
from engine.policy.model import (
    ComputedValue,
    Formula,
    IndicatorValue,
    InputSpec,
    MatrixValue,
    Policy,
    TableValue,
    ValueDef,
    Weighted,
    WeightedValue,
)
from engine.policy.names import Context
from engine.review.rulebook.notation import (
    COMPARE_SIGNS,
    ROUNDING_WORDS,
    literal,
    number,
)

if TYPE_CHECKING:  # the rulebook reads a policy as built or as checked
    from engine.policy.checked import CheckedPolicy

    AnyPolicy = Policy | CheckedPolicy

TYPE_WORDS = {
    "number": "angka",
    "integer": "bilangan bulat",
    "text": "teks",
    "boolean": "ya/tidak",
    "list": "daftar",
    "record": "kelompok data",
    "number_or_range": "angka atau rentang [bawah; atas]",
}
HIT_WORDS = {
    "unique": "Setiap kemungkinan data cocok dengan tepat satu baris.",
    "first": "Baris dibaca dari atas; baris pertama yang cocok yang berlaku.",
}
BOUND_WORDS = {
    "at_most": "paling banyak {limit}% pegawai",
    "at_least": "paling sedikit {limit}% pegawai",
    "at_most_count": "paling banyak {limit} orang",
    "at_least_count": "paling sedikit {limit} orang",
}


# The document ---------------------------------------------------------------------------------


@dataclass
class Name:
    """An identifier or a fixed line (shown as code), linked to its section when it has one."""

    text: str
    anchor: str | None = None


@dataclass
class Math:
    node: n.Expr


@dataclass
class Para:
    parts: list
    cls: str = ""


@dataclass
class Display:
    """A formula on its own line, `lhs = ...`."""

    lhs: str
    node: n.Expr


@dataclass
class Items:
    items: list  # of inline part lists


@dataclass
class Grid:
    head: list  # of inline part lists
    rows: list  # of lists of inline part lists
    cls: str
    caption: list | None = None
    row_head: bool = False  # the first cell of each row heads that row (matrix, key-value tables)
    row_ids: list | None = None


@dataclass
class Section:
    anchor: str
    title: str | list
    blocks: list = field(default_factory=list)
    level: int = 2


# Numbers and cells in Indonesian notation -----------------------------------------------------


def _bound(policy: AnyPolicy, bound: n.Bound, scope) -> str:
    if bound.name is None:
        return number(bound.value)
    for key in ((scope, bound.name), (None, bound.name)):
        d = policy.values.get(key)
        if (
            isinstance(d, (ComputedValue, IndicatorValue))
            and d.formula is not None
            and isinstance(d.formula.node, n.Number)
        ):
            return f"{bound.name} ({number(d.formula.node.value)})"
    return bound.name


def cell_words(policy: AnyPolicy, cell, scope=None) -> str:
    """A table cell as a reader says it: '≤ 24', '≥ 76 dan < 91', 'pemula atau terampil'."""
    match cell:
        case None:
            return "?"
        case n.AnyCell():
            return "apa pun"
        case n.CompareCell(op=op, bound=b):
            return f"{COMPARE_SIGNS[op.value]} {_bound(policy, b, scope)}"
        case n.IntervalCell(low=lo, high=hi, low_closed=lc, high_closed=hc):
            return (
                f"{'≥' if lc else '>'} {_bound(policy, lo, scope)} dan {'≤' if hc else '<'} {_bound(policy, hi, scope)}"
            )
        case n.LiteralsCell(values=values):
            return " atau ".join(literal(v) for v in values)
    return "?"


# Building the rulebook ------------------------------------------------------------------------


def value_anchors(policy: AnyPolicy) -> dict[tuple, str]:
    """The anchor of each value's section, by (scope, name): `nilai-<name>`, or
    `nilai-<scope>-<name>` (`umum` for the top level) where two scopes share a name. Pages that
    explain an evaluation link each number to `/kebijakan/<id>#<anchor>`."""
    names = [name for _, name in policy.values]
    return {
        key: f"nilai-{key[1]}" if names.count(key[1]) == 1 else f"nilai-{key[0] or 'umum'}-{key[1]}"
        for key in policy.values
    }


class _Book:
    """Decides what the rulebook says; knows nothing of Markdown or HTML."""

    def __init__(self, policy: AnyPolicy, report=None, previous: AnyPolicy | None = None):
        self.policy, self.report, self.previous = policy, report, previous
        self.anchors = value_anchors(policy)

    def link(self, key: tuple) -> Name:
        return Name(key[1], self.anchors.get(key))

    def sections(self) -> list[Section]:
        p = self.policy
        result = [self.identity(), self.inputs()]
        if p.requirements:
            result.append(self.requirements())
        result += [self.values(), self.outputs()]
        if p.unit_rules:
            result.append(self.unit_rules())
        return result + [self.history(), self.coverage()]

    # 1. identity
    def identity(self) -> Section:
        p = self.policy
        facts = [
            ("Judul", p.title),
            ("Id", Name(p.id)),
            ("Versi", p.version),
            ("Hash isi", Name(p.hash)),
            ("Berlaku mulai", literal(p.berlaku_mulai) if p.berlaku_mulai else "tidak disebut"),
            ("Berlaku sampai", literal(p.berlaku_sampai) if p.berlaku_sampai else "tidak dibatasi"),
            ("Memperluas", self.extends()),
            ("Berkas", Name(p.file)),
        ]
        blocks = [
            Grid([["Keterangan"], ["Isi"]], [[[k], _parts(v)] for k, v in facts], "tabel-identitas", row_head=True),
            Para(["Dasar hukum:"], "judul-kecil"),
            Items([[str(x)] for x in p.legal_basis] or [["tidak disebut"]]),
        ]
        if p.description.strip():
            blocks += [Para(["Uraian:"], "judul-kecil"), Para([p.description.strip()], "uraian")]
        return Section("identitas", "Identitas kebijakan", blocks)

    def extends(self) -> list:
        chain = self.policy.chain
        if len(chain) < 2:
            return ["tidak memperluas kebijakan lain"]
        further = [" (yang memperluas " + " → ".join(chain[2:]) + ")"] if len(chain) > 2 else []
        return [Name(chain[1])] + further + ["; bagian yang tidak ditulis ulang diwarisi darinya"]

    # 2. inputs
    def inputs(self) -> Section:
        rows: list[list[list[object]]] = []
        ids: list[str] = []
        for spec in self.policy.inputs.values():
            self._input_rows(spec, spec.name, rows, ids)
        head = [["Nama"], ["Jenis"], ["Batasan"], ["Wajib diisi"], ["Bila null"], ["Keterangan"]]
        note = Para(
            [
                "Nama dengan ",
                Name("[]"),
                " adalah isian tiap butir daftar; misalnya ",
                Name("kegiatan[].waktu.target"),
                " adalah target waktu pada tiap kegiatan.",
            ]
        )
        return Section("masukan", "Data yang diminta", [Grid(head, rows, "tabel-masukan", row_ids=ids), note])

    def _input_rows(self, spec: InputSpec, path: str, rows: list, ids: list, optional_parent: str = "") -> None:
        limits = []
        for attr, sign in (("minimum", "≥"), ("exclusive_minimum", ">"), ("maximum", "≤"), ("exclusive_maximum", "<")):
            if getattr(spec, attr) is not None:
                limits.append(f"{sign} {number(getattr(spec, attr))}")
        if spec.enum is not None:
            limits.append("salah satu dari: " + "; ".join(literal(v) for v in spec.enum))
        if spec.min_items is not None and spec.max_items is not None:
            limits.append(f"{spec.min_items} sampai {spec.max_items} butir")
        elif spec.min_items is not None:
            limits.append(f"paling sedikit {spec.min_items} butir")
        elif spec.max_items is not None:
            limits.append(f"paling banyak {spec.max_items} butir")
        if spec.required:
            required = ["wajib bila ", Name(optional_parent), " diisi"] if optional_parent else ["wajib"]
        elif spec.has_default:
            required = [f"tidak wajib; bila tidak diisi: {literal(spec.default)}"]
        else:
            required = ["tidak wajib (boleh tidak diisi)"]
        inner_optional = optional_parent or ("" if spec.required else path)
        null = "dianggap tidak berlaku" if spec.null == "not_applicable" else "ditolak"
        about = " — ".join(x for x in (spec.label, spec.description) if x)
        rows.append(
            [
                [Name(path)],
                [TYPE_WORDS.get(spec.type, spec.type)],
                ["; ".join(limits) or "—"],
                required,
                [null],
                [about or "—"],
            ]
        )
        ids.append("masukan-" + path.replace("[]", ""))
        if spec.items is not None:
            item = spec.items
            if item.fields:
                for name, child in item.fields.items():
                    self._input_rows(child, f"{path}[].{name}", rows, ids, inner_optional)
            else:
                self._input_rows(item, f"{path}[]", rows, ids, inner_optional)
        for name, child in spec.fields.items():
            self._input_rows(child, f"{path}.{name}", rows, ids, inner_optional)

    # 3. requirements
    def requirements(self) -> Section:
        rows = []
        for r in self.policy.requirements.values():
            scope = ["tiap butir ", Name(r.for_each)] if r.for_each else ["seluruh data"]
            rows.append(
                [
                    [Name(r.name)],
                    self._formula_parts(r.rule),
                    scope,
                    [r.message or "—"],
                    [Name(r.path)] if r.path else ["—"],
                    [r.basis or "—"],
                ]
            )
        head = [["Syarat"], ["Aturan"], ["Diperiksa pada"], ["Pesan bila tidak terpenuhi"], ["Letak"], ["Dasar"]]
        intro = Para(["Data yang tidak memenuhi salah satu syarat berikut ditolak sebelum apa pun dihitung."])
        return Section("syarat", "Syarat data", [intro, Grid(head, rows, "tabel-syarat")])

    # 4. values
    def values(self) -> Section:
        p = self.policy
        blocks: list = [
            Para(
                [
                    "Setiap nilai di bawah ini dihitung tepat (pecahan, tanpa pembulatan) kecuali "
                    "rumusnya sendiri membulatkan; pembulatan keluaran ada di bagian Keluaran."
                ]
            )
        ]
        for key, d in p.values.items():
            blocks.append(self.value(key, d))
        return Section("nilai", "Nilai dan indikator", blocks)

    def value(self, key: tuple, d: ValueDef) -> Section:
        title = [d.label, " (", Name(d.name), ")"] if d.label else [Name(d.name)]
        kind = {
            "formula": "Rumus",
            "table": "Tabel keputusan",
            "matrix": "Matriks",
            "weighted": "Rata-rata tertimbang",
            "indicator": "Indikator",
        }[d.kind]
        about: list = [kind]
        if isinstance(d, IndicatorValue) and d.parent is not None:
            about += [" dari ", self.link((d.scope, d.parent))]
        if d.scope is not None:
            about += [", dihitung untuk tiap butir ", Name(d.scope)]
        blocks: list = [Para(about + ["."], "jenis")]
        if d.description:
            blocks.append(Para([d.description]))
        formulas: list[Formula | None] = []
        if isinstance(d, (ComputedValue, IndicatorValue)):
            blocks.append(self._display(d.name, d.formula))
            formulas.append(d.formula)
        if isinstance(d, IndicatorValue):  # the variant of each kind
            blocks += self.indicator(d)
            formulas.append(d.applies_when)
        if isinstance(d, TableValue):
            blocks += self.table(d)
            formulas += list(d.table.on) + [r.then for r in d.table.rows if isinstance(r.then, Formula)]
        if isinstance(d, MatrixValue):
            blocks.append(self.matrix(d))
            formulas += [d.matrix.rows, d.matrix.columns]
        if isinstance(d, WeightedValue):
            blocks += self.weighted(d)
            formulas.append(d.weighted.by)
        if d.range is not None:
            low, high = (number(x) if x is not None else None for x in d.range)
            blocks.append(
                Para([f"Rentang yang dinyatakan: {low or 'tanpa batas bawah'} sampai {high or 'tanpa batas atas'}."])
            )
        glossary = self.glossary([f for f in formulas if isinstance(f, Formula)], d.scope)
        if glossary:
            blocks += [Para(["Keterangan nama:"], "judul-kecil"), Items(glossary)]
        for output in self.policy.outputs.values():
            assert output.value is not None  # the rulebook is written for a policy that reads
            if d.scope is None and output.value.node is not None and path_text(output.value.node) == d.name:
                blocks.append(
                    Para(["Dilaporkan sebagai keluaran ", Name(output.name), ", ", self.output_rounding(output), "."])
                )
        blocks.append(Para(["Dasar hukum: ", d.basis or "tidak disebut"], "dasar"))
        return Section(self.anchors[key], title, blocks, level=3)

    def _display(self, lhs: str, formula: Formula | None):
        if formula is None or formula.node is None:
            return Para(["(rumus tidak terbaca: ", Name(formula.text if formula else ""), ")"])
        return Display(lhs, formula.node)

    def _formula_parts(self, formula) -> list:
        if isinstance(formula, Formula):
            return [Math(formula.node)] if formula.node is not None else [Name(formula.text)]
        return [literal(formula)]

    def table(self, d: TableValue) -> list:
        t = d.table
        head = [["Baris"]] + [self._formula_parts(f) for f in t.on] + [["Hasil"]]
        with_basis = any(r.basis for r in t.rows)
        if with_basis:
            head.append(["Dasar"])
        rows = []
        for index, row in enumerate(t.rows, start=1):
            cells = [[str(index)]] + [[cell_words(self.policy, c, d.scope)] for c in row.cells]
            cells.append(self._formula_parts(row.then))
            if with_basis:
                cells.append([row.basis or "—"])
            rows.append(cells)
        caption = [
            f"{d.label or d.name}: kolom berisi syarat atas ",
            *self._join([self._formula_parts(f) for f in t.on]),
            ". ",
            HIT_WORDS.get(t.hit, f"hit: {t.hit}"),
        ]
        return [Grid(head, rows, "tabel-keputusan", caption=caption)]

    def matrix(self, d: MatrixValue) -> Grid:
        m = d.matrix
        corner = self._formula_parts(m.rows) + [" \\ "] + self._formula_parts(m.columns)
        head = [corner] + [[literal(c)] for c in m.column_keys]
        rows = [[[literal(r)]] + [[literal(m.cells.get((r, c)))] for c in m.column_keys] for r in m.row_keys]
        caption = [
            f"{d.label or d.name}: baris menurut ",
            *self._formula_parts(m.rows),
            ", kolom menurut ",
            *self._formula_parts(m.columns),
        ]
        return Grid(head, rows, "matriks", caption=caption, row_head=True)

    def weighted(self, d: WeightedValue) -> list:
        w = d.weighted
        sets = list(w.weights)
        head = [["Indikator"]] + [
            [("lainnya" if k == "default" and w.by is not None else "bobot") if k == "default" else literal(k)]
            for k in sets
        ]
        rows: list[list[list[Any]]] = [
            [[self.link((d.scope, name))]]
            + [[number(w.weights[k][name]) if name in w.weights[k] else "—"] for k in sets]
            for name in w.indicators
        ]
        rows.append([["Jumlah"]] + [[number(sum(w.weights[k].values(), Fraction(0)))] for k in sets])
        blocks: list = [
            Para([f"Nilai = jumlah (bobot × nilai indikator) ÷ {number(w.total)}, atas indikator yang berlaku."])
        ]
        if w.by is not None:
            blocks.append(
                Para(
                    [
                        "Set bobot dipilih menurut ",
                        *self._formula_parts(w.by),
                        "; yang tidak disebut memakai kolom “lainnya”." if "default" in sets else ".",
                    ]
                )
            )
        blocks.append(Grid(head, rows, "tabel-bobot", caption=[f"Bobot {d.label or d.name}"], row_head=True))
        blocks.append(Para([self.not_applicable(w)]))
        return blocks

    def not_applicable(self, w: Weighted) -> str:
        if w.not_applicable == "renormalise":
            return (
                "Indikator yang tidak berlaku (tidak ada dalam set bobot jabatannya, atau syarat berlakunya tidak "
                f"terpenuhi) tidak dihitung; bobot indikator lain diskalakan ulang sehingga jumlahnya tetap "
                f"{number(w.total)}."
            )
        if w.not_applicable == "zero":
            return "Indikator yang tidak berlaku bernilai 0; bobotnya tetap dihitung."
        return f"Indikator yang tidak berlaku: {w.not_applicable}."

    def indicator(self, d: IndicatorValue) -> list:
        parent = self.policy.values.get((d.scope, d.parent))
        w = parent.weighted if isinstance(parent, WeightedValue) else None
        blocks: list = []
        if w is not None:
            given = [(k, s[d.name]) for k, s in w.weights.items() if d.name in s]
            missing = [k for k, s in w.weights.items() if d.name not in s]
            if list(w.weights) == ["default"] and given:
                weight = [f"Bobot: {number(given[0][1])} dari {number(w.total)}."]
            else:
                weight = [
                    "Bobot menurut jabatan: "
                    + "; ".join(f"{'lainnya' if k == 'default' else literal(k)} {number(v)}" for k, v in given)
                    + "."
                ]
                if missing:
                    weight.append(
                        " Tidak dipakai untuk: "
                        + ", ".join("lainnya" if k == "default" else literal(k) for k in missing)
                        + "."
                    )
            blocks.append(Para(weight))
        if d.applies_when is not None:
            blocks.append(Para(["Berlaku hanya bila ", *self._formula_parts(d.applies_when), "."]))
        if w is not None and (d.applies_when is not None or any(d.name not in s for s in w.weights.values())):
            blocks.append(Para(["Bila tidak berlaku: ", self.not_applicable(w)]))
        return blocks

    def glossary(self, formulas: list[Formula], scope) -> list:
        seen: dict[str, list] = {}
        for formula in formulas:
            if formula.node is not None:
                self._collect(formula.node, Context(scope), seen)
        return [[Name(path, anchor), ": " + label] for path, (label, anchor) in seen.items()]

    def _collect(self, node: n.Expr, ctx: Context, seen: dict) -> None:
        path = path_text(node)
        if path is not None:
            if path not in seen:
                found = self._describe(path.split("."), ctx)
                if found is not None:
                    seen[path] = found
            return
        if isinstance(node, n.Aggregate):
            self._collect(node.source, ctx, seen)
            inner = ctx.bind(node.var, path_text(node.source) or "")
            for child in (node.element, node.filter):
                if child is not None:
                    self._collect(child, inner, seen)
            return
        for child in n.children(node):
            self._collect(child, ctx, seen)

    def _describe(self, parts: list[str], ctx: Context):
        """(label, anchor) for a name path, or None for what needs no gloss."""
        p, head = self.policy, parts[0]
        spec, scope = None, ctx.scope
        if ctx.local(head) is not None:
            source = ctx.local(head)
            if len(parts) < 2 or source not in p.inputs:
                return None
            if (source, parts[1]) in p.values:
                d = p.values[(source, parts[1])]
                return (d.label or "nilai") + f" (tiap butir {source})", self.anchors[(source, parts[1])]
            spec, parts, scope = p.inputs[source].items, parts[1:], source
            if spec is None or parts[0] not in spec.fields:
                return None
            spec = spec.fields[parts[0]]
        elif scope is not None and p.inputs.get(scope) and (items := p.inputs[scope].items) and head in items.fields:
            spec = items.fields[head]
        elif (scope, head) in p.values or (None, head) in p.values:
            key = (scope, head) if (scope, head) in p.values else (None, head)
            d = p.values[key]
            return d.label or "nilai", self.anchors[key]
        elif head in p.inputs:
            spec, scope = p.inputs[head], None
        else:
            return None
        assert spec is not None  # each branch above that goes on found the spec
        trail = [scope + "[]"] if scope is not None and spec is not p.inputs.get(head) else []
        trail.append(parts[0])
        for part in parts[1:]:
            if part not in spec.fields:
                return None
            spec = spec.fields[part]
            trail.append(part)
        return spec.label or spec.description or "data masukan", "masukan-" + ".".join(trail).replace("[]", "")

    @staticmethod
    def _join(groups: list[list], separator: str = ", ") -> list:
        result: list = []
        for i, group in enumerate(groups):
            result += ([separator] if i else []) + group
        return result

    # 5. outputs
    def outputs(self) -> Section:
        rows = []
        for o in self.policy.outputs.values():
            assert o.value is not None  # the rulebook is written for a policy that reads
            target = path_text(o.value.node) if o.value.node is not None else None
            shown = (
                [self.link((None, target))]
                if target is not None and (None, target) in self.policy.values
                else self._formula_parts(o.value)
            )
            rounding = self.output_rounding(o)
            when = self._formula_parts(o.when) if o.when is not None else ["selalu"]
            possible = "; ".join(o.labels) if o.labels else ""
            if o.range is not None:
                possible = (
                    f"{number(o.range[0]) if o.range[0] is not None else '…'} sampai "
                    f"{number(o.range[1]) if o.range[1] is not None else '…'}"
                )
            rows.append([[Name(o.name)], [o.label or "—"], shown, [rounding], when, [possible or "—"]])
        head = [["Keluaran"], ["Label"], ["Nilai"], ["Pembulatan"], ["Dilaporkan bila"], ["Kemungkinan hasil"]]
        note = Para(
            [
                "Pembulatan keluaran hanya untuk pelaporan; nilai lain memakai nilai yang tidak dibulatkan "
                "kecuali rumusnya sendiri membulatkan."
            ]
        )
        return Section("keluaran", "Keluaran dan pembulatan", [Grid(head, rows, "tabel-keluaran"), note])

    def output_rounding(self, o) -> str:
        from engine.policy.typecheck import TypeChecker

        kind = TypeChecker(self.policy, None).formula(o.value, Context(None)).kind
        return self.rounding(o) if kind in ("number", "any") else "tidak dibulatkan (bukan angka)"

    @staticmethod
    def rounding(o) -> str:
        places = "ke bilangan bulat" if o.places == 0 else f"{o.places} angka di belakang koma"
        return f"dibulatkan {places}, {ROUNDING_WORDS[o.mode]}"

    # unit rules
    def unit_rules(self) -> Section:
        blocks: list = []
        for rule in self.policy.unit_rules.values():
            rows = []
            for case, conditions in rule.cases.items():
                for condition in conditions:
                    limit = number(condition.limit)
                    rows.append(
                        [
                            [case],
                            [" atau ".join(str(x) for x in condition.labels)],
                            [BOUND_WORDS[condition.bound].format(limit=limit)],
                            [condition.basis or "—"],
                        ]
                    )
            head = [[f"Predikat unit ({rule.by})"], [f"{rule.counts} pegawai"], ["Batas"], ["Dasar"]]
            about = [
                f"{rule.label or rule.name}: sebaran ",
                Name(rule.counts),
                " pegawai dalam satu unit dibatasi menurut ",
                Name(rule.by),
                " unit itu. Persentase dibandingkan tepat (7 dari 10 adalah 70%).",
            ]
            if rule.small_units_below is not None:
                about.append(f" Unit dengan kurang dari {rule.small_units_below} pegawai tidak diperiksa.")
            blocks += [
                Para(about),
                Grid(head, rows, "tabel-kurva", caption=[rule.label or rule.name]),
                Para(["Dasar hukum: ", rule.basis or "tidak disebut"], "dasar"),
            ]
        return Section("aturan-unit", "Aturan unit kerja (kurva distribusi)", blocks)

    # 6. history
    def history(self) -> Section:
        if self.previous is None:
            return Section(
                "riwayat",
                "Riwayat versi",
                [
                    Para(
                        [
                            "Versi sebelumnya tidak diketahui: rulebook ini dibuat tanpa pembanding (--previous), "
                            "jadi perubahan dari versi sebelumnya tidak ditampilkan."
                        ]
                    )
                ],
            )
        from engine.review.diff import compare

        old = self.previous
        changes = compare(old.data, self.policy.data)
        about = [
            "Dibandingkan dengan ",
            Name(old.id),
            f" versi {old.version} (",
            Name(old.hash[:19]),
            f"), berlaku mulai {literal(old.berlaku_mulai) if old.berlaku_mulai else 'tidak disebut'}: ",
        ]
        if not changes:
            return Section(
                "riwayat",
                "Riwayat versi",
                [Para(about + ["tidak ada perubahan makna (yang berbeda hanya tata tulis atau kasus uji)."])],
            )
        words = {"added": "ditambahkan", "removed": "dihapus", "changed": "diubah"}
        items = [[words[c.kind] + ": ", Name(c.render())] for c in changes]
        return Section(
            "riwayat",
            "Riwayat versi",
            [Para(about + [f"{len(changes)} perubahan makna, satu per baris (seperti kinerja diff):"]), Items(items)],
        )

    # 7. coverage
    def coverage(self) -> Section:
        r = self.report
        if r is None:
            return Section("cakupan-uji", "Cakupan uji", [Para(["Kasus uji kebijakan ini tidak dijalankan."])])
        passed = len(r.cases) - len(r.failed)
        reached = len(r.targets) - len(r.unreached)
        blocks: list = [
            Para(
                [
                    f"{passed} dari {len(r.cases)} kasus uji lulus; {reached} dari {len(r.targets)} "
                    "baris tabel dan sel matriks tercapai oleh kasus uji."
                ],
                "ringkasan-uji",
            )
        ]
        missing = [self.target_words(key) for key in r.targets if key not in r.reached]
        if missing:
            blocks += [Para(["Belum tercapai oleh kasus uji mana pun:"], "judul-kecil"), Items(missing)]
        elif r.targets:
            blocks.append(Para(["Semua baris tabel dan sel matriks tercapai."]))
        rows = [
            [[str(i)], [c.name], [str(c.line)], ["lulus" if c.passed else "GAGAL: " + "; ".join(c.failures)]]
            for i, c in enumerate(r.cases, start=1)
        ]
        if rows:
            blocks.append(Grid([["No."], ["Kasus uji"], ["Baris berkas"], ["Hasil"]], rows, "tabel-kasus"))
        return Section("cakupan-uji", "Cakupan uji", blocks)

    def target_words(self, key: tuple) -> list:
        value_key, where = key
        d = self.policy.values[value_key]
        if isinstance(where, int):
            assert isinstance(d, TableValue)  # a row number names a table's row
            cells = ", ".join(cell_words(self.policy, c, d.scope) for c in d.table.rows[where - 1].cells)
            return [self.link(value_key), f" baris {where} ({cells})"]
        return [self.link(value_key), f" sel {literal(where[0])} × {literal(where[1])}"]


def _parts(value) -> list:
    if isinstance(value, list):
        return value
    return [value]
