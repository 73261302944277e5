"""Ring buffers and the trend chart: no shifting, paint only when data moved, export PNG and CSV."""

from __future__ import annotations

import csv

import numpy as np

from desktop.widgets.ring_buffer import RingBuffer
from desktop.widgets.trend_chart import TrendChart


def test_ring_buffer_keeps_the_newest_samples_in_order_across_wraps():
    ring = RingBuffer(5)
    for i in range(7):
        ring.append(float(i), i * 10.0)
    t, v = ring.view()
    assert t.tolist() == [2, 3, 4, 5, 6] and v.tolist() == [20, 30, 40, 50, 60]
    assert not t.flags.writeable and np.shares_memory(t, ring._t)  # a view, not a copy
    ring.extend(np.arange(10, 13.0), np.arange(10, 13.0))
    assert ring.view()[0].tolist() == [5, 6, 10, 11, 12]
    ring.extend(np.arange(100.0), np.arange(100.0))  # more than fits: the newest five
    assert ring.view()[0].tolist() == [95, 96, 97, 98, 99] and ring.latest() == (99.0, 99.0)


def test_chart_paints_once_per_frame_only_when_its_buffer_moved(qtbot):
    chart = TrendChart("Power", "kW", capacity=100)
    qtbot.addWidget(chart)
    chart.timer.stop()  # frames are driven by the test
    for i in range(50):  # 50 samples between two frames: still one setData
        chart.append("live", 1_700_000_000.0 + i, float(i))
    assert chart.paint() and chart.frames == 1
    assert not chart.paint() and chart.frames == 1  # nothing new: no redraw
    x, y = chart.curves["live"].getData()
    assert len(x) == 50 and y[-1] == 49.0


def test_export_png_and_csv(qtbot, tmp_path):
    chart = TrendChart("Power", "kW", capacity=10)
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    for i in range(3):
        chart.append("live", 1_700_000_000.0 + i, 5.0 * i)
    assert chart.export_png(tmp_path / "power.png") and (tmp_path / "power.png").stat().st_size > 1000
    assert chart.export_csv(tmp_path / "power.csv") == 3
    rows = list(csv.reader(open(tmp_path / "power.csv", encoding="utf-8")))
    assert rows[0] == ["series", "time_utc", "epoch_s", "value_kW"]
    assert rows[3] == ["live", "2023-11-14T22:13:22+00:00", "1700000002.000", "10.0"]
