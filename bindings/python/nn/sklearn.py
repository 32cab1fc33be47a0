"""scikit-learn estimators trained by libnn: MLPClassifier and MLPRegressor.

    from nn.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
    clf.predict(X_test), clf.predict_proba(X_test), clf.score(X_test, y_test)

They are drop-in counterparts of scikit-learn's
``sklearn.neural_network.MLPClassifier`` and ``MLPRegressor``: the same
class names, constructor parameters, defaults, methods (fit, partial_fit,
predict, predict_proba, predict_log_proba, score, get_params/set_params)
and fitted attributes (classes_, n_features_in_, feature_names_in_,
loss_, loss_curve_, best_loss_, validation_scores_,
best_validation_score_, n_iter_, t_, n_layers_, n_outputs_,
out_activation_, coefs_, intercepts_), so that Pipeline, GridSearchCV,
cross_val_score, clone, permutation_importance and pickle work as with
scikit-learn's own. The network is a libnn ``nn.Sequential`` (``model_``
after fit: summary(), get_weights(), gradient_check(), diagnose(),
save() work on it) and every epoch is one call of its fit.

This module needs scikit-learn >= 1.6; ``import nn`` does not import it.

What differs from scikit-learn's MLP (each is said again where it applies):

- solver: 'adam' (default) and 'sgd', plus libnn's 'adamax', 'rmsprop'
  and 'adagrad' (PyTorch's rules). There is no 'lbfgs': libnn trains with
  mini-batch optimizers only.
- activation: 'identity', 'logistic', 'tanh', 'relu', plus libnn's
  'leaky_relu', 'elu', 'gelu', 'softplus' and 'mish'.
- Arithmetic is float32 (libnn's): X is converted to float32, and
  predict_proba and the regressor's predict are libnn's float32 outputs
  returned as float64 (scikit-learn's dtype for predictions; the
  conversion is exact), whatever the dtype of X.
- Weights start as libnn's (Keras's) glorot_uniform kernels and zero
  biases; scikit-learn draws kernels and biases from
  U(-sqrt(f / (fan_in + fan_out)), +...) with f = 6 (2 for 'logistic').
- fit and partial_fit take no sample_weight (scikit-learn's do since
  1.7): scikit-learn's estimator checks want a weighted fit to predict
  what a fit on repeated rows predicts, to 1e-7, which float32
  mini-batch training cannot give (scikit-learn runs those checks of its
  own MLP with solver='lbfgs'). For weighted training use
  nn.Sequential.fit(..., sample_weight=...) directly.
- Sparse X is refused (scikit-learn's message: call X.toarray()); libnn
  computes on dense arrays.
- A classifier needs at least two classes (as LogisticRegression and SVC;
  scikit-learn's MLPClassifier fits a constant instead).
- The regressor's loss is 'squared_error' only ('poisson' needs an
  exponential output, which libnn has not).
- Adam: libnn adds epsilon to sqrt(v_hat) (PyTorch's rule); scikit-learn
  adds it before the bias correction, which is libnn's rule with
  epsilon / sqrt(1 - beta_2 ** t) (32 x epsilon at the first step with
  beta_2 = 0.999, epsilon once beta_2 ** t is small). It matters only
  for gradients of about epsilon.

How the loss, alpha and the learning rate map onto libnn: see
``_BaseMLP``'s docstring (the class docstrings say it for each estimator).
"""

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d

try:
    from sklearn.utils.validation import validate_data
except ImportError:                      # scikit-learn < 1.6
    import sklearn as _sklearn
    raise ImportError(f"nn.sklearn needs scikit-learn >= 1.6 (validate_data, __sklearn_tags__); "
                      f"this is scikit-learn {_sklearn.__version__}") from None

from . import _lib, layers, models, optimizers, regularizers
from .saving import load_model

__all__ = ["MLPClassifier", "MLPRegressor"]

#: activation parameter -> libnn activation name. scikit-learn's four
#: first, then libnn's others under their own names.
ACTIVATIONS = {
    "identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
    "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu", "softplus": "softplus",
    "mish": "mish",
}

#: solver parameter -> the libnn optimizer class.
SOLVERS = {
    "adam": optimizers.Adam, "sgd": optimizers.SGD, "adamax": optimizers.Adamax,
    "rmsprop": optimizers.RMSprop, "adagrad": optimizers.Adagrad,
}

_LEARNING_RATES = ("constant", "invscaling", "adaptive")


# --------------------------------------------------------------------------
# Parameter checks (in fit, as scikit-learn: __init__ only stores)
# --------------------------------------------------------------------------

def _invalid(estimator, name, expected, value):
    return ValueError(f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. "
                      f"Got {value!r} instead.")


def _integer(estimator, name, low):
    value = getattr(estimator, name)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or \
            value < low:
        raise _invalid(estimator, name, f"an int in the range [{low}, inf)", value)
    return int(value)


def _real(estimator, name, low, high=math.inf, low_open=False, high_open=True):
    value = getattr(estimator, name)
    ok = (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
          and math.isfinite(value))
    if ok:
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high)
    if not ok:
        brackets = ("(" if low_open else "[") + f"{low}, {high}" + (")" if high_open else "]")
        raise _invalid(estimator, name, f"a float in the range {brackets}", value)
    return float(value)


def _flag(estimator, name):
    value = getattr(estimator, name)
    if not isinstance(value, (bool, np.bool_)):
        raise _invalid(estimator, name, "an instance of 'bool'", value)
    return bool(value)


def _choice(estimator, name, options, extra=""):
    value = getattr(estimator, name)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise _invalid(estimator, name, f"a str among {{{listed}}}{extra}", value)
    return value


class _Settings:
    """The checked parameters of one fit."""


def _settings(estimator):
    """Check every constructor parameter; return them as a _Settings."""
    s = _Settings()
    sizes = estimator.hidden_layer_sizes
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise _invalid(estimator, "hidden_layer_sizes", "an int >= 1 or a sequence of them",
                       estimator.hidden_layer_sizes) from None
    if not all(isinstance(u, numbers.Integral) and not isinstance(u, (bool, np.bool_)) and u >= 1
               for u in sizes):
        raise _invalid(estimator, "hidden_layer_sizes", "an int >= 1 or a sequence of them",
                       estimator.hidden_layer_sizes)
    s.hidden = tuple(int(u) for u in sizes)
    s.activation = ACTIVATIONS[_choice(estimator, "activation", tuple(ACTIVATIONS))]
    if estimator.solver == "lbfgs":
        raise ValueError(f"{type(estimator).__name__}: solver='lbfgs' is not available in "
                         "libnn, which trains with mini-batch optimizers only; use 'adam' (the "
                         "default), 'sgd', 'adamax', 'rmsprop' or 'adagrad'")
    s.solver = _choice(estimator, "solver", tuple(SOLVERS))
    s.alpha = _real(estimator, "alpha", 0.0)
    batch_size = estimator.batch_size
    if isinstance(batch_size, str) and batch_size == "auto":
        s.batch_size = "auto"
    else:
        try:
            s.batch_size = _integer(estimator, "batch_size", 1)
        except ValueError:
            raise _invalid(estimator, "batch_size", "'auto' or an int in the range [1, inf)",
                           batch_size) from None
    s.learning_rate = _choice(estimator, "learning_rate", _LEARNING_RATES)
    s.learning_rate_init = _real(estimator, "learning_rate_init", 0.0, low_open=True)
    s.power_t = _real(estimator, "power_t", 0.0)
    s.max_iter = _integer(estimator, "max_iter", 1)
    s.shuffle = _flag(estimator, "shuffle")
    s.tol = _real(estimator, "tol", 0.0)
    verbose = estimator.verbose
    if isinstance(verbose, (bool, np.bool_)):
        s.verbose = bool(verbose)
    elif isinstance(verbose, numbers.Integral) and verbose >= 0:
        s.verbose = int(verbose) > 0
    else:
        raise _invalid(estimator, "verbose", "a bool or an int >= 0", verbose)
    s.warm_start = _flag(estimator, "warm_start")
    s.momentum = _real(estimator, "momentum", 0.0, 1.0, high_open=False)
    s.nesterovs_momentum = _flag(estimator, "nesterovs_momentum")
    s.early_stopping = _flag(estimator, "early_stopping")
    s.validation_fraction = _real(estimator, "validation_fraction", 0.0, 1.0)
    if s.early_stopping and s.validation_fraction == 0.0:
        raise _invalid(estimator, "validation_fraction",
                       "a float in the range (0.0, 1.0) when early_stopping=True", 0.0)
    s.beta_1 = _real(estimator, "beta_1", 0.0, 1.0)
    s.beta_2 = _real(estimator, "beta_2", 0.0, 1.0)
    s.epsilon = _real(estimator, "epsilon", 0.0, low_open=True)
    n_iter_no_change = estimator.n_iter_no_change
    if isinstance(n_iter_no_change, numbers.Real) and not isinstance(
            n_iter_no_change, (bool, np.bool_)) and n_iter_no_change == math.inf:
        s.n_iter_no_change = math.inf
    else:
        try:
            s.n_iter_no_change = _integer(estimator, "n_iter_no_change", 1)
        except ValueError:
            raise _invalid(estimator, "n_iter_no_change", "an int in the range [1, inf) or "
                           "numpy.inf", n_iter_no_change) from None
    _integer(estimator, "max_fun", 1)
    # check_random_state refuses anything else, with scikit-learn's message
    s.rng = check_random_state(estimator.random_state)
    return s


def _check_partial_fit_classes(estimator, classes):
    """classes= of a classifier's partial_fit, scikit-learn's rule (and
    messages): needed on the first call, where it sets classes_; the same
    classes if given again."""
    known = getattr(estimator, "classes_", None)
    if classes is None:
        if known is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return
    classes = unique_labels(classes)
    if known is None:
        estimator.classes_ = classes
    elif not np.array_equal(known, classes):
        raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                         f"partial_fit, was: {known!r}")


# --------------------------------------------------------------------------
# The shared estimator
# --------------------------------------------------------------------------

class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: the libnn network, the
    epoch loop with scikit-learn's stopping rule, pickling.

    The network: ``nn.Sequential([Dense(u, activation) for u in
    hidden_layer_sizes] + [Dense(n_outputs, output activation)])``, every
    Dense with ``kernel_regularizer=nn.regularizers.L2(l2)`` (none when
    alpha is 0), compiled with the solver's libnn optimizer and the loss
    of the subclass. ``model_`` is that model after fit.

    Scale. scikit-learn minimizes, on each mini-batch B of n_B rows,
    ``G = data loss + 0.5 * alpha * ||W||^2 / n_B`` (W: every kernel, no
    bias). libnn's losses are means over all outputs, so libnn's loss L
    is G divided by a constant c: c = 1 for softmax and one-sigmoid
    outputs (libnn's cross-entropy is scikit-learn's log loss), K for K
    sigmoid outputs (multilabel: scikit-learn sums the K binary log losses,
    libnn averages them), K / 2 for K linear outputs (scikit-learn's
    gradient is that of half the squared error summed over the outputs,
    libnn's mean squared error averages them and does not halve). So that
    the minimum and every step are scikit-learn's:

    - alpha becomes ``l2 = alpha / (2 * batch_size * c)`` (Keras's L2
      adds ``l2 * sum(kernel ** 2)`` to the loss), batch_size being the
      one of the fit that builds the model. Exact for full batches; for
      the last, smaller batch of an epoch scikit-learn's penalty is larger
      by batch_size / n_B, libnn's regularizer is a constant. A later
      partial_fit or warm_start fit keeps the l2 of the first.
    - solver='sgd' gets ``learning_rate = learning_rate_init * c``, and the
      adaptive solvers (adam, adamax, rmsprop, adagrad), whose steps do not
      change when the loss is scaled except through epsilon, get
      ``epsilon / c``.

    ``loss_curve_`` holds scikit-learn's figures: libnn's epoch loss (each
    batch's loss, penalty included, weighted by its rows, as scikit-learn
    accumulates it) times c for the
    classifier, times 1/2 for the regressor (scikit-learn reports half the
    mean squared error; its penalty term is then alpha/(K n_B) ||W||^2 / 2
    for K outputs, scikit-learn's alpha/n_B ||W||^2 / 2: they agree for
    one output). tol is compared with these values, as in scikit-learn.

    The epoch loop, scikit-learn's: after each epoch the loss (or, with
    early_stopping, the validation score: accuracy, R^2) is compared with
    the best so far; more than n_iter_no_change epochs in a row without
    an improvement by more than tol end training (with
    learning_rate='adaptive' and solver='sgd' they divide the rate by 5
    instead, until it is below 1e-6); max_iter epochs without that give a
    ConvergenceWarning. early_stopping holds out validation_fraction of
    the rows (stratified for a single-output classifier, from
    random_state) and restores the weights of the best validation score.
    learning_rate='invscaling' (sgd) sets the rate to
    learning_rate_init / (t_ + 1) ** power_t after each epoch, t_ the rows
    seen, as scikit-learn does.

    random_state: an int seeds the libnn model (weights, shuffling) and
    the validation split, so fits are reproducible bit for bit; None draws
    the seed from numpy's global generator (a different fit each time, as
    in scikit-learn); a RandomState draws it from that generator.
    """

    def _store_parameters(self, parameters):
        """__init__'s arguments (its locals()), stored under their names and
        nothing else, as scikit-learn's get_params/set_params/clone expect."""
        for name, value in parameters.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # A subclass defines _targets(y, first, incremental, classes): y as
    # libnn's float32 targets, setting on a first fit self._out = (output
    # activation, libnn loss, c, loss_curve_ factor, outputs); and
    # _validation_score(X, y), its score on the held-out rows.

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    # -- fitting -----------------------------------------------------------

    def _fit(self, X, y, incremental, classes=None):
        s = _settings(self)
        if incremental and s.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "model_") or (not s.warm_start and not incremental)
        X, y = validate_data(self, X, y, reset=first, dtype=np.float32, order="C",
                             multi_output=True, y_numeric=not isinstance(self, ClassifierMixin))
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        X = np.asarray(X)        # a plain ndarray (libnn's fit streams memmaps)
        targets = self._targets(y, first, incremental, classes)
        rows = X.shape[0]

        # the held-out rows of early_stopping (scikit-learn's split)
        val = None
        if s.early_stopping:
            # scikit-learn stratifies a classifier's split when it has one
            # output (n_outputs_ == 1): binary targets only
            stratify = y if isinstance(self, ClassifierMixin) and self._target_kind == "binary" else None
            train_idx, val_idx = train_test_split(np.arange(rows), random_state=s.rng,
                                                  test_size=s.validation_fraction,
                                                  stratify=stratify)
            if val_idx.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            val = (X[val_idx], y[val_idx])
            X, targets = X[train_idx], targets[train_idx]
        n_train = X.shape[0]
        if s.batch_size == "auto":
            batch_size = min(200, n_train)
        else:
            if s.batch_size > n_train:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped")
            batch_size = min(s.batch_size, n_train)

        if first:
            self._build(s, X.shape[1], batch_size)
        elif not incremental:
            # a warm_start fit starts a new optimizer, as scikit-learn's does
            self.model_.compile(optimizer=self._optimizer(s), loss=self.model_.loss)
            self._learning_rate = s.learning_rate_init
        self._train(s, X, targets, val, batch_size, incremental)
        return self

    def _build(self, s, n_features, batch_size):
        """The libnn model of a first fit, and scikit-learn's bookkeeping."""
        out_activation, loss, scale, _, n_outputs = self._out
        if isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(s.rng.randint(np.iinfo(np.int32).max))
        l2 = s.alpha / (2.0 * batch_size * scale)
        regularizer = regularizers.L2(l2) if l2 > 0 else None
        model = models.Sequential(seed=seed)
        for i, units in enumerate(s.hidden + (n_outputs,)):
            activation = s.activation if i < len(s.hidden) else out_activation
            model.add(layers.Dense(units, activation=activation, kernel_regularizer=regularizer,
                                   input_dim=n_features if i == 0 else None))
        self._learning_rate = s.learning_rate_init
        model.compile(optimizer=self._optimizer(s), loss=loss)
        self.model_ = model
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(s.hidden) + 2
        self.out_activation_ = {"linear": "identity", "sigmoid": "logistic"}.get(
            out_activation, out_activation)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if s.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _optimizer(self, s):
        """The libnn optimizer of the solver, on libnn's loss scale (see the
        class docstring): sgd's rate times c, the others' epsilon over c."""
        scale = self._out[2]
        rate = s.learning_rate_init
        if s.solver == "sgd":
            return optimizers.SGD(learning_rate=rate * scale, momentum=s.momentum,
                                  nesterov=s.nesterovs_momentum and s.momentum > 0)
        epsilon = s.epsilon / scale
        if s.solver in ("adam", "adamax"):
            return SOLVERS[s.solver](learning_rate=rate, beta_1=s.beta_1, beta_2=s.beta_2,
                                     epsilon=epsilon)
        return SOLVERS[s.solver](learning_rate=rate, epsilon=epsilon)

    def _set_learning_rate(self, s, rate):
        """The rate for the next epochs (scikit-learn's scale), the
        optimizer's state kept (nn_model_set_learning_rate)."""
        self._learning_rate = rate
        scale = self._out[2] if s.solver == "sgd" else 1.0
        self.model_._handle.call(_lib.nn_model_set_learning_rate, float(rate * scale))

    def _train(self, s, X, targets, val, batch_size, incremental):
        """scikit-learn's epoch loop, each epoch one libnn fit."""
        model = self.model_
        report = self._out[3]
        best_weights = None
        self.n_iter_ = 0
        try:
            for _ in range(1 if incremental else s.max_iter):
                history = model.fit(X, targets, batch_size=batch_size, epochs=1, verbose=0,
                                    shuffle=s.shuffle)
                self.n_iter_ += 1
                self.t_ += X.shape[0]
                self.loss_ = float(history.history["loss"][-1]) * report
                self.loss_curve_.append(self.loss_)
                if s.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                if val is not None:
                    score = self._validation_score(*val)
                    self.validation_scores_.append(score)
                    if s.verbose:
                        print("Validation score: %f" % score)
                    if score < self.best_validation_score_ + s.tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        best_weights = model.get_weights()
                else:
                    if self.loss_ > self.best_loss_ - s.tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    if self.loss_ < self.best_loss_:
                        self.best_loss_ = self.loss_
                sgd = s.solver == "sgd"
                if sgd and s.learning_rate == "invscaling":
                    self._set_learning_rate(s, s.learning_rate_init / (self.t_ + 1) ** s.power_t)
                if self._no_improvement_count > s.n_iter_no_change:
                    what = ("Validation score did not improve more than tol=%f for %d consecutive "
                            "epochs." if val is not None else "Training loss did not improve more "
                            "than tol=%f for %d consecutive epochs.") % (s.tol, s.n_iter_no_change)
                    if sgd and s.learning_rate == "adaptive" and self._learning_rate > 1e-6:
                        self._set_learning_rate(s, self._learning_rate / 5.0)
                        self._no_improvement_count = 0
                        if s.verbose:
                            print(what + " Setting learning rate to %f" % self._learning_rate)
                    else:
                        if s.verbose:
                            print(what + (" Learning rate too small. Stopping." if sgd and
                                          s.learning_rate == "adaptive" else " Stopping."))
                        break
                if incremental:
                    break
                if self.n_iter_ == s.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                                  "optimization hasn't converged yet." % s.max_iter,
                                  ConvergenceWarning)
        except KeyboardInterrupt:
            # scikit-learn's: keep what was trained (libnn stops within a batch)
            warnings.warn("Training interrupted by user.")
        if best_weights is not None:
            model.set_weights(best_weights)

    # -- predicting --------------------------------------------------------

    def _forward(self, X):
        """libnn's outputs for checked X, (rows, outputs), as float64 (each
        float32 value converted exactly: scikit-learn's dtype for
        predictions)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C")
        return self.model_.predict(np.asarray(X)).astype(np.float64)

    @property
    def coefs_(self):
        """The kernels of the Dense layers (float32 copies, (inputs, units)), as
        scikit-learn's coefs_."""
        check_is_fitted(self)
        return self.model_.get_weights()[0::2]

    @property
    def intercepts_(self):
        """The biases of the Dense layers (float32 copies), as scikit-learn's
        intercepts_."""
        check_is_fitted(self)
        return self.model_.get_weights()[1::2]

    # -- pickling: the libnn model travels as its model file ---------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        model = state.get("model_")
        if model is not None:
            # the whole model (layers, weights, compile settings, optimizer
            # state) as the bytes of its libnn model file; never the handle
            state["model_"] = model.to_bytes()
        return state

    def __setstate__(self, state):
        data = state.get("model_")
        if isinstance(data, (bytes, bytearray, memoryview)):
            state = dict(state)
            state["model_"] = load_model(bytes(data))
        super().__setstate__(state)


# --------------------------------------------------------------------------
# The estimators
# --------------------------------------------------------------------------

class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by libnn: scikit-learn's
    ``sklearn.neural_network.MLPClassifier``, with its parameters and
    defaults.

    Targets: binary (one sigmoid output, libnn's binary cross-entropy on
    y == classes_[1]), multi-class (a softmax output per class, sparse
    categorical cross-entropy on the index of the class in classes_) or
    multilabel (a 0/1 indicator matrix: one sigmoid output per column,
    binary cross-entropy; classes_ is arange(n_labels)). These are the
    targets ``model_`` is trained on, if you call its own evaluate or
    gradient_check. At least two classes are needed.

    Parameters (scikit-learn's; what libnn does differently is said):
        hidden_layer_sizes: (100,); an int or a sequence of ints, one Dense
            layer each (empty: no hidden layer).
        activation: 'relu'; 'identity', 'logistic', 'tanh', 'relu', or
            libnn's 'leaky_relu', 'elu', 'gelu', 'softplus', 'mish'.
        solver: 'adam'; 'sgd', or libnn's 'adamax', 'rmsprop', 'adagrad'
            (PyTorch's rules; learning_rate_init and epsilon, and beta_1,
            beta_2 for adamax, are passed). No 'lbfgs'.
        alpha: 0.0001, the L2 penalty: ``L2(alpha / (2 * batch_size * c))``
            on every kernel, c = 1 (binary, multi-class) or n_labels
            (multilabel); see _BaseMLP.
        batch_size: 'auto' = min(200, n_samples).
        learning_rate: 'constant'; 'invscaling', 'adaptive' (solver='sgd'
            only, as in scikit-learn).
        learning_rate_init: 0.001. power_t: 0.5 (invscaling).
        max_iter: 200 epochs. shuffle: True. random_state: None. tol: 1e-4.
        verbose: False. warm_start: False (True: fit continues from the
            current weights with a new optimizer, as scikit-learn).
        momentum: 0.9, nesterovs_momentum: True (sgd; PyTorch's SGD, the
            same steps as scikit-learn's at a constant rate).
        early_stopping: False, validation_fraction: 0.1,
            n_iter_no_change: 10: scikit-learn's rule (see _BaseMLP).
        beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8 (adam).
        max_fun: 15000: accepted for compatibility; lbfgs only.

    Fitted attributes: classes_, n_features_in_, feature_names_in_ (fitted
    on a DataFrame with string column names), model_ (the nn.Sequential),
    loss_, loss_curve_ (scikit-learn's log loss plus penalty per epoch),
    best_loss_, validation_scores_, best_validation_score_, n_iter_ (epochs
    of the last fit or partial_fit), t_ (rows trained on), n_layers_,
    n_outputs_, out_activation_ ('logistic' or 'softmax'), coefs_ and
    intercepts_ (float32 copies of the weights).
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        self._store_parameters(locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y (labels, or a 0/1
        indicator matrix for multilabel); returns self."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None):
        """One epoch over X, y (scikit-learn's partial_fit). The first call
        needs classes=, every label that will ever occur; later calls
        continue with the same optimizer and its state."""
        return self._fit(X, y, incremental=True, classes=classes)

    def _targets(self, y, first, incremental, classes):
        """y as libnn's float32 targets; sets classes_ and _out on a first fit."""
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__} does not support {kind} targets: y must "
                             "be a vector of class labels or a 0/1 indicator matrix "
                             "(multilabel)")
        if incremental:
            _check_partial_fit_classes(self, classes)   # classes_ on the first call
        if kind == "multilabel-indicator":
            labels = np.arange(y.shape[1])
            if not first and not np.array_equal(self.classes_, labels):
                raise ValueError(f"y has {y.shape[1]} labels but {type(self).__name__} was "
                                 f"fitted with {len(self.classes_)}")
            target_kind = "multilabel"
        else:
            found = unique_labels(y)
            labels = found if first and not incremental else self.classes_
            if incremental:
                if np.setdiff1d(found, labels).size:
                    raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` "
                                     f"has {labels}. 'y' has {found}.")
            elif set(found) != set(labels):
                raise ValueError(f"warm_start can only be used where `y` has the same classes "
                                 f"as in the previous call to fit. Previously got "
                                 f"{labels}, `y` has {found}")
            if len(labels) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes, "
                                 f"got 1 class: {labels[0]!r}")
            target_kind = "binary" if len(labels) == 2 else "multiclass"
        if not first and target_kind != self._target_kind:
            raise ValueError(f"y is a {target_kind} target but {type(self).__name__} was fitted "
                             f"on a {self._target_kind} one")
        # everything checked: the attributes change from here
        self.classes_ = labels
        if first:
            count = len(labels)
            if target_kind == "multilabel":
                # (out activation, loss, c, loss_curve_ factor, outputs)
                self._out = ("sigmoid", "binary_crossentropy", float(count), float(count), count)
                self._y_dtype = y.dtype
            elif target_kind == "binary":
                self._out = ("sigmoid", "binary_crossentropy", 1.0, 1.0, 1)
            else:
                self._out = ("softmax", "sparse_categorical_crossentropy", 1.0, 1.0, count)
            self._target_kind = target_kind
        if target_kind == "multilabel":
            return np.ascontiguousarray(y, dtype=np.float32)
        if target_kind == "binary":
            return (y == self.classes_[1]).astype(np.float32).reshape(-1, 1)
        return np.searchsorted(self.classes_, y).astype(np.float32).reshape(-1, 1)

    def _validation_score(self, X, y):
        return accuracy_score(y, self._decide(self.model_.predict(X)))

    def _decide(self, p):
        if self._target_kind == "multilabel":
            return (p > 0.5).astype(self._y_dtype)
        if self._target_kind == "binary":
            return self.classes_[(p[:, 0] > 0.5).astype(np.intp)]
        return self.classes_[np.argmax(p, axis=1)]

    def predict(self, X):
        """The predicted class of each row (an indicator matrix for
        multilabel): the class of largest probability, or probability
        > 0.5 for one sigmoid output."""
        return self._decide(self._forward(X))

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in classes_
        order (float64 holding libnn's float32 values); for multilabel,
        each label's probability."""
        p = self._forward(X)
        if self._target_kind == "binary":
            return np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        return np.log(self.predict_proba(X))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by libnn: scikit-learn's
    ``sklearn.neural_network.MLPRegressor``, with its parameters and
    defaults (see MLPClassifier for those they share).

    One linear output per target column, libnn's mean squared error. With
    K outputs, alpha becomes ``L2(alpha / (batch_size * K))`` on every
    kernel and sgd's rate ``learning_rate_init * K / 2`` (c = K / 2 in
    _BaseMLP's docstring), so that the steps are scikit-learn's.
    loss_curve_ is half libnn's loss, i.e. scikit-learn's half mean squared
    error (plus the penalty). predict returns (n_samples,) for a
    one-column target (also when y was given as a column, as
    scikit-learn), (n_samples, K) otherwise. score is R^2.

    loss: 'squared_error' only ('poisson' needs an exponential output,
    which libnn has not).
    """

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        self._store_parameters(locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y (n_samples,) or
        (n_samples, n_targets); returns self."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """One epoch over X, y (scikit-learn's partial_fit); later calls
        continue with the same optimizer and its state."""
        return self._fit(X, y, incremental=True)

    def _targets(self, y, first, incremental, classes):
        if self.loss == "poisson":
            raise ValueError("MLPRegressor: loss='poisson' is not available in libnn (it needs "
                             "an exponential output activation); use loss='squared_error'")
        if self.loss != "squared_error":
            raise ValueError(f"The 'loss' parameter of MLPRegressor must be a str among "
                             f"{{'squared_error'}}. Got {self.loss!r} instead.")
        targets = np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=np.float32)
        outputs = targets.shape[1]
        if first:
            # (out activation, loss, c, loss_curve_ factor, outputs)
            self._out = ("linear", "mse", outputs / 2.0, 0.5, outputs)
        elif outputs != self.n_outputs_:
            raise ValueError(f"y has {outputs} target columns but MLPRegressor was fitted "
                             f"with {self.n_outputs_}")
        return targets

    def _validation_score(self, X, y):
        return r2_score(y, self._shape(self.model_.predict(X)))

    def _shape(self, p):
        return p.ravel() if p.shape[1] == 1 else p

    def predict(self, X):
        """The predicted targets (float64 holding libnn's float32 outputs):
        (n_samples,) or (n_samples, n_targets)."""
        return self._shape(self._forward(X))
