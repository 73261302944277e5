"""The device registry: which devices exist, where they stand, how to reach them (brief use case 8)."""

from core.devices.registry import UPDATABLE_FIELDS, DeviceInfo, DeviceRegistry
from core.devices.validation import (
    DEVICE_ID_PATTERN,
    KINDS,
    SCHEMES,
    DeviceSpec,
    DeviceValidationError,
    FieldProblem,
    is_valid_device_id,
    validate_spec,
)

__all__ = [
    "DEVICE_ID_PATTERN",
    "KINDS",
    "SCHEMES",
    "UPDATABLE_FIELDS",
    "DeviceInfo",
    "DeviceRegistry",
    "DeviceSpec",
    "DeviceValidationError",
    "FieldProblem",
    "is_valid_device_id",
    "validate_spec",
]
