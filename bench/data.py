"""Deterministic benchmark data, written to bench/.cache/ and regenerated only when missing.

- policy P (BENCH.md): records with six indicators and seven BerAKHLAK scores; realisasi spread
  around target (sd 13%), two decimals; targets 100, 95, 15 and 6. With such targets about 1% of
  records fall exactly on a rounding midpoint (x.xx5) by themselves, but almost none exactly on a
  band edge; so 1% are built to land on hasil kerja 90 or 110 exactly, and 0.5% more on a
  midpoint, which gives BENCH.md's rates (about 1% and 1.5%; `main` prints them).
- pp-46-2011: records shaped like examples/pp-46-2011.jsonl (one to four kegiatan, biaya on about
  30%, kepemimpinan on 25%, waktu realisasi on two decimals; 4% of kegiatan take exactly 76% of
  their time, the 24% efficiency edge DOMAIN.md names), written streaming.

Run `python bench/data.py [--p N] [--pp46 N]` to write (or reuse) the files and print the rates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
P_SEED = 20250501
PP46_SEED = 20250502
P_TARGETS = (100, 95, 15, 6)
P_BOBOT = (25, 20, 20, 15, 10, 10)
P_TERBALIK = (False, False, False, False, True, True)
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
SKOR = ((1, 2), (2, 8), (3, 30), (4, 40), (5, 20))  # BerAKHLAK score, weight
BOUNDARY_SHARE = 0.01
MIDPOINT_SHARE = 0.005


def _number(cents: int) -> str:
    """A JSON number from a count of hundredths: its decimal text, never a float's."""
    whole, frac = divmod(cents, 100)
    return str(whole) if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")


def _nip(index: int) -> str:
    return f"1990{index:014d}"


# ---------------------------------------------------------------------------------------- policy P
def _realisasi_for(capaian: Fraction, target: int, terbalik: bool) -> Fraction:
    return target * (2 - capaian / 100) if terbalik else capaian * target / 100


def _whole_capaian(rng: random.Random) -> int:
    return max(0, min(120, round(rng.gauss(100, 13))))


def _planted(rng: random.Random, midpoint: bool) -> list[tuple[int, int]] | None:
    """Indicators 2..6 on whole capaian (so every realisasi has two decimals), indicator 1 solved
    so that hasil kerja is exactly 90 or 110, or an exact x.xx5; None if that needs capaian > 120."""
    targets = [rng.choice(P_TARGETS) for _ in range(6)]
    targets[0] = 100
    capaian = [_whole_capaian(rng) for _ in range(6)]
    rest = sum(w * c for w, c in zip(P_BOBOT[1:], capaian[1:]))
    if midpoint:
        m = round(10 * (P_BOBOT[0] * rng.gauss(100, 13) + rest))
        m += 5 - m % 10  # 1000 x hasil kerja ends in 5: an exact x.xx5
        first = Fraction(m - 10 * rest, 10 * P_BOBOT[0])
    else:
        first = Fraction(100 * rng.choice((90, 110)) - rest, P_BOBOT[0])
    if not 0 <= first < 120:
        return None
    capaian[0] = first
    pairs = []
    for c, t, terbalik in zip(capaian, targets, P_TERBALIK):
        r = _realisasi_for(Fraction(c), t, terbalik) * 100
        assert r.denominator == 1 and r >= 0, (c, t)
        pairs.append((t, int(r)))
    return pairs


def _natural(rng: random.Random) -> list[tuple[int, int]]:
    pairs = []
    for _ in range(6):
        t = rng.choice(P_TARGETS)
        pairs.append((t, max(0, round(t * 100 * rng.gauss(1, 0.13)))))
    return pairs


def p_line(rng: random.Random, index: int) -> str:
    draw, pairs = rng.random(), None
    if draw < BOUNDARY_SHARE + MIDPOINT_SHARE:
        while pairs is None:
            pairs = _planted(rng, midpoint=draw >= BOUNDARY_SHARE)
    else:
        pairs = _natural(rng)
    values, weights = zip(*SKOR)
    scores = rng.choices(values, weights=weights, k=len(BERAKHLAK))
    iki = ", ".join(f'"iki_{i}": {{"target": {t}, "realisasi": {_number(r)}}}' for i, (t, r) in enumerate(pairs, 1))
    berakhlak = ", ".join(f'"{name}": {s}' for name, s in zip(BERAKHLAK, scores))
    return f'{{"id": "{_nip(index)}", {iki}, "berakhlak": {{{berakhlak}}}}}\n'


# ---------------------------------------------------------------------------------------- pp-46-2011
def _kegiatan(rng: random.Random) -> str:
    to = rng.choice((1, 1, 4, 6, 10, 12, 24, 50, 100))
    ro = max(0, min(round(to * rng.gauss(0.97, 0.08)), round(to * 1.2)))
    rk = max(50, min(100, round(rng.gauss(88, 7))))
    tw = rng.choice((12, 12, 6, 3))
    draw = rng.random()
    if draw < 0.04:
        rw = tw * 76  # efficiency exactly 24%: 100 exact, 76 in floats
    elif draw < 0.5:
        rw = tw * 100  # on time
    else:
        rw = max(0, round(tw * 100 * rng.gauss(0.95, 0.1)))
    parts = [
        f'"kuantitas": {{"target": {to}, "realisasi": {ro}}}',
        f'"kualitas": {{"target": 100, "realisasi": {rk}}}',
        f'"waktu": {{"target": {tw}, "realisasi": {_number(rw)}}}',
    ]
    if rng.random() < 0.3:
        tb = rng.randrange(5, 200) * 500_000
        parts.append(f'"biaya": {{"target": {tb}, "realisasi": {round(tb * rng.uniform(0.7, 1.05))}}}')
    return "{" + ", ".join(parts) + "}"


def pp46_line(rng: random.Random, index: int) -> str:
    kegiatan = ", ".join(_kegiatan(rng) for _ in range(rng.choice((1, 1, 2, 2, 3, 4))))
    names = ["orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama"]
    if rng.random() < 0.25:
        names.append("kepemimpinan")
    perilaku = ", ".join(f'"{n}": {max(50, min(100, round(rng.gauss(82, 6))))}' for n in names)
    return (
        f'{{"id": "{_nip(index)}", "kegiatan": [{kegiatan}], "tugas_tambahan": {rng.choice((0, 0, 0, 1, 2, 3, 4, 7))}, '
        f'"kreativitas": {rng.choice((0, 0, 0, 0, 3, 6, 12))}, "perilaku": {{{perilaku}}}}}\n'
    )


# ---------------------------------------------------------------------------------------- files
def ensure(kind: str, count: int, cache: Path = CACHE) -> Path:
    """The data file of `count` records, written (streaming, then renamed) only when missing."""
    line, seed = {"p": (p_line, P_SEED), "pp46": (pp46_line, PP46_SEED)}[kind]
    path = cache / f"{kind}-{count}.jsonl"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial-{os.getpid()}")
    rng = random.Random(seed)
    with open(partial, "w", encoding="utf-8", buffering=1 << 20) as out:
        for index in range(count):
            out.write(line(rng, index))
    partial.replace(path)
    return path


def p_records(count: int, seed: int = P_SEED) -> list[bytes]:
    """`count` P records as JSON lines in memory (for tests)."""
    rng = random.Random(seed)
    return [p_line(rng, index).rstrip("\n").encode() for index in range(count)]


def p_rates(lines) -> tuple[int, int, int]:
    """(records, on a band edge exactly, on a rounding midpoint exactly), with exact arithmetic."""
    from peers import fraction_p

    total = edges = midpoints = 0
    for line in lines:
        hasil = fraction_p.hasil_kerja(fraction_p.parse(line))
        total += 1
        edges += hasil in (90, 110)
        scaled = hasil * 1000
        midpoints += scaled.denominator == 1 and scaled.numerator % 10 == 5
    return total, edges, midpoints


def rates(path: Path) -> tuple[int, int, int]:
    """p_rates of a P data file, counted once and kept beside it."""
    counted = path.with_suffix(".rates.json")
    if counted.exists():
        return tuple(json.loads(counted.read_text()))
    with open(path, "rb") as lines:
        found = p_rates(lines)
    counted.write_text(json.dumps(found))
    return found


def ensure_parquet(path: Path) -> Path:
    """The pp-46 records of `path` as Parquet with DECIMAL columns (engine.evaluate.columnar_io),
    written once beside it. Run in a process of its own (`--parquet`): it holds a chunk of
    records in memory, and a bench process that grew would lend its size to every child's RSS."""
    target = path.with_suffix(".parquet")
    if target.exists():
        return target
    import pyarrow.parquet as pq

    from engine import api
    from engine.evaluate import columnar_io as cio
    from engine.evaluate.io import decode_json

    policy, writer, chunk = api.load("pp-46-2011").policy, None, []
    with open(path, "rb") as source:
        for line in [*source, None]:
            if line is not None:
                chunk.append(decode_json(line))
            if len(chunk) == 65_536 or line is None and chunk:
                table = cio.table_from_records(policy, chunk)
                writer = writer or pq.ParquetWriter(str(target) + ".part", table.schema)
                writer.write_table(table)
                chunk = []
    writer.close()
    Path(str(target) + ".part").rename(target)
    return target


def ensure_reference(path: Path, workers: int = 2) -> Path:
    """pp-46 outputs of `path` by bench/peers/pp46_fraction.py (the independent Fraction
    reference), written once beside it and named by the script's hash, so a changed rule is
    computed again. The lines are split among `workers` processes, then joined in order."""
    import hashlib
    import subprocess
    import sys

    script = HERE / "peers" / "pp46_fraction.py"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    target = path.with_name(f"{path.stem}-reference-{digest}.jsonl")
    if target.exists():
        return target
    with open(path, "rb") as f:
        count = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))
    bounds = [count * k // workers for k in range(workers + 1)]
    parts = [target.with_suffix(f".part{k}") for k in range(workers)]
    running = [
        subprocess.Popen([sys.executable, script, path, part, f"{bounds[k]}:{bounds[k + 1]}"])
        for k, part in enumerate(parts)
    ]
    if any(process.wait() for process in running):
        raise SystemExit("bench/peers/pp46_fraction.py failed")
    with open(str(target) + ".part", "wb") as out:
        for part in parts:
            out.write(part.read_bytes())
            part.unlink()
    Path(str(target) + ".part").rename(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, default=200_000, help="policy P records (default 200,000)")
    parser.add_argument("--pp46", type=int, default=0, help="pp-46-2011 records (default none)")
    parser.add_argument("--parquet", action="store_true", help="also the pp-46 records as Parquet")
    parser.add_argument("--reference", action="store_true", help="also the pp-46 Fraction reference's outputs")
    args = parser.parse_args()
    if args.pp46 and (args.parquet or args.reference):  # what bench/run.py asks for, in a process of its own
        path = ensure("pp46", args.pp46)
        print(ensure_parquet(path) if args.parquet else ensure_reference(path))
        return
    path = ensure("p", args.p)
    total, edges, midpoints = rates(path)
    print(
        f"{path}: {total:,} records; exactly on 90 or 110: {edges:,} ({edges / total:.2%}); "
        f"exact x.xx5 midpoints: {midpoints:,} ({midpoints / total:.2%})"
    )
    if args.pp46:
        print(ensure("pp46", args.pp46))


if __name__ == "__main__":
    main()
