"""Claims of chapter 3 (03_forward_pass): its listings of the package are the code that runs,
ReLU networks are positively homogeneous only when the biases scale too, and a one-hidden-layer
ReLU network is affine between its units' lines.

Each check is a function that a planted bug makes fail; the tests run it on the right input
and on a wrong one.
"""

import inspect
import json
import re

import numpy as np
import pytest

from dlbook_utils import activations, layers
from tests.book.bookscan import chapter_page

SHOW_RE = re.compile(r"show_source\((?P<name>[\w.]+)\)")
SHOWN = {"layers.Dense": layers.Dense, "layers.ReLU": layers.ReLU,
         "activations.relu": activations.relu}


def stored_listings(cells: list[dict]) -> dict[str, str]:
    """{header line, e.g. '# dlbook_utils.layers.Dense': listing} from show_source outputs."""
    found = {}
    for cell in cells:
        for out in cell.get("outputs", []):
            text = "".join(out.get("data", {}).get("text/plain", ""))
            if text.startswith("# dlbook_utils."):
                found[text.splitlines()[0]] = text
    return found


def stale_listings(cells: list[dict], objects: dict) -> list[str]:
    """Names whose stored listing differs from the installed source (or is missing)."""
    stored = stored_listings(cells)
    problems = []
    for name, obj in objects.items():
        header = f"# {obj.__module__}.{obj.__qualname__}"
        expected = f"{header}\n{inspect.getsource(obj)}".rstrip()  # outputs drop the last \n
        if stored.get(header, "").rstrip() != expected:
            problems.append(name)
    return problems


def chapter3_cells() -> list[dict]:
    page = chapter_page("03")
    assert page is not None, "expected book/03_*.ipynb"
    return json.loads(page.read_text(encoding="utf-8"))["cells"]


def test_chapter3_shows_dense_and_relu_as_they_run():
    cells = chapter3_cells()
    shown = {m["name"] for c in cells if c["cell_type"] == "code"
             for m in SHOW_RE.finditer("".join(c["source"]))}
    assert {"layers.Dense", "layers.ReLU"} <= shown, f"show_source calls found: {shown}"
    assert stale_listings(cells, SHOWN) == []


def test_a_stale_listing_is_caught():
    cells = chapter3_cells()
    planted = json.loads(json.dumps(cells))  # a deep copy to edit
    for cell in planted:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain")
            if text and "".join(text).startswith("# dlbook_utils.layers.Dense"):
                out["data"]["text/plain"] = "".join(text).replace("self.x @", "self.x *")
    assert stale_listings(planted, SHOWN) == ["layers.Dense"]


# ---------------------------------------------------------------- eq-relu-homogeneity
def scaled_net(sizes, s, *, scale_biases: bool, seed=0):
    """A package ReLU MLP with weights times s and (optionally) layer l's bias times s**l."""
    rng = np.random.default_rng(seed)
    net = layers.mlp(sizes, rng=rng)
    for lyr, dense in enumerate(net.layers[::2], start=1):
        dense.params["b"][...] = rng.standard_normal(dense.n_out)  # nonzero biases
        dense.params["W"] *= s
        if scale_biases:
            dense.params["b"] *= s ** lyr
    return net


def homogeneity_error(sizes, s, *, scale_biases: bool) -> float:
    """max |f_s(x) - s^D f_1(x)| / max |s^D f_1(x)| on random inputs (D layers)."""
    X = np.random.default_rng(1).standard_normal((500, sizes[0]))
    f1 = scaled_net(sizes, 1.0, scale_biases=scale_biases).forward(X)
    fs = scaled_net(sizes, s, scale_biases=scale_biases).forward(X)
    expected = s ** (len(sizes) - 1) * f1
    return float(np.abs(fs - expected).max() / np.abs(expected).max())


@pytest.mark.checks("eq-relu-homogeneity", kind="property", tol="rtol 1e-12")
@pytest.mark.parametrize("s", [0.3, 2.0, 7.0])
def test_relu_net_rescales_when_biases_scale_with_depth(s):
    assert homogeneity_error([3, 16, 16, 2], s, scale_biases=True) < 1e-12


@pytest.mark.parametrize("s", [0.3, 2.0, 7.0])
def test_fixed_biases_break_the_rescaling(s):
    # the chapter's fix: scaling only the weights moves the folds, so f_s != s^D f_1
    assert homogeneity_error([3, 16, 16, 2], s, scale_biases=False) > 0.05


# ---------------------------------------------------------------- eq-one-hidden-relu
def midpoint_gaps(forward, W1, b1, P, Q):
    """|f((p+q)/2) - (f(p)+f(q))/2| for pairs in one activation region and across folds."""
    gap = np.abs(forward((P + Q) / 2) - (forward(P) + forward(Q)) / 2)
    same = ((P @ W1 + b1 > 0) == (Q @ W1 + b1 > 0)).all(axis=1)
    return gap[same], gap[~same]


@pytest.mark.checks("eq-one-hidden-relu", kind="property", tol="atol 1e-12")
def test_one_hidden_layer_relu_is_affine_within_each_region():
    net = scaled_net([2, 8, 2], 1.0, scale_biases=False)
    W1, b1 = net.layers[0].params["W"], net.layers[0].params["b"]
    P, Q = np.random.default_rng(2).uniform(-3, 3, (2, 3000, 2))

    def s_of(X):  # the logit difference z_1 - z_0 of eq-one-hidden-relu
        out = net.forward(X)
        return out[:, 1] - out[:, 0]

    within, across = midpoint_gaps(s_of, W1, b1, P, Q)
    assert len(within) > 50 and within.max() < 1e-12
    assert across.max() > 1e-2  # folds exist: the check can tell


def test_a_smooth_activation_is_caught_by_the_midpoint_check():
    # planted: tanh instead of ReLU is curved inside every "region", so the check fails
    rng = np.random.default_rng(3)
    W1, b1, v = rng.standard_normal((2, 8)), rng.standard_normal(8), rng.standard_normal(8)
    P, Q = rng.uniform(-3, 3, (2, 3000, 2))
    within, _ = midpoint_gaps(lambda X: np.tanh(X @ W1 + b1) @ v, W1, b1, P, Q)
    assert within.max() > 1e-6


# ---------------------------------------------------------------- regions of a deeper ReLU net
def full_pattern(net, X):
    """On/off of every hidden ReLU of a package MLP for each row of X: (m, n_hidden) bool."""
    on = []
    for layer in net.layers[:-1]:
        X = layer.forward(X)
        if isinstance(layer, layers.ReLU):
            on.append(X > 0)
    return np.hstack(on)


def segments_leaving_pattern(net, P, Q, n_cols):
    """How many segments P-Q, whose ends agree on the first n_cols pattern bits, leave the
    ends' full pattern somewhere in between (11 points per segment)."""
    pat_P, pat_Q = full_pattern(net, P), full_pattern(net, Q)
    keep = (pat_P[:, :n_cols] == pat_Q[:, :n_cols]).all(axis=1)
    t = np.linspace(0, 1, 11)[:, None, None]
    seg = ((1 - t) * P[keep] + t * Q[keep]).reshape(-1, P.shape[1])
    inside = full_pattern(net, seg).reshape(11, keep.sum(), -1) == pat_P[keep]
    return int((~inside.all(axis=(0, 2))).sum()), int(keep.sum())


def test_one_full_activation_pattern_is_one_convex_region():
    # the chapter's claim: with both layers' patterns fixed, every condition is linear in x
    net = scaled_net([2, 10, 10, 2], 1.0, scale_biases=False, seed=4)
    P, Q = np.random.default_rng(5).uniform(-2, 2, (2, 20000, 2))
    leaving, pairs = segments_leaving_pattern(net, P, Q, n_cols=20)
    assert pairs > 100 and leaving == 0


def test_a_first_layer_pattern_alone_is_caught_as_not_convex():
    # planted: match only the first layer's 10 bits; segments then cross second-layer folds
    net = scaled_net([2, 10, 10, 2], 1.0, scale_biases=False, seed=4)
    P, Q = np.random.default_rng(5).uniform(-2, 2, (2, 20000, 2))
    leaving, _ = segments_leaving_pattern(net, P, Q, n_cols=10)
    assert leaving > 10


# ---------------------------------------------------------------- the sawtooth (depth separation)
def sawtooth_kinks(m, middle_bias=-0.5):
    """Kinks on [0, 1] of the tent map composed m times, built as the chapter builds it."""
    first = (np.array([[1.0, 1.0]]), np.array([0.0, -0.5]))
    middle = (np.array([[2.0, 2.0], [-4.0, -4.0]]), np.array([0.0, middle_bias]))
    params = [first] + [middle] * (m - 1) + [(np.array([[2.0], [-4.0]]), np.zeros(1))]
    x = np.linspace(0, 1, 2 ** 12 + 1)[:, None]
    for lyr, (W, b) in enumerate(params):
        x = x @ W + b
        x = np.maximum(x, 0) if lyr < len(params) - 1 else x
    slope = np.diff(x[:, 0]) * 2 ** 12
    return int((np.abs(np.diff(slope)) > 1e-6).sum())


@pytest.mark.parametrize("m", [1, 2, 3, 5, 8])
def test_m_tent_layers_make_2_to_the_m_pieces(m):
    assert sawtooth_kinks(m) == 2 ** m - 1


def test_a_wrong_tent_bias_is_caught():
    # planted: the middle layers' second unit switches at t = 0 instead of 1/2
    assert sawtooth_kinks(4, middle_bias=0.0) != 2 ** 4 - 1
