"""Optimizers. Update rules and defaults are PyTorch's (torch.optim)."""

import ctypes
import numbers

from . import _handle, _lib


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


class Optimizer:
    """Base class. Hyper-parameters are checked by libnn when the model is
    compiled (the message names the one out of range)."""

    name = None
    kind = None

    def _options(self):
        options = _lib.nn_optimizer_options()
        _handle._check(_lib.nn_optimizer_options_init(ctypes.byref(options), self.kind))
        self._fill(options)
        return options

    def _fill(self, options):
        raise NotImplementedError

    def get_config(self):
        return dict(vars(self), name=self.name)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's rule.

    With g = grad + weight_decay * w:
        momentum == 0:  w -= learning_rate * g
        momentum  > 0:  b = momentum * b + g  (b = g at the first step)
                        w -= learning_rate * (g + momentum * b  if nesterov else  b)

    Defaults: learning_rate=0.01 (Keras's and PyTorch's usual choice),
    momentum=0.0, nesterov=False, weight_decay=0.0.
    """

    name = "sgd"
    kind = _lib.NN_OPTIMIZER_SGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.learning_rate = _number(learning_rate, "learning_rate")
        self.momentum = _number(momentum, "momentum")
        if not isinstance(nesterov, bool):
            raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
        self.nesterov = nesterov
        self.weight_decay = _number(weight_decay, "weight_decay")

    def _fill(self, options):
        options.learning_rate = self.learning_rate
        options.momentum = self.momentum
        options.nesterov = 1 if self.nesterov else 0
        options.weight_decay = self.weight_decay


class Adam(Optimizer):
    """Adam, torch.optim.Adam's rule (weight decay as an L2 term, not AdamW).

    With g = grad + weight_decay * w and t the step count from 1:
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        w -= learning_rate * (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)

    Defaults are PyTorch's: learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-8 (Keras uses 1e-7), weight_decay=0.0.
    """

    name = "adam"
    kind = _lib.NN_OPTIMIZER_ADAM

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0):
        self.learning_rate = _number(learning_rate, "learning_rate")
        self.beta_1 = _number(beta_1, "beta_1")
        self.beta_2 = _number(beta_2, "beta_2")
        self.epsilon = _number(epsilon, "epsilon")
        self.weight_decay = _number(weight_decay, "weight_decay")

    def _fill(self, options):
        options.learning_rate = self.learning_rate
        options.beta1 = self.beta_1
        options.beta2 = self.beta_2
        options.epsilon = self.epsilon
        options.weight_decay = self.weight_decay


_BY_NAME = {"sgd": SGD, "adam": Adam}


def get(identifier):
    """An Optimizer object from a name ('sgd', 'adam') or an Optimizer object."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    valid = ", ".join(repr(n) for n in _BY_NAME)
    raise ValueError(f"unknown optimizer {identifier!r}; valid optimizers are {valid} "
                     "or an nn.optimizers.Optimizer object")
