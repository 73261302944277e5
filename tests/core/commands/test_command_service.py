"""CommandService: permission in core, limits before sending, outcomes audited and kept in history.

The gateway here is a scripted stand-in for a device; the real MQTT and Modbus gateways are exercised
against real brokers and Modbus servers in the driver integration tests.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.audit.trail import AuditFilter
from core.commands.history import CommandHistory
from core.commands.model import (
    CommandDeliveryError,
    CommandKind,
    CommandLimits,
    CommandRefused,
    CommandStatus,
    DeviceCommand,
)
from core.commands.service import CommandService
from core.errors import PermissionDenied

STRONG = "Correct-Horse-42"


class ScriptedGateway:
    def __init__(self):
        self.sent: list[tuple[DeviceCommand, str]] = []
        self.answer = None  # None: ack; an exception: raise it; "hang": never answer

    async def send(self, command, command_id, timeout_s):
        self.sent.append((command, command_id))
        if self.answer == "hang":
            await asyncio.Event().wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"power_kw": -command.rate_kw if command.kind is CommandKind.CHARGE else command.rate_kw}


@pytest.fixture
def setup(sqlite_services, clock):
    users = sqlite_services.users
    users.create_first_admin("chief", STRONG)
    chief = users.authenticate("chief", STRONG)
    for name, role in (("olga", "operator"), ("vic", "viewer")):
        users.create_user(chief, name, role, STRONG)
        users.change_password(users.authenticate(name, STRONG), STRONG, STRONG + "x")
    limits = {
        "bess-1": CommandLimits("bess-1", 100.0, 120.0, online=True),
        "bess-off": CommandLimits("bess-off", 100.0, 100.0, online=False, last_seen=clock.now() - timedelta(minutes=7)),
        "bess-q": CommandLimits("bess-q", 100.0, 100.0, online=False, queues_when_offline=True),
    }
    gateway = ScriptedGateway()
    service = CommandService(
        sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, limits.__getitem__, gateway,
        CommandHistory(), clock, timeout_s=0.2,
    )
    people = {n: users.authenticate(n, STRONG + "x") for n in ("olga", "vic")}
    return service, gateway, people, sqlite_services


def run(coro):
    return asyncio.run(coro)


def test_permitted_command_is_sent_acked_audited_and_in_history(setup):
    service, gateway, people, core = setup
    outcome = run(service.execute(people["olga"], DeviceCommand("bess-1", CommandKind.CHARGE, 40.0)))
    assert outcome.status is CommandStatus.ACKED and outcome.readback == {"power_kw": -40.0}
    assert gateway.sent[0][0].rate_kw == 40.0
    assert service.history.recent("bess-1")[0].command_id == outcome.command_id
    with core.db.session() as s:
        entry = core.audit.query(s, AuditFilter(action="device.command"))[0]
    assert entry.username == "olga" and entry.result == "success" and entry.detail["status"] == "acked"


def test_viewer_calling_the_service_directly_is_refused_and_audited(setup):
    service, gateway, people, core = setup
    with pytest.raises(PermissionDenied, match="not allowed to command device"):
        run(service.execute(people["vic"], DeviceCommand("bess-1", CommandKind.DISCHARGE, 10.0)))
    assert gateway.sent == []
    with core.db.session() as s:
        assert core.audit.query(s, AuditFilter(action="permission.denied", username="vic"))[0].resource == "device:bess-1"


@pytest.mark.parametrize(
    "command, message",
    [
        (DeviceCommand("bess-1", CommandKind.CHARGE, 150.0), "150 kW exceeds bess-1's charge limit of 100 kW"),
        (DeviceCommand("bess-1", CommandKind.DISCHARGE, 121.0), "discharge limit of 120 kW"),
        (DeviceCommand("bess-1", CommandKind.CHARGE, -5.0), "rate must be a positive number of kW"),
        (DeviceCommand("bess-1", CommandKind.CHARGE, float("nan")), "rate must be a positive number"),
        (DeviceCommand("bess-1", CommandKind.IDLE, 5.0), "idle takes no rate"),
        (DeviceCommand("bess-off", CommandKind.IDLE), "bess-off is offline (last seen"),
    ],
)
def test_refused_before_sending_with_the_limit_named(setup, command, message):
    service, gateway, people, core = setup
    with pytest.raises(CommandRefused, match=message.replace("(", r"\(")) as info:
        run(service.execute(people["olga"], command))
    assert gateway.sent == []
    assert info.value.outcome.status is CommandStatus.REFUSED
    assert service.history.recent(command.device_id)[0].status is CommandStatus.REFUSED


def test_offline_device_that_queues_gets_it_on_return(setup):
    service, gateway, people, core = setup
    outcome = run(service.execute(people["olga"], DeviceCommand("bess-q", CommandKind.DISCHARGE, 10.0)))
    assert outcome.status is CommandStatus.QUEUED and "queued" in outcome.message
    assert gateway.sent == []
    sent = run(service.flush_queued("bess-q"))
    assert sent.status is CommandStatus.ACKED and sent.command_id == outcome.command_id


def test_device_rejection_and_timeout_are_clear_outcomes(setup):
    service, gateway, people, core = setup
    gateway.answer = CommandDeliveryError(CommandStatus.REJECTED, "bess-1 rejected: in local control")
    outcome = run(service.execute(people["olga"], DeviceCommand("bess-1", CommandKind.CHARGE, 10.0)))
    assert outcome.status is CommandStatus.REJECTED and "local control" in outcome.message
    gateway.answer = "hang"
    outcome = run(service.execute(people["olga"], DeviceCommand("bess-1", CommandKind.CHARGE, 10.0)))
    assert outcome.status is CommandStatus.TIMEOUT and "did not answer within 0.2 s" in outcome.message
    with core.db.session() as s:
        results = [e.detail["status"] for e in core.audit.query(s, AuditFilter(action="device.command"))]
    assert results == ["timeout", "rejected"]
