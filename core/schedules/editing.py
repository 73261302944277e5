"""Pure helpers behind the schedule editor: copy a day, shift, apply to a group, merge, compare.

They take and return plain entry tuples and never validate: the editor validates the result before
anything is approved, so a helper can produce (and the operator can see) an overlap it created.
All days are UTC days, which are always 24 hours long, so no DST arithmetic is involved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from core.schedules.errors import ScheduleError
from core.schedules.model import Schedule, ScheduleEntry, ScheduleSource, ScheduleTarget

_DAY = timedelta(days=1)


class EditingError(ScheduleError, ValueError):
    """An editing helper was given entries it cannot work on (naive times, an unknown entry index)."""


def _require_aware(entries: Iterable[ScheduleEntry]) -> None:
    for index, entry in enumerate(entries, start=1):
        for name in ("start", "end"):
            value = getattr(entry, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise EditingError(f"entry {index}: {name} {value.isoformat()} has no time zone")


def _by_start(entries: Iterable[ScheduleEntry]) -> tuple[ScheduleEntry, ...]:
    return tuple(sorted(entries, key=lambda e: (e.start, e.end)))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, 24:00) of `day` in UTC."""
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    return start, start + _DAY


def copy_day(entries: Sequence[ScheduleEntry], source_day: date, target_day: date) -> tuple[ScheduleEntry, ...]:
    """The schedule with `target_day`'s entries replaced by copies of `source_day`'s, sorted by start.

    An entry belongs to the day its start falls in (an entry running past midnight is copied whole).
    Copying a day onto itself returns the entries unchanged (sorted).
    """
    _require_aware(entries)
    if source_day == target_day:
        return _by_start(entries)
    source_start, source_end = day_bounds(source_day)
    target_start, target_end = day_bounds(target_day)
    offset = target_start - source_start
    kept = [e for e in entries if not target_start <= e.start < target_end]
    copies = [replace(e, start=e.start + offset, end=e.end + offset)
              for e in entries if source_start <= e.start < source_end]
    return _by_start([*kept, *copies])


def shift(entries: Sequence[ScheduleEntry], by: timedelta, *, only: Collection[int] | None = None
          ) -> tuple[ScheduleEntry, ...]:
    """Entries moved by `by` (negative moves earlier), sorted by start.

    `only` restricts the move to those 1-based entry indexes (the editor's selection); the others stay.
    """
    _require_aware(entries)
    if only is not None:
        unknown = sorted(i for i in only if not 1 <= i <= len(entries))
        if unknown:
            raise EditingError(f"no entry {', '.join(map(str, unknown))}: the schedule has {len(entries)} entries")
    chosen = set(range(1, len(entries) + 1)) if only is None else set(only)
    return _by_start(replace(e, start=e.start + by, end=e.end + by) if i in chosen else e
                     for i, e in enumerate(entries, start=1))


def shift_hours(entries: Sequence[ScheduleEntry], hours: float, *, only: Collection[int] | None = None
                ) -> tuple[ScheduleEntry, ...]:
    """shift() by a number of hours, the unit the editor's spin box uses."""
    return shift(entries, timedelta(hours=hours), only=only)


def apply_to_group(entries: Sequence[ScheduleEntry], member_ids: Iterable[str], *, source: ScheduleSource,
                   created_by: str, current_versions: Mapping[str, int] | None = None) -> dict[str, Schedule]:
    """One draft schedule per group member, each with the same entries and the member's next version.

    `current_versions` holds each member's latest stored version (absent: the member has none yet), so
    every member's schedule lineage stays its own; the result is keyed by device id in member order.
    """
    versions = current_versions or {}
    schedules: dict[str, Schedule] = {}
    for device_id in member_ids:
        if device_id in schedules:
            raise EditingError(f"device {device_id} is listed twice in the group")
        schedules[device_id] = Schedule(ScheduleTarget.device(device_id), tuple(entries),
                                        versions.get(device_id, 0) + 1, source, created_by)
    return schedules


def merge_adjacent(entries: Sequence[ScheduleEntry]) -> tuple[ScheduleEntry, ...]:
    """Sorted entries with each run of back-to-back entries of equal mode and rate joined into one.

    Only exactly touching entries (end == next start) are merged; a gap means idle and is kept.
    """
    _require_aware(entries)
    merged: list[ScheduleEntry] = []
    for entry in _by_start(entries):
        last = merged[-1] if merged else None
        if last is not None and last.end == entry.start and last.mode == entry.mode and last.rate_kw == entry.rate_kw:
            merged[-1] = replace(last, end=entry.end)
        else:
            merged.append(entry)
    return tuple(merged)


@dataclass(frozen=True)
class EntryChange:
    """An entry that starts at the same time in both schedules but differs; `fields` says in what."""

    before: ScheduleEntry
    after: ScheduleEntry
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleDiff:
    """What a proposed schedule changes against the active one, each list sorted by start."""

    added: tuple[ScheduleEntry, ...]
    removed: tuple[ScheduleEntry, ...]
    changed: tuple[EntryChange, ...]
    unchanged: tuple[ScheduleEntry, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def compare(active: Sequence[ScheduleEntry], proposed: Sequence[ScheduleEntry]) -> ScheduleDiff:
    """Compare by time: entries are matched by start; a match that differs in end, mode or rate is
    'changed', unmatched entries are 'removed' (active only) or 'added' (proposed only)."""
    _require_aware([*active, *proposed])
    old_by_start: dict[datetime, list[ScheduleEntry]] = defaultdict(list)
    for entry in _by_start(active):
        old_by_start[entry.start].append(entry)
    added, changed, unchanged = [], [], []
    for entry in _by_start(proposed):
        candidates = old_by_start.get(entry.start)
        if not candidates:
            added.append(entry)
            continue
        before = candidates.pop(0)
        fields = tuple(name for name in ("end", "mode", "rate_kw") if getattr(before, name) != getattr(entry, name))
        if fields:
            changed.append(EntryChange(before, entry, fields))
        else:
            unchanged.append(entry)
    removed = _by_start(e for remaining in old_by_start.values() for e in remaining)
    return ScheduleDiff(tuple(added), removed, tuple(changed), tuple(unchanged))
