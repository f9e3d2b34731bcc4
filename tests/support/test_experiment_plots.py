"""Tests for the protocol's figures in dlbook_utils.plots: bands and bars draw the t intervals.

The expected numbers come from dlbook_utils.intervals.t_interval, whose coverage is tested in
test_intervals.py; these tests check that the figures draw exactly those intervals.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlbook_utils import plots  # noqa: E402
from dlbook_utils.intervals import t_interval  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_curves_band_is_the_t_interval_per_epoch_while_every_run_goes_on():
    rng = np.random.default_rng(0)
    curves = 0.8 + 0.02 * rng.standard_normal((5, 6))
    curves[1:, 4:] = np.nan  # four runs stopped early, after epoch 4
    ax = plots.plot_curves_with_bands({"Adam": curves, "SGD": curves[:, :4] - 0.1})
    line, tail, _ = ax.lines
    band = ax.collections[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 5))
    assert line.get_label() == "Adam (n = 5)" and ax.get_xlabel() == "epoch"
    assert "95 % CI" in ax.get_ylabel()
    vertices = band.get_paths()[0].vertices
    for epoch in range(4):
        iv = t_interval(curves[:, epoch])
        ys = vertices[np.isclose(vertices[:, 0], epoch + 1), 1]
        assert line.get_ydata()[epoch] == pytest.approx(iv.mean)
        assert ys.min() == pytest.approx(iv.low) and ys.max() == pytest.approx(iv.high)
    assert vertices[:, 0].max() == 4  # no band once some runs have stopped
    assert tail.get_linestyle() == ":" and list(tail.get_xdata()) == [4, 5, 6]
    np.testing.assert_allclose(tail.get_ydata()[1:], curves[0, 4:])  # the one run left


def test_bars_show_mean_interval_and_every_seed():
    class Result:  # anything with per-seed .scores, like run_seeds' or final_test's results
        scores = np.array([0.91, 0.93, 0.92, 0.95, 0.94])

    other = np.array([0.90, 0.90, 0.91, 0.89, 0.92])
    ax = plots.plot_bars_with_intervals({"L2": Result(), "none": other})
    bars = [p for p in ax.patches]
    assert [b.get_height() for b in bars] == pytest.approx([0.93, 0.904])
    for container, values in zip(ax.containers[1::2], (Result.scores, other), strict=True):
        iv = t_interval(values)
        (segment,) = container.lines[2][0].get_segments()
        assert segment[:, 1] == pytest.approx([iv.low, iv.high])
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert [len(d.get_ydata()) for d in dots] == [5, 5]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["L2", "none"]
    assert ax.get_ylim()[0] == 0  # bars start at zero unless zoomed


def test_zoomed_bars_keep_every_interval_and_seed_in_view():
    values = {"a": np.array([0.91, 0.93, 0.92, 0.95, 0.94]), "b": np.array([0.9, 0.91, 0.9,
                                                                           0.89, 0.92])}
    ax = plots.plot_bars_with_intervals(values, zoom=True)
    low, high = ax.get_ylim()
    assert 0.8 < low and high < 1.0
    for v in values.values():
        iv = t_interval(v)
        assert low < iv.low and iv.high < high


def test_plots_refuse_single_seed_input():
    with pytest.raises(ValueError, match=r"'one run': expected \(n_seeds, n_epochs\)"):
        plots.plot_curves_with_bands({"one run": np.ones((1, 5))})
    with pytest.raises(ValueError, match=r"'x': expected \(n_seeds,\) values from at least 2"):
        plots.plot_bars_with_intervals({"x": [0.9]})
