"""Policy P in OpenFisca (openfisca-core), as its users write it: one Variable per quantity, a formula
over the whole population at once (NumPy), the default value type `float` (stored as float32).
Compute only: the records are turned into input arrays untimed; each timed pass builds the
simulation, sets the inputs and calculates the five outputs. Written from BENCH.md alone."""

from __future__ import annotations

import json

import numpy as np

BOBOT = (25, 20, 20, 15, 10, 10)
TERBALIK = (False, False, False, False, True, True)
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
RATINGS = ("di_bawah", "sesuai", "di_atas")
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
PERIOD = "2025"
_columns: dict[str, list] = {}


def parse(line: bytes) -> int:
    record = json.loads(line)
    for i in range(1, 7):
        _columns.setdefault(f"realisasi_{i}", []).append(record[f"iki_{i}"]["realisasi"])
        _columns.setdefault(f"target_{i}", []).append(record[f"iki_{i}"]["target"])
    for name in BERAKHLAK:
        _columns.setdefault(name, []).append(record["berakhlak"][name])
    return len(_columns["target_1"]) - 1


def _capaian(i: int):
    def capaian(person, period, parameters):
        r, t = person(f"realisasi_{i}", period), person(f"target_{i}", period)
        c = np.maximum((2 * t - r) / t * 100, 0) if TERBALIK[i - 1] else r / t * 100
        return np.minimum(c, 120)

    return capaian


def _system():
    from openfisca_core.entities import build_entity
    from openfisca_core.periods import DateUnit
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem
    from openfisca_core.variables import Variable

    Person = build_entity(key="person", plural="persons", label="ASN", is_person=True)
    variables = []

    def variable(name, formula=None, value_type=float):
        attributes = {"value_type": value_type, "entity": Person, "definition_period": DateUnit.YEAR, "label": name}
        if formula is not None:
            attributes["formula"] = formula
        variables.append(type(name, (Variable,), attributes))

    for i in range(1, 7):
        variable(f"realisasi_{i}")
        variable(f"target_{i}")

        variable(f"capaian_{i}", _capaian(i))
    for name in BERAKHLAK:
        variable(name)
    variable(
        "hasil_kerja",
        lambda person, period, parameters: (
            sum(w * person(f"capaian_{i}", period) for i, w in enumerate(BOBOT, 1)) / 100
        ),
    )
    variable("perilaku", lambda person, period, parameters: sum(person(n, period) for n in BERAKHLAK) / 7 * 20)
    variable(
        "rating_hasil_kerja",
        lambda person, period, parameters: np.select(
            [person("hasil_kerja", period) > 110, person("hasil_kerja", period) >= 90], [2, 1], 0
        ),
        int,
    )
    variable(
        "rating_perilaku",
        lambda person, period, parameters: np.select(
            [person("perilaku", period) > 90, person("perilaku", period) >= 70], [2, 1], 0
        ),
        int,
    )

    system = TaxBenefitSystem([Person])
    for v in variables:
        system.add_variable(v)
    return system


def make():
    from openfisca_core.simulations import SimulationBuilder

    system = _system()
    arrays = {name: np.asarray(values, dtype=np.float32) for name, values in _columns.items()}
    count = len(arrays["target_1"])

    def run(records):
        builder = SimulationBuilder()
        builder.create_entities(system)
        builder.declare_person_entity("person", range(count))
        simulation = builder.build(system)
        for name, array in arrays.items():
            simulation.set_input(name, PERIOD, array)
        hasil = simulation.calculate("hasil_kerja", PERIOD)
        perilaku = simulation.calculate("perilaku", PERIOD)
        rh = simulation.calculate("rating_hasil_kerja", PERIOD)
        rp = simulation.calculate("rating_perilaku", PERIOD)
        return _Results(np.floor(hasil * 100 + 0.5) / 100, np.floor(perilaku * 100 + 0.5) / 100, rh, rp)

    return run


class _Results(list):
    """The outputs, made into records only when the harness reads them (after the clock)."""

    def __init__(self, hasil, perilaku, rh, rp):
        super().__init__()
        self.columns = hasil, perilaku, rh, rp

    def __iter__(self):
        for h, p, a, b in zip(*(c.tolist() for c in self.columns)):
            ra, rb = RATINGS[a], RATINGS[b]
            # float32 results are shown as a user prints them, to 2 places (95.38999938964844 -> 95.39)
            yield {
                "hasil_kerja": round(h, 2),
                "perilaku": round(p, 2),
                "rating_hasil_kerja": ra,
                "rating_perilaku": rb,
                "predikat": MATRIKS[ra, rb],
            }


def outputs(result: dict) -> dict:
    return result
