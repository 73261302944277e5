"""Sun elevation from time and place, to tell night from day (e.g. to read missing PV at night as zero)."""

from __future__ import annotations

import numpy as np


def solar_elevation_deg(unix_seconds: np.ndarray, latitude_deg: float, longitude_deg: float) -> np.ndarray:
    """Apparent-free geometric sun elevation in degrees (low-precision almanac formula, ~0.1 deg, 1950-2050).

    Good enough to decide night/day; not for PV yield modelling (no refraction, no equation-of-time refinements).
    """
    days = np.asarray(unix_seconds, dtype=np.float64) / 86400.0 + 2440587.5 - 2451545.0  # days since J2000
    mean_longitude = np.radians((280.460 + 0.9856474 * days) % 360.0)
    mean_anomaly = np.radians((357.528 + 0.9856003 * days) % 360.0)
    ecliptic_longitude = mean_longitude + np.radians(1.915 * np.sin(mean_anomaly) + 0.020 * np.sin(2 * mean_anomaly))
    obliquity = np.radians(23.439 - 0.0000004 * days)
    declination = np.arcsin(np.sin(obliquity) * np.sin(ecliptic_longitude))
    right_ascension = np.arctan2(np.cos(obliquity) * np.sin(ecliptic_longitude), np.cos(ecliptic_longitude))
    sidereal_hours = (18.697374558 + 24.06570982441908 * days) % 24.0
    hour_angle = np.radians(sidereal_hours * 15.0 + longitude_deg) - right_ascension
    latitude = np.radians(latitude_deg)
    sin_elevation = (np.sin(latitude) * np.sin(declination)
                     + np.cos(latitude) * np.cos(declination) * np.cos(hour_angle))
    return np.degrees(np.arcsin(np.clip(sin_elevation, -1.0, 1.0)))
