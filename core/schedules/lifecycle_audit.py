"""Audit rows for schedule lifecycle changes made in one transaction (a distribution, an ack batch).

A handful of changes get one row per schedule (resource `schedule:<id>`), as an operator reads them. A
fleet-wide change (10,000 one-device schedules distributed, acknowledged and completed at once) would be
10,000 hash-chained rows per step: a third of the control side's time at that size. Above
LIFECYCLE_ROWS_PER_BATCH changes (the ack listener's batches at fleet scale hold tens to thousands), the batch
gets ONE row per action instead (resource `schedules`), listing every schedule it moved (id, version, row,
target), grouped by transition, so the facts stay in the chain and verify like any row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from core.audit.trail import AuditEvent, AuditResult
from core.auth.principal import Principal

LIFECYCLE_ROWS_PER_BATCH = 10
SUMMARY_RESOURCE = "schedules"


@dataclass(frozen=True)
class LifecycleChange:
    """One schedule version moved from `before` to `after` by `steps` (the last one names the audit action)."""

    actor: Principal | str
    schedule_id: str
    row_id: int
    version: int
    target_id: str
    before: str
    after: str
    steps: tuple[str, ...]
    detail: dict = field(default_factory=dict)
    list_steps: bool = False  # the ack path names every step, even a single one, in its per-schedule rows


def lifecycle_events(changes: list[LifecycleChange], batch_actor: Principal | str) -> list[AuditEvent]:
    """One event per change, or one per action (named `batch_actor`) when there are more than
    LIFECYCLE_ROWS_PER_BATCH changes."""
    if len(changes) <= LIFECYCLE_ROWS_PER_BATCH:
        return [AuditEvent(c.actor, f"schedule.{c.steps[-1]}", f"schedule:{c.schedule_id}", AuditResult.SUCCESS,
                           {"row": c.row_id, "version": c.version, "target": c.target_id, "from": c.before,
                            "to": c.after, **({"steps": list(c.steps)} if c.list_steps else {}), **c.detail})
                for c in changes]
    by_action: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for c in sorted(changes, key=lambda c: c.row_id):  # in row order, whatever order the database read them
        transition = f"{c.before}->{c.after}" + (f" ({', '.join(c.steps)})" if len(c.steps) > 1 else "")
        item = [c.schedule_id, c.version, c.row_id, c.target_id]
        if c.detail:
            item.append(c.detail)
        by_action[c.steps[-1]][transition].append(item)
    return [AuditEvent(batch_actor, f"schedule.{action}", SUMMARY_RESOURCE, AuditResult.SUCCESS,
                       {"count": sum(map(len, groups.values())), "fields": ["schedule_id", "version", "row", "target"],
                        "transitions": dict(groups)})
            for action, groups in by_action.items()]
