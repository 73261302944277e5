"""The demo's simulated fleet: an embedded broker, the fleet simulator, and the devices in the registry.

Started before the runtime so that the registry holds the devices (with the addresses the simulator
actually listens on) when the fleet service reads it.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from sqlalchemy import select

from core.auth.principal import SYSTEM
from core.devices.registry import DeviceRegistry
from core.devices.validation import DeviceSpec
from core.fleet.tables import SiteRow
from core.services import CoreServices
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.embedded_broker import EmbeddedBroker
from drivers.sim.fleet_definition import FleetDefinition, load_fleet_definition
from drivers.sim.fleet_sim import FleetSimulator

log = logging.getLogger(__name__)

# Fixed ports when they are free, so device addresses stay the same from one demo to the next.
PREFERRED_MODBUS_PORT = 15020
PREFERRED_BROKER_PORT = 18830


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass
class DemoFleet:
    broker: BrokerConfig
    simulator: FleetSimulator
    embedded: EmbeddedBroker | None

    def stop(self) -> None:
        self.simulator.stop_running()
        self.simulator.stop()
        if self.embedded is not None:
            self.embedded.stop()


def start_demo_fleet(services: CoreServices, broker: BrokerConfig | None = None) -> DemoFleet:
    """Start the broker (embedded unless one is given) and the simulator; register the fleet."""
    embedded = None
    if broker is None:
        embedded = EmbeddedBroker(preferred_port=PREFERRED_BROKER_PORT)
        broker = BrokerConfig(host="127.0.0.1", port=embedded.start(), mqtt5=False)  # amqtt: MQTT 3.1.1 only
    definition = load_fleet_definition()
    modbus_port = PREFERRED_MODBUS_PORT if _free(PREFERRED_MODBUS_PORT) else 0
    simulator = FleetSimulator(definition, broker, modbus_port=modbus_port)
    simulator.start()
    simulator.run()
    register_fleet(services, definition, simulator)
    return DemoFleet(broker, simulator, embedded)


def register_fleet(services: CoreServices, definition: FleetDefinition, simulator: FleetSimulator) -> None:
    """Put every simulated device in the registry; re-point addresses that changed since the last demo."""
    registry = DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
    with services.db.session() as s:
        site_ids = {name: sid for sid, name in s.execute(select(SiteRow.id, SiteRow.name))}
    existing = {d.device_id: d for d in registry.list(SYSTEM)}
    specs = []
    for d in definition.devices:
        address = simulator.mqtt_url(d.id) if d.protocol == "mqtt" else simulator.modbus_url(d.id)
        specs.append(DeviceSpec(
            device_id=d.id, name=f"{d.capacity_kwh:g} kWh {'Modbus' if d.protocol == 'modbus' else 'container'} {d.id[-4:]}", site_id=site_ids[d.site], kind="bess",
            capacity_kwh=d.capacity_kwh, max_charge_kw=d.max_charge_kw, max_discharge_kw=d.max_discharge_kw,
            address=address, location=d.site, latitude=d.lat, longitude=d.lon,
        ))
    for b in definition.battery_systems:
        specs.append(DeviceSpec(
            device_id=b.id, name=f"Battery system {b.packs}x{b.cells_per_pack}", site_id=site_ids[b.site], kind="battery_system",
            capacity_kwh=max(b.max_power_kw * 2, 1.0), max_charge_kw=b.max_power_kw, max_discharge_kw=b.max_power_kw,
            address=simulator.mqtt_url(b.id), location=b.site, latitude=b.lat, longitude=b.lon,
            packs=b.packs, cells_per_pack=b.cells_per_pack,
        ))
    for spec in specs:
        known = existing.get(spec.device_id)
        if known is None:
            registry.register(SYSTEM, spec)
        elif (known.spec.address, known.spec.name) != (spec.address, spec.name):
            registry.update(SYSTEM, spec.device_id, address=spec.address, name=spec.name)
