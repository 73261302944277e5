"""The main window composes dock widgets (one per view) and wires the action registry. Nothing else:
each view owns its file, its model and its actions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QTabWidget, QToolBar, QWidget

from core.alarms.messages import AlarmTransitionsPublished
from core.notifications.runtime_messages import NotificationFailurePublished
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.fleet.context import FleetContext
from core.fleet.live_state import LiveState
from core.runtime.messages import Heartbeat, RuntimeStateChanged
from core.runtime.runtime import Runtime
from core.services import CoreServices
from desktop.actions import ActionRegistry, ActionSpec
from desktop.event_pump import EventPump
from desktop.layout_store import LayoutStore, default_settings
from desktop.notification_actions import NotificationActions
from desktop.report_schedule_actions import ReportScheduleActions
from desktop.status_bar import ControlStatusBar
from desktop.summary import database_summary
from desktop.tasks import UiTasks, call_core
from desktop.views.alarms_view import AlarmsView
from desktop.views.analytics_view import AnalyticsView
from desktop.views.audit_view import AuditView
from desktop.views.battery_view import BatteryView
from desktop.views.device_detail_view import DeviceDetailView
from desktop.views.devices_view import DevicesView
from desktop.views.fleet_view import FleetView
from desktop.views.schedule_editor_view import ScheduleEditorView
from desktop.views.schedule_status_view import ScheduleStatusView
from desktop.views.schedule_targets import ScheduleBackend
from desktop.views.optimization_setup import build_optimization_view
from desktop.views.users_view import UsersView
from desktop.widgets.alarm_banner import AlarmBanner

MENU_ORDER = ("&File", "&View", "Co&mmands", "&Schedules", "&Users", "&Devices", "&Audit", "&Help")
DOCK_FEATURES = (
    QDockWidget.DockWidgetFeature.DockWidgetMovable
    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    | QDockWidget.DockWidgetFeature.DockWidgetClosable
)


@dataclass(frozen=True)
class ViewSpec:
    """A view as a dock: `factory` builds it only when the signed-in role may see it."""

    id: str
    title: str
    shortcut: str | None
    permission: Permission | None
    factory: Callable[[], QWidget]
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.LeftDockWidgetArea


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, services: CoreServices, runtime: Runtime, principal: Principal, *,
                 settings: QSettings | None = None, pump_interval_ms: int = 100,
                 fleet: FleetContext | None = None) -> None:
        super().__init__()
        # Without a wired fleet the views still open, empty, and say that no devices are connected.
        self.fleet = fleet or FleetContext(LiveState())
        self.services = services
        self.runtime = runtime
        self.principal = principal
        self.setWindowTitle(f"GridRoom — {principal.username} ({principal.role.value})")
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks | QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.GroupedDragging)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.layouts = LayoutStore(settings or default_settings())
        self.registry = ActionRegistry(self)
        self.pump = EventPump(runtime, pump_interval_ms, parent=self)
        self.tasks = UiTasks()
        self.docks: dict[str, QDockWidget] = {}
        self.views: dict[str, QWidget] = {}
        self._closed_once = False

        self.status = ControlStatusBar(principal, runtime.state, services.secrets.available(), self)
        self.setStatusBar(self.status)
        self.pump.subscribe(RuntimeStateChanged, self.status.on_runtime_state)
        self.pump.subscribe(Heartbeat, self.status.on_heartbeat)

        for spec in self._view_specs():
            self.add_view(spec, spec.permission is None or services.authorizer.allowed(principal, spec.permission))
        self._add_window_actions()
        self.notifications = NotificationActions(self)
        self.report_schedules = ReportScheduleActions(self)
        self.registry.build_menus(self.menuBar(), MENU_ORDER)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("toolbar.main")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.registry.build_toolbar(toolbar)
        if toolbar.actions():  # the dock tabs already navigate; the toolbar is for commands
            self.addToolBar(toolbar)
        self.registry.apply_permissions(principal, services.authorizer)
        self._connect_fleet_views()
        self._add_alarm_banner()

        self.resize(1440, 900)
        first = next(iter(self.docks.values()), None)
        if first is not None:
            first.raise_()  # a fresh layout opens on the first view (the fleet), not the last one tabbed
        self._default_state = self.saveState()
        self.layouts.restore(principal.username, self)
        self.alarm_banner_bar.setVisible(self.alarm_banner.count > 0)  # a restored layout must not show it
        self.pump.start()
        self.tasks.start(self.refresh_all())

    def _view_specs(self) -> list[ViewSpec]:
        s, r, p, f = self.services, self.runtime, self.principal, self.fleet
        return [
            ViewSpec("fleet", "Fleet", "Ctrl+1", None, lambda: FleetView(f, p, self.layouts.settings)),
            ViewSpec("device", "Device", "Ctrl+2", None, lambda: DeviceDetailView(
                f, r, p, schedule_of=ScheduleBackend(s, f).device_schedule)),
            ViewSpec("battery", "Battery system", "Ctrl+3", None, lambda: BatteryView(f)),
            ViewSpec("users", "Users", "Ctrl+4", Permission.MANAGE_USERS, lambda: UsersView(s, p)),
            ViewSpec("audit", "Audit", "Ctrl+5", Permission.VIEW_AUDIT, lambda: AuditView(s, p)),
            ViewSpec("alarms", "Alarms", "Ctrl+6", Permission.VIEW_FLEET, lambda: AlarmsView(
                r, p, s.authorizer.allowed(p, Permission.HANDLE_ALARMS), s.clock.now,
                can_edit_rules=s.authorizer.allowed(p, Permission.EDIT_ALARM_RULES))),
            ViewSpec("devices", "Devices", "Ctrl+7", Permission.MANAGE_DEVICES, lambda: DevicesView(s, p)),
            ViewSpec("schedules", "Schedules", "Ctrl+8", Permission.VIEW_FLEET, lambda: ScheduleEditorView(s, r, p, f)),
            ViewSpec("schedule_status", "Schedule status", "Ctrl+Shift+8", Permission.VIEW_FLEET,
                     lambda: ScheduleStatusView(s, p, f)),
            ViewSpec("analytics", "Analytics", "Ctrl+0", Permission.VIEW_HISTORY, lambda: AnalyticsView(s, p)),
            ViewSpec("optimization", "Optimization", "Ctrl+9", Permission.RUN_OPTIMIZATION,
                     lambda: build_optimization_view(s, p, f)),
        ]

    def _connect_fleet_views(self) -> None:
        """Opening a device from the fleet table shows its detail (and its cells, for a battery system)."""
        fleet, detail, battery = self.views["fleet"], self.views["device"], self.views["battery"]

        def open_device(device_id: str) -> None:
            detail.show_device(device_id)
            self.show_view("device")

        def follow_selection(device_id: str) -> None:
            if self.fleet.live_state.is_battery_system(device_id):
                battery.show_system(device_id)

        fleet.device_activated.connect(open_device)
        fleet.device_selected.connect(follow_selection)

    def _add_alarm_banner(self) -> None:
        """A full-width bar above the docks while critical alarms wait for acknowledgement."""
        self.alarm_banner = AlarmBanner()
        bar = QToolBar("Critical alarms")
        bar.setObjectName("toolbar.alarm_banner")
        bar.setMovable(False)
        bar.addWidget(self.alarm_banner)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.alarm_banner_bar = bar
        bar.setVisible(False)
        alarms = self.views.get("alarms")
        if alarms is not None:
            alarms.unacked_critical_changed.connect(self.show_critical_alarms)
            self.alarm_banner.open_alarms.connect(lambda: self.show_view("alarms"))

    def show_critical_alarms(self, count: int) -> None:
        self.alarm_banner.set_count(count)
        self.alarm_banner_bar.setVisible(count > 0)

    def add_view(self, spec: ViewSpec, permitted: bool = True) -> QWidget | None:
        """Register the view's "show" action; build its dock (tabbed with the others) when permitted."""
        self.registry.add(ActionSpec(f"view.{spec.id}", spec.title, spec.shortcut, spec.permission, "&View",
                                     False, lambda: self.show_view(spec.id), f"Show the {spec.title} panel"))
        if not permitted:  # never build a view whose first query would be refused (and audited)
            return None
        view = spec.factory()
        dock = QDockWidget(spec.title, self)
        dock.setObjectName(f"dock.{spec.id}")  # saveState/restoreState find docks by object name
        dock.setFeatures(DOCK_FEATURES)
        dock.setWidget(view)
        first = next(iter(self.docks.values()), None)
        self.addDockWidget(spec.area, dock)
        if first is not None:
            self.tabifyDockWidget(first, dock)
        self.docks[spec.id] = dock
        self.views[spec.id] = view
        if hasattr(view, "action_specs"):
            self.registry.add_all(view.action_specs())
            view.use_actions(self.registry)
        for event_type, handler in ((RuntimeStateChanged, "on_runtime_state"), (Heartbeat, "on_heartbeat"),
                                    (AlarmTransitionsPublished, "on_alarm_transitions"),
                                    (NotificationFailurePublished, "on_notification_failures")):
            if hasattr(view, handler):
                self.pump.subscribe(event_type, getattr(view, handler))
        return view

    def _add_window_actions(self) -> None:
        self.registry.add_all([
            ActionSpec("window.reset_layout", "Reset layout", None, None, "&View", False, self.reset_layout,
                       "Put every panel back where it started"),
            ActionSpec("app.sign_out", "Sign out and quit", "Ctrl+Q", None, "&File", False, self.close),
            ActionSpec("help.about", "About GridRoom", None, None, "&Help", False, self._about),
        ])

    async def refresh_all(self) -> None:
        """First load of every view, plus the status bar's database line."""
        self.status.show_database(await call_core(database_summary, self.services.db))
        await self.notifications.load()
        await asyncio.gather(*(view.refresh() for view in self.views.values() if hasattr(view, "refresh")))

    async def idle(self) -> None:
        """Wait until the window and every view have finished their running actions (tests, shutdown)."""
        await self.tasks.idle()
        for view in self.views.values():
            if hasattr(view, "tasks"):
                await view.tasks.idle()

    def show_view(self, view_id: str) -> None:
        dock = self.docks.get(view_id)
        if dock is None:
            return
        dock.show()
        dock.raise_()
        dock.widget().setFocus()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.show_view("fleet")

    def _about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About GridRoom",
                          "GridRoom — a control room for grid-battery fleets.", parent=self)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed_once:  # close() can arrive twice (menu, then the app shutting down)
            self._closed_once = True
            self.layouts.save(self.principal.username, self)
            self.pump.stop()
            self.closed.emit()
        super().closeEvent(event)
