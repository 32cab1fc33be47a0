"""Keras's train_on_batch, test_on_batch and predict_on_batch (issue 13,
item 2), over libnn's nn_model_train_on_batch / nn_model_test_on_batch."""

import numpy as np
import pytest

import nn
from nn.layers import BatchNormalization, Dense, Dropout


def model(seed=4, metrics=("accuracy",)):
    m = nn.Sequential([Dense(12, input_dim=5, activation="tanh"), BatchNormalization(), Dropout(0.2),
                       Dense(3, activation="softmax")], seed=seed)
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=list(metrics))
    return m


def data(rows=48, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=rows).astype(np.float32)
    return x, y


def test_batches_in_order_equal_fit_without_shuffling():
    """Keras: train_on_batch over the batches of an epoch is that epoch of
    fit(shuffle=False). Here bit for bit: weights, optimizer state and
    BatchNormalization statistics; the losses add up to fit's epoch loss."""
    x, y = data()
    fitted, stepped = model(), model()
    history = fitted.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for epoch in range(2):
        losses = [stepped.train_on_batch(x[i:i + 8], y[i:i + 8])[0] for i in range(0, 48, 8)]
        assert np.mean(losses) == pytest.approx(history.history["loss"][epoch], rel=1e-12)
    for a, b in zip(fitted.get_weights(), stepped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_return_values_as_keras():
    x, y = data()
    with_metrics, plain = model(), model(metrics=())
    logs = with_metrics.train_on_batch(x, y)
    assert isinstance(logs, list) and len(logs) == 2 and 0 <= logs[1] <= 1
    assert isinstance(plain.train_on_batch(x, y), float)
    d = with_metrics.train_on_batch(x, y, return_dict=True)
    assert list(d) == with_metrics.metrics_names
    t = with_metrics.test_on_batch(x, y, return_dict=True)
    assert t == with_metrics.evaluate(x, y, return_dict=True)
    np.testing.assert_array_equal(with_metrics.predict_on_batch(x), with_metrics.predict(x))


def test_weights_as_fit():
    """sample_weight and class_weight weigh the step as fit's do."""
    x, y = data(16)
    w = np.linspace(0.1, 2.0, 16)
    classes = {0: 0.5, 2: 3.0}
    fitted, stepped = model(), model()
    fitted.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, sample_weight=w,
               class_weight=classes)
    stepped.train_on_batch(x, y, sample_weight=w, class_weight=classes)
    for a, b in zip(fitted.get_weights(), stepped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_test_on_batch_weights_the_loss():
    x, y = data(10)
    m = model()
    w = np.arange(1, 11, dtype=np.float32)
    per_row = [m.test_on_batch(x[i:i + 1], y[i:i + 1])[0] for i in range(10)]
    assert m.test_on_batch(x, y, sample_weight=w)[0] == pytest.approx(np.dot(w, per_row) / 10, rel=1e-5)


@pytest.mark.parametrize("call", ["train_on_batch", "test_on_batch"])
def test_bad_batches_raise_libnns_errors(call):
    x, y = data(8)
    m = model()
    before = m.get_weights()
    with pytest.raises(nn.InvalidArgumentError, match="input columns"):
        getattr(m, call)(x[:, :4], y)
    with pytest.raises(nn.InvalidArgumentError, match="sample_weight 3"):
        getattr(m, call)(x, y, sample_weight=[1, 1, 1, -1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="sample_weight has 2 values but x has 8 samples"):
        getattr(m, call)(x, y, sample_weight=[1, 2])
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(nn.InvalidArgumentError, match="NaN|finite"):
        getattr(m, call)(bad, y)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_from_a_fit_callback_is_refused():
    x, y = data()
    m = model()
    seen = []

    def inside(epoch, logs):
        try:
            m.train_on_batch(x[:4], y[:4])
        except nn.InvalidStateError as exc:
            seen.append(str(exc))
    m.fit(x, y, epochs=1, verbose=0, callbacks=[inside])
    assert len(seen) == 1 and "train_on_batch" in seen[0] and "fit" in seen[0]
