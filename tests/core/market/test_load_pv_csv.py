"""Load/PV import on the real French household excerpt: W -> kW, night PV rule, gaps reported."""

import numpy as np
import pytest

from core.market.assembly import GapPolicy
from core.market.errors import TimeSeriesImportError
from core.market.load_pv_csv import NIGHT_RULE, SiteLocation, import_load_pv_csv, parse_load_pv_csv
from core.market.solar_position import solar_elevation_deg

SITE = SiteLocation(45.83, 6.86)  # emhass's default site, in the French Alps
FILE = "household_fr_load_pv_30min_2024-03-04_07.csv"


def test_real_household_load_gap_rejected_by_default(fixtures):
    with pytest.raises(TimeSeriesImportError) as info:
        import_load_pv_csv(fixtures / FILE, site=SITE)
    assert info.value.line == 4 and "2024-03-04T01:00Z" in str(info.value)


def test_real_household_with_explicit_rules(fixtures):
    history = import_load_pv_csv(fixtures / FILE, site=SITE, gaps=GapPolicy(max_interpolate_steps=2,
                                                                             keep_long_gaps=True))
    assert history.load.unit == "kW" and history.pv.unit == "kW" and len(history.pv) == 192
    assert history.load.values[0] == pytest.approx(4.6162)  # 4616.2 W on line 2
    assert np.nanmax(history.load.values) < 10  # 3.5 kW peaks: W were converted
    night = [n for n in history.pv.notes if NIGHT_RULE in n]
    assert night and all("set to 0 at night" in n for n in night)
    midnight = history.pv.start_utc.astype(np.int64) % 86400 == 0
    assert np.all(history.pv.values[midnight] == 0.0)
    assert any("line 14: gap 2024-03-04T06:00Z" in n for n in history.pv.notes)


def test_without_site_night_pv_is_just_a_gap(fixtures):
    with pytest.raises(TimeSeriesImportError):
        import_load_pv_csv(fixtures / FILE, load_column="load_w_no_deferrable", pv_column="pv_w_measured",
                           gaps=GapPolicy(max_interpolate_steps=2))


def test_daytime_missing_pv_is_never_zero_filled():
    text = ("timestamp_utc,pv_kw\n2024-06-21T11:00:00Z,3\n2024-06-21T11:30:00Z,\n2024-06-21T12:00:00Z,\n"
            "2024-06-21T12:30:00Z,\n2024-06-21T13:00:00Z,4\n")
    with pytest.raises(TimeSeriesImportError) as info:
        parse_load_pv_csv(text, site=SITE)
    assert info.value.line == 3


def test_energy_column_refused_for_power_history():
    with pytest.raises(TimeSeriesImportError) as info:
        parse_load_pv_csv("timestamp_utc,load_kwh\n2024-01-01T00:00:00Z,1\n2024-01-01T00:30:00Z,1\n")
    assert info.value.rule == "power units"


def test_sun_elevation_day_and_night():
    noon = np.array([1718969640])  # 2024-06-21T11:34Z, solar noon at 6.86 E: elevation 90 - 45.83 + 23.44
    midnight = noon + 12 * 3600
    assert solar_elevation_deg(noon, 45.83, 6.86)[0] == pytest.approx(67.6, abs=1.0)
    assert solar_elevation_deg(midnight, 45.83, 6.86)[0] < -15
