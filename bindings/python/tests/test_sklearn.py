"""nn.sklearn: MLPClassifier and MLPRegressor as scikit-learn estimators.

References: scikit-learn's estimator checks (every check reported by its
own test id), scikit-learn's own MLPClassifier / MLPRegressor (the same
SGD steps from the same weights, the same stopping rule, the same
errors), and GridSearchCV / cross_val_score / permutation_importance /
pickle as scikit-learn users call them.
"""

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import neural_network as sk                        # noqa: E402
from sklearn.base import clone                                   # noqa: E402
from sklearn.datasets import load_digits, load_iris, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError   # noqa: E402
from sklearn.inspection import permutation_importance            # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline             # noqa: E402
from sklearn.preprocessing import StandardScaler                 # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import nn                                                        # noqa: E402
from nn.sklearn import MLPClassifier, MLPRegressor               # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# --------------------------------------------------------------------------
# scikit-learn's estimator checks, each its own test
# --------------------------------------------------------------------------

@parametrize_with_checks([
    MLPClassifier(max_iter=100),          # scikit-learn's settings for its own MLP checks
    MLPRegressor(max_iter=100),
    MLPClassifier(),                      # every default
    MLPRegressor(),
    MLPClassifier(solver="sgd", hidden_layer_sizes=(20, 10), activation="tanh",
                  learning_rate_init=0.05, max_iter=100),
    MLPRegressor(solver="adamax", hidden_layer_sizes=(30, 30), activation="gelu", max_iter=100),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def fitted(iris):
    x, y = iris
    return MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=150,
                         random_state=0).fit(x, y)


# --------------------------------------------------------------------------
# Model selection, pipelines, cloning, inspection
# --------------------------------------------------------------------------

def test_grid_search_on_digits():
    x, y = load_digits(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=60, random_state=0))])
    grid = GridSearchCV(pipe, {"mlp__learning_rate_init": [1e-3, 1e-2],
                               "mlp__hidden_layer_sizes": [(32,), (64,)]}, cv=3)
    grid.fit(x, y)
    # scikit-learn's own MLPClassifier: about 0.94 on this grid
    assert grid.best_score_ >= 0.93, grid.cv_results_["mean_test_score"]
    assert len(grid.cv_results_["mean_test_score"]) == 4
    best = grid.best_estimator_[-1]
    assert isinstance(best.model_, nn.Sequential)
    assert best.model_.layers[0].units == best.hidden_layer_sizes[0]
    assert grid.score(x, y) > 0.95


def test_cross_val_score_clone_and_pipeline(iris):
    x, y = iris
    estimator = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=1)
    scores = cross_val_score(estimator, x, y, cv=3)
    # scikit-learn's MLPClassifier with these settings: 0.84, 0.90, 0.94
    assert scores.shape == (3,) and scores.min() > 0.85
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params() and not hasattr(copy, "model_")
    pipe = make_pipeline(StandardScaler(), MLPRegressor(max_iter=50, random_state=0))
    xr, yr = make_regression(n_samples=80, n_features=4, noise=0.1, random_state=0)
    assert cross_val_score(pipe, xr, yr, cv=2).shape == (2,)


def test_cross_val_score_in_worker_processes(iris):
    """n_jobs=2: the estimators travel to joblib's worker processes and
    back by pickle (the fitted model as its model file)."""
    x, y = iris
    estimator = MLPClassifier(hidden_layer_sizes=(8,), max_iter=60, random_state=0)
    parallel = cross_val_score(estimator, x, y, cv=2, n_jobs=2)
    serial = cross_val_score(estimator, x, y, cv=2)
    np.testing.assert_array_equal(parallel, serial)
    # fitted estimators back from the workers (pickled there, unpickled here)
    back = cross_validate(estimator, x, y, cv=2, n_jobs=2, return_estimator=True)["estimator"]
    here = cross_validate(estimator, x, y, cv=2, return_estimator=True)["estimator"]
    for a, b in zip(back, here):
        np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))


def test_permutation_importance(iris):
    x, y = iris
    estimator = MLPClassifier(hidden_layer_sizes=(16,), max_iter=150, random_state=0).fit(x, y)
    result = permutation_importance(estimator, x, y, n_repeats=3, random_state=0)
    assert result.importances_mean.shape == (4,)
    # petal length and width (columns 2, 3) carry iris; sepal width hardly
    assert result.importances_mean[2:].max() > result.importances_mean[1] + 0.05


def test_fitted_attributes(fitted, iris):
    x, y = iris
    assert list(fitted.classes_) == [0, 1, 2]
    assert fitted.n_features_in_ == 4 and fitted.n_outputs_ == 3 and fitted.n_layers_ == 3
    assert fitted.out_activation_ == "softmax"
    assert len(fitted.loss_curve_) == fitted.n_iter_ and fitted.loss_ == fitted.loss_curve_[-1]
    assert fitted.t_ == fitted.n_iter_ * len(x)
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.validation_scores_ is None and fitted.best_validation_score_ is None
    assert [c.shape for c in fitted.coefs_] == [(4, 16), (16, 3)]
    assert [b.shape for b in fitted.intercepts_] == [(16,), (3,)]
    assert fitted.score(x, y) > 0.9
    proba = fitted.predict_proba(x)
    assert proba.dtype == np.float64 and proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(fitted.predict(x), proba.argmax(axis=1))
    np.testing.assert_allclose(fitted.predict_log_proba(x), np.log(proba))


def test_model_is_a_libnn_model_for_diagnostics(fitted, iris):
    x, y = iris
    lines = []
    fitted.model_.summary(print_fn=lines.append)
    assert "dense_1" in lines[0] and "softmax" in lines[0]
    assert fitted.model_.count_params() == 4 * 16 + 16 + 16 * 3 + 3
    np.testing.assert_array_equal(fitted.model_.predict(x.astype(np.float32)),
                                  fitted.predict_proba(x).astype(np.float32))
    # the targets model_ trains on: class indices (sparse categorical)
    check = fitted.model_.gradient_check(x[:6], y[:6].reshape(-1, 1))
    assert check.max_relative_error < 1e-6


def test_binary_multilabel_and_string_labels(iris):
    x, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    binary = (names == "virginica")
    est = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=100,
                        random_state=0)
    est.fit(x, np.where(binary, "yes", "no"))
    assert list(est.classes_) == ["no", "yes"] and est.out_activation_ == "logistic"
    assert est.n_outputs_ == 1 and est.predict_proba(x).shape == (150, 2)
    assert set(est.predict(x)) == {"no", "yes"}
    assert est.score(x, np.where(binary, "yes", "no")) > 0.9
    labels = np.column_stack([binary, y == 0, x[:, 0] > 0]).astype(np.int64)
    multi = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=200,
                          random_state=0).fit(x, labels)
    assert list(multi.classes_) == [0, 1, 2] and multi.out_activation_ == "logistic"
    predicted = multi.predict(x)
    assert predicted.shape == (150, 3) and predicted.dtype == labels.dtype
    assert (predicted == labels).mean() > 0.9


def test_dataframe_feature_names(iris):
    pd = pytest.importorskip("pandas")
    x, y = iris
    frame = pd.DataFrame(x, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(frame, y)
    assert list(est.feature_names_in_) == list(frame.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names, but "
                                         "MLPClassifier was fitted with feature names"):
        from_array = est.predict_proba(frame.to_numpy())
    np.testing.assert_array_equal(est.predict_proba(frame), from_array)
    with pytest.raises(ValueError, match="The feature names should match"):
        est.predict(frame.rename(columns={"petal_w": "other"}))


# --------------------------------------------------------------------------
# Pickling and reproducibility
# --------------------------------------------------------------------------

def test_pickle_round_trip_and_training_continues(iris):
    x, y = iris
    est = MLPClassifier(hidden_layer_sizes=(12,), max_iter=20, random_state=3).fit(x, y)
    data = pickle.dumps(est)
    # the model travels as its libnn model file's bytes, never as a handle
    state = est.__getstate__()
    assert isinstance(state["model_"], bytes) and state["model_"] == est.model_.to_bytes()
    copy = pickle.loads(data)
    assert copy.model_ is not est.model_ and isinstance(copy.model_, nn.Sequential)
    np.testing.assert_array_equal(copy.predict_proba(x), est.predict_proba(x))
    assert copy.loss_curve_ == est.loss_curve_ and copy.get_params() == est.get_params()
    # the optimizer's state travelled too: both continue identically
    for _ in range(3):
        est.partial_fit(x, y)
        copy.partial_fit(x, y)
    np.testing.assert_array_equal(copy.predict_proba(x), est.predict_proba(x))
    assert copy.loss_curve_ == est.loss_curve_ and len(copy.loss_curve_) == 23
    # copy.deepcopy goes the same way: a model of its own
    import copy
    twin = copy.deepcopy(est)
    assert twin.model_ is not est.model_
    np.testing.assert_array_equal(twin.predict_proba(x), est.predict_proba(x))
    # an unfitted estimator pickles without a model
    assert not hasattr(pickle.loads(pickle.dumps(MLPRegressor())), "model_")


def test_random_state_makes_fits_bit_identical(iris):
    x, y = iris
    def fit(seed, **kw):
        return MLPClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=seed,
                             **kw).fit(x, y)
    a, b, c = fit(7), fit(7), fit(8)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.predict_proba(x), c.predict_proba(x))
    # with early stopping (the validation split is drawn from random_state)
    d, e = fit(5, early_stopping=True), fit(5, early_stopping=True)
    assert d.validation_scores_ == e.validation_scores_
    np.testing.assert_array_equal(d.predict_proba(x), e.predict_proba(x))
    # random_state=None: a different seed each fit, as in scikit-learn
    f, g = fit(None), fit(None)
    assert not np.array_equal(f.predict_proba(x), g.predict_proba(x))


# --------------------------------------------------------------------------
# The numbers: the same SGD steps as scikit-learn's MLP from the same weights
# --------------------------------------------------------------------------

def _same_steps(ours, theirs, x, y, epochs):
    """Fit both for one epoch (to create them), give scikit-learn our initial
    weights, then `epochs` more full-batch epochs with a new optimizer
    (warm_start) each; return both loss curves of those epochs and both
    final weight lists."""
    settings = dict(solver="sgd", batch_size=len(x), shuffle=False, warm_start=True,
                    max_iter=1, tol=0.0, n_iter_no_change=1000)
    ours.set_params(**settings)
    theirs.set_params(**settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(x, y)
        theirs.fit(x, y)
        start = ours.model_.get_weights()
        theirs.coefs_ = [w.astype(np.float64) for w in start[0::2]]
        theirs.intercepts_ = [b.astype(np.float64) for b in start[1::2]]
        ours.set_params(max_iter=epochs)
        theirs.set_params(max_iter=epochs)
        ours.fit(x, y)
        theirs.fit(x, y)
    return (np.array(ours.loss_curve_[-epochs:]), np.array(theirs.loss_curve_[-epochs:]),
            ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_)


def _assert_same(ours, theirs, rtol=2e-4, atol=2e-6):
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, True), (0.5, False)])
def test_sgd_steps_match_sklearn_regressor(momentum, nesterov):
    """alpha -> L2(alpha / batch_size) and the rate halved (libnn's MSE is
    twice scikit-learn's half squared error): the same steps, the same
    loss curve, momentum and Nesterov included."""
    x, y = make_regression(n_samples=60, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    kw = dict(hidden_layer_sizes=(7,), activation="tanh", alpha=0.3, learning_rate_init=0.05,
              momentum=momentum, nesterovs_momentum=nesterov)
    ours_loss, theirs_loss, ours_w, theirs_w = _same_steps(MLPRegressor(**kw),
                                                           sk.MLPRegressor(**kw), x, y, 6)
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-5)
    assert ours_loss[-1] < ours_loss[0]
    _assert_same(ours_w, theirs_w)


def test_sgd_steps_match_sklearn_two_outputs():
    """K outputs: L2(alpha / (batch_size K)) and the rate times K/2."""
    x, y = make_regression(n_samples=50, n_features=4, n_targets=2, noise=1.0, random_state=1)
    y = y / y.std(axis=0)
    kw = dict(hidden_layer_sizes=(6,), activation="relu", alpha=0.5, learning_rate_init=0.05,
              momentum=0.0)
    _, _, ours_w, theirs_w = _same_steps(MLPRegressor(**kw), sk.MLPRegressor(**kw), x, y, 5)
    _assert_same(ours_w, theirs_w)


@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_sgd_steps_match_sklearn_classifier(iris, target):
    x, y = iris
    if target == "binary":
        y = y == 2
    elif target == "multilabel":
        y = np.column_stack([y == 2, x[:, 0] > 0, x[:, 1] > 0]).astype(int)
    kw = dict(hidden_layer_sizes=(5,), activation="logistic", alpha=0.2,
              learning_rate_init=0.1, momentum=0.9)
    ours_loss, theirs_loss, ours_w, theirs_w = _same_steps(MLPClassifier(**kw),
                                                           sk.MLPClassifier(**kw), x, y, 6)
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-5)
    _assert_same(ours_w, theirs_w)


def test_libnn_settings_from_the_parameters():
    x = np.random.default_rng(0).normal(size=(300, 3))
    labels = (x > 0).astype(int)                              # multilabel, 3 labels
    est = MLPClassifier(hidden_layer_sizes=(4, 5), alpha=0.06, max_iter=1, epsilon=3e-8,
                        random_state=0).fit(x, labels)
    # batch 200 (auto), c = 3 labels: l2 = 0.06 / (2 * 200 * 3)
    for layer in est.model_.layers:
        assert layer.kernel_regularizer.l2 == pytest.approx(0.06 / 1200)
    assert [layer.activation for layer in est.model_.layers] == ["relu", "relu", "sigmoid"]
    assert est.model_.optimizer.epsilon == pytest.approx(1e-8)      # epsilon / c
    assert est.model_.loss.name == "binary_crossentropy"
    reg = MLPRegressor(alpha=0.0, solver="sgd", learning_rate_init=0.1, max_iter=1,
                       batch_size=10, activation="logistic").fit(x, x[:, 0])
    assert all(layer.kernel_regularizer is None for layer in reg.model_.layers)
    assert reg.model_.layers[0].activation == "sigmoid"
    assert reg.model_.learning_rate == pytest.approx(0.05)          # 0.1 * c, c = 1/2
    assert reg.model_.optimizer.nesterov and reg.model_.optimizer.momentum == 0.9


@pytest.mark.parametrize("activation", sorted(nn.sklearn.ACTIVATIONS))
def test_every_activation(iris, activation):
    x, y = iris
    est = MLPClassifier(hidden_layer_sizes=(6,), activation=activation, max_iter=3,
                        random_state=0).fit(x, y)
    assert est.model_.layers[0].activation == nn.sklearn.ACTIVATIONS[activation]


@pytest.mark.parametrize("solver", sorted(nn.sklearn.SOLVERS))
def test_every_solver(iris, solver):
    x, y = iris
    est = MLPRegressor(hidden_layer_sizes=(6,), solver=solver, learning_rate_init=0.01,
                       max_iter=40, random_state=0).fit(x[:, :3], x[:, 3])
    assert type(est.model_.optimizer) is nn.sklearn.SOLVERS[solver]
    assert est.loss_curve_[-1] < est.loss_curve_[0]


# --------------------------------------------------------------------------
# scikit-learn's training loop: stopping, learning-rate rules, partial_fit
# --------------------------------------------------------------------------

@pytest.mark.parametrize("early_stopping", [False, True])
def test_stopping_rule_matches_sklearn(iris, early_stopping):
    """An impossible tol: the first epoch improves on infinity, then
    n_iter_no_change + 1 epochs do not: 5 epochs, as scikit-learn."""
    x, y = iris
    kw = dict(tol=1e6, n_iter_no_change=3, max_iter=50, random_state=0,
              early_stopping=early_stopping, hidden_layer_sizes=(5,))
    ours = MLPClassifier(**kw).fit(x, y)
    theirs = sk.MLPClassifier(**kw).fit(x, y)
    assert theirs.n_iter_ == 5
    assert ours.n_iter_ == 5
    if early_stopping:
        assert len(ours.validation_scores_) == 5 and ours.best_loss_ is None
        assert ours.best_validation_score_ == max(ours.validation_scores_)


def test_early_stopping_restores_the_best_weights(iris):
    x, y = iris
    est = MLPClassifier(hidden_layer_sizes=(6,), early_stopping=True, validation_fraction=0.2,
                        learning_rate_init=0.05, n_iter_no_change=5, max_iter=200,
                        random_state=2).fit(x, y)
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ < 200
    assert est.best_validation_score_ == max(scores)
    # the held-out rows are the test rows of scikit-learn's split
    from sklearn.model_selection import train_test_split
    # (not stratified: scikit-learn stratifies binary targets only, and iris has 3 classes)
    _, xv, _, yv = train_test_split(x, y, test_size=0.2, random_state=np.random.RandomState(2))
    assert est.score(xv, yv) == est.best_validation_score_


def test_adaptive_and_invscaling_rates_match_sklearn(iris):
    x, y = iris
    kw = dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.01, tol=1e6,
              n_iter_no_change=1, max_iter=100, random_state=0, hidden_layer_sizes=(4,))
    ours = MLPClassifier(**kw).fit(x, y)
    theirs = sk.MLPClassifier(**kw).fit(x, y)
    # divided by 5 every 2 epochs (after the first) until below 1e-6, then stopped
    assert theirs.n_iter_ == 15
    assert ours.n_iter_ == 15
    assert ours.model_.learning_rate == pytest.approx(theirs._optimizer.learning_rate)
    kw.update(learning_rate="invscaling", power_t=0.5, tol=1e-4, n_iter_no_change=10,
              max_iter=3)
    ours = MLPClassifier(**kw).fit(x, y)
    assert ours.model_.learning_rate == pytest.approx(0.01 / (3 * 150 + 1) ** 0.5)


def test_partial_fit(iris):
    x, y = iris
    est = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(x, y)
    est.partial_fit(x[:50], y[:50], classes=[0, 1, 2])       # one class only in this batch
    assert list(est.classes_) == [0, 1, 2] and est.n_iter_ == 1 and est.t_ == 50
    for _ in range(40):
        est.partial_fit(x, y)
    assert est.score(x, y) > 0.8 and len(est.loss_curve_) == 41
    with pytest.raises(ValueError, match="is not the same as on last call"):
        est.partial_fit(x, y, classes=[0, 1])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        est.partial_fit(x, y + 1)
    indicator = np.column_stack([y == 0, y == 1, y == 2]).astype(int)
    with pytest.raises(ValueError, match="y is a multilabel target but MLPClassifier was "
                                         "fitted on a multiclass one"):
        est.partial_fit(x, indicator)
    assert list(est.classes_) == [0, 1, 2] and len(est.loss_curve_) == 41   # unchanged
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(x, y, classes=[0, 1, 2])
    reg = MLPRegressor(random_state=0, hidden_layer_sizes=(8,))
    reg.partial_fit(x[:, :3], x[:, 3])
    reg.partial_fit(x[:, :3], x[:, 3])
    assert reg.n_iter_ == 1 and reg.t_ == 300 and len(reg.loss_curve_) == 2


def test_warm_start_continues_from_the_weights(iris):
    x, y = iris
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, warm_start=True, random_state=0)
    est.fit(x, y)
    model, first = est.model_, est.coefs_[0].copy()
    est.fit(x, y)
    assert est.model_ is model and len(est.loss_curve_) == 10 and est.n_iter_ == 5
    assert not np.array_equal(est.coefs_[0], first)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        est.fit(x[:100], y[:100])
    cold = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(x, y)
    model = cold.model_
    cold.fit(x, y)
    assert cold.model_ is not model and len(cold.loss_curve_) == 5


def test_verbose_prints_sklearns_lines(iris, capsys):
    x, y = iris
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=True, random_state=0).fit(x, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = ") and lines[1].startswith("Iteration 2, ")


def test_convergence_warning(iris):
    x, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(x, y)


# --------------------------------------------------------------------------
# Bad input: scikit-learn's exceptions
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_not_fitted(iris, method):
    x, y = iris
    args = (x, y) if method == "score" else (x,)
    with pytest.raises(NotFittedError, match="This MLPClassifier instance is not fitted yet"):
        getattr(MLPClassifier(), method)(*args)
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(x)
    with pytest.raises(NotFittedError):
        MLPRegressor().coefs_


def test_bad_targets_and_data(iris, fitted):
    x, y = iris
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier().fit(x, x[:, 0])
    with pytest.raises(ValueError, match="needs samples of at least 2 classes, got 1 class"):
        MLPClassifier().fit(x, np.zeros(150))
    with pytest.raises(ValueError, match="does not support multiclass-multioutput targets"):
        MLPClassifier().fit(x, np.column_stack([y, y]))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLPClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="Input contains infinity|Input X contains infinity"):
        fitted.predict(np.where(bad == bad, bad, np.inf))
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        fitted.predict(x[:, :3])
    with pytest.raises(ValueError, match="Found input variables with inconsistent numbers"):
        MLPRegressor().fit(x, y[:10])
    from scipy import sparse
    with pytest.raises(TypeError, match="Sparse data was passed"):
        MLPClassifier().fit(sparse.csr_matrix(x), y)


def test_bad_parameters():
    x, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="Invalid parameter 'hidden_size' for estimator"):
        MLPClassifier().set_params(hidden_size=3)
    cases = [
        (dict(alpha=-1), r"The 'alpha' parameter of MLPClassifier must be a float in the range "
                         r"\[0.0, inf\)\. Got -1 instead\."),
        (dict(hidden_layer_sizes=(10, 0)), "'hidden_layer_sizes' parameter"),
        (dict(activation="softmax"), "'activation' parameter"),
        (dict(solver="lbfgs"), "solver='lbfgs' is not available in libnn"),
        (dict(batch_size=0), "'batch_size' parameter"),
        (dict(learning_rate="optimal"), "'learning_rate' parameter"),
        (dict(max_iter=0), "'max_iter' parameter"),
        (dict(momentum=1.5), "'momentum' parameter"),
        (dict(early_stopping=True, validation_fraction=0.0), "'validation_fraction' parameter"),
        (dict(n_iter_no_change=0), "'n_iter_no_change' parameter"),
        (dict(shuffle="yes"), "'shuffle' parameter"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            MLPClassifier(**params).fit(x, y)
    with pytest.raises(ValueError, match="loss='poisson' is not available in libnn"):
        MLPRegressor(loss="poisson").fit(x, y)
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, validation_fraction=0.01).fit(x[::10], y[::10])
