"""Learning-rate schedules, per epoch, with PyTorch's formulas.

Pass one as an optimizer's learning rate::

    opt = nn.optimizers.SGD(learning_rate=nn.schedules.StepDecay(0.1, step_size=10))

The rate of epoch e (counting every epoch the model has trained, from 0,
across fit calls; lr0 = initial_learning_rate) is

==================  ==================================================  ===========================
StepDecay           lr0 * gamma ** floor(e / step_size)                 torch StepLR
ExponentialDecay    lr0 * gamma ** e                                    torch ExponentialLR
CosineDecay         eta_min + (lr0 - eta_min) * (1 + cos(pi e / t_max)) / 2  torch CosineAnnealingLR
==================  ==================================================  ===========================

These are per-EPOCH schedules (PyTorch's scheduler.step() once per
epoch), run by libnn inside fit. Keras's ExponentialDecay/CosineDecay of
the same names count optimizer steps and take other arguments
(decay_steps, decay_rate): they are in nn.optimizers.schedules, with
Keras's formulas and arguments (and PiecewiseConstantDecay,
InverseTimeDecay and LearningRateSchedule subclasses of your own). An
epoch-level equivalent of a Keras ExponentialDecay here has
gamma = decay_rate ** (steps_per_epoch / decay_steps).

While a schedule is set, fit's History has a 'learning_rate' entry: the
rate each epoch used. For a rate that reacts to the logs, see
nn.callbacks.ReduceLROnPlateau.
"""

import ctypes
import math
import numbers

from . import _handle, _lib


def _positive_rate(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value) or value <= 0:
        raise ValueError(f"initial_learning_rate must be a finite number > 0, got {value!r}")
    return float(value)


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be an integer >= 1, got {value!r}")
    return int(value)


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


class LearningRateSchedule:
    """Base class. ``initial_learning_rate`` becomes the optimizer's
    learning_rate; ``_options()`` is the nn_schedule_options libnn receives."""

    kind = None

    def _options(self):
        options = _lib.nn_schedule_options()
        _handle._check(_lib.nn_schedule_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), self.kind))
        self._fill(options)
        return options

    def _fill(self, options):
        raise NotImplementedError

    def _check(self):
        """Let libnn check the values now (its message names the value)."""
        _handle.check_on_scratch_model(_lib.nn_model_set_lr_schedule,
                                       ctypes.byref(self._options()))

    def get_config(self):
        return dict(vars(self))

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self), tuple(sorted(vars(self).items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class StepDecay(LearningRateSchedule):
    """lr0 * gamma ** floor(epoch / step_size) (torch.optim.lr_scheduler.StepLR).

    step_size: epochs between decays (>= 1); gamma: factor > 0, default 0.1."""

    kind = _lib.NN_SCHEDULE_STEP

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        self.initial_learning_rate = _positive_rate(initial_learning_rate)
        self.step_size = _count(step_size, "step_size")
        self.gamma = _number(gamma, "gamma")
        self._check()

    def _fill(self, options):
        options.step_size = self.step_size
        options.gamma = self.gamma


class ExponentialDecay(LearningRateSchedule):
    """lr0 * gamma ** epoch (torch.optim.lr_scheduler.ExponentialLR); gamma > 0.

    Per epoch, unlike keras.optimizers.schedules.ExponentialDecay."""

    kind = _lib.NN_SCHEDULE_EXPONENTIAL

    def __init__(self, initial_learning_rate, gamma):
        self.initial_learning_rate = _positive_rate(initial_learning_rate)
        self.gamma = _number(gamma, "gamma")
        self._check()

    def _fill(self, options):
        options.gamma = self.gamma


class CosineDecay(LearningRateSchedule):
    """eta_min + (lr0 - eta_min) * (1 + cos(pi * epoch / t_max)) / 2
    (torch.optim.lr_scheduler.CosineAnnealingLR's closed form).

    t_max: half period in epochs (>= 1); eta_min: lowest rate >= 0. Past
    t_max the rate rises again, as PyTorch's closed form does.
    Per epoch, unlike keras.optimizers.schedules.CosineDecay."""

    kind = _lib.NN_SCHEDULE_COSINE

    def __init__(self, initial_learning_rate, t_max, eta_min=0.0):
        self.initial_learning_rate = _positive_rate(initial_learning_rate)
        self.t_max = _count(t_max, "t_max")
        self.eta_min = _number(eta_min, "eta_min")
        self._check()

    def _fill(self, options):
        options.t_max = self.t_max
        options.eta_min = self.eta_min
