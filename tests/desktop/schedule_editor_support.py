"""The schedule editor as a signed-in user sees it: what the editor and device-group tests open."""

from __future__ import annotations

from desktop.actions import ActionRegistry
from desktop.views.schedule_editor_view import ScheduleEditorView


async def open_editor(qtbot, rig, role: str = "operator") -> ScheduleEditorView:
    """The editor for rig.people[role], its actions enabled by that role's permissions, shown and loaded."""
    principal = rig.people[role]
    view = ScheduleEditorView(rig.services, rig.runtime, principal, backend=rig.backend)
    qtbot.addWidget(view)
    registry = ActionRegistry(view)
    registry.add_all(view.action_specs())
    view.use_actions(registry)
    registry.apply_permissions(principal, rig.services.authorizer)
    view.resize(1200, 800)
    view.show()
    await view.refresh()
    await view.tasks.idle()
    return view
