"""Weight initializers (Keras names and formulas; fan_in = inputs, fan_out = units).

Dense takes, for ``kernel_initializer`` and ``bias_initializer``, a name or
an object of this module:

=================  ===============================================  =================
name               formula                                          class
=================  ===============================================  =================
'glorot_uniform'   U(-l, l), l = sqrt(6 / (fan_in + fan_out))       GlorotUniform()
'glorot_normal'    truncated normal, stddev sqrt(2 / (in + out))    GlorotNormal()
'he_uniform'       U(-l, l), l = sqrt(6 / fan_in)                   HeUniform()
'he_normal'        truncated normal, stddev sqrt(2 / fan_in)        HeNormal()
'lecun_uniform'    U(-l, l), l = sqrt(3 / fan_in)                   LecunUniform()
'lecun_normal'     truncated normal, stddev sqrt(1 / fan_in)        LecunNormal()
'zeros'            0                                                Zeros()
'ones'             1                                                Ones()
                   a constant                                       Constant(value)
=================  ===============================================  =================

The random ones draw from the model's seeded generator (Sequential(seed=)),
so they take no seed of their own.
"""

import math
import numbers

from . import _lib


class Initializer:
    """Base class. ``name`` is the Keras name, ``code`` the nn_initializer
    value, ``value`` the constant libnn receives (used by Constant only)."""

    name = None
    code = None
    value = 0.0

    def get_config(self):
        return {"name": self.name}

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), self.value))

    def __repr__(self):
        return f"{type(self).__name__}()"


class GlorotUniform(Initializer):
    name = "glorot_uniform"
    code = _lib.NN_INIT_GLOROT_UNIFORM


class GlorotNormal(Initializer):
    name = "glorot_normal"
    code = _lib.NN_INIT_GLOROT_NORMAL


class HeUniform(Initializer):
    name = "he_uniform"
    code = _lib.NN_INIT_HE_UNIFORM


class HeNormal(Initializer):
    name = "he_normal"
    code = _lib.NN_INIT_HE_NORMAL


class LecunUniform(Initializer):
    name = "lecun_uniform"
    code = _lib.NN_INIT_LECUN_UNIFORM


class LecunNormal(Initializer):
    name = "lecun_normal"
    code = _lib.NN_INIT_LECUN_NORMAL


class Zeros(Initializer):
    name = "zeros"
    code = _lib.NN_INIT_ZEROS


class Ones(Initializer):
    name = "ones"
    code = _lib.NN_INIT_ONES


class Constant(Initializer):
    """Every value equal to ``value`` (Keras's Constant; default 0.0)."""

    name = "constant"
    code = _lib.NN_INIT_CONSTANT

    def __init__(self, value=0.0):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
                value):
            raise ValueError(f"Constant initializer value must be a finite number, got {value!r}")
        self.value = float(value)

    def get_config(self):
        return {"name": self.name, "value": self.value}

    def __repr__(self):
        return f"Constant(value={self.value!r})"


_BY_NAME = {cls.name: cls for cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal,
                                      LecunUniform, LecunNormal, Zeros, Ones)}


def get(identifier):
    """An Initializer from a name or an Initializer object."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    valid = ", ".join(repr(n) for n in _BY_NAME)
    raise ValueError(f"unknown initializer {identifier!r}; valid initializers are {valid}, "
                     "or an nn.initializers object such as Constant(0.1)")
