"""The main window's "Scheduled reports…" action (File menu, MANAGE_SETTINGS): lists, adds and removes report
schedules through core.reporting.ReportScheduleStore, the same calls `gridroom report schedule add/list/remove`
makes, so permissions are checked and every change is audited in core."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QObject

from core.auth.roles import Permission
from core.reporting import ReportScheduleStore
from desktop.actions import ActionSpec
from desktop.dialogs.report_schedule_dialogs import ReportScheduleEditor, ReportSchedulesDialog
from desktop.tasks import call_core, run_dialog
from reports.registry import REPORTS, report_names


class ReportScheduleActions(QObject):
    def __init__(self, window, settings_path: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        s = window.services
        self.principal = window.principal
        # settings_path None: the settings file the CLI and the runtime use (core.settings.Settings.path()).
        self.store = ReportScheduleStore(s.db, s.audit, s.authorizer, report_names(), settings_path)
        self.dialog: ReportSchedulesDialog | None = None
        self.editor: ReportScheduleEditor | None = None
        self.working: asyncio.Task | None = None  # the last add/remove started from a dialog
        window.registry.add(ActionSpec(
            "reports.schedules", "Scheduled &reports…", None, Permission.MANAGE_SETTINGS, "&File", False,
            lambda: window.tasks.start(self.manage()), "Reports made every day or week, filed and e-mailed"))

    async def manage(self) -> bool:
        dialog = ReportSchedulesDialog(self.window)
        self.dialog = dialog
        dialog.add_requested.connect(lambda: self._start(self._add()))
        dialog.remove_requested.connect(lambda name: self._start(self._remove(name)))
        await self._reload()
        accepted = await run_dialog(dialog)
        self.dialog = None
        return accepted

    def _start(self, coro) -> None:
        self.working = self.window.tasks.start(coro)

    async def _reload(self) -> None:
        try:
            self.dialog.show_schedules(await call_core(self.store.list, self.principal))
        except Exception as exc:  # an unreadable settings file: say which and where
            self.dialog.message.show_error(f"Cannot read the schedules: {exc}")

    async def _add(self) -> None:
        reports = [(name, spec.title) for name, spec in sorted(REPORTS.items())]
        editor = ReportScheduleEditor(reports, self.principal.username, self.dialog)
        self.editor = editor
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def store() -> None:
            try:
                schedule = editor.schedule()  # a wrong field is refused here, before anything is stored
                await call_core(self.store.add, self.principal, schedule)
            except Exception as exc:  # the reason names the field
                editor.message.show_error(f"Not added: {exc}")
                return
            editor.accept()
            self.dialog.message.show_info(f"Added {schedule.name}.")
            await self._reload()
            self.dialog.select(schedule.name)

        editor.add_requested.connect(lambda: self._start(store()))
        editor.finished.connect(lambda _code: done.done() or done.set_result(None))
        editor.open()
        await done
        self.editor = None

    async def _remove(self, name: str) -> None:
        try:
            await call_core(self.store.remove, self.principal, name)
        except Exception as exc:
            self.dialog.message.show_error(f"Not removed: {exc}")
            return
        self.dialog.message.show_info(f"Removed {name}.")
        await self._reload()
