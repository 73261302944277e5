"""Imports every table module so that Base.metadata is complete (for Alembic and for tests)."""

from core.alarms import tables as _alarms  # noqa: F401
from core.audit import tables as _audit  # noqa: F401
from core.auth import tables as _auth  # noqa: F401
from core.devices import tables as _devices  # noqa: F401
from core.fleet import tables as _fleet  # noqa: F401
from core.groups import tables as _groups  # noqa: F401
from core.notifications import tables as _notifications  # noqa: F401
from core.forecasting import tables as _forecasting  # noqa: F401
from core.market import tables as _market  # noqa: F401
from core.schedules import tables as _schedules  # noqa: F401
from core.telemetry import tables as _telemetry  # noqa: F401
from core.storage.base import Base

metadata = Base.metadata
