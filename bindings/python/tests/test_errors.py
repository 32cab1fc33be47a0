"""Bad input gives a clear exception, with libnn's message where libnn found it."""

import ctypes

import numpy as np
import pytest

import nn
from nn import _lib
from nn.layers import Dense


@pytest.fixture
def model():
    m = nn.Sequential([Dense(10, input_dim=20, activation="relu"),
                       Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 20)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, size=8)]
    return x, y


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------

def test_wrong_input_width(model, data):
    x, y = data
    for call in (lambda: model.predict(x[:, :19]),
                 lambda: model.evaluate(x[:, :19], y),
                 lambda: model.fit(x[:, :19], y, verbose=0)):
        with pytest.raises(ValueError, match="expected 20 input columns, got 19") as info:
            call()
        assert isinstance(info.value, nn.InvalidArgumentError)
        assert info.value.status == _lib.NN_ERROR_SHAPE_MISMATCH
        assert info.value.status_name == "shape mismatch"


def test_wrong_target_width(model, data):
    x, _ = data
    with pytest.raises(nn.InvalidArgumentError, match="expected 2 target columns, got 3"):
        model.fit(x, np.zeros((8, 3)), verbose=0)
    with pytest.raises(nn.InvalidArgumentError, match="expected 2 target columns, got 3"):
        model.evaluate(x, np.zeros((8, 3)))


def test_not_2d(model):
    with pytest.raises(ValueError, match=r"x must be a 2-D array .* shape \(20,\)"):
        model.predict(np.zeros(20))
    with pytest.raises(ValueError, match=r"2-D array .* shape \(2, 3, 20\)"):
        model.predict(np.zeros((2, 3, 20)))
    with pytest.raises(ValueError, match="numeric"):
        model.predict([["a", "b"]])


def test_row_count_mismatch(model, data):
    x, y = data
    with pytest.raises(ValueError, match="different numbers of samples: 8 and 7"):
        model.fit(x, y[:7], verbose=0)
    with pytest.raises(ValueError, match="different numbers of samples: 8 and 7"):
        model.evaluate(x, y[:7])


def test_zero_rows(model):
    with pytest.raises(nn.InvalidArgumentError, match="0 rows"):
        model.predict(np.zeros((0, 20)))
    with pytest.raises(nn.InvalidArgumentError, match="0 rows"):
        model.fit(np.zeros((0, 20)), np.zeros((0, 2)), verbose=0)


def test_validation_data_widths_are_checked(model, data):
    x, y = data
    with pytest.raises(ValueError, match="validation x has 19 columns, but x has 20"):
        model.fit(x, y, validation_data=(x[:, :19], y), verbose=0)
    with pytest.raises(ValueError, match="validation y has 1 columns, but y has 2"):
        model.fit(x, y, validation_data=(x, y[:, :1]), verbose=0)
    with pytest.raises(ValueError, match=r"tuple \(x_val, y_val\)"):
        model.fit(x, y, validation_data=(x, y, None), verbose=0)


def test_validation_split_range(model, data):
    x, y = data
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\)"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="validation_split 0.5 of 1 rows leaves 0 training "
                                         "and 1 validation rows"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be a number"):
        model.fit(x, y, validation_split="0.2", verbose=0)


# --------------------------------------------------------------------------
# Non-finite data
# --------------------------------------------------------------------------

def test_nan_in_x(model, data):
    x, y = data
    x = x.copy()
    x[2, 3] = np.nan
    with pytest.raises(nn.InvalidArgumentError,
                       match=r"non-finite value \(nan\) at row 2, column 3") as info:
        model.fit(x, y, verbose=0)
    assert info.value.status == _lib.NN_ERROR_NON_FINITE
    with pytest.raises(ValueError, match=r"prediction input .*nan.* row 2, column 3"):
        model.predict(x)


def test_inf_in_y_and_validation(model, data):
    x, y = data
    bad_y = y.copy()
    bad_y[1, 1] = np.inf
    with pytest.raises(nn.InvalidArgumentError, match=r"target .*\(inf\) at row 1, column 1"):
        model.fit(x, bad_y, verbose=0)
    bad_x = x.copy()
    bad_x[0, 0] = -np.inf
    with pytest.raises(nn.InvalidArgumentError, match="validation input"):
        model.fit(x, y, validation_data=(bad_x, y), verbose=0)


def test_divergence_is_reported():
    model = nn.Sequential([Dense(3, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(nn.InvalidArgumentError, match="the loss became inf at epoch") as info:
        model.fit(np.full((4, 2), 1e18), np.zeros((4, 3)), epochs=5, verbose=0)
    assert info.value.status == _lib.NN_ERROR_NON_FINITE


# --------------------------------------------------------------------------
# Order of calls
# --------------------------------------------------------------------------

def test_fit_and_evaluate_before_compile(data):
    x, y = data
    model = nn.Sequential([Dense(2, input_dim=20, activation="softmax")])
    with pytest.raises(nn.InvalidStateError, match="compiled before fit"):
        model.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compiled before evaluate"):
        model.evaluate(x, y)
    # predict needs no compile
    assert model.predict(x).shape == (8, 2)


def test_compile_without_loss_then_fit(data):
    x, y = data
    model = nn.Sequential([Dense(2, input_dim=20, activation="softmax")])
    model.compile(optimizer="sgd")
    with pytest.raises(nn.InvalidStateError) as info:
        model.fit(x, y, verbose=0)
    assert info.value.status == _lib.NN_ERROR_INVALID_STATE
    assert "loss" in str(info.value)


def test_loss_that_does_not_fit_the_last_layer(data):
    x, _ = data
    model = nn.Sequential([Dense(1, input_dim=20, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(nn.InvalidStateError,
                       match="categorical_crossentropy needs a last layer of at least 2 units"):
        model.fit(x, np.ones((8, 1)), verbose=0)


def test_no_layers():
    model = nn.Sequential()
    with pytest.raises(nn.InvalidStateError, match="no layers"):
        model.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="not built"):
        model.summary()
    with pytest.raises(ValueError, match="not built"):
        model.get_weights()
    with pytest.raises(ValueError, match="not built"):
        model.count_params()


def test_add_after_fit(model, data):
    x, y = data
    model.fit(x, y, verbose=0)
    with pytest.raises(nn.InvalidStateError,
                       match="layers cannot be added to a model that has been trained"):
        model.add(Dense(3))
    assert len(model.layers) == 2 and model.output_shape == (None, 2)


def test_closed_model(model, data):
    x, y = data
    model.close()
    for call in (lambda: model.predict(x), lambda: model.fit(x, y, verbose=0),
                 lambda: model.evaluate(x, y), model.get_weights, model.summary,
                 model.count_params, lambda: model.add(Dense(2)),
                 lambda: model.compile(optimizer="sgd", loss="mse")):
        with pytest.raises(nn.InvalidStateError, match="closed"):
            call()


# --------------------------------------------------------------------------
# Names and hyper-parameters
# --------------------------------------------------------------------------

def test_unknown_names(model):
    with pytest.raises(ValueError, match="unknown activation 'swish'; valid activations are "
                                         "None, 'linear', 'sigmoid', 'tanh', 'relu', 'softmax', "
                                         "'leaky_relu', 'elu', 'gelu', 'softplus', 'step'"):
        Dense(3, activation="swish")
    with pytest.raises(ValueError, match="unknown initializer 'orthogonal'; valid initializers "
                                         "are 'glorot_uniform', 'glorot_normal', 'he_uniform', "
                                         "'he_normal', 'lecun_uniform', 'lecun_normal', "
                                         "'zeros', 'ones'"):
        Dense(3, kernel_initializer="orthogonal")
    with pytest.raises(ValueError, match="unknown regularizer 'l3'; valid regularizers are "
                                         "None, 'l1', 'l2'"):
        Dense(3, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="unknown loss 'hinge'; valid losses are 'mse', "
                                         "'mean_squared_error', 'mae', 'mean_absolute_error', "
                                         "'huber', 'binary_crossentropy'"):
        model.compile(optimizer="sgd", loss="hinge")
    with pytest.raises(ValueError, match="unknown optimizer 'adma'; valid optimizers are "
                                         "'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', "
                                         "'rprop'"):
        model.compile(optimizer="adma", loss="mse")
    with pytest.raises(ValueError, match="unknown metric 'accuarcy'; valid metrics are "
                                         "'accuracy', 'acc', 'binary_accuracy', "
                                         "'categorical_accuracy', 'sparse_categorical_accuracy', "
                                         "'precision', 'recall', 'f1_score', 'f1_macro', "
                                         "'top_k_accuracy', 'mae', 'mean_absolute_error'"):
        model.compile(optimizer="sgd", loss="mse", metrics=["accuarcy"])
    # a failed compile leaves the previous configuration in place
    assert model.metrics_names == ["loss", "accuracy"]


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="units must be a positive integer, got 0"):
        Dense(0)
    with pytest.raises(ValueError, match="units must be a positive integer"):
        Dense(2.5)
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        Dense(2, input_dim=-1)
    with pytest.raises(ValueError, match="one dimension"):
        Dense(2, input_shape=(3, 4))
    with pytest.raises(ValueError, match="disagree"):
        Dense(2, input_dim=3, input_shape=(4,))
    with pytest.raises(ValueError, match="Input needs a shape"):
        nn.Input()


def test_bad_model_structure():
    layer = Dense(2, input_dim=3)
    nn.Sequential([layer])
    with pytest.raises(ValueError, match="already belongs to a model"):
        nn.Sequential([layer])
    with pytest.raises(ValueError, match="an Input must come first"):
        nn.Sequential([Dense(2, input_dim=3), nn.Input(shape=(3,))])
    with pytest.raises(ValueError, match="does not match the previous layer's 4 outputs"):
        nn.Sequential([Dense(4, input_dim=3), Dense(2, input_dim=5)])
    with pytest.raises(ValueError, match="already in the model"):
        nn.Sequential([Dense(4, input_dim=3, name="a"), Dense(2, name="a")])
    with pytest.raises(ValueError, match="Sequential takes nn.layers layers"):
        nn.Sequential(["dense"])
    with pytest.raises(ValueError, match="seed must be an integer"):
        nn.Sequential(seed=-1)


def test_huge_layer_is_refused_not_allocated():
    with pytest.raises(nn.InvalidArgumentError, match="units, got 1000000000000"):
        nn.Sequential([Dense(10 ** 12, input_dim=3)])


def test_optimizer_hyper_parameters(model):
    """libnn checks every hyper-parameter when the optimizer is constructed
    (on a scratch model) and again when it is compiled into a model."""
    cases = [
        (lambda: nn.optimizers.SGD(learning_rate=-1),
         r"sgd: learning_rate must be a finite number > 0, got -1.0"),
        (lambda: nn.optimizers.SGD(momentum=-1), "sgd: momentum must be a finite number >= 0"),
        (lambda: nn.optimizers.SGD(nesterov=True), "nesterov momentum requires momentum > 0"),
        (lambda: nn.optimizers.Adam(beta_1=1.0), r"adam: beta_1 must be in \[0, 1\), got 1.0"),
        (lambda: nn.optimizers.Adam(beta_2=-0.5), r"adam: beta_2 must be in \[0, 1\)"),
        (lambda: nn.optimizers.Adam(epsilon=0), "adam: epsilon must be a finite number > 0"),
        (lambda: nn.optimizers.Adam(weight_decay=-0.1),
         "weight_decay must be a finite number >= 0"),
        (lambda: nn.optimizers.Adam(learning_rate=float("nan")), "learning_rate must be a finite"),
    ]
    for make, message in cases:
        with pytest.raises(nn.InvalidArgumentError, match=message):
            make()
    # an object changed after construction is checked again by compile
    sgd = nn.optimizers.SGD()
    sgd.learning_rate = -2.0
    with pytest.raises(nn.InvalidArgumentError, match="learning_rate must be a finite number "
                                                      "> 0, got -2.0"):
        model.compile(optimizer=sgd, loss="mse")
    with pytest.raises(ValueError, match="learning_rate must be a number"):
        nn.optimizers.SGD(learning_rate="fast")


def test_bad_fit_arguments(model, data):
    x, y = data
    with pytest.raises(nn.InvalidArgumentError, match="batch_size must be > 0, got 0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a non-negative integer"):
        model.fit(x, y, batch_size=-3, verbose=0)
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="seed must be None or an integer"):
        model.fit(x, y, seed=0, verbose=0)
    with pytest.raises(ValueError, match="a callback must be callable"):
        model.fit(x, y, callbacks=[42], verbose=0)


# --------------------------------------------------------------------------
# Targets the loss cannot take
# --------------------------------------------------------------------------

def test_bad_sparse_labels():
    model = nn.Sequential([Dense(3, input_dim=2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((2, 2))
    for labels, shown in (([0, 3], "3.0"), ([0, -1], "-1.0"), ([0, 1.5], "1.5")):
        with pytest.raises(nn.InvalidArgumentError,
                           match=rf"label {shown} in row 1 is not a class index in \[0, 2\]"):
            model.fit(x, np.array(labels), verbose=0)
    with pytest.raises(ValueError, match="label 7.0 in row 1"):
        model.evaluate(x, np.array([0, 7]))
    with pytest.raises(nn.InvalidArgumentError, match="expects 1 target column of class "
                                                      "indices, got 3"):
        model.fit(x, np.zeros((2, 3)), verbose=0)


def test_bad_binary_targets():
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(nn.InvalidArgumentError,
                       match=r"targets must lie in \[0, 1\]; found 2.0 in row 1, column 0"):
        model.fit(np.zeros((2, 2)), np.array([0, 2]), verbose=0)


# --------------------------------------------------------------------------
# set_weights
# --------------------------------------------------------------------------

def test_set_weights_count_and_shapes(model):
    weights = model.get_weights()
    with pytest.raises(ValueError, match="set_weights expected 4 arrays, got 3"):
        model.set_weights(weights[:3])
    bad = list(weights)
    bad[2] = np.zeros((2, 10))
    with pytest.raises(ValueError, match=r"weight 2: expected shape \(10, 2\), got \(2, 10\)"):
        model.set_weights(bad)
    bad = list(weights)
    bad[1] = np.zeros((1, 10))
    with pytest.raises(ValueError, match=r"weight 1: expected shape \(10,\), got \(1, 10\)"):
        model.set_weights(bad)


def test_set_weights_nan_leaves_model_unchanged(model):
    before = model.get_weights()
    new = [np.ones_like(w) for w in before]
    new[3] = np.array([0.0, np.nan], dtype=np.float32)
    with pytest.raises(nn.InvalidArgumentError, match="weight 3 value 1 is nan") as info:
        model.set_weights(new)
    assert info.value.status == _lib.NN_ERROR_NON_FINITE
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# The status mapping itself, through the raw C layer
# --------------------------------------------------------------------------

def test_status_to_exception_mapping():
    from nn._handle import _check, error_for
    assert type(error_for(_lib.NN_ERROR_NULL_POINTER, "m")) is nn.InvalidArgumentError
    assert type(error_for(_lib.NN_ERROR_SHAPE_MISMATCH, "m")) is nn.InvalidArgumentError
    assert type(error_for(_lib.NN_ERROR_NON_FINITE, "m")) is nn.InvalidArgumentError
    assert type(error_for(_lib.NN_ERROR_INVALID_STATE, "m")) is nn.InvalidStateError
    assert type(error_for(_lib.NN_ERROR_OUT_OF_MEMORY, "m")) is nn.OutOfMemoryError
    assert type(error_for(_lib.NN_ERROR_INVALID_HANDLE, "m")) is nn.Error
    assert type(error_for(_lib.NN_ERROR_INTERNAL, "m")) is nn.Error
    # an empty message falls back to the status description
    assert str(error_for(_lib.NN_ERROR_INTERNAL, "")) == _lib.nn_status_string(8).decode()
    _check(_lib.NN_OK)  # no exception


def test_raw_null_and_freed_handles():
    from nn._handle import _check
    with pytest.raises(nn.InvalidArgumentError, match="model is NULL"):
        _check(_lib.nn_model_input_dim(None, ctypes.byref(ctypes.c_size_t())))
    pointer = _lib.nn_model_p()
    _check(_lib.nn_model_create(3, 0, ctypes.byref(pointer)))
    _lib.nn_model_free(pointer)
    with pytest.raises(nn.Error, match="not a live nn_model handle") as info:
        _check(_lib.nn_model_input_dim(pointer, ctypes.byref(ctypes.c_size_t())))
    assert info.value.status == _lib.NN_ERROR_INVALID_HANDLE
    assert not isinstance(info.value, ValueError)
    _lib.nn_model_free(pointer)  # a second free is ignored by the library
    _lib.nn_model_free(None)


def test_raw_enum_values_out_of_range():
    from nn._handle import _check
    pointer = _lib.nn_model_p()
    _check(_lib.nn_model_create(3, 0, ctypes.byref(pointer)))
    try:
        with pytest.raises(nn.InvalidArgumentError, match="unknown activation 99"):
            _check(_lib.nn_model_add_dense(pointer, 2, 99))
        with pytest.raises(nn.InvalidArgumentError, match="unknown loss 9"):
            _check(_lib.nn_model_set_loss(pointer, 9, 0))
        with pytest.raises(nn.InvalidArgumentError, match="from_logits must be 0 or 1, got 2"):
            _check(_lib.nn_model_set_loss(pointer, 1, 2))
        options = _lib.nn_optimizer_options()
        with pytest.raises(nn.InvalidArgumentError, match="unknown optimizer 99"):
            _check(_lib.nn_optimizer_options_init(ctypes.byref(options), 99))
        out = ctypes.c_char_p()
        with pytest.raises(nn.InvalidArgumentError, match="metric index 1 is out of range"):
            _check(_lib.nn_model_metric_name(pointer, 1, ctypes.byref(out)))
    finally:
        _lib.nn_model_free(pointer)


def test_error_message_is_per_thread():
    """A failure on another thread does not replace this thread's message."""
    import threading
    from nn._handle import _check
    with pytest.raises(nn.InvalidArgumentError):
        _check(_lib.nn_model_create(0, 0, ctypes.byref(_lib.nn_model_p())))
    mine = _lib.nn_last_error()
    assert b"input_dim" in mine

    def fail_elsewhere():
        _lib.nn_model_add_dense(None, 1, 0)

    t = threading.Thread(target=fail_elsewhere)
    t.start()
    t.join()
    assert _lib.nn_last_error() == mine
