"""One name per quantity: the package's public signatures and optimizer state use the names
that book/notation.md sets in its table "Names in the code", and none of the names that table
rules out. A planted ``beta_1`` must be caught."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from dlbook_utils import fast, layers, optim, regularizers, tfcompare
from dlbook_utils.layers import Layer

NOTATION = Path(__file__).resolve().parents[2] / "book" / "notation.md"


def names_table():
    """{name: (where, quantity)} and the set of ruled-out names, read from the notation page."""
    text = NOTATION.read_text(encoding="utf-8")
    section = text.split("(notation-code)=", 1)[1].split("\n(", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines()
            if line.startswith("|") and not line.startswith("|---")][1:]  # no header
    names, ruled_out = {}, set()
    for quantity, _symbol, where, name, nots in rows:
        for n in re.findall(r"`([^`]+)`", name):
            names[n] = (where.strip(), quantity.strip())
        ruled_out |= set(re.findall(r"`([^`]+)`", nots))
    return names, ruled_out


def public_callables():
    """Every public function, class constructor and method of the core and the fast path."""
    found = {}
    for module in (layers, optim, regularizers, tfcompare, fast.layers, fast.optim):
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", "") != module.__name__:
                continue
            found[f"{module.__name__}.{name}"] = obj
            if inspect.isclass(obj):
                for meth, f in vars(obj).items():
                    if callable(f) and (not meth.startswith("_") or meth in ("__init__", "_update")):
                        found[f"{module.__name__}.{name}.{meth}"] = f
    return found


def violations(callables, state_of, ruled_out):
    """Parameter names and optimizer-state keys that the notation page rules out."""
    bad = []
    for where, f in callables.items():
        for p in inspect.signature(f).parameters:
            if p in ruled_out:
                bad.append(f"{where}({p})")
    for opt_name, keys in state_of.items():
        bad += [f"{opt_name}.state[...][{k!r}]" for k in keys if k in ruled_out]
    return bad


def optimizer_state_keys(opt):
    params = {"w": np.ones(3)}
    opt.step(params, {"w": np.ones(3)})
    return set(opt.state["w"])


STATES = {"SGD": lambda: optim.SGD(0.1, momentum=0.9), "RMSprop": optim.RMSprop,
          "Adam": optim.Adam, "FusedAdam": fast.FusedAdam}


def test_the_table_is_read_and_names_what_the_package_uses():
    names, ruled_out = names_table()
    assert {"delta", "lr", "beta1", "beta2", "eps", "rho", "momentum", "s", "m", "v", "p",
            "lam"} <= set(names)
    assert {"beta_1", "dy", "epsilon", "learning_rate"} <= ruled_out
    assert not set(names) & ruled_out - {"v"}  # v: Adam's and SGD's state, not RMSprop's
    # Where the page says a name is used, it is used:
    assert all(list(inspect.signature(cls.backward).parameters)[1] == "delta"
               for cls in [layers.Layer, layers.Dense, layers.ReLU, layers.Sigmoid, layers.Tanh,
                           layers.Dropout, layers.Sequential, fast.DenseReLU])
    for cls in (optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW):
        assert "lr" in inspect.signature(cls).parameters
    assert {"beta1", "beta2", "eps"} <= set(inspect.signature(optim.Adam).parameters)
    assert {"rho", "eps"} <= set(inspect.signature(optim.RMSprop).parameters)
    assert list(inspect.signature(regularizers.l2).parameters) == ["W", "lam"]
    assert optimizer_state_keys(STATES["RMSprop"]()) == {"s"}
    assert optimizer_state_keys(STATES["SGD"]()) == {"v"}
    assert optimizer_state_keys(STATES["Adam"]()) == {"m", "v"}


def test_no_public_signature_or_state_uses_a_ruled_out_name():
    _, ruled_out = names_table()
    ruled_out -= {"v"}  # checked per optimizer above: RMSprop's state must not be "v"
    states = {name: optimizer_state_keys(make()) for name, make in STATES.items()}
    assert violations(public_callables(), states, ruled_out) == []
    # every Layer subclass of the package names dL/d(output) delta
    for cls in [c for c in public_callables().values()
                if inspect.isclass(c) and issubclass(c, Layer)]:
        assert "delta" in inspect.signature(cls.backward).parameters, cls


@pytest.mark.parametrize("plant", ["beta_1", "dy"])
def test_a_planted_name_is_caught(plant):
    _, ruled_out = names_table()

    class Planted(optim.Adam):
        if plant == "beta_1":
            def __init__(self, lr=0.001, beta_1=0.9, beta2=0.999, eps=1e-7):
                super().__init__(lr, beta_1, beta2, eps)

    class PlantedLayer(layers.ReLU):
        def backward(self, dy):
            return super().backward(dy)

    callables = {**public_callables(), "Planted.__init__": Planted.__init__,
                 "PlantedLayer.backward": PlantedLayer.backward}
    assert any(plant in v for v in violations(callables, {}, ruled_out))
