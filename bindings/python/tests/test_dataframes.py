"""pandas DataFrames and Series wherever the binding takes arrays (fit,
validation_data, evaluate, predict): the same results, bit for bit, as the
same values in numpy arrays; clear errors for columns libnn cannot take
(nn/_arrays.py's rules)."""

import decimal
import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from nn import _arrays

pd = pytest.importorskip("pandas")

HERE = os.path.dirname(os.path.abspath(__file__))


def _data(rows=64, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, rows),                  # int64
        "income": rng.normal(50.0, 10.0, rows),             # float64
        "member": rng.random(rows) < 0.5,                   # bool
        "score": rng.random(rows).astype(np.float32),       # float32
    })
    target = pd.Series((frame["income"] > 50).astype(np.int64), name="rich")
    return frame, target


def _as_numpy(frame):
    """The values a user would pass as an ndarray (float64, row-major)."""
    return np.column_stack([frame[c].to_numpy(dtype=np.float64) for c in frame.columns])


def _model(seed=3):
    model = nn.Sequential([nn.layers.Dense(8, activation="relu"),
                           nn.layers.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_fit_predict_evaluate_bit_identical_to_ndarrays():
    frame, target = _data()
    val_frame, val_target = _data(rows=16, seed=1)
    x, y = _as_numpy(frame), target.to_numpy()
    vx, vy = _as_numpy(val_frame), val_target.to_numpy()

    with_numpy, with_pandas = _model(), _model()
    h1 = with_numpy.fit(x, y, epochs=5, batch_size=8, verbose=0, validation_data=(vx, vy))
    h2 = with_pandas.fit(frame, target, epochs=5, batch_size=8, verbose=0,
                         validation_data=(val_frame, val_target))

    assert h1.history == h2.history            # loss, accuracy, val_loss, val_accuracy
    assert set(h2.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    _assert_same_weights(with_numpy, with_pandas)
    np.testing.assert_array_equal(with_numpy.predict(vx), with_pandas.predict(val_frame))
    assert with_numpy.evaluate(vx, vy) == with_pandas.evaluate(val_frame, val_target)


def test_validation_split_and_shuffle_bit_identical():
    frame, target = _data()
    a, b = _model(), _model()
    h1 = a.fit(_as_numpy(frame), target.to_numpy(), epochs=3, batch_size=16, verbose=0,
               validation_split=0.25, seed=11)
    h2 = b.fit(frame, target, epochs=3, batch_size=16, verbose=0, validation_split=0.25, seed=11)
    assert h1.history == h2.history
    _assert_same_weights(a, b)


def test_series_as_y_is_one_column():
    frame, target = _data()
    y = _arrays._as_targets(target, "y")
    assert y.shape == (len(target), 1) and y.dtype == np.float32
    np.testing.assert_array_equal(y[:, 0], target.to_numpy().astype(np.float32))


def test_dataframe_as_y_one_hot_bit_identical():
    frame, target = _data()
    onehot = pd.get_dummies(target)            # bool columns 0 and 1
    assert list(onehot.dtypes) == [np.dtype(bool)] * 2
    a = nn.Sequential([nn.layers.Dense(2, activation="softmax")], seed=5)
    b = nn.Sequential([nn.layers.Dense(2, activation="softmax")], seed=5)
    for m in (a, b):
        m.compile(optimizer="sgd", loss="categorical_crossentropy")
    a.fit(_as_numpy(frame), onehot.to_numpy(dtype=np.float32), epochs=2, verbose=0)
    b.fit(frame, onehot, epochs=2, verbose=0)
    _assert_same_weights(a, b)


def test_int_and_bool_columns_become_float32():
    frame, _ = _data(rows=5)
    x = _arrays._as_matrix(frame, "x")
    assert x.dtype == np.float32 and x.flags.c_contiguous and x.shape == (5, 4)
    np.testing.assert_array_equal(x[:, 0], frame["age"].to_numpy().astype(np.float32))
    np.testing.assert_array_equal(x[:, 2], frame["member"].to_numpy().astype(np.float32))
    assert set(np.unique(x[:, 2])) <= {0.0, 1.0}
    np.testing.assert_array_equal(x, _as_numpy(frame).astype(np.float32))


def test_nullable_pandas_dtypes():
    frame = pd.DataFrame({"n": pd.array([1, 2, 3], dtype="Int64"),
                          "f": pd.array([0.5, 1.5, 2.5], dtype="Float32"),
                          "b": pd.array([True, False, True], dtype="boolean"),
                          "u": np.array([7, 8, 9], dtype=np.uint8)})
    np.testing.assert_array_equal(_arrays._as_matrix(frame, "x"),
                                  np.array([[1, .5, 1, 7], [2, 1.5, 0, 8], [3, 2.5, 1, 9]],
                                           dtype=np.float32))


def test_one_copy_and_no_copy():
    single = pd.DataFrame(np.arange(12, dtype=np.float64).reshape(4, 3))
    x = _arrays._as_matrix(single, "x")
    assert x.flags.c_contiguous and not np.shares_memory(x, single.to_numpy())
    np.testing.assert_array_equal(x, np.arange(12, dtype=np.float32).reshape(4, 3))
    column = pd.DataFrame({"a": np.arange(4, dtype=np.float32)})
    assert np.shares_memory(_arrays._as_matrix(column, "x"), column["a"].to_numpy())


@pytest.mark.parametrize("call", ["fit", "predict", "evaluate"])
def test_non_numeric_column_is_named(call):
    frame, target = _data(rows=6)
    frame.insert(2, "city", ["Paris", "Rome", "Oslo", "Lima", "Pune", "Kyiv"])
    model = _model()
    model.build(5)
    with pytest.raises(ValueError, match=r"^x: column 'city' is not numeric \(dtype "
                                         r"(str|object)\); encode it first \(e.g\. "
                                         r"pandas\.get_dummies\)$"):
        if call == "fit":
            model.fit(frame, target, verbose=0)
        elif call == "predict":
            model.predict(frame)
        else:
            model.evaluate(frame, target)


@pytest.mark.parametrize("column, dtype", [
    (pd.Categorical([1, 2, 1, 2]), "category"),
    (pd.to_datetime(["2024-01-01"] * 4), "datetime64"),
    (np.array([1j, 2, 3, 4]), "complex128"),
])
def test_other_non_numeric_dtypes(column, dtype):
    frame = pd.DataFrame({"ok": [1.0, 2.0, 3.0, 4.0], "bad": column})
    with pytest.raises(ValueError, match=rf"^x: column 'bad' is not numeric \(dtype {dtype}"):
        _arrays._as_matrix(frame, "x")


def test_first_non_numeric_column_wins_and_y_is_named():
    frame = pd.DataFrame({"a": [1.0], "b": ["x"], "c": ["y"]})
    with pytest.raises(ValueError, match="column 'b'"):
        _arrays._as_matrix(frame, "validation x")
    with pytest.raises(ValueError, match=r"^y: Series 'label' is not numeric"):
        _arrays._as_targets(pd.Series(["cat", "dog"], name="label"), "y")
    with pytest.raises(ValueError, match=r"^y: the Series is not numeric"):
        _arrays._as_targets(pd.Series(["cat", "dog"]), "y")
    with pytest.raises(ValueError, match=r"^validation y: column 3 is not numeric"):
        _arrays._as_targets(pd.DataFrame({3: ["cat", "dog"]}), "validation y")


def test_object_column_of_numbers_is_taken():
    numbers = pd.Series([1, 2.5, True, np.int64(4), decimal.Decimal("0.25"), np.float32(6)],
                        dtype=object)
    frame = pd.DataFrame({"mixed": numbers, "f": np.arange(6.0)})
    x = _arrays._as_matrix(frame, "x")
    np.testing.assert_array_equal(x[:, 0], np.array([1, 2.5, 1, 4, 0.25, 6], dtype=np.float32))
    # the same model trained on it and on the float column is identical
    a, b = _model(), _model()
    y = np.array([0, 1, 0, 1, 0, 1])
    a.fit(np.column_stack([x[:, 0].astype(np.float64), np.arange(6.0), np.zeros(6), np.zeros(6)]),
          y, epochs=2, verbose=0)
    b.fit(frame.assign(z1=0.0, z2=0), pd.Series(y), epochs=2, verbose=0)
    _assert_same_weights(a, b)


def test_object_column_with_text_is_refused():
    frame = pd.DataFrame({"price": pd.Series([1.0, 2, "3.5", 4], dtype=object)})
    with pytest.raises(ValueError, match=r"^x: column 'price' \(dtype object\) holds a str at row "
                                         r"2: '3\.5'; libnn takes numbers only, convert it first "
                                         r"\(e\.g\. pandas\.to_numeric"):
        _arrays._as_matrix(frame, "x")


def _error(fn):
    with pytest.raises(nn.InvalidArgumentError) as info:
        fn()
    return str(info.value)


def test_nan_gives_libnns_message_as_with_ndarrays():
    frame, target = _data(rows=10)
    frame.loc[3, "income"] = np.nan
    x = _as_numpy(frame)
    model = _model()
    model.build(4)
    from_frame = _error(lambda: model.fit(frame, target, verbose=0))
    from_array = _error(lambda: model.fit(x, target.to_numpy(), verbose=0))
    assert from_frame == from_array
    assert "non-finite value (nan) at row 3, column 1" in from_frame
    assert _error(lambda: model.predict(frame)) == _error(lambda: model.predict(x))
    # a missing value of a nullable column (pd.NA) and None in an object
    # column are NaN too
    nullable = frame.fillna(0.0).astype({"age": "Int64"})
    nullable.loc[5, "age"] = pd.NA
    assert "non-finite value (nan) at row 5, column 0" in _error(lambda: model.predict(nullable))
    objects = frame.fillna(0.0).astype({"score": object})
    objects.loc[7, "score"] = None
    assert "non-finite value (nan) at row 7, column 3" in _error(lambda: model.predict(objects))
    # and in y
    bad_y = target.astype(np.float64)
    bad_y.iloc[2] = np.nan
    assert _error(lambda: model.fit(frame.fillna(0.0), bad_y, verbose=0)) == \
        _error(lambda: model.fit(np.nan_to_num(x), bad_y.to_numpy(), verbose=0))


def test_series_as_x_is_refused_with_a_hint():
    model = _model()
    with pytest.raises(ValueError, match=r"got a pandas Series of 3 values; for one feature pass "
                                         r"series\.to_frame\(\)"):
        model.predict(pd.Series([1.0, 2.0, 3.0]))


def test_index_is_ignored_rows_in_order():
    frame, target = _data(rows=8)
    shuffled = frame.set_axis(np.arange(8)[::-1] * 10)        # another index, same rows
    np.testing.assert_array_equal(_arrays._as_matrix(shuffled, "x"),
                                  _arrays._as_matrix(frame, "x"))


def test_feature_names():
    frame, target = _data(rows=3)
    assert _arrays._feature_names(frame) == ["age", "income", "member", "score"]
    assert _arrays._feature_names(pd.DataFrame(np.zeros((2, 2)))) is None   # labels 0, 1: no names (scikit-learn)
    assert _arrays._feature_names(frame.to_numpy()) is None
    assert _arrays._feature_names(target) is None
    assert _arrays._feature_names([[1.0, 2.0]]) is None


def test_pandas_is_not_imported_by_nn():
    """pandas stays optional: training on ndarrays never imports it."""
    code = ("import sys, numpy as np, nn\n"
            "m = nn.Sequential([nn.layers.Dense(1)]); m.compile('sgd', 'mse')\n"
            "m.fit(np.ones((4, 2), np.float32), np.ones(4), verbose=0)\n"
            "m.predict(np.ones((1, 2)))\n"
            "m.evaluate([[1.0, 2.0]], [1.0])\n"
            "assert nn._arrays._feature_names(np.ones((1, 1))) is None\n"
            "print('pandas' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(HERE)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_feature_names_in_and_column_order():
    # fit on a DataFrame keeps its column names (scikit-learn's
    # feature_names_in_); predict, evaluate, a later fit and the
    # explanations refuse a frame whose columns differ or come in another
    # order (which would feed the wrong features silently), and take
    # ndarrays as before.
    frame, y = _data(rows=20, seed=4)
    names = ["age", "income", "member", "score"]
    model = _model()
    assert not hasattr(model, "feature_names_in_")
    model.fit(frame, y, epochs=1, verbose=0)
    assert model.feature_names_in_ == names
    swapped = frame[["income", "age", "member", "score"]]
    with pytest.raises(ValueError, match=r"predict: .*another order.*\['age', 'income', 'member', 'score'\]"):
        model.predict(swapped)
    renamed = frame.rename(columns={"score": "points"})
    with pytest.raises(ValueError, match=r"evaluate: .*missing \['score'\]; unexpected \['points'\]"):
        model.evaluate(renamed, y)
    with pytest.raises(ValueError, match="fit: .*another order"):
        model.fit(swapped, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="explain: .*another order"):
        model.input_gradients(swapped)
    np.testing.assert_array_equal(model.predict(frame), model.predict(_as_numpy(frame)))


def test_validation_frame_columns_and_non_string_names():
    # validation_data's frame must have x's columns in x's order; frames
    # whose column labels are not all str carry no names (scikit-learn's
    # rule), so they are neither recorded nor checked.
    frame, y = _data(rows=16, seed=5)
    model = _model()
    with pytest.raises(ValueError, match=r"fit: validation_data: .*not those of x.*another order"):
        model.fit(frame, y, epochs=1, verbose=0, validation_data=(frame[frame.columns[::-1]], y))
    numbered = pd.DataFrame(_as_numpy(frame))          # columns 0, 1, 2, 3
    assert _arrays._feature_names(numbered) is None
    model.fit(numbered, y, epochs=1, verbose=0)
    assert not hasattr(model, "feature_names_in_")
    # object columns: numbers only; anything else is named, never a raw error
    for bad in ([np.timedelta64(5, "D"), 1.0], [10 ** 400, 1.0], [decimal.Decimal("sNaN"), 1.0]):
        with pytest.raises(ValueError, match=r"x: column 'c' \(dtype object\) holds a"):
            _arrays._as_matrix(pd.DataFrame({"c": pd.Series(bad, dtype=object)}), "x")
    with pytest.raises(ValueError, match="column 'c' is not numeric \\(dtype category\\)"):
        _arrays._as_matrix(pd.DataFrame({"c": pd.Categorical([True, False])}), "x")
