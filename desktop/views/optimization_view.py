"""Optimization (issue #6): pick devices, objective, horizon and model version; Run off the GUI thread with
progress and Cancel; see the price band, the plan, the SoC trajectory and current vs proposed power with
predicted savings and their P10-P90 range; edit a device's entries and Propose them as a draft (an operator
approves it in the schedules). Also imports price and load/PV files, showing a refusal with line and reason.

The slots hold no rules: OptimizationService and MarketDataService check permissions and do the work.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QListWidget,
    QListWidgetItem, QProgressBar, QPushButton, QSpinBox, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from core.auth.principal import Principal
from core.errors import GridRoomError
from core.market.import_source import ImportSourceSettings
from core.market.service import ImportResult, MarketDataService
from core.optimization.fleet import OptimizationCancelled
from core.optimization.problem import Objective
from core.optimization.service import (
    RUNNABLE_OBJECTIVES, CancelToken, OptimizationRequest, OptimizationResult, OptimizationService,
)
from core.schedules.records import ScheduleRecord
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.views.plan_entries_model import PlanEntriesModel
from desktop.widgets.message_area import MessageArea
from desktop.widgets.plan_charts import PlanCharts

OBJECTIVE_LABELS = {
    Objective.MAXIMIZE_REVENUE: "Maximize revenue (arbitrage)",
    Objective.MINIMIZE_COST: "Minimize site cost",
    Objective.GRID_PEAK_SHAVING: "Shave the grid peak",
}


class OptimizationView(QWidget):
    progress_changed = Signal(int)  # percent, on the GUI thread
    result_shown = Signal()

    def __init__(self, optimizer: OptimizationService, market: MarketDataService, principal: Principal,
                 device_ids: Callable[[], list[str]], parent: QWidget | None = None, *,
                 import_source: ImportSourceSettings | None = None, can_set_import_source: bool = False) -> None:
        super().__init__(parent)
        self.optimizer = optimizer
        self.market = market
        self.principal = principal
        self.import_source = import_source
        self._device_ids = device_ids
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.result: OptimizationResult | None = None
        self._token: CancelToken | None = None

        self.devices = QListWidget()
        self.devices.setMaximumHeight(120)
        self.objective = QComboBox()
        for objective in RUNNABLE_OBJECTIVES:
            self.objective.addItem(OBJECTIVE_LABELS[objective], objective.value)
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 168)
        self.horizon.setValue(24)
        self.horizon.setSuffix(" h")
        self.model_version = QComboBox()
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.import_button = QPushButton("Import prices / load…")
        self.import_folder = QLabel("Import folder: (none)")
        self.import_folder.setObjectName("import_folder")
        self.import_folder.setWordWrap(True)
        self.import_folder_button = QPushButton("Pick import folder…")
        # Greyed out for roles that may not change it; the core service checks again (and audits a refusal).
        self.import_folder_button.setEnabled(import_source is not None and can_set_import_source)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.savings = QLabel("No plan yet")
        self.savings.setObjectName("savings")
        self.savings.setWordWrap(True)
        self.message = MessageArea()
        self.plan_device = QComboBox()
        self.charts = PlanCharts()
        self.entries = PlanEntriesModel(self)
        self.table = QTableView()
        self.table.setModel(self.entries)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.remove_button = QPushButton("Remove entry")
        self.propose_button = QPushButton("Propose as draft")
        self.propose_button.setEnabled(False)

        form = QFormLayout()
        form.addRow("Devices", self.devices)
        form.addRow("Objective", self.objective)
        form.addRow("Horizon", self.horizon)
        form.addRow("Price model", self.model_version)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.cancel_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.import_button)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.import_folder, 1)
        folder_row.addWidget(self.import_folder_button)
        form.addRow(folder_row)
        form.addRow(self.savings)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addLayout(form)
        side_layout.addWidget(QLabel("Entries of"))
        side_layout.addWidget(self.plan_device)
        side_layout.addWidget(self.table, 1)
        edit_buttons = QHBoxLayout()
        edit_buttons.addWidget(self.remove_button)
        edit_buttons.addWidget(self.propose_button)
        side_layout.addLayout(edit_buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(side)
        splitter.addWidget(self.charts)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([420, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)

        self.run_button.clicked.connect(self.start_run)
        self.cancel_button.clicked.connect(self.cancel_run)
        self.import_button.clicked.connect(lambda: self.tasks.start(self.pick_and_import()))
        self.import_folder_button.clicked.connect(lambda: self.tasks.start(self.pick_import_folder()))
        self.propose_button.clicked.connect(lambda: self.tasks.start(self.propose()))
        self.remove_button.clicked.connect(self._remove_selected)
        self.plan_device.currentIndexChanged.connect(self._show_selected_device)
        self.progress_changed.connect(self.progress.setValue)

    # -- loading ---------------------------------------------------------------------------------
    async def refresh(self) -> None:
        device_ids, versions = await call_core(lambda: (self._device_ids(), self.optimizer.model_versions()))
        if self.import_source is not None:
            self._show_import_folder((await call_core(self.import_source.current)).folder)
        checked = set(self.selected_devices())
        self.devices.clear()
        for device_id in device_ids:
            item = QListWidgetItem(device_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if not checked or device_id in checked else Qt.CheckState.Unchecked)
            self.devices.addItem(item)
        self.model_version.clear()
        for version in versions:
            self.model_version.addItem(version, version)

    def selected_devices(self) -> list[str]:
        return [self.devices.item(i).text() for i in range(self.devices.count())
                if self.devices.item(i).checkState() == Qt.CheckState.Checked]

    def request(self) -> OptimizationRequest:
        return OptimizationRequest(tuple(self.selected_devices()), Objective(self.objective.currentData()),
                                   self.horizon.value(), self.model_version.currentData())

    # -- run -------------------------------------------------------------------------------------
    def start_run(self) -> asyncio.Task:
        """Run button: the cancel token exists before the work starts, so Cancel always reaches it."""
        self._token = CancelToken()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.message.clear_message()
        return self.tasks.start(self._run(self.request(), self._token))

    def cancel_run(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.cancel_button.setEnabled(False)

    async def _run(self, request: OptimizationRequest, token: CancelToken) -> None:
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:  # a worker thread: hand over, never touch widgets here
            loop.call_soon_threadsafe(self.progress_changed.emit, int(100 * done / max(total, 1)))

        try:
            result = await call_core(self.optimizer.run, self.principal, request, progress=progress, cancel=token)
        except OptimizationCancelled as exc:
            self.message.show_warning(f"Optimization cancelled: {exc}")
            return
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return
        finally:
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
        self.progress.setValue(100)
        self.show_result(result)

    def show_result(self, result: OptimizationResult) -> None:
        self.result = result
        band = result.band
        start_s, step_s = band.start.timestamp(), band.step.total_seconds()
        self.charts.show_band(start_s, step_s, band.p10, band.p50, band.p90)
        low, expected, high = result.savings_eur
        planned = sum(d.ok for d in result.devices)
        self.savings.setText(f"Predicted savings vs current schedules: {expected:,.2f} EUR\n"
                             f"P10–P90 price range: {low:,.2f} … {high:,.2f} EUR\n"
                             f"{planned} of {len(result.devices)} device(s) planned, {band.n_steps} h from "
                             f"{band.start:%Y-%m-%d %H:%M} UTC, model {result.model_version}")
        problems = [f"{d.device_id}: {d.problem}" for d in result.devices if not d.ok]
        notes = list(result.notes) + problems
        if problems:
            self.message.show_warning("\n".join(notes))
        elif notes:
            self.message.show_info("\n".join(notes))
        self.plan_device.blockSignals(True)
        self.plan_device.clear()
        for device in result.devices:
            self.plan_device.addItem(device.device_id if device.ok else f"{device.device_id} (no plan)", device.device_id)
        self.plan_device.blockSignals(False)
        first_ok = next((i for i, d in enumerate(result.devices) if d.ok), 0)
        self.plan_device.setCurrentIndex(first_ok)
        self._show_selected_device()
        self.result_shown.emit()

    def _show_selected_device(self) -> None:
        if self.result is None or self.plan_device.currentIndex() < 0:
            return
        device = self.result.device(self.plan_device.currentData())
        band = self.result.band
        if not device.ok:
            self.charts.clear_device()
            self.entries.set_entries(())
            self.propose_button.setEnabled(False)
            return
        plan = device.plan.device
        self.charts.show_device(band.start.timestamp(), band.step.total_seconds(), plan.net_charge_kw,
                                device.current_net_kw, plan.soc_pct, device.battery.initial_soc_pct,
                                (device.battery.soc_min_pct, device.battery.soc_max_pct))
        self.entries.set_entries(device.entries)
        self.propose_button.setEnabled(True)

    def _remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()}, reverse=True)
        for row in rows:
            self.entries.remove_row(row)

    # -- propose ---------------------------------------------------------------------------------
    async def propose(self) -> ScheduleRecord | None:
        """Propose the shown device's (edited) entries as a draft schedule from the optimizer."""
        device_id = self.plan_device.currentData()
        if device_id is None:
            return None
        self.propose_button.setEnabled(False)
        try:
            record = await call_core(self.optimizer.propose, self.principal, device_id, self.entries.entries())
        except (GridRoomError, ValueError) as exc:
            self.message.show_error(f"Not proposed: {exc}")
            return None
        finally:
            self.propose_button.setEnabled(True)
        self.message.show_info(f"Draft v{record.version} of {device_id}'s schedule created "
                               f"({len(record.entries)} entries); an operator approves it in the schedules.")
        return record

    # -- import ----------------------------------------------------------------------------------
    async def pick_and_import(self) -> ImportResult | None:
        dialog = QFileDialog(self, "Import prices or load/PV", "", "Market data (*.csv *.xml)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        if not await run_dialog(dialog) or not dialog.selectedFiles():
            return None
        return await self.import_file(Path(dialog.selectedFiles()[0]))

    async def import_file(self, path: Path) -> ImportResult | None:
        """Import exactly the file the user picked; a refusal shows its line and reason."""
        try:
            result = await call_core(self.market.import_file, self.principal, path)
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return None
        if result.ok:
            self.message.show_info(result.summary())
        else:
            where = f"line {result.error_line}: " if result.error_line else ""
            self.message.show_error(f"{path.name} not imported, nothing stored. {where}{result.error}")
        return result

    # -- watched import folder -------------------------------------------------------------------
    def _show_import_folder(self, folder: str) -> None:
        self.import_folder.setText(f"Import folder: {folder or '(none)'}")

    async def pick_import_folder(self) -> str | None:
        dialog = QFileDialog(self, "Folder the runtime imports price and load files from")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        if not await run_dialog(dialog) or not dialog.selectedFiles():
            return None
        return await self.set_import_folder(dialog.selectedFiles()[0])

    async def set_import_folder(self, folder: str) -> str | None:
        """Store the watched folder (MANAGE_MARKET_DATA, audited); the runtime watches it from its next start."""
        try:
            source = await call_core(self.import_source.change, self.principal, folder=folder)
        except GridRoomError as exc:
            self.message.show_error(f"Import folder not changed: {exc}")
            return None
        self._show_import_folder(source.folder)
        self.message.show_info(f"Import folder set to {source.folder}; files dropped there are imported "
                               "from the next start of GridRoom or `gridroom serve`.")
        return source.folder
