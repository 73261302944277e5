"""Admin overrides of alarm rules: which fields may change, applying them, and storing them.

An override replaces fields of a default rule through `dataclasses.replace`, so the rule's own
validation runs again: an override that would make an invalid rule is refused with the rule's reason.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alarms.errors import RuleValidationError
from core.alarms.priorities import Priority
from core.alarms.rules import AlarmRule
from core.alarms.tables import AlarmRuleOverrideRow

EDITABLE_FIELDS = ("threshold", "deadband", "on_delay_s", "priority")


def rule_settings(rule: AlarmRule) -> dict[str, object]:
    """The editable fields this rule has, with their current values (priority as its string)."""
    names = {f.name for f in fields(rule)}
    out: dict[str, object] = {}
    for name in EDITABLE_FIELDS:
        if name in names:
            value = getattr(rule, name)
            out[name] = value.value if isinstance(value, Priority) else value
    return out


def apply_changes(rule: AlarmRule, changes: dict[str, object]) -> AlarmRule:
    """`rule` with `changes` applied; RuleValidationError names the field and why it was refused."""
    names = {f.name for f in fields(rule)}
    clean: dict[str, object] = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name not in EDITABLE_FIELDS or name not in names:
            raise RuleValidationError(rule.rule_id, name, f"cannot be changed on a {type(rule).__name__}")
        if name == "priority":
            try:
                value = Priority(value)
            except ValueError:
                raise RuleValidationError(rule.rule_id, "priority", f"unknown priority {value!r}") from None
        clean[name] = value
    if not clean:
        raise RuleValidationError(rule.rule_id, "changes", "nothing to change")
    return replace(rule, **clean)


def load_overrides(session: Session) -> dict[str, dict[str, object]]:
    """Stored overrides by rule id (only the fields that were set)."""
    out: dict[str, dict[str, object]] = {}
    for row in session.execute(select(AlarmRuleOverrideRow)).scalars():
        values = {name: getattr(row, name) for name in EDITABLE_FIELDS if getattr(row, name) is not None}
        out[row.rule_id] = values
    return out


def apply_overrides(rules: tuple[AlarmRule, ...], overrides: dict[str, dict[str, object]]) -> tuple[AlarmRule, ...]:
    """Default rules with stored overrides applied; an override that no longer validates is skipped
    (the default stands) rather than keeping the application from starting."""
    out = []
    for rule in rules:
        values = overrides.get(rule.rule_id)
        if values:
            try:
                rule = apply_changes(rule, values)
            except RuleValidationError:
                pass
        out.append(rule)
    return tuple(out)


def save_override(session: Session, rule: AlarmRule, username: str, at: datetime) -> None:
    """Store the editable fields of `rule` as its override (insert or replace)."""
    row = session.get(AlarmRuleOverrideRow, rule.rule_id)
    if row is None:
        row = AlarmRuleOverrideRow(rule_id=rule.rule_id)
        session.add(row)
    for name, value in rule_settings(rule).items():
        setattr(row, name, value)
    row.changed_by = username
    row.changed_at = at
