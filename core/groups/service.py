"""DeviceGroupService: create, rename and delete device groups, change their members, list them.

Groups exist to be schedule targets, so whoever may edit schedules (operators, admins) manages them; the
permission matrix has no separate group permission, and adding one would only split the same people.
Anyone who may view the fleet can list groups. Every change is audited in the transaction that makes it.

A schedule names its group by id, so a group that a draft or a live schedule version targets can be neither
renamed nor deleted: the version would point at nothing (or at a different set of devices). Finished versions
(completed, superseded, cancelled) keep the name they were sent under; that is their history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock, SystemClock
from core.devices.tables import DeviceRow
from core.errors import Conflict, GridRoomError, NotFound
from core.groups.tables import DeviceGroupMemberRow, DeviceGroupRow
from core.schedules.model import ScheduleState, TargetKind
from core.schedules.tables import ScheduleRow
from core.storage.database import Database

# Group ids travel in schedule targets and audit resources like device ids do: the same safe alphabet.
_GROUP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


# Versions that still act (or may act) on the group's members: everything but the final states.
_OPEN_SCHEDULE_STATES = tuple(state.value for state in ScheduleState if not state.is_final)


class InvalidDeviceGroup(GridRoomError, ValueError):
    """A group change that names a bad id or devices that are not registered (or decommissioned)."""


class DeviceGroupInUse(Conflict):
    """A rename or delete refused because a draft or live schedule version targets the group."""

    def __init__(self, group_id: str, action: str, versions: list[tuple[str, int, str]]) -> None:
        listed = ", ".join(f"version {version} ({state})" for _schedule_id, version, state in versions)
        super().__init__(f"group {group_id} cannot be {action}: schedule {listed} targets it; "
                         "cancel or finish that schedule first")
        self.group_id = group_id
        self.versions = versions


@dataclass(frozen=True)
class DeviceGroup:
    group_id: str
    description: str
    members: tuple[str, ...]  # device ids, sorted
    created_by: str
    created_at: datetime


class DeviceGroupService:
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock | None = None) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock or SystemClock()

    # -- changes ---------------------------------------------------------------------------------
    def create(self, actor: Principal, group_id: str, members: Iterable[str] = (), description: str = "") -> DeviceGroup:
        """A new group with these members (EDIT_SCHEDULE). Raises InvalidDeviceGroup or Conflict; stores nothing then."""
        self.authorizer.require(actor, Permission.EDIT_SCHEDULE, f"group:{group_id}")
        _require_group_id(group_id)
        members = _unique(members)
        now = self.clock.now()
        with self.db.session() as s:
            if s.execute(select(DeviceGroupRow.id).where(DeviceGroupRow.group_id == group_id)).first():
                raise Conflict(f"a device group {group_id!r} already exists")
            self._require_devices(s, members)
            row = DeviceGroupRow(group_id=group_id, description=description.strip(), created_by=actor.username,
                                 created_at=now)
            s.add(row)
            s.flush()
            s.add_all(DeviceGroupMemberRow(group_row_id=row.id, device_id=d, added_at=now) for d in members)
            self.audit.append(s, actor, "group.create", f"group:{group_id}", AuditResult.SUCCESS,
                              {"members": list(members), "description": row.description})
            s.flush()
            return self._group(s, row)

    def add_members(self, actor: Principal, group_id: str, device_ids: Iterable[str]) -> DeviceGroup:
        """Add devices to a group (already-present ones are left as they are)."""
        self.authorizer.require(actor, Permission.EDIT_SCHEDULE, f"group:{group_id}")
        wanted = _unique(device_ids)
        with self.db.session() as s:
            row = self._row(s, group_id)
            present = set(self._member_ids(s, row.id))
            new = [d for d in wanted if d not in present]
            self._require_devices(s, new)
            now = self.clock.now()
            s.add_all(DeviceGroupMemberRow(group_row_id=row.id, device_id=d, added_at=now) for d in new)
            self.audit.append(s, actor, "group.add_members", f"group:{group_id}", AuditResult.SUCCESS, {"added": new})
            s.flush()
            return self._group(s, row)

    def remove_members(self, actor: Principal, group_id: str, device_ids: Iterable[str]) -> DeviceGroup:
        """Remove devices from a group; naming a device that is not a member is an error (nothing removed)."""
        self.authorizer.require(actor, Permission.EDIT_SCHEDULE, f"group:{group_id}")
        gone = _unique(device_ids)
        with self.db.session() as s:
            row = self._row(s, group_id)
            present = set(self._member_ids(s, row.id))
            strangers = [d for d in gone if d not in present]
            if strangers:
                raise InvalidDeviceGroup(f"group {group_id}: {', '.join(strangers)} not a member")
            for member in s.execute(select(DeviceGroupMemberRow).where(DeviceGroupMemberRow.group_row_id == row.id,
                                                                       DeviceGroupMemberRow.device_id.in_(gone))).scalars():
                s.delete(member)
            self.audit.append(s, actor, "group.remove_members", f"group:{group_id}", AuditResult.SUCCESS,
                              {"removed": list(gone)})
            s.flush()
            return self._group(s, row)

    def rename(self, actor: Principal, group_id: str, new_group_id: str) -> DeviceGroup:
        """Give a group a new id, members unchanged (EDIT_SCHEDULE). Refused (DeviceGroupInUse, audited) while a
        draft or live schedule targets it; InvalidDeviceGroup for a bad new id, Conflict when it is taken."""
        self.authorizer.require(actor, Permission.EDIT_SCHEDULE, f"group:{group_id}")
        _require_group_id(new_group_id, "new group id")
        if new_group_id == group_id:
            raise InvalidDeviceGroup(f"group {group_id} is already called {new_group_id!r}")
        with self.db.session() as s:
            row = self._row(s, group_id)
            if s.execute(select(DeviceGroupRow.id).where(DeviceGroupRow.group_id == new_group_id)).first():
                raise Conflict(f"a device group {new_group_id!r} already exists")
            in_use = self._open_schedules(s, group_id)
            if not in_use:
                row.group_id = new_group_id
                self.audit.append(s, actor, "group.rename", f"group:{group_id}", AuditResult.SUCCESS,
                                  {"from": group_id, "to": new_group_id})
                s.flush()
                return self._group(s, row)
        raise self._refused(actor, "group.rename", group_id, "renamed", in_use, {"to": new_group_id})

    def delete(self, actor: Principal, group_id: str) -> DeviceGroup:
        """Delete a group and its memberships (the devices stay), returning what was deleted (EDIT_SCHEDULE).
        Refused (DeviceGroupInUse, audited) while a draft or live schedule targets it."""
        self.authorizer.require(actor, Permission.EDIT_SCHEDULE, f"group:{group_id}")
        with self.db.session() as s:
            row = self._row(s, group_id)
            in_use = self._open_schedules(s, group_id)
            if not in_use:
                gone = self._group(s, row)
                for member in s.execute(select(DeviceGroupMemberRow)
                                        .where(DeviceGroupMemberRow.group_row_id == row.id)).scalars():
                    s.delete(member)
                s.flush()  # members first: they reference the group row
                s.delete(row)
                self.audit.append(s, actor, "group.delete", f"group:{group_id}", AuditResult.SUCCESS,
                                  {"members": list(gone.members), "description": gone.description})
                s.flush()
                return gone
        raise self._refused(actor, "group.delete", group_id, "deleted", in_use, {})

    # -- reading ---------------------------------------------------------------------------------
    def list(self, actor: Principal) -> list[DeviceGroup]:
        """Every group with its members, ordered by group id (VIEW_FLEET)."""
        self.authorizer.require(actor, Permission.VIEW_FLEET, "groups")
        with self.db.session() as s:
            rows = s.execute(select(DeviceGroupRow).order_by(DeviceGroupRow.group_id)).scalars().all()
            return [self._group(s, row) for row in rows]

    def get(self, actor: Principal, group_id: str) -> DeviceGroup:
        self.authorizer.require(actor, Permission.VIEW_FLEET, f"group:{group_id}")
        with self.db.session() as s:
            return self._group(s, self._row(s, group_id))

    def members(self, group_id: str) -> tuple[str, ...]:
        """The member device ids of a group (system use: schedule validation and distribution). NotFound if none."""
        with self.db.session() as s:
            return tuple(self._member_ids(s, self._row(s, group_id).id))

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _row(s: Session, group_id: str) -> DeviceGroupRow:
        row = s.execute(select(DeviceGroupRow).where(DeviceGroupRow.group_id == group_id)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no device group {group_id!r}")
        return row

    @staticmethod
    def _open_schedules(s: Session, group_id: str) -> list[tuple[str, int, str]]:
        """(schedule id, version, state) of every draft or live version that targets the group."""
        rows = s.execute(select(ScheduleRow.schedule_id, ScheduleRow.version, ScheduleRow.state)
                         .where(ScheduleRow.target_kind == TargetKind.GROUP.value, ScheduleRow.target_id == group_id,
                                ScheduleRow.state.in_(_OPEN_SCHEDULE_STATES))
                         .order_by(ScheduleRow.version)).all()
        return [(schedule_id, version, state) for schedule_id, version, state in rows]

    def _refused(self, actor: Principal, action: str, group_id: str, verb: str, in_use: list[tuple[str, int, str]],
                 detail: dict) -> DeviceGroupInUse:
        error = DeviceGroupInUse(group_id, verb, in_use)
        # Its own transaction: the refused change stored nothing, the record of the attempt must stay.
        with self.db.session() as s:
            self.audit.append(s, actor, action, f"group:{group_id}", AuditResult.FAILURE,
                              {**detail, "reason": str(error)})
        return error

    @staticmethod
    def _member_ids(s: Session, group_row_id: int) -> list[str]:
        return list(s.execute(select(DeviceGroupMemberRow.device_id).where(DeviceGroupMemberRow.group_row_id == group_row_id)
                              .order_by(DeviceGroupMemberRow.device_id)).scalars())

    @staticmethod
    def _require_devices(s: Session, device_ids: list[str]) -> None:
        if not device_ids:
            return
        active = set(s.execute(select(DeviceRow.device_id).where(DeviceRow.device_id.in_(device_ids),
                                                                 DeviceRow.active)).scalars())
        unknown = [d for d in device_ids if d not in active]
        if unknown:
            raise InvalidDeviceGroup(f"not registered or decommissioned: {', '.join(unknown)}")

    def _group(self, s: Session, row: DeviceGroupRow) -> DeviceGroup:
        return DeviceGroup(row.group_id, row.description, tuple(self._member_ids(s, row.id)), row.created_by,
                           row.created_at)


def _require_group_id(group_id: object, what: str = "group id") -> None:
    if not isinstance(group_id, str) or not _GROUP_ID.fullmatch(group_id):
        raise InvalidDeviceGroup(f"{what} {group_id!r}: use 1-64 letters, digits, '.', '_' or '-', "
                                 "starting with a letter or digit")


def _unique(device_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(d.strip() for d in device_ids if isinstance(d, str) and d.strip()))
