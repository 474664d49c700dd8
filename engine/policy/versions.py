"""Versions of one policy id: the files that hold them, the one in force for a period, and the
checks that their validity neither overlaps nor leaves a gap.

Several files on the policy search path may carry one `id`: `pp-30-2019.yaml` and
`pp-30-2019@2.yaml` (the part of the name before `@` is the id). Each is a version, valid from
`berlaku_mulai` to `berlaku_sampai` (inclusive; no `berlaku_sampai` is open-ended). A target
names a policy as `ID` (the version in force for the period), `ID@VERSION` (that `version:`),
`ID@sha256:HEX` (a content hash or a prefix of it) or a file path (that file).

A period is a year (`2023`), a month (`2023-07`) or a day (`2023-07-15`); a version is in force
for it when its validity covers the whole period. An id with a single version has nothing to
choose between: that version is used for every period (as before versions existed).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic, Diagnostics, PolicyError, Position
from engine.i18n import _
from engine.lru import LRU
from engine.policy import document as policyfile

#: A period's text: a year, a month or a day.
PERIOD_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
#: Separates the id from a version (or a content hash) in a target and a file name.
SEPARATOR = "@"
HASH_PREFIX = "sha256:"


@dataclass(frozen=True)
class Period:
    text: str
    first: date
    last: date


def parse_period(text: object) -> Period | None:
    """`2023`, `2023-07` or `2023-07-15` as the days they span; None for anything else."""
    if not isinstance(text, str) or not re.fullmatch(PERIOD_PATTERN, text):
        return None
    parts = [int(p) for p in text.split("-")]
    try:
        if len(parts) == 1:
            return Period(text, date(parts[0], 1, 1), date(parts[0], 12, 31))
        if len(parts) == 2:
            first = date(parts[0], parts[1], 1)
            following = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
            return Period(text, first, following - timedelta(days=1))
        day = date(*parts)
        return Period(text, day, day)
    except ValueError:  # month 13, 30 February, year 0
        return None


def period_error(text: object) -> str:
    return _("a period is a year (2023), a month (2023-07) or a day (2023-07-15), got {text}", text=repr(text))


def _day(value: object) -> date | None:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclass
class VersionInfo:
    """One version of a policy id: its file, labels, content hash and validity."""

    path: Path
    id: str
    version: str
    hash: str
    berlaku_mulai: str | None
    berlaku_sampai: str | None
    positions: dict[str, Position] = field(default_factory=dict)  # key -> Position of that key in its file
    problems: list[Diagnostic] = field(default_factory=list)  # why it could not be read, if it could not

    @property
    def mulai(self) -> date | None:
        return _day(self.berlaku_mulai)

    @property
    def sampai(self) -> date | None:
        return _day(self.berlaku_sampai)

    @property
    def dated_well(self) -> bool:
        """Dates that are real days (or absent), the start not after the end."""
        for text, day in ((self.berlaku_mulai, self.mulai), (self.berlaku_sampai, self.sampai)):
            if text is not None and day is None:
                return False
        return not (self.mulai and self.sampai and self.mulai > self.sampai)

    def covers(self, period: Period) -> bool:
        return (self.mulai is None or self.mulai <= period.first) and (
            self.sampai is None or period.last <= self.sampai
        )

    def touches(self, period: Period) -> bool:
        return (self.mulai is None or self.mulai <= period.last) and (
            self.sampai is None or period.first <= self.sampai
        )

    @property
    def validity(self) -> str:
        return _("{start} to {end}", start=self.berlaku_mulai or "…", end=self.berlaku_sampai or "…")

    @property
    def label(self) -> str:
        return _(
            "version {version} ({file}, in force {validity})",
            version=self.version,
            file=self.path.name,
            validity=self.validity,
        )

    def position(self, *keys: str) -> Position:
        for key in keys:
            if key in self.positions:
                return self.positions[key]
        return Position(str(self.path), 1, 1)

    def as_json(self) -> dict[Any, Any]:
        return {
            "version": self.version,
            "hash": self.hash,
            "berlaku_mulai": self.berlaku_mulai,
            "berlaku_sampai": self.berlaku_sampai,
        }


def id_of_stem(stem: str) -> str:
    return stem.split(SEPARATOR, 1)[0]


def files_by_id(extra: list[Path] | None = None) -> dict[str, list[Path]]:
    """Policy id -> its files on the search path (a file name hidden by an earlier directory is not one)."""
    found: dict[str, list[Path]] = {}
    for stem, path in sorted(policyfile.available(extra).items()):
        found.setdefault(id_of_stem(stem), []).append(path)
    return found


#: Version headers kept in memory, one per file version (the index of a policy directory).
MAX_VERSION_INFOS = 512
_info_cache: LRU[tuple[VersionInfo, list[tuple[str, tuple[Any, ...]]]]] = LRU(MAX_VERSION_INFOS)


def _signature(path: Path) -> tuple[Any, ...]:
    try:
        stat = path.stat()
        return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return (str(path), 0, 0)


def read_info(path: Path, extra: list[Path] | None = None) -> VersionInfo:
    """The version a file holds, read through its `extends` chain (dates may be inherited)."""
    key = (_signature(path), tuple(str(p) for p in extra or ()), os.environ.get("KINERJA_POLICY_PATH", ""))
    cached = _info_cache.get(key)
    if cached is not None and all(_signature(Path(f)) == s for f, s in cached[1]):
        return cached[0]
    problems = Diagnostics()
    document = policyfile.read_document(path, problems, extra)
    if document is None or not document.hash:
        info = VersionInfo(
            path,
            id_of_stem(path.stem),
            "",
            "",
            None,
            None,
            problems=problems.sorted()
            or [Diagnostic(Position(str(path)), "policy.read", _("could not read the policy"))],
        )
        return info
    data = document.data
    info = VersionInfo(
        path,
        str(data.get("id", id_of_stem(path.stem))),
        str(data.get("version", "")),
        document.hash,
        data.get("berlaku_mulai") if isinstance(data.get("berlaku_mulai"), str) else None,
        data.get("berlaku_sampai") if isinstance(data.get("berlaku_sampai"), str) else None,
    )
    for name in ("id", "version", "berlaku_mulai", "berlaku_sampai"):
        if name in data:
            info.positions[name] = document.sources.position((name,), document.file)
    files = {origin.position.file for origin in document.sources.origins.values()} | {str(path)}
    _info_cache.put(key, (info, [(f, _signature(Path(f))) for f in sorted(files)]))
    return info


def versions_of(policy_id: str, extra: list[Path] | None = None) -> list[VersionInfo]:
    """Every version of an id, earliest validity first (identical content in two files counts once)."""
    infos, seen = [], set()
    for path in files_by_id(extra).get(policy_id, []):
        info = read_info(path, extra)
        if info.hash and info.hash in seen:
            continue
        seen.add(info.hash)
        infos.append(info)
    return sorted(infos, key=lambda i: (i.mulai or date.min, i.version, str(i.path)))


def is_file_target(target: str) -> bool:
    return target.endswith((".yaml", ".yml")) or os.sep in target or Path(target).is_file()


def version_error(target: str, code: str, message: str, hint: str = "") -> PolicyError:
    return PolicyError([Diagnostic(Position(target), code, message, hint)])


def choose(target: str, period: Period | None = None, extra: list[Path] | None = None, files: bool = True) -> Path:
    """The file of the version `target` names, or of the one in force for `period` (shown
    relative to the working directory, as policyfile.resolve shows it).

    Without a period, the version in force today, else the newest. `files=False` (the HTTP
    service) refuses file paths: only ids name policies there.
    """
    return policyfile._relative(_choose(target, period, extra, files))


def _choose(target: str, period: Period | None, extra: list[Path] | None, files: bool) -> Path:
    if files and is_file_target(target):
        return Path(target)
    policy_id, _separator, wanted = target.partition(SEPARATOR)
    infos = versions_of(policy_id, extra)
    if not infos:
        close = difflib.get_close_matches(policy_id, list(files_by_id(extra)), n=1)
        raise version_error(
            target,
            "policy.unknown",
            _("no policy with id '{id}'", id=policy_id),
            _("did you mean '{close}'?", close=close[0]) if close else _("run 'kinerja policies' to list them"),
        )
    if wanted:
        return _named(target, policy_id, wanted, infos, extra)
    if len(infos) == 1:
        return infos[0].path
    broken = [d for info in infos for d in info.problems]
    if broken:
        raise PolicyError(broken)
    if period is not None:
        return _in_force(target, period, infos).path
    today = date.today()
    current = [i for i in infos if i.covers(Period(today.isoformat(), today, today))]
    return (current[0] if len(current) == 1 else infos[-1]).path


def _named(target: str, policy_id: str, wanted: str, infos: list[VersionInfo], extra: list[Path] | None) -> Path:
    if wanted.startswith(HASH_PREFIX):
        matches = [i for i in infos if i.hash.startswith(wanted)]
        what = _("content hash {hash}", hash=wanted)
    else:
        matches = [i for i in infos if i.version == wanted]
        stem_file = policyfile.available(extra).get(target)
        if not matches and stem_file is not None:
            return stem_file
        what = _("version {version}", version=wanted)
    if len(matches) == 1:
        return matches[0].path
    known = "; ".join(f"{i.version} ({i.hash[:19]}…)" for i in infos)
    if matches:
        raise version_error(
            target,
            "version.ambiguous",
            _("{count} versions of {id} match {what}", count=len(matches), id=policy_id, what=what),
            _("give more of the hash"),
        )
    raise version_error(
        target,
        "version.unknown",
        _("{id} has no {what}", id=policy_id, what=what),
        _("its versions: {versions}", versions=known),
    )


def _in_force(target: str, period: Period, infos: list[VersionInfo]) -> VersionInfo:
    covering = [i for i in infos if i.covers(period)]
    if len(covering) == 1:
        return covering[0]
    policy_id = infos[0].id
    if len(covering) > 1:
        raise version_error(
            target,
            "version.overlap",
            _(
                "{count} versions of {id} are in force for {period}: {versions}",
                count=len(covering),
                id=policy_id,
                period=period.text,
                versions="; ".join(i.label for i in covering),
            ),
            _("run 'kinerja check'"),
        )
    touching = [i for i in infos if i.touches(period)]
    if len(touching) > 1:
        raise version_error(
            target,
            "version.straddles",
            _(
                "period {period} straddles versions of {id}: {versions}",
                period=period.text,
                id=policy_id,
                versions="; ".join(i.label for i in touching),
            ),
            _("name a version ({id}@VERSION) or give a narrower period (a month or a day)", id=policy_id),
        )
    raise version_error(
        target,
        "version.none_in_force",
        _(
            "no version of {id} is in force for the whole of {period}: {versions}",
            id=policy_id,
            period=period.text,
            versions="; ".join(i.label for i in infos),
        ),
        _("give a period inside one version's validity, or name a version ({id}@VERSION)", id=policy_id),
    )


# Checks ------------------------------------------------------------------------------------------


def check_versions(extra: list[Path] | None = None, ids: set[str] | None = None) -> list[Diagnostic]:
    """Located errors in the validity of each id's versions: bad dates, overlaps, gaps, duplicates."""
    out = Diagnostics()
    for policy_id, paths in sorted(files_by_id(extra).items()):
        if ids is not None and policy_id not in ids:
            continue
        infos = [read_info(path, extra) for path in paths]
        readable = [i for i in infos if i.hash]
        for info in readable:
            _check_one(info, out)
        distinct = list({i.hash: i for i in reversed(readable)}.values())
        if len(distinct) > 1:
            _check_duplicates(distinct, out)
            _check_coverage([i for i in distinct if i.dated_well], out)
    return out.sorted()


def _check_one(info: VersionInfo, out: Diagnostics) -> None:
    stem_id = id_of_stem(info.path.stem)
    if SEPARATOR in info.path.stem and info.id != stem_id:
        out.add(
            info.position("id"),
            "versions.file_name",
            _(
                "the file {file} holds id '{id}', but its name says '{named}'",
                file=info.path.name,
                id=info.id,
                named=stem_id,
            ),
            _("name it {name}, or change the id", name=f"{info.id}{SEPARATOR}{info.version or 'VERSION'}.yaml"),
        )
    for key in ("berlaku_mulai", "berlaku_sampai"):
        text = getattr(info, key)
        if text is not None and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) and _day(text) is None:
            out.add(
                info.position(key), "versions.date", _("{key} {text} is not a day of the calendar", key=key, text=text)
            )
    if info.mulai and info.sampai and info.mulai > info.sampai:
        out.add(
            info.position("berlaku_sampai"),
            "versions.order",
            _(
                "berlaku_sampai {end} is before berlaku_mulai {start}",
                end=info.berlaku_sampai,
                start=info.berlaku_mulai,
            ),
        )


def _check_duplicates(infos: list[VersionInfo], out: Diagnostics) -> None:
    by_label: dict[str, VersionInfo] = {}
    for info in sorted(infos, key=lambda i: str(i.path)):
        first = by_label.setdefault(info.version, info)
        if first is not info:
            out.add(
                info.position("version"),
                "versions.duplicate",
                _(
                    "{id} version {version} is also in {file} ({where}) with different content",
                    id=info.id,
                    version=info.version,
                    file=first.path.name,
                    where=first.position("version"),
                ),
                _("a published version never changes: give this one a new version"),
            )


def _check_coverage(infos: list[VersionInfo], out: Diagnostics) -> None:
    """Every day from the first version's start on has exactly one version in force."""
    ordered = sorted(infos, key=lambda i: (i.mulai or date.min, str(i.path)))
    for index, later in enumerate(ordered):
        for earlier in ordered[:index]:
            if earlier.sampai is None or (later.mulai or date.min) <= earlier.sampai:
                start = max(later.mulai or date.min, earlier.mulai or date.min)
                end = min(d for d in (earlier.sampai, later.sampai, date.max) if d is not None)
                days = _("from {start}", start=start) if start != date.min else _("from the beginning")
                days += _(" to {end}", end=end) if end != date.max else _(" on, open-ended")
                out.add(
                    later.position("berlaku_mulai", "version"),
                    "versions.overlap",
                    _(
                        "{id} {later} overlaps {earlier} ({where}) {days}",
                        id=later.id,
                        later=later.label,
                        earlier=earlier.label,
                        where=earlier.position("berlaku_sampai", "version"),
                        days=days,
                    ),
                    _(
                        "each day has one version in force: end the earlier one (berlaku_sampai) the day "
                        "before the later one starts (berlaku_mulai)"
                    ),
                )
    reach = ordered[0].sampai  # the last day covered so far, walking in order of start; None: open-ended
    for index, info in enumerate(ordered[1:], start=1):
        if reach is None:
            return  # an open-ended version covers every later day (an overlap, reported above)
        if info.mulai is not None and info.mulai > reach + timedelta(days=1):
            before = next(i for i in ordered[:index] if i.sampai == reach)
            out.add(
                info.position("berlaku_mulai", "version"),
                "versions.gap",
                _(
                    "no version of {id} is in force from {first} to {last}: {before} ends {reach} ({where}) and "
                    "{after} starts {start}",
                    id=info.id,
                    first=reach + timedelta(days=1),
                    last=info.mulai - timedelta(days=1),
                    before=before.label,
                    reach=reach,
                    where=before.position("berlaku_sampai"),
                    after=info.label,
                    start=info.mulai,
                ),
                _(
                    "start version {version} on {first}, or end version {previous} on {last}",
                    version=info.version,
                    first=reach + timedelta(days=1),
                    previous=before.version,
                    last=info.mulai - timedelta(days=1),
                ),
            )
        reach = None if info.sampai is None else max(reach, info.sampai)


def diagnostics_for(targets: list[str]) -> list[Diagnostic]:
    """Version checks for `kinerja check`: every id when no target is named, else the named ones'."""
    if not targets:
        return check_versions()
    found: list[Diagnostic] = []
    for target in targets:
        if is_file_target(target):
            path = Path(target)
            found += check_versions([path.parent], {id_of_stem(path.stem)}) if path.is_file() else []
        else:
            found += check_versions(None, {target.partition(SEPARATOR)[0]})
    return list({(d.sort_key(), d.hint): d for d in found}.values())
