"""The device registry: onboarding, editing and decommissioning devices (brief use case 8).

Every change checks the actor's permission here in core and is audited in the same transaction as the
change. Devices are never deleted: a decommissioned device keeps its row, so its history stays readable
and its id cannot be reused by a different machine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock, SystemClock
from core.devices.tables import DeviceRow
from core.devices.validation import DeviceSpec, DeviceValidationError, FieldProblem, validate_spec
from core.errors import Conflict, NotFound
from core.fleet.tables import SiteRow
from core.storage.database import Database

_SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(DeviceSpec))
# What update() may change. device_id is the identity in topics, ACLs and certificates: it never changes.
UPDATABLE_FIELDS = frozenset(_SPEC_FIELDS) - {"device_id"} | {"certificate_serial"}


@dataclass(frozen=True)
class DeviceInfo:
    """A registered device as the UI and the CLI show it."""

    spec: DeviceSpec
    site_name: str
    active: bool
    created_at: datetime
    decommissioned_at: datetime | None
    certificate_serial: str | None

    @property
    def device_id(self) -> str:
        return self.spec.device_id


def _spec_of(row: DeviceRow) -> DeviceSpec:
    return DeviceSpec(**{name: getattr(row, name) for name in _SPEC_FIELDS})


def _resource(device_id: str) -> str:
    return f"device:{device_id}"


class DeviceRegistry:
    """Admins (MANAGE_DEVICES) change the registry; anyone who may view the fleet can read it."""

    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock | None = None) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock or SystemClock()

    # -- changes -------------------------------------------------------------------------------
    def register(self, actor: Principal, spec: DeviceSpec) -> DeviceInfo:
        """Validate and store a new device. Raises DeviceValidationError listing every problem; stores nothing then."""
        self.authorizer.require(actor, Permission.MANAGE_DEVICES, _resource(str(spec.device_id)))
        with self.db.session() as s:
            problems = validate_spec(spec) + self._stored_problems(s, spec, new=True)
            if not problems:
                row = DeviceRow(**dataclasses.asdict(spec), active=True, created_at=self.clock.now())
                s.add(row)
                s.flush()
                self.audit.append(s, actor, "device.register", _resource(spec.device_id), detail=self._detail(spec))
                return self._info(s, row)
        self._audit_refusal(actor, "device.register", str(spec.device_id), problems)
        raise DeviceValidationError(problems)

    def update(self, actor: Principal, device_id: str, /, **changes: Any) -> DeviceInfo:
        """Change some fields of an active device; the result is re-validated as a whole."""
        self.authorizer.require(actor, Permission.MANAGE_DEVICES, _resource(device_id))
        unknown = sorted(set(changes) - UPDATABLE_FIELDS)
        if unknown:
            problems = [FieldProblem(name, "cannot be changed (unknown field, or the device's identity)") for name in unknown]
            self._audit_refusal(actor, "device.update", device_id, problems)
            raise DeviceValidationError(problems)
        with self.db.session() as s:
            row = self._get_row(s, device_id)
            if not row.active:
                raise Conflict(f"device {device_id!r} is decommissioned; its record is read-only")
            serial = changes.pop("certificate_serial", row.certificate_serial)
            old = _spec_of(row)
            new = dataclasses.replace(old, **changes)
            problems = validate_spec(new) + self._stored_problems(s, new, new=False)
            if serial is not None and (not isinstance(serial, str) or not 0 < len(serial) <= 128):
                problems.append(FieldProblem("certificate_serial", "must be 1-128 characters of text, or None"))
            if not problems:
                diff = {
                    name: [getattr(old, name), getattr(new, name)]
                    for name in _SPEC_FIELDS
                    if getattr(old, name) != getattr(new, name)
                }
                if serial != row.certificate_serial:
                    diff["certificate_serial"] = [row.certificate_serial, serial]
                for name, (_before, after) in diff.items():
                    setattr(row, name, after)
                self.audit.append(s, actor, "device.update", _resource(device_id), detail=diff)
                return self._info(s, row)
        self._audit_refusal(actor, "device.update", device_id, problems)
        raise DeviceValidationError(problems)

    def decommission(self, actor: Principal, device_id: str) -> DeviceInfo:
        """Take a device out of service: it stays in the registry, flagged, with its history."""
        self.authorizer.require(actor, Permission.MANAGE_DEVICES, _resource(device_id))
        with self.db.session() as s:
            row = self._get_row(s, device_id)
            if not row.active:
                raise Conflict(f"device {device_id!r} was already decommissioned at {row.decommissioned_at:%Y-%m-%d %H:%M} UTC")
            row.active = False
            row.decommissioned_at = self.clock.now()
            self.audit.append(s, actor, "device.decommission", _resource(device_id))
            return self._info(s, row)

    # -- reading -------------------------------------------------------------------------------
    def list(
        self, actor: Principal, site: int | str | None = None, text: str | None = None, include_decommissioned: bool = True
    ) -> list[DeviceInfo]:
        """Devices ordered by id; site is a site id or name; text matches id, name or location (any case)."""
        self.authorizer.require(actor, Permission.VIEW_FLEET, "devices")
        with self.db.session() as s:
            stmt = select(DeviceRow).order_by(DeviceRow.device_id)
            if isinstance(site, int):
                stmt = stmt.where(DeviceRow.site_id == site)
            elif isinstance(site, str):
                stmt = stmt.join(SiteRow, SiteRow.id == DeviceRow.site_id).where(SiteRow.name == site)
            if text:
                needle = text.strip().lower()
                stmt = stmt.where(
                    or_(
                        *(
                            func.lower(col).contains(needle, autoescape=True)
                            for col in (DeviceRow.device_id, DeviceRow.name, DeviceRow.location)
                        )
                    )
                )
            if not include_decommissioned:
                stmt = stmt.where(DeviceRow.active)
            return [self._info(s, row) for row in s.execute(stmt).scalars()]

    def get(self, actor: Principal, device_id: str) -> DeviceInfo:
        self.authorizer.require(actor, Permission.VIEW_FLEET, _resource(device_id))
        with self.db.session() as s:
            return self._info(s, self._get_row(s, device_id))

    def site_id(self, site: int | str) -> int:
        """A site's id from its id or its name; NotFound names what was asked for."""
        with self.db.session() as s:
            column = SiteRow.id if isinstance(site, int) else SiteRow.name
            found = s.execute(select(SiteRow.id).where(column == site)).scalar_one_or_none()
        if found is None:
            raise NotFound(f"no site {site!r}")
        return found

    def device_specs(self) -> list[DeviceSpec]:
        """The active devices, for the runtime to wire drivers. System use: no actor, no audit."""
        with self.db.session() as s:
            rows = s.execute(select(DeviceRow).where(DeviceRow.active).order_by(DeviceRow.device_id)).scalars()
            return [_spec_of(row) for row in rows]

    # -- helpers -------------------------------------------------------------------------------
    def _stored_problems(self, s: Session, spec: DeviceSpec, new: bool) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if new and isinstance(spec.device_id, str):
            if s.execute(select(DeviceRow.id).where(DeviceRow.device_id == spec.device_id)).first():
                problems.append(FieldProblem("device_id", f"{spec.device_id!r} is already registered"))
        if isinstance(spec.site_id, int) and not isinstance(spec.site_id, bool) and s.get(SiteRow, spec.site_id) is None:
            problems.append(FieldProblem("site_id", f"no site with id {spec.site_id}"))
        return problems

    def _audit_refusal(self, actor: Principal, action: str, device_id: str, problems: list[FieldProblem]) -> None:
        # Its own transaction: the refused change stored nothing, the record of the attempt must stay.
        with self.db.session() as s:
            detail = {"problems": [str(p) for p in problems]}
            self.audit.append(s, actor, action, _resource(device_id), AuditResult.FAILURE, detail)

    @staticmethod
    def _detail(spec: DeviceSpec) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(spec).items() if k != "device_id"}

    @staticmethod
    def _get_row(s: Session, device_id: str) -> DeviceRow:
        row = s.execute(select(DeviceRow).where(DeviceRow.device_id == device_id)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no device {device_id!r} is registered")
        return row

    @staticmethod
    def _info(s: Session, row: DeviceRow) -> DeviceInfo:
        site = s.get(SiteRow, row.site_id)
        return DeviceInfo(
            spec=_spec_of(row),
            site_name=site.name if site else "",
            active=row.active,
            created_at=row.created_at,
            decommissioned_at=row.decommissioned_at,
            certificate_serial=row.certificate_serial,
        )
