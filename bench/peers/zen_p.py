"""Policy P as a GoRules JDM decision graph, run by zen-engine (`pip install zen-engine`; not a
Kinerja dependency: bench/run.py installs it into its own environment).

The graph is built here in code from BENCH.md: an input node, an expression node for the capaian,
hasil kerja and perilaku, one decision table per rating (first hit, ordered like the bands), a
decision table for the PermenPANRB 6/2022 matrix, an expression node that rounds the reported
numbers, and an output node. Records go in as JSON lines, zen's fast path (parsed in Rust).
"""

from __future__ import annotations

import json

KEY = "policy-p.json"
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


def _capaian(i: int, terbalik: bool) -> str:
    r, t = f"iki_{i}.realisasi", f"iki_{i}.target"
    if terbalik:
        return f"min([max([(2 * {t} - {r}) / {t} * 100, 0]), 120])"
    return f"min([{r} / {t} * 100, 120])"


def _table(node_id: str, name: str, columns: list[tuple[str, str]], output: str, rules: list[tuple[list, str]]) -> dict:
    """A first-hit decision table that passes its input through and adds one output field."""
    inputs = [{"id": f"{node_id}-in-{n}", "name": label, "field": field} for n, (label, field) in enumerate(columns)]
    out_id = f"{node_id}-out"
    return {
        "id": node_id,
        "type": "decisionTableNode",
        "name": name,
        "content": {
            "hitPolicy": "first",
            "passThrough": True,
            "inputs": inputs,
            "outputs": [{"id": out_id, "name": output, "field": output}],
            "rules": [
                {
                    "_id": f"{node_id}-rule-{n}",
                    **{c["id"]: cell for c, cell in zip(inputs, cells)},
                    out_id: json.dumps(then),
                }
                for n, (cells, then) in enumerate(rules)
            ],
        },
    }


def graph() -> dict:
    """The JDM content (a plain dict; json.dumps gives the file the GoRules editor opens)."""
    expressions = [(f"capaian_{i}", _capaian(i, terbalik)) for i, terbalik in enumerate(TERBALIK, start=1)]
    expressions.append(
        ("hasil_kerja", "(" + " + ".join(f"{w} * $.capaian_{i}" for i, w in enumerate(BOBOT, 1)) + ") / 100")
    )
    expressions.append(
        ("perilaku", "(" + " + ".join(f"berakhlak.{n}" for n in BERAKHLAK) + f") / {len(BERAKHLAK)} * 20")
    )
    nodes = [
        {"id": "record", "type": "inputNode", "name": "Record"},
        {
            "id": "nilai",
            "type": "expressionNode",
            "name": "Capaian, hasil kerja, perilaku",
            "content": {
                "expressions": [{"id": f"nilai-{key}", "key": key, "value": value} for key, value in expressions]
            },
        },
        _table(
            "rating-hasil",
            "Rating hasil kerja",
            [("hasil kerja", "hasil_kerja")],
            "rating_hasil_kerja",
            [(["> 110"], "di_atas"), ([">= 90"], "sesuai"), ([""], "di_bawah")],
        ),
        _table(
            "rating-perilaku",
            "Rating perilaku",
            [("perilaku", "perilaku")],
            "rating_perilaku",
            [(["> 90"], "di_atas"), ([">= 70"], "sesuai"), ([""], "di_bawah")],
        ),
        _table(
            "predikat",
            "Predikat (PermenPANRB 6/2022)",
            [("rating hasil kerja", "rating_hasil_kerja"), ("rating perilaku", "rating_perilaku")],
            "predikat",
            [([json.dumps(hasil), json.dumps(perilaku)], predikat) for (hasil, perilaku), predikat in MATRIKS.items()],
        ),
        {
            "id": "laporan",
            "type": "expressionNode",
            "name": "Outputs, 2 decimals",
            "content": {
                "expressions": [
                    {"id": "laporan-hasil", "key": "hasil_kerja", "value": "round(hasil_kerja, 2)"},
                    {"id": "laporan-perilaku", "key": "perilaku", "value": "round(perilaku, 2)"},
                    {"id": "laporan-rating-hasil", "key": "rating_hasil_kerja", "value": "rating_hasil_kerja"},
                    {"id": "laporan-rating-perilaku", "key": "rating_perilaku", "value": "rating_perilaku"},
                    {"id": "laporan-predikat", "key": "predikat", "value": "predikat"},
                ]
            },
        },
        {"id": "result", "type": "outputNode", "name": "Result"},
    ]
    order = [node["id"] for node in nodes]
    edges = [{"id": f"{a}-{b}", "type": "edge", "sourceId": a, "targetId": b} for a, b in zip(order, order[1:])]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def parse(line: bytes) -> bytes:
    return line


def make():
    import zen

    content = zen.ZenDecisionContent(json.dumps(graph()))
    engine = zen.ZenEngine({"loader": lambda key: content})
    evaluate = engine.evaluate
    return lambda lines: [evaluate(KEY, line) for line in lines]


def outputs(result: dict) -> dict:
    return result["result"]
