"""Device groups: named sets of devices that a schedule can target as one (a group schedule is applied to
every member)."""

from core.groups.service import DeviceGroup, DeviceGroupInUse, DeviceGroupService, InvalidDeviceGroup

__all__ = ["DeviceGroup", "DeviceGroupInUse", "DeviceGroupService", "InvalidDeviceGroup"]
