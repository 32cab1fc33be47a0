"""Optimizers. Update rules and defaults are PyTorch's (torch.optim); argument
names are Keras's where Keras has the argument.

Every optimizer also takes Keras's gradient clipping: ``clipnorm`` (each
weight array's gradient rescaled to norm <= clipnorm), ``global_clipnorm``
(the whole gradient rescaled to norm <= global_clipnorm) or ``clipvalue``
(each element clipped to [-clipvalue, clipvalue]); at most one of them, as in
Keras 3. None (the default) disables each.

``learning_rate`` may be a number or an nn.schedules schedule (StepDecay,
ExponentialDecay, CosineDecay), whose initial_learning_rate is then the
optimizer's rate.

Hyper-parameters are checked by libnn when the optimizer is constructed and
again when a model is compiled; a value out of range raises
nn.InvalidArgumentError (a ValueError) whose message names it.

Names for compile(optimizer=...): 'sgd', 'adam', 'adamw', 'rmsprop',
'adagrad', 'rprop', 'adamax' (each with its defaults).
"""

import ctypes
import numbers

from . import _handle, _lib, _names
from .schedules import LearningRateSchedule


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def _flag(value, what):
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return value


def _clip(value, what):
    """None (disabled) or a number; 0 would silently mean "disabled" to libnn."""
    if value is None:
        return None
    value = _number(value, what)
    if value == 0:
        raise ValueError(f"{what} must be > 0 (or None to disable clipping), got {value!r}")
    return value


def _learning_rate(value):
    if isinstance(value, LearningRateSchedule):
        return value
    return _number(value, "learning_rate")


def _pair(value, what):
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{what} must be a pair of numbers, got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{what} must be a pair of numbers, got {value!r}")
    return (_number(items[0], f"{what}[0]"), _number(items[1], f"{what}[1]"))


class Optimizer:
    """Base class: learning_rate and gradient clipping; the subclasses add
    their hyper-parameters."""

    name = None
    kind = None

    def __init__(self, learning_rate, clipvalue=None, clipnorm=None, global_clipnorm=None):
        self.learning_rate = _learning_rate(learning_rate)
        self.clipvalue = _clip(clipvalue, "clipvalue")
        self.clipnorm = _clip(clipnorm, "clipnorm")
        self.global_clipnorm = _clip(global_clipnorm, "global_clipnorm")

    @property
    def schedule(self):
        """The learning-rate schedule, or None for a constant rate."""
        if isinstance(self.learning_rate, LearningRateSchedule):
            return self.learning_rate
        return None

    @property
    def initial_learning_rate(self):
        """The rate libnn starts from (a schedule's initial_learning_rate)."""
        schedule = self.schedule
        return self.learning_rate if schedule is None else schedule.initial_learning_rate

    def _options(self):
        options = _lib.nn_optimizer_options()
        _handle._check(_lib.nn_optimizer_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), self.kind))
        options.learning_rate = self.initial_learning_rate
        options.clip_value = self.clipvalue or 0.0
        options.clip_norm = self.clipnorm or 0.0
        options.global_clip_norm = self.global_clipnorm or 0.0
        self._fill(options)
        return options

    #: (argument, field) for each hyper-parameter beyond the learning rate
    #: and clipping: the attribute and __init__ argument, and its name in
    #: nn_optimizer_options and in libnn's model configuration (the same).
    _parameters = ()

    def _fill(self, options):
        """The hyper-parameters into nn_optimizer_options (flags as 0/1)."""
        for argument, field in self._parameters:
            value = getattr(self, argument)
            setattr(options, field, int(value) if isinstance(value, bool) else value)

    @classmethod
    def _from_libnn(cls, fields, learning_rate, **clipping):
        """The optimizer libnn's model configuration describes (the
        "optimizer" object of nn_model_config, read by nn.load_model);
        `fields[name]` is one of its values."""
        arguments = {argument: fields[field] for argument, field in cls._parameters}
        return cls(learning_rate, **arguments, **clipping)

    def _check(self):
        """Let libnn check every hyper-parameter now."""
        _handle.check_on_scratch_model(_lib.nn_model_set_optimizer,
                                       ctypes.byref(self._options()))

    def get_config(self):
        return dict(vars(self), name=self.name)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's rule.

    With g = grad + weight_decay * w:
        momentum == 0:  w -= learning_rate * g
        momentum  > 0:  b = momentum * b + (1 - dampening) * g   (b = g at the first step)
                        w -= learning_rate * (g + momentum * b  if nesterov else  b)

    Defaults: learning_rate=0.01 (Keras's; PyTorch has none), momentum=0.0,
    dampening=0.0, nesterov=False (needs momentum > 0 and dampening 0),
    weight_decay=0.0.
    """

    kind = _lib.NN_OPTIMIZER_SGD
    _parameters = (("momentum", "momentum"), ("dampening", "dampening"), ("nesterov", "nesterov"),
                   ("weight_decay", "weight_decay"))

    def __init__(self, learning_rate=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(learning_rate, clipvalue, clipnorm, global_clipnorm)
        self.momentum = _number(momentum, "momentum")
        self.dampening = _number(dampening, "dampening")
        self.nesterov = _flag(nesterov, "nesterov")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self._check()


class Adam(Optimizer):
    """Adam, torch.optim.Adam's rule (weight decay as an L2 term, not AdamW).

    With g = grad + weight_decay * w and t the step count from 1:
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2        (amsgrad: v_max = max(v_max, v), used below)
        w -= learning_rate * (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)

    Defaults are PyTorch's: learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-8 (Keras uses 1e-7), weight_decay=0.0, amsgrad=False.
    """

    kind = _lib.NN_OPTIMIZER_ADAM
    _parameters = (("beta_1", "beta1"), ("beta_2", "beta2"), ("epsilon", "epsilon"),
                   ("weight_decay", "weight_decay"), ("amsgrad", "amsgrad"))

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, amsgrad=False, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, clipvalue, clipnorm, global_clipnorm)
        self.beta_1 = _number(beta_1, "beta_1")
        self.beta_2 = _number(beta_2, "beta_2")
        self.epsilon = _number(epsilon, "epsilon")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self.amsgrad = _flag(amsgrad, "amsgrad")
        self._check()


class AdamW(Adam):
    """AdamW, torch.optim.AdamW's rule: Adam with decoupled weight decay,
    w -= learning_rate * weight_decay * w before the Adam step.

    Defaults are PyTorch's: learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-8, weight_decay=0.01 (Keras uses 0.004), amsgrad=False.
    """

    kind = _lib.NN_OPTIMIZER_ADAMW

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.01, amsgrad=False, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, amsgrad,
                         clipvalue, clipnorm, global_clipnorm)


class RMSprop(Optimizer):
    """RMSprop, torch.optim.RMSprop's rule.

    With g = grad + weight_decay * w:
        v = rho * v + (1 - rho) * g^2
        centered:  a = rho * a + (1 - rho) * g;  denominator sqrt(v - a^2) + epsilon
        else:      denominator sqrt(v) + epsilon
        momentum > 0:  b = momentum * b + g / denominator;  w -= learning_rate * b
        else:          w -= learning_rate * g / denominator

    ``rho`` is Keras's name for PyTorch's ``alpha``; either may be given.
    Defaults are PyTorch's: learning_rate=0.01 (Keras: 0.001), rho=0.99
    (Keras: 0.9), momentum=0.0, epsilon=1e-8, centered=False, weight_decay=0.0.
    """

    kind = _lib.NN_OPTIMIZER_RMSPROP
    _parameters = (("rho", "alpha"), ("momentum", "momentum"), ("epsilon", "epsilon"),
                   ("centered", "centered"), ("weight_decay", "weight_decay"))

    def __init__(self, learning_rate=0.01, rho=0.99, momentum=0.0, epsilon=1e-8,
                 centered=False, weight_decay=0.0, clipvalue=None, clipnorm=None,
                 global_clipnorm=None, alpha=None):
        super().__init__(learning_rate, clipvalue, clipnorm, global_clipnorm)
        rho = _number(rho, "rho")
        if alpha is not None:
            alpha = _number(alpha, "alpha")
            if rho != 0.99 and rho != alpha:
                raise ValueError(f"rho={rho} and alpha={alpha} disagree: they are the same "
                                 "smoothing constant (rho is Keras's name, alpha PyTorch's); "
                                 "give one")
            rho = alpha
        self.rho = rho
        self.momentum = _number(momentum, "momentum")
        self.epsilon = _number(epsilon, "epsilon")
        self.centered = _flag(centered, "centered")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self._check()

    @property
    def alpha(self):
        """PyTorch's name for rho."""
        return self.rho


class Adagrad(Optimizer):
    """Adagrad, torch.optim.Adagrad's rule.

    With g = grad + weight_decay * w and t the step count from 1:
        rate = learning_rate / (1 + (t - 1) * lr_decay)
        s = s + g^2            (s starts at initial_accumulator_value)
        w -= rate * g / (sqrt(s) + epsilon)

    Defaults are PyTorch's: learning_rate=0.01, lr_decay=0.0,
    initial_accumulator_value=0.0 (Keras: 0.1), epsilon=1e-10, weight_decay=0.0.
    """

    kind = _lib.NN_OPTIMIZER_ADAGRAD
    _parameters = (("lr_decay", "lr_decay"), ("initial_accumulator_value", "initial_accumulator_value"),
                   ("epsilon", "epsilon"), ("weight_decay", "weight_decay"))

    def __init__(self, learning_rate=0.01, lr_decay=0.0, initial_accumulator_value=0.0,
                 epsilon=1e-10, weight_decay=0.0, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, clipvalue, clipnorm, global_clipnorm)
        self.lr_decay = _number(lr_decay, "lr_decay")
        self.initial_accumulator_value = _number(initial_accumulator_value,
                                                 "initial_accumulator_value")
        self.epsilon = _number(epsilon, "epsilon")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self._check()


class Rprop(Optimizer):
    """Rprop, torch.optim.Rprop's rule (FANN's default training algorithm).

    Each weight has its own step, starting at learning_rate. When its
    gradient keeps its sign the step is multiplied by etas[1] (at most
    step_sizes[1]); when the sign flips it is multiplied by etas[0] (at least
    step_sizes[0]) and that gradient is taken as 0; then
    w -= sign(g) * step. Only the gradient's sign is used: Rprop is meant for
    full-batch training (batch_size >= the number of samples).

    Defaults are PyTorch's: learning_rate=0.01, etas=(0.5, 1.2),
    step_sizes=(1e-6, 50).
    """

    kind = _lib.NN_OPTIMIZER_RPROP

    def __init__(self, learning_rate=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50),
                 clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(learning_rate, clipvalue, clipnorm, global_clipnorm)
        self.etas = _pair(etas, "etas")
        self.step_sizes = _pair(step_sizes, "step_sizes")
        self._check()

    def _fill(self, options):
        options.eta_minus, options.eta_plus = self.etas
        options.step_size_min, options.step_size_max = self.step_sizes

    @classmethod
    def _from_libnn(cls, fields, learning_rate, **clipping):
        return cls(learning_rate, etas=(fields["eta_minus"], fields["eta_plus"]),
                   step_sizes=(fields["step_size_min"], fields["step_size_max"]), **clipping)


class Adamax(Optimizer):
    """Adamax, torch.optim.Adamax's rule: Adam with the infinity norm.

    With g = grad + weight_decay * w and t the step count from 1:
        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g| + epsilon)
        w -= learning_rate / (1 - beta_1^t) * m / u

    Defaults are PyTorch's: learning_rate=0.002 (Keras uses 0.001),
    beta_1=0.9, beta_2=0.999, epsilon=1e-8 (Keras uses 1e-7),
    weight_decay=0.0.
    """

    kind = _lib.NN_OPTIMIZER_ADAMAX
    _parameters = (("beta_1", "beta1"), ("beta_2", "beta2"), ("epsilon", "epsilon"),
                   ("weight_decay", "weight_decay"))

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(learning_rate, clipvalue, clipnorm, global_clipnorm)
        self.beta_1 = _number(beta_1, "beta_1")
        self.beta_2 = _number(beta_2, "beta_2")
        self.epsilon = _number(epsilon, "epsilon")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self._check()

#: name -> class; the names are libnn's (nn_enum_name).
_BY_NAME = _names.name_classes(_lib.NN_ENUM_OPTIMIZER,
                               (SGD, Adam, AdamW, RMSprop, Adagrad, Rprop, Adamax), attribute="kind")


def get(identifier):
    """An Optimizer object from a name or an Optimizer object."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    valid = ", ".join(repr(n) for n in _BY_NAME)
    raise ValueError(f"unknown optimizer {identifier!r}; valid optimizers are {valid} "
                     "or an nn.optimizers.Optimizer object")
