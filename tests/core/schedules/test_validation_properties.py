"""Properties: whatever validate() accepts is sorted, overlap-free, UTC and within the device's limits."""

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.schedules.model import Mode, ScheduleEntry
from core.schedules.validation import validate
from tests.core.schedules.factories import NOW, limits

OFFSETS = st.sampled_from([timezone(timedelta(hours=1)), timezone(timedelta(hours=-5)), None])
# Quarter hours around now and into the first day, so overlaps, touches and the past come up often;
# a few reach past the 7-day horizon.
QUARTERS = st.one_of(st.integers(-8, 48), st.integers(7 * 96 - 8, 7 * 96 + 8))


def rarely(draw, good, bad):
    """Mostly a good value: a schedule with one defect must be as likely as a clean one."""
    return draw(bad) if draw(st.integers(0, 11)) == 0 else draw(good)


@st.composite
def messy_entries(draw):
    out = []
    for _ in range(draw(st.integers(0, 6))):
        start = NOW + timedelta(minutes=15 * draw(QUARTERS))
        end = start + timedelta(minutes=15 * rarely(draw, st.integers(1, 8), st.integers(-2, 0)))
        zone = rarely(draw, st.just(timezone.utc), OFFSETS)
        start = start.astimezone(zone) if zone else start.replace(tzinfo=None)
        mode = rarely(draw, st.sampled_from([1, 2]), st.sampled_from([0, 3, 255]))
        rate = rarely(draw, st.floats(0.5, 300), st.sampled_from([0.0, -1.0, float("nan"), float("inf")]))
        out.append(ScheduleEntry(start, end, mode, rate))
    return out


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=messy_entries(), soc=st.floats(0, 100))
def test_accepted_schedules_are_sound(entries, soc):
    lim = limits(current_soc_pct=soc)
    report = validate(entries, lim, NOW)
    for issue in (*report.errors, *report.warnings):
        assert issue.entry_index is None or 1 <= issue.entry_index <= len(entries)
        assert issue.message.startswith(f"entry {issue.entry_index} (") or issue.entry_index is None
    if not report.ok:
        return
    for e in entries:
        assert e.start.utcoffset() == timedelta(0) and e.end.utcoffset() == timedelta(0)
        assert e.start < e.end and e.end > NOW and e.end <= NOW + timedelta(days=7)
        assert e.mode in (Mode.CHARGE, Mode.DISCHARGE)
        assert 0 < e.rate_kw <= lim.limit_kw(Mode(e.mode))
    for earlier, later in zip(entries, entries[1:]):
        assert earlier.end <= later.start
    assert report.trajectory is not None


@settings(max_examples=200, deadline=None)
@given(entries=messy_entries())
def test_every_error_names_an_entry_that_really_breaks_its_rule(entries):
    report = validate(entries, limits(), NOW)
    broken = {i.entry_index for i in report.errors}
    for index, e in enumerate(entries, start=1):
        if e.mode not in (1, 2) or not (e.rate_kw > 0) or e.rate_kw == float("inf"):
            assert index in broken


def test_a_naive_time_is_refused_even_when_otherwise_perfect():
    # A naive time looks like UTC to a careless check; it must be refused even when otherwise perfect.
    naive = ScheduleEntry(datetime(2026, 11, 23, 14), datetime(2026, 11, 23, 15), 2, 10.0)
    assert not validate([naive], limits(), NOW).ok
