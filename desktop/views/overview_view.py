"""The Fleet overview. Until devices can be onboarded it summarizes what is real: this workstation, the
signed-in user, the database and the runtime. It shows no invented fleet figures."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QFrame, QGridLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from core.auth.principal import Principal
from core.errors import GridRoomError
from core.runtime.messages import Heartbeat, RuntimeState, RuntimeStateChanged
from core.services import CoreServices
from core.settings import data_dir
from desktop.summary import RUNTIME_WORDS, database_summary, local_time
from desktop.tasks import UiTasks, call_core
from desktop.theme import Abnormal, abnormal
from desktop.widgets.summary_card import SummaryCard

FLEET_COLUMNS = ("Device", "Site", "Availability", "SoC %", "Power kW", "Active alarms", "Last seen")


def _abnormal_text(kind: Abnormal) -> str:
    return f"color: {abnormal(kind).ink}; font-weight: bold;"


class OverviewView(QWidget):
    def __init__(self, services: CoreServices, principal: Principal, runtime_state: RuntimeState,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._principal = principal
        self.tasks = UiTasks()
        self.site = SummaryCard("Workstation", ["Host", "Data folder", "Fleet devices"])
        self.user = SummaryCard("Signed in", ["User", "Display name", "Role", "Last sign-in"])
        self.database = SummaryCard("Database", ["Backend", "Location", "Schema", "Revision"])
        self.runtime = SummaryCard("Runtime", ["State", "Since", "Last heartbeat"])
        self.site.set_value("Host", principal.host)
        self.site.set_value("Data folder", str(data_dir()))
        self.site.set_value("Fleet devices", "none registered")
        self.user.set_value("User", principal.username)
        self.user.set_value("Role", principal.role.value)
        self.runtime.set_value("State", RUNTIME_WORDS[runtime_state])

        title = QLabel("Fleet overview")
        title.setObjectName("viewTitle")
        cards = QGridLayout()
        cards.setSpacing(10)
        for i, card in enumerate((self.site, self.user, self.database, self.runtime)):
            cards.addWidget(card, 0, i)
        # The fleet table's columns are announced now, so the layout does not jump when devices arrive;
        # until then an empty state says why there are no rows.
        fleet_title = QLabel("Fleet")
        fleet_title.setObjectName("cardTitle")
        columns = QStandardItemModel(0, len(FLEET_COLUMNS), self)
        columns.setHorizontalHeaderLabels(list(FLEET_COLUMNS))
        self.fleet_table = QTableView()
        self.fleet_table.setModel(columns)
        self.fleet_table.verticalHeader().hide()
        self.fleet_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        empty = QLabel(
            "<b>No battery systems are connected yet.</b><br><br>"
            "Once devices are onboarded (Modbus/SunSpec or MQTT), each one appears here with its<br>"
            "state of charge, power, alarms and availability (online, stale or offline)."
        )
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setObjectName("muted")
        QVBoxLayout(self.fleet_table.viewport()).addWidget(empty)
        fleet = QFrame()
        fleet.setObjectName("card")
        fleet_layout = QVBoxLayout(fleet)
        fleet_layout.setContentsMargins(14, 10, 14, 14)
        fleet_layout.addWidget(fleet_title)
        fleet_layout.addWidget(self.fleet_table, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(cards)
        layout.addWidget(fleet, 1)

    def request_refresh(self) -> None:
        self.tasks.start(self.refresh())

    async def refresh(self) -> None:
        summary = await call_core(database_summary, self._services.db)
        self.database.set_value("Backend", summary.backend)
        self.database.set_value("Location", summary.url)
        self.database.set_value("Schema", summary.schema, "" if summary.healthy else _abnormal_text(Abnormal.WARNING))
        self.database.set_value("Revision", summary.revision)
        try:
            info = await call_core(self._services.users.get_user, self._principal, self._principal.username)
        except GridRoomError as exc:
            self.user.set_value("Display name", str(exc))
            return
        self.user.set_value("Display name", info.display_name or "—")
        self.user.set_value("Last sign-in", local_time(info.last_login_at, "%Y-%m-%d %H:%M"))

    # Event-pump subscribers (one call per drained batch).
    def on_runtime_state(self, events: Sequence[RuntimeStateChanged]) -> None:
        last = events[-1]
        bad = last.state in (RuntimeState.FAILED, RuntimeState.STOPPED)
        text = RUNTIME_WORDS[last.state] + (f": {last.detail}" if last.detail else "")
        self.runtime.set_value("State", text, _abnormal_text(Abnormal.CRITICAL) if bad else "")
        self.runtime.set_value("Since", local_time(last.at))

    def on_heartbeat(self, events: Sequence[Heartbeat]) -> None:
        self.runtime.set_value("Last heartbeat", local_time(events[-1].at))
