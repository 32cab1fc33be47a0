"""Optimizers. Update rules and defaults are PyTorch's (torch.optim); argument
names are Keras's where Keras has the argument.

Every optimizer also takes Keras's gradient clipping: ``clipnorm`` (each
weight array's gradient rescaled to norm <= clipnorm), ``global_clipnorm``
(the whole gradient rescaled to norm <= global_clipnorm) or ``clipvalue``
(each element clipped to [-clipvalue, clipvalue]); at most one of them, as in
Keras 3. None (the default) disables each.

``learning_rate`` may be a number, an nn.schedules schedule (StepDecay,
ExponentialDecay, CosineDecay: PyTorch's per-EPOCH schedules, run by
libnn, whose initial_learning_rate is then the optimizer's rate), or a
Keras per-STEP schedule of nn.optimizers.schedules (ExponentialDecay,
PiecewiseConstantDecay, CosineDecay, InverseTimeDecay, or a subclass of
nn.optimizers.schedules.LearningRateSchedule of your own): as in Keras,
the optimizer's step t (counted from 0 by ``optimizer.iterations``, across
fits and train_on_batch calls) uses the rate schedule(t).

``optimizer.learning_rate = x`` on the optimizer of a compiled model sets
the model's learning rate from its next update on (also from a callback
during fit), as in Keras; ``optimizer.iterations`` is the number of
updates made so far (0 before any). Unlike Keras, reading
``optimizer.learning_rate`` gives the rate the optimizer was given (a
number, or the schedule object) - a ReduceLROnPlateau or a schedule does
not change it; the model's current rate is ``model.learning_rate``.

Hyper-parameters are checked by libnn when the optimizer is constructed and
again when a model is compiled; a value out of range raises
nn.InvalidArgumentError (a ValueError) whose message names it.

Names for compile(optimizer=...): 'sgd', 'adam', 'adamw', 'rmsprop',
'adagrad', 'rprop', 'adamax' (each with its defaults).
"""

import bisect
import ctypes
import math
import numbers
import sys
import types
import weakref

from . import _handle, _lib, _names
from . import schedules as _epoch_schedules


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
    if isinstance(value, (_epoch_schedules.LearningRateSchedule, LearningRateSchedule)):
        return value
    if callable(value) and not isinstance(value, numbers.Real):
        raise ValueError(f"learning_rate must be a number or a schedule (an "
                         f"nn.optimizers.schedules.LearningRateSchedule subclass with "
                         f"__call__(step), or an nn.schedules schedule), got {value!r}")
    return _number(value, "learning_rate")


def _pair(value, what):
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{what} must be a pair of numbers, got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{what} must be a pair of numbers, got {value!r}")
    return (_number(items[0], f"{what}[0]"), _number(items[1], f"{what}[1]"))


# --------------------------------------------------------------------------
# Keras's per-step learning-rate schedules: nn.optimizers.schedules
# --------------------------------------------------------------------------

_SCHEDULES_DOC = """Keras's learning-rate schedules (keras.optimizers.schedules): per
optimizer STEP.

Pass one as an optimizer's learning_rate::

    lr_schedule = nn.optimizers.schedules.ExponentialDecay(
        0.1, decay_steps=100000, decay_rate=0.96, staircase=True)
    optimizer = nn.optimizers.RMSprop(learning_rate=lr_schedule)

The update of optimizer step t (t = optimizer.iterations before it: 0, 1,
2, ... over every fit and train_on_batch of the model) uses the rate
schedule(t), with Keras's formulas (lr0 = initial_learning_rate,
p = t / decay_steps, floor(p) with staircase=True):

======================  ======================================================
ExponentialDecay        lr0 * decay_rate ** p
InverseTimeDecay        lr0 / (1 + decay_rate * p)
PiecewiseConstantDecay  values[i] for boundaries[i-1] < t <= boundaries[i]
                        (values[0] up to boundaries[0], values[-1] after the last)
CosineDecay             lr0 * ((1 - alpha) * (1 + cos(pi * min(t, decay_steps)
                        / decay_steps)) / 2 + alpha); with warmup_target, first
                        a linear rise from lr0 to warmup_target over
                        warmup_steps, then the decay from warmup_target
======================  ======================================================

A schedule of your own subclasses LearningRateSchedule and defines
``__call__(self, step)`` (step: an int) and ``get_config()``, as in Keras.
The rate must be a finite number >= 0 (a ValueError names the schedule
and the step otherwise); 0 is a rate, as in Keras (a CosineDecay with
alpha=0 past decay_steps, a warmup from 0 at step 0): those steps change
no weight.

NOT nn.schedules: those are PyTorch's per-EPOCH schedules (StepDecay,
ExponentialDecay(initial_learning_rate, gamma), CosineDecay(
initial_learning_rate, t_max)) that libnn runs itself and logs under
'learning_rate'; the ExponentialDecay and CosineDecay here have Keras's
arguments and count steps. How these run: fit asks libnn to call back
after every batch (nn_batch_callback) and sets the next step's rate
(nn_model_set_learning_rate); train_on_batch sets it before its step.
After a fit, model.learning_rate is the rate of the next step,
schedule(optimizer.iterations). A schedule assigned to the optimizer
during a fit (from a callback) replaces the running one from the next
step; assigned when the fit began with a constant rate, it takes effect
at the next fit (whether libnn calls back per batch is decided when a fit
starts): until then the rate stays at its value for the current step.
Differences from Keras: the rate is computed in double precision (Keras:
float32); nn.load_model gives back the optimizer with the rate the saved
model had reached, not the schedule (a file holds no Python code): assign
the schedule again (``model.optimizer.learning_rate = schedule``) to go on
from the saved optimizer.iterations. A ReduceLROnPlateau cannot be combined
with a schedule (Keras refuses it too).
"""

#: optimizer -> weakref to the model it is compiled into (Optimizer._bind).
_BOUND = weakref.WeakKeyDictionary()

#: libnn's compile needs a rate > 0; a step schedule whose rate at step 0
#: is 0 (a warmup from 0) gives libnn this one, never used by an update.
_PLACEHOLDER_RATE = 1e-3


def scheduled_rate(schedule, step):
    """schedule(step) as a float, checked: finite and >= 0."""
    value = schedule(step)
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"the learning-rate schedule {schedule!r} gave {value!r} at step {step}; "
                         "it must give a number") from None
    if not (math.isfinite(rate) and rate >= 0):
        raise ValueError(f"the learning-rate schedule {schedule!r} gave {rate!r} at step {step}; "
                         "a learning rate must be a finite number >= 0")
    return rate


def _steps(value, what, positive):
    """A step count (an int stays an int, as Keras keeps it): > 0 if
    positive, else >= 0."""
    number = _finite(value, what)
    if not (number > 0 if positive else number >= 0):
        raise ValueError(f"{what} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else number


def _finite(value, what):
    value = _number(value, what)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return value


class LearningRateSchedule:
    """Base class of the per-step schedules (keras.optimizers.schedules.
    LearningRateSchedule). A subclass defines ``__call__(self, step)``,
    the rate of optimizer step `step` (an int from 0), and, to be
    serializable, ``get_config()``; ``from_config(config)`` is
    ``cls(**config)``."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must define get_config() to be "
                                  "serializable")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            config = self.get_config()
        except NotImplementedError:
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "name")
        return f"{type(self).__name__}({args})"


class _StepDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments
    and p = t / decay_steps (floored with staircase=True)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = _finite(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _steps(decay_steps, "decay_steps", True)
        self.decay_rate = _finite(decay_rate, "decay_rate")
        self.staircase = _flag(staircase, "staircase")
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepDecay):
    """keras.optimizers.schedules.ExponentialDecay: the rate of step t is
    initial_learning_rate * decay_rate ** (t / decay_steps), the exponent
    floored with staircase=True. Not nn.schedules.ExponentialDecay (per
    epoch, PyTorch's gamma)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class InverseTimeDecay(_StepDecay):
    """keras.optimizers.schedules.InverseTimeDecay: the rate of step t is
    initial_learning_rate / (1 + decay_rate * t / decay_steps), t /
    decay_steps floored with staircase=True."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """keras.optimizers.schedules.PiecewiseConstantDecay: values[0] for
    steps t <= boundaries[0], values[i] for boundaries[i-1] < t <=
    boundaries[i], values[-1] for t > boundaries[-1]. boundaries: increasing
    step numbers; values: one more than boundaries."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries = [_steps(b, f"boundaries[{i}]", False) for i, b in enumerate(list(boundaries))]
        values = [_finite(v, f"values[{i}]") for i, v in enumerate(list(values))]
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay needs one more value than boundaries, got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay boundaries must increase, got {boundaries!r}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values),
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """keras.optimizers.schedules.CosineDecay: without warmup_target, the
    rate of step t is initial_learning_rate * ((1 - alpha) * c + alpha),
    c = (1 + cos(pi * min(t, decay_steps) / decay_steps)) / 2. With a
    warmup_target, steps t < warmup_steps rise linearly,
    initial_learning_rate + (warmup_target - initial_learning_rate) * t /
    warmup_steps, and the decay above then runs from warmup_target over
    t - warmup_steps. Not nn.schedules.CosineDecay (per epoch, PyTorch's
    t_max)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _finite(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _steps(decay_steps, "decay_steps", True)
        self.alpha = _finite(alpha, "alpha")
        self.name = name
        self.warmup_target = (None if warmup_target is None
                              else _finite(warmup_target, "warmup_target"))
        self.warmup_steps = _steps(warmup_steps, "warmup_steps", False)

    def _decay(self, step, start):
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + (
                self.warmup_target - self.initial_learning_rate) * fraction
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def _schedules_module():
    """nn.optimizers.schedules, a module of this one's schedule classes
    (registered in sys.modules, so that ``import nn.optimizers.schedules``
    and ``from nn.optimizers.schedules import ExponentialDecay`` work as
    with keras)."""
    module = types.ModuleType(__name__ + ".schedules", _SCHEDULES_DOC)
    for cls in (LearningRateSchedule, ExponentialDecay, InverseTimeDecay,
                PiecewiseConstantDecay, CosineDecay):
        setattr(module, cls.__name__, cls)
    module.__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay",
                      "PiecewiseConstantDecay", "CosineDecay"]
    sys.modules[module.__name__] = module
    return module


schedules = _schedules_module()


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

    def __setattr__(self, key, value):
        # optimizer.learning_rate = x (Keras): checked, and given to the
        # model this optimizer is compiled into (before it is stored, so
        # that a refusal changes nothing)
        if key == "learning_rate":
            value = _learning_rate(value)
            model = self._bound_model()
            if model is not None:
                model._optimizer_rate_assigned(self, value)
        object.__setattr__(self, key, value)

    def _bind(self, model):
        """Remember the model this optimizer is compiled into (the last one;
        kept outside the object, whose attributes are its settings)."""
        _BOUND[self] = weakref.ref(model)

    def _bound_model(self):
        """The model this optimizer is compiled into, or None."""
        ref = _BOUND.get(self)
        model = None if ref is None else ref()
        if model is None or model._optimizer is not self or model.closed:
            return None
        return model

    @property
    def iterations(self):
        """The updates this optimizer has made in the model it is compiled
        into (Keras's optimizer.iterations; nn_model_optimizer_iterations):
        every training step of fit and train_on_batch counts one; 0 before
        the first, and again after compile. Saved and loaded with the
        optimizer's state."""
        model = self._bound_model()
        if model is None or not model.built:
            return 0
        return model._optimizer_iterations()

    @property
    def schedule(self):
        """The per-epoch learning-rate schedule (nn.schedules) that libnn
        runs, or None (a constant rate, or a per-step Keras schedule: see
        step_schedule)."""
        if isinstance(self.learning_rate, _epoch_schedules.LearningRateSchedule):
            return self.learning_rate
        return None

    @property
    def step_schedule(self):
        """The per-step Keras schedule (nn.optimizers.schedules) the
        learning_rate is, or None."""
        if isinstance(self.learning_rate, LearningRateSchedule):
            return self.learning_rate
        return None

    @property
    def initial_learning_rate(self):
        """The rate libnn starts from: the number, an nn.schedules
        schedule's initial_learning_rate, or a per-step schedule's rate at
        step 0 (if that is 0, as with a warmup from 0, libnn is given a
        placeholder that the first step never uses: fit and train_on_batch
        set the scheduled rate before every step)."""
        schedule = self.schedule
        if schedule is not None:
            return schedule.initial_learning_rate
        step_schedule = self.step_schedule
        if step_schedule is not None:
            rate = scheduled_rate(step_schedule, 0)
            return rate if rate > 0 else _PLACEHOLDER_RATE
        return self.learning_rate

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
