"""Tests for dlbook_utils.plots (Agg backend): style, and what each plot actually draws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlbook_utils import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_set_style_colour_blind_palette_and_sizes():
    with matplotlib.rc_context():
        plots.set_style()
        colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        assert [c.upper() for c in colours[:3]] == ["#0072B2", "#E69F00", "#009E73"]
        assert matplotlib.rcParams["figure.dpi"] == 100
        assert matplotlib.rcParams["font.size"] >= 10
        assert not matplotlib.rcParams["axes.spines.top"]


def test_plot_history_train_and_val_lines():
    hist = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "acc": [0.5, 0.8, 0.9]}
    ax = plots.plot_history(hist)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])  # epochs from 1
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [1.1, 0.7, 0.6])
    assert ax.lines[1].get_linestyle() == "--"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    ax2 = plots.plot_history(hist, metric="acc")
    assert len(ax2.lines) == 1 and ax2.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="no 'val_acc'"):
        plots.plot_history({"loss": [1.0]}, metric="val_acc")


def test_plot_history_accepts_train_history():
    from dlbook_utils.train import History

    h = History()
    h["loss"] += [0.9, 0.4]
    fig, ax = plt.subplots()
    assert plots.plot_history(h, ax=ax) is ax and len(ax.lines) == 1


def test_decision_boundary_regions_follow_predictions():
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-1.0, 1.0], [1.0, 1.0]])
    y = np.array([0, 1, 0, 1])
    ax = plots.plot_decision_boundary(lambda P: (P[:, 0] > 0).astype(int), X, y, resolution=50)
    assert ax.get_xlabel() == "$x_1$" and len(ax.collections) >= 2  # regions + points
    # logits and score matrices give the same picture
    for fn in (lambda P: P[:, :1], lambda P: np.column_stack([-P[:, 0], P[:, 0]])):
        plots.plot_decision_boundary(fn, X, y)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plots.plot_decision_boundary(lambda P: P, np.zeros((3, 3)), y[:3])


def test_show_images_grid_and_titles():
    imgs = np.random.default_rng(0).random((10, 8, 8))
    fig = plots.show_images(imgs, labels=list(range(10)), ncols=4)
    axes = fig.axes
    assert len(axes) == 12  # 3 rows x 4 columns, two left empty
    assert [a.get_title() for a in axes[:3]] == ["0", "1", "2"]
    assert sum(bool(a.images) for a in axes) == 10
    with pytest.raises(ValueError, match="labels"):
        plots.show_images(imgs, labels=[1, 2])


def test_trajectories_one_line_and_endpoint_per_path():
    def f(a, b):
        return a**2 + 10 * b**2

    paths = {"SGD": np.array([[2.0, 1.0], [1.0, 0.5], [0.5, 0.1]]),
             "Adam": np.array([[2.0, 1.0], [1.5, 0.2]])}
    ax = plots.plot_trajectories(f, paths, levels=10)
    assert len(ax.lines) == 4  # path + end marker for each
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "Adam"]
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plots.plot_trajectories(f, {"bad": np.zeros((3, 3))})


def test_function_and_grad():
    ax = plots.plot_function_and_grad(np.tanh, lambda z: 1 - np.tanh(z) ** 2)
    data_lines = [ln for ln in ax.lines if len(ln.get_xdata()) > 2]
    assert len(data_lines) == 2
    assert np.max(data_lines[1].get_ydata()) == pytest.approx(1.0, abs=1e-3)
