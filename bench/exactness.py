"""Comparing an engine's P outputs with the exact reference, field by field.

Outputs are reduced to one text line each (numbers as exact two-decimal numerals), so results from
floats, Decimals and Fractions compare alike and whole runs can be streamed to a file and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

FIELDS = ("hasil_kerja", "perilaku", "rating_hasil_kerja", "rating_perilaku", "predikat")


def numeral(value) -> str:
    """A reported number as exact decimal text with two places ('100.01'), or its exact fraction
    ('1/3') if it is not a two-decimal number at all (a wrong result, shown as such)."""
    if isinstance(value, float):
        value = Fraction(repr(value))
    elif isinstance(value, (int, Decimal)):
        value = Fraction(value)
    elif not isinstance(value, Fraction):
        return f"?{value!r}"
    cents = value * 100
    if cents.denominator != 1:
        return str(value)
    sign, cents = ("-", -cents.numerator) if cents < 0 else ("", cents.numerator)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def line(outputs: dict) -> str:
    """One result's five outputs as a tab-separated line."""
    return "\t".join(
        numeral(outputs.get(name)) if name in ("hasil_kerja", "perilaku") else str(outputs.get(name)) for name in FIELDS
    )


@dataclass
class Comparison:
    """How one engine's outputs differ from the reference's, counted per output."""

    records: int = 0
    differ: dict = field(default_factory=lambda: {name: 0 for name in FIELDS})
    any_differ: int = 0
    examples: list = field(default_factory=list)

    def add(self, index: int, reference: str, other: str) -> None:
        self.records += 1
        if reference == other:
            return
        self.any_differ += 1
        for name, a, b in zip(FIELDS, reference.split("\t"), other.split("\t")):
            self.differ[name] += a != b
        if len(self.examples) < 3:
            self.examples.append((index, reference, other))

    @property
    def exact(self) -> bool:
        return self.records > 0 and self.any_differ == 0

    def summary(self) -> str:
        if self.exact:
            return f"yes ({self.records:,} of {self.records:,})"
        d = self.differ
        ratings = d["rating_hasil_kerja"] + d["rating_perilaku"]
        return (
            f"no: {d['predikat']:,} predikat flips, {ratings:,} rating flips, "
            f"{d['hasil_kerja']:,} hasil_kerja cents off ({d['hasil_kerja'] / self.records:.2%})"
            + (f", {d['perilaku']:,} perilaku off" if d["perilaku"] else "")
        )


def compare(reference_lines, other_lines) -> Comparison:
    """Compare two streams of output lines; the shorter one sets the count."""
    result = Comparison()
    for index, (a, b) in enumerate(zip(reference_lines, other_lines)):
        result.add(index, a.rstrip("\n"), b.rstrip("\n"))
    return result
