"""Default alarm rules for an LFP or NMC grid battery; admins override thresholds per site.

Each number says where it comes from. They are starting points for a utility-scale stationary system,
deliberately inside the cell makers' limits so the operator hears before the BMS trips.
"""

from __future__ import annotations

from enum import Enum

from core.alarms.inputs import Availability
from core.alarms.metrics import Metric
from core.alarms.priorities import Priority
from core.alarms.rules import AlarmRule, Comparison, DeviceOfflineRule, EventKind, EventRule, ThresholdRule

H, L = Comparison.HIGH, Comparison.LOW
CRIT, WARN, INFO = Priority.CRITICAL, Priority.WARNING, Priority.INFO


class Chemistry(str, Enum):
    """Cell chemistry; only the cell-voltage window differs between the defaults."""

    LFP = "lfp"
    NMC = "nmc"


# (low critical, low warning, high warning, high critical) in V per cell.
# LFP: datasheet window 2.5..3.65 V (e.g. CATL/EVE 280 Ah cells); warnings 0.2 V / 0.05 V inside it,
# the upper margin small because LFP's curve is flat until the knee right below 3.65 V.
# NMC: datasheet window 3.0..4.2 V; warnings 0.2 V / 0.05 V inside it.
_VOLTAGE_WINDOWS = {
    Chemistry.LFP: (2.5, 2.7, 3.60, 3.65),
    Chemistry.NMC: (3.0, 3.2, 4.15, 4.20),
}


def default_rules(chemistry: Chemistry = Chemistry.LFP) -> tuple[AlarmRule, ...]:
    """Return the default rule set for `chemistry` (validated: every rule constructs)."""
    v_lo_crit, v_lo_warn, v_hi_warn, v_hi_crit = _VOLTAGE_WINDOWS[Chemistry(chemistry)]
    return (
        # Li-ion cells are rated to 55-60 C in operation; stationary systems are cooled to keep cells
        # near 25-35 C, so 45 C means the thermal system is losing and 55 C is at the rated limit.
        # 2 C deadband exceeds typical NTC sensor noise (+-0.5 C); 10 s on-delay rides out spikes.
        ThresholdRule("cell_temp_high", Metric.CELL_TEMP_C, H, 45.0, WARN, deadband=2.0, on_delay_s=10.0),
        ThresholdRule("cell_temp_critical", Metric.CELL_TEMP_C, H, 55.0, CRIT, deadband=2.0, on_delay_s=5.0),
        # Voltage: 10 mV deadband is ~5x the noise of a BMS cell measurement (+-2 mV class);
        # 5 s on-delay ignores the IR drop of short current steps.
        ThresholdRule("cell_voltage_high", Metric.CELL_VOLTAGE_V, H, v_hi_warn, WARN,
                      deadband=0.01, on_delay_s=5.0),
        ThresholdRule("cell_voltage_high_critical", Metric.CELL_VOLTAGE_V, H, v_hi_crit, CRIT,
                      deadband=0.01, on_delay_s=2.0),
        ThresholdRule("cell_voltage_low", Metric.CELL_VOLTAGE_V, L, v_lo_warn, WARN,
                      deadband=0.01, on_delay_s=5.0),
        ThresholdRule("cell_voltage_low_critical", Metric.CELL_VOLTAGE_V, L, v_lo_crit, CRIT,
                      deadband=0.01, on_delay_s=2.0),
        # Passive balancing keeps a healthy pack within ~20-30 mV; 50 mV max-min means balancing
        # cannot keep up or a cell is weak. 60 s because imbalance shows under load transients.
        ThresholdRule("pack_imbalance_high", Metric.PACK_IMBALANCE_V, H, 0.05, WARN,
                      deadband=0.01, on_delay_s=60.0),
        # Thermal design of liquid-cooled ESS racks targets a cell-to-cell spread <= 5 C; 8 C leaves
        # room for transients while still catching a blocked coolant path or a heating cell.
        ThresholdRule("pack_temp_spread_high", Metric.PACK_TEMP_SPREAD_C, H, 8.0, WARN,
                      deadband=1.0, on_delay_s=60.0),
        # 10 % SoC: below typical dispatch reserve (operators keep 10-20 % for grid services);
        # 2 % deadband so a device idling at the limit does not chatter.
        ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, L, 10.0, WARN, deadband=2.0, on_delay_s=60.0),
        # Enclosure/inverter temperature: power electronics derate around 50 C ambient.
        ThresholdRule("device_temp_high", Metric.DEVICE_TEMP_C, H, 50.0, WARN, deadband=2.0, on_delay_s=30.0),
        # 60 s: longer than a few missed 5-30 s telemetry intervals, so a network blip stays quiet.
        DeviceOfflineRule("device_offline", WARN, level=Availability.OFFLINE, on_delay_s=60.0),
        # A failed schedule entry means a missed grid commitment: critical (it escalates).
        EventRule("schedule_entry_failed", EventKind.SCHEDULE_ENTRY_FAILED, CRIT, hold_s=900.0),
        EventRule("command_failed", EventKind.COMMAND_FAILED, WARN, hold_s=300.0),
        EventRule("ack_latency_high", EventKind.ACK_LATENCY_HIGH, WARN, hold_s=600.0),
        # Drift affects tomorrow's schedule, not the next minute: information for the trader.
        EventRule("forecast_drift", EventKind.FORECAST_DRIFT, INFO, hold_s=3600.0),
    )
