"""Tests for dlbook_utils.experiment and dlbook_utils.splits: the protocol of a fair experiment.

Most tests use a fake train_fn with made-up curves (instant); the determinism test and the
module's own usage example train real MLPs on the 8x8 digits (a few seconds).
"""

import re
import sys
import types
import warnings

import numpy as np
import pytest

from dlbook_utils import data, experiment, layers, losses, optim, splits, train
from dlbook_utils.experiment import Run, SealedTestSetError, Splits, final_test, run_seeds, select


@pytest.fixture
def toy_splits():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    return Splits.from_arrays(X, y, val_size=0.25, test_size=0.25, seed=0)


def fake_train_fn(config, seed, splits):
    """Validation accuracy curve rising to config["level"] plus seed noise; a fixed predictor."""
    noise = np.random.default_rng(seed).normal(0, 0.01, 4)
    curve = list(config["level"] * np.array([0.5, 0.8, 0.9, 1.0]) + noise)
    return Run({"val_acc": curve, "val_loss": [1 - v for v in curve]},
               lambda X: np.column_stack([-X[:, 0], X[:, 0]]))  # perfect on toy data


# ----------------------------------------------------------------------------- splits
def test_splits_are_fixed_disjoint_and_read_only(toy_splits):
    again = Splits.from_arrays(*_toy_xy(), val_size=0.25, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again.train[0], toy_splits.train[0])
    sizes = [len(toy_splits.train[0]), len(toy_splits.val[0]), len(toy_splits._test[0])]
    assert sizes == [112, 38, 50] and "test sealed" in repr(toy_splits)
    rows = [set(map(bytes, part[0])) for part in (toy_splits.train, toy_splits.val,
                                                  toy_splits._test)]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    with pytest.raises(ValueError, match="read-only"):
        toy_splits.train[0][0, 0] = 1.0  # e.g. standardizing in place with the wrong statistics


def _toy_xy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    return X, (X[:, 0] > 0).astype(np.int64)


def test_splits_are_stratified_by_label_unless_told_otherwise():
    X, y = _toy_xy()
    sp = Splits.from_arrays(X, y, val_size=0.25, test_size=0.25, seed=3)
    shares = [part[1].mean() for part in (sp.train, sp.val, sp._test)]
    assert max(shares) - min(shares) < 0.03  # same share of class 1 in every split
    loose = Splits.from_arrays(X, y, val_size=0.25, test_size=0.25, seed=3, stratify=False)
    shares = [part[1].mean() for part in (loose.train, loose.val, loose._test)]
    assert max(shares) - min(shares) > 0.03  # the check above would catch a lost stratify=
    targets = X[:, :1] * 2.0  # regression: continuous targets cannot be stratified
    sp = Splits.from_arrays(X, targets, val_size=0.25, test_size=0.25, stratify=False)
    assert sp.train[1].shape == (112, 1)


def test_the_test_split_is_sealed(toy_splits):
    with pytest.raises(SealedTestSetError, match=r"sealed.*splits\.val.*final_test"):
        toy_splits.test  # noqa: B018


def test_validation_reused_as_test_is_refused():
    """The mistake the book's review found: the same split called validation and test."""
    X, y = _toy_xy()
    with pytest.raises(ValueError, match="same data for test as for train or validation"):
        Splits((X[:100], y[:100]), (X[100:], y[100:]), (X[100:], y[100:]))
    with pytest.raises(ValueError, match="exactly one of test_size= and test="):
        Splits.from_arrays(X, y, val_size=0.2)
    with pytest.raises(ValueError, match="same, non-zero number of rows"):
        Splits((X, y[:5]), (X, y), (X, y))


# ----------------------------------------------------------------------------- running seeds
def test_run_seeds_scores_on_validation_at_the_runs_epoch(toy_splits):
    res = run_seeds(fake_train_fn, {"level": 0.9}, toy_splits, progress=False)
    assert res.seeds == (0, 1, 2, 3, 4) and res.label == "level=0.9"
    expected = [fake_train_fn({"level": 0.9}, s, None).curves["val_acc"][-1] for s in range(5)]
    np.testing.assert_array_equal(res.scores, expected)
    assert "Student-t" in str(res) and "n = 5" in str(res)
    assert res.best_epoch() == 3 and res.best_epoch("val_loss") == 3


def test_early_stopping_with_restored_weights_is_scored_at_the_best_epoch(toy_splits):
    def stopped_early(config, seed, splits):
        hist = train.History()
        hist["val_loss"] += [0.9, 0.5, 0.6, 0.7 + seed / 100]
        hist["val_acc"] += [0.6, 0.8, 0.79, 0.78][: 3 + seed % 2]
        hist["val_loss"] = hist["val_loss"][: 3 + seed % 2]
        hist.restored_best = True
        return Run(hist, lambda X: X)

    res = run_seeds(stopped_early, {}, toy_splits, progress=False)
    np.testing.assert_array_equal(res.scores, [0.8] * 5)
    curves = res.curves("val_acc")
    assert curves.shape == (5, 4) and np.isnan(curves[0, 3]) and curves[1, 3] == 0.78


def test_the_protocol_refuses_too_few_seeds_and_non_validation_metrics(toy_splits):
    with pytest.raises(ValueError, match="at least 5 distinct seeds"):
        run_seeds(fake_train_fn, {"level": 1}, toy_splits, seeds=range(3))
    with pytest.raises(ValueError, match="at least 5 distinct seeds"):
        run_seeds(fake_train_fn, {"level": 1}, toy_splits, seeds=[1, 1, 2, 3, 4])
    for metric in ("loss", "test_acc"):
        with pytest.raises(ValueError, match="validation metric"):
            run_seeds(fake_train_fn, {"level": 1}, toy_splits, metric=metric)
    with pytest.raises(ValueError, match=r"no 'val_auc' values; keys with values: \['val_acc'"):
        run_seeds(fake_train_fn, {"level": 1}, toy_splits, metric="val_auc", progress=False)
    with pytest.raises(ValueError, match=r"Run.epoch=7 is outside the 4 epochs of its 'val_acc'"):
        run_seeds(lambda c, s, sp: Run(fake_train_fn({"level": 1}, s, sp).curves, None, 7), {},
                  toy_splits, progress=False)
    with pytest.raises(ValueError, match="select expected distinct configurations"):
        select(fake_train_fn, [{"level": 1}, {"level": 1}], toy_splits, progress=False)
    with pytest.raises(ValueError, match="Run expected curves as a dict of per-epoch lists, "
                                         "got list"):
        Run([0.5, 0.6], None)
    with pytest.raises(ValueError, match="must return experiment.Run"):
        run_seeds(lambda c, s, sp: {"val_acc": [1]}, {}, toy_splits, progress=False)


def test_keras_is_seeded_per_run_when_it_is_in_use(toy_splits, monkeypatch):
    calls = []
    fake_keras = types.SimpleNamespace(utils=types.SimpleNamespace(set_random_seed=calls.append))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    run_seeds(fake_train_fn, {"level": 1}, toy_splits, seeds=[7, 3, 9, 1, 5], progress=False)
    assert calls == [7, 3, 9, 1, 5]


def test_a_train_fn_that_imports_keras_itself_is_stopped(toy_splits, monkeypatch):
    """Its first run would be unseeded (Keras was not loaded when run_seeds seeded it), so a
    rerun in the same session would differ: fail loudly instead."""
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    fake_keras = types.SimpleNamespace(utils=types.SimpleNamespace(set_random_seed=print))

    def importing_train_fn(config, seed, splits):
        monkeypatch.setitem(sys.modules, "keras", fake_keras)  # what `import keras` does
        return fake_train_fn(config, seed, splits)

    with pytest.raises(RuntimeError, match="import keras before run_seeds"):
        run_seeds(importing_train_fn, {"level": 1}, toy_splits, progress=False)


def digits_train_fn(config, seed, splits):
    rng = np.random.default_rng(seed)
    model = layers.mlp([64, config["hidden"], 10], rng=rng, dtype=np.float32)
    hist = train.fit(model, losses.softmax_cross_entropy, optim.Adam(lr=1e-2), *splits.train,
                     val=splits.val, epochs=3, batch_size=64, rng=rng, progress=False)
    return Run(hist, lambda X: train.predict(model, X))


def test_results_are_deterministic_given_the_seeds():
    X_tr, X_te, y_tr, y_te = data.load_digits_split(seed=0)
    sp = Splits.from_arrays(X_tr, y_tr, val_size=0.25, test=(X_te, y_te))
    first = run_seeds(digits_train_fn, {"hidden": 8}, sp, progress=False)
    again = run_seeds(digits_train_fn, {"hidden": 8}, sp, progress=False)
    other = run_seeds(digits_train_fn, {"hidden": 8}, sp, seeds=range(5, 10), progress=False)
    np.testing.assert_array_equal(first.scores, again.scores)
    np.testing.assert_array_equal(first.curves("val_loss"), again.curves("val_loss"))
    assert len(set(first.scores)) > 1  # the seed matters...
    assert not np.array_equal(first.scores, other.scores)  # ...and other seeds give other runs


# ----------------------------------------------------------------------------- the test split
def test_final_test_scores_each_seed_once(toy_splits):
    res = run_seeds(fake_train_fn, {"level": 0.9}, toy_splits, progress=False)
    report = final_test(res)
    np.testing.assert_array_equal(report.scores, np.ones(5))  # the fake predictor is perfect
    assert report.seeds == res.seeds and toy_splits.tested == {"level=0.9": report}
    assert str(report).endswith("configuration 1 scored on this test split, each once")
    assert "test accuracy 1 [1, 1]" in str(report)
    with pytest.raises(SealedTestSetError, match="already evaluated on test"):
        final_test(res)
    rerun = run_seeds(fake_train_fn, {"level": 0.9}, toy_splits, progress=False)
    with pytest.raises(SealedTestSetError, match="already evaluated on test"):
        final_test(rerun)  # training again does not buy a second look


def test_final_test_inside_selection_or_training_is_refused(toy_splits):
    earlier = run_seeds(fake_train_fn, {"level": 0.5}, toy_splits, progress=False)

    def peeking_train_fn(config, seed, splits):  # a careless learner checks test as it goes
        final_test(earlier)
        return fake_train_fn(config, seed, splits)

    with pytest.raises(SealedTestSetError, match="while selecting a configuration"):
        select(peeking_train_fn, [{"level": 0.9}], toy_splits, progress=False)
    with pytest.raises(SealedTestSetError, match="while training 'level=0.9'"):
        run_seeds(peeking_train_fn, {"level": 0.9}, toy_splits, progress=False)
    assert toy_splits._busy is None and not toy_splits.tested  # nothing leaked, state restored

    def reading_test(config, seed, splits):
        return Run({"val_acc": [splits.test[1].mean()]}, None)

    with pytest.raises(SealedTestSetError, match="sealed"):
        run_seeds(reading_test, {}, toy_splits, progress=False)


def test_select_keeps_the_best_validation_mean_and_seals_the_losers(toy_splits):
    configs = [{"level": 0.7}, {"level": 0.95}, {"level": 0.8}]
    with pytest.warns(experiment.GridEdgeWarning):  # 0.95 is the grid's largest value
        best, results = select(fake_train_fn, configs, toy_splits, progress=False)
    assert best.config == {"level": 0.95} and [r.config for r in results] == configs
    with pytest.raises(SealedTestSetError, match="lost the validation selection to 'level=0.95'"):
        final_test(results[0])
    assert all(run.predictor is None for r in (results[0], results[2]) for run in r.runs)
    assert final_test(best).label == "level=0.95"
    with pytest.warns(experiment.GridEdgeWarning):
        best_loss, _ = select(fake_train_fn, configs, Splits.from_arrays(
            *_toy_xy(), val_size=0.25, test_size=0.25), metric="val_loss", progress=False)
    assert best_loss.config == {"level": 0.95}  # lower loss is better


def level_train_fn(config, seed, splits):
    """Validation accuracy peaks at level 0.5: a grid that stops short of it has its best at
    an edge."""
    return fake_train_fn({"level": 1 - abs(config["level"] - 0.5)}, seed, splits)


@pytest.mark.parametrize("levels, side", [((0.1, 0.2, 0.3), "largest"),
                                          ((0.7, 0.8, 0.9), "smallest")])
def test_a_best_value_at_the_grid_edge_is_flagged(toy_splits, levels, side):
    configs = [{"level": v, "width": 8} for v in levels]
    with pytest.warns(experiment.GridEdgeWarning, match=f"is the {side} value of the grid"):
        select(level_train_fn, configs, toy_splits, progress=False)


@pytest.mark.parametrize("configs", [
    [{"level": v} for v in (0.3, 0.5, 0.7)],                   # best inside the grid
    [{"level": v} for v in (0.2, 0.3)],                        # two values: always an edge
    [{"level": 0.3, "w": 1}, {"level": 0.4, "w": 2}, {"level": 0.45, "w": 3}],  # two knobs
    [{"level": 0.3, "act": a} for a in ("relu", "tanh", "gelu")],  # not a number
])
def test_no_grid_edge_warning_when_there_is_no_edge(toy_splits, configs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", experiment.GridEdgeWarning)
        select(level_train_fn, configs, toy_splits, progress=False)


def test_extending_a_grid_reuses_earlier_results_and_retrains_a_reused_winner(toy_splits):
    calls = []

    def counting_train_fn(config, seed, splits):
        calls.append(config["level"])
        return level_train_fn(config, seed, splits)

    with pytest.warns(experiment.GridEdgeWarning):
        first, tried = select(counting_train_fn, [{"level": v} for v in (0.1, 0.2, 0.3)],
                              toy_splits, progress=False)
    assert first.config == {"level": 0.3} and len(calls) == 15
    calls.clear()
    best, again = select(counting_train_fn, [{"level": v} for v in (0.2, 0.3, 0.5, 0.9)],
                         toy_splits, reuse=tried, progress=False)
    assert best.config == {"level": 0.5} and calls == [0.5] * 5 + [0.9] * 5  # 0.2, 0.3 reused
    assert again[1] is first and all(run.predictor is None for run in first.runs)
    with pytest.raises(SealedTestSetError, match="lost the validation selection"):
        final_test(first)
    calls.clear()
    # 0.2 lost twice and has no models left; if it now wins it is trained again, not tested
    with pytest.warns(experiment.GridEdgeWarning):
        best, _ = select(counting_train_fn, [{"level": v} for v in (0.2, 0.1, 0.05)],
                         toy_splits, reuse=tried, progress=False)
    assert best.config == {"level": 0.2} and calls == [0.05] * 5 + [0.2] * 5
    assert final_test(best).label == "level=0.2"


def test_selecting_among_configurations_already_tested_is_caught(toy_splits):
    """Planted leak: test every candidate, then 'select' among them; that is choosing on test."""
    configs = [{"level": 0.7}, {"level": 0.9}]
    reports = [final_test(run_seeds(fake_train_fn, c, toy_splits, progress=False))
               for c in configs]
    assert [r.order for r in reports] == [1, 2]  # each printed report counts the looks
    with pytest.raises(SealedTestSetError, match="already evaluated on test"):
        select(fake_train_fn, configs, toy_splits, progress=False)


def test_output_accuracy_reads_scores_and_logits():
    y = np.array([0, 1, 1])
    assert splits.output_accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]]), y) == 2 / 3
    assert splits.output_accuracy(np.array([[-1.0], [2.0], [0.5]]), y) == 1.0
    with pytest.raises(ValueError, match=r"labels of shape \(3,\)"):
        splits.output_accuracy(np.zeros((3, 2)), np.zeros(4))


def test_the_module_docstring_example_runs_and_finds_the_wide_network_better():
    """The usage example in experiment's docstring, executed as written (8x8 digits, 10 MLPs)."""
    doc = experiment.__doc__
    code = re.search(r"::\n\n((?:    .*\n|\n)+)", doc).group(1)
    code = "\n".join(line[4:] for line in code.splitlines())
    namespace = {}
    exec(compile(code, "experiment-docstring", "exec"), namespace)
    wide, narrow = namespace["wide"], namespace["narrow"]
    from dlbook_utils.intervals import compare

    c = compare(wide, narrow)
    assert c.verdict == "better" and wide.scores.mean() > 0.9 > narrow.scores.mean()
    report = namespace["splits"].tested["hidden=32"]
    assert report.scores.mean() > 0.9


def test_compare_reads_the_metric_and_its_direction_from_the_results(toy_splits):
    from dlbook_utils.intervals import compare

    high = run_seeds(fake_train_fn, {"level": 0.9}, toy_splits, metric="val_loss",
                     progress=False)
    low = run_seeds(fake_train_fn, {"level": 0.5}, toy_splits, metric="val_loss",
                    progress=False)
    c = compare(high, low, names=("0.9", "0.5"))  # lower val_loss wins: "0.9"
    assert c.verdict == "better" and c.sentence.startswith("0.9 is better than 0.5 on val_loss")
    report_a, report_b = final_test(high), final_test(low)
    assert report_a.metric == "test accuracy"
    c = compare(report_a, report_b)  # the fake predictor is perfect for both: no difference
    assert c.verdict == "no measurable difference"
    assert c.sentence.startswith("No measurable difference between level=0.9 and level=0.5 "
                                 "on test accuracy")


def test_importing_the_protocol_does_not_import_tensorflow():
    import subprocess
    from pathlib import Path

    code = ("import sys, dlbook_utils.experiment, dlbook_utils.intervals, dlbook_utils.plots; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr


@pytest.mark.tf
def test_a_keras_train_fn_runs_under_the_protocol_and_is_deterministic():
    """Keras is seeded by run_seeds itself (keras.utils.set_random_seed), so the same seeds give
    the same weights and scores; the predictor is scored on test like a NumPy model."""
    import keras

    X_tr, X_te, y_tr, y_te = data.load_digits_split(seed=0)
    sp = Splits.from_arrays(X_tr, y_tr, val_size=0.25, test=(X_te, y_te))

    def keras_train_fn(config, seed, splits):
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(config["hidden"],
                                  activation="relu"), keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        hist = model.fit(*splits.train, validation_data=splits.val, epochs=2, batch_size=64,
                         verbose=0)
        return Run(hist, lambda X: model.predict(X, verbose=0))  # Run reads hist.history

    first = run_seeds(keras_train_fn, {"hidden": 16}, sp, metric="val_accuracy",
                      progress=False)
    keras.utils.set_random_seed(3)  # what run_seeds does before seed 3: same run again
    again = keras_train_fn({"hidden": 16}, 3, sp)
    assert again.curves["val_accuracy"][-1] == first.scores[3]
    assert len(set(first.scores)) > 1 and first.scores.mean() > 0.6  # chance: 0.1
    assert final_test(first).scores.mean() > 0.6


def test_a_configuration_that_wins_a_later_selection_can_be_reported(toy_splits):
    """A loser of one selection that wins a later one (each technique tuned on its own
    candidates): the latest selection decides what may be reported."""
    select(fake_train_fn, [{"level": 0.7}, {"level": 0.95}], toy_splits, progress=False)
    best, (_, loser) = select(fake_train_fn, [{"level": 0.7}, {"level": 0.6}], toy_splits,
                              progress=False)
    assert best.label == "level=0.7" and final_test(best).label == "level=0.7"
    with pytest.raises(SealedTestSetError, match="lost the validation selection to 'level=0.7'"):
        final_test(loser)
