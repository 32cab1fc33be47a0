"""Names come from libnn (issue 11, item 3): nn_enum_name names every value
of nn.h's enums, and the binding takes its activation and optimizer names
and its layers' default names from it. These tests fail when the header
(mirrored by _lib.py), libnn's registries and the Python classes disagree:
a value nn.h declares that libnn cannot name, a value libnn knows that has
no Python class, or a Python class whose name is not libnn's.
"""

import pytest

import nn
from nn import (_lib, _names, activations, initializers, layers, losses, metrics,
                optimizers)

ENUMERATIONS = {
    "nn_activation": _lib.NN_ENUM_ACTIVATION,
    "nn_initializer": _lib.NN_ENUM_INITIALIZER,
    "nn_loss": _lib.NN_ENUM_LOSS,
    "nn_optimizer": _lib.NN_ENUM_OPTIMIZER,
    "nn_metric": _lib.NN_ENUM_METRIC,
    "nn_layer_kind": _lib.NN_ENUM_LAYER_KIND,
}


@pytest.mark.parametrize("c_type", sorted(ENUMERATIONS))
def test_libnn_names_exactly_the_values_the_header_declares(c_type):
    declared = set(_lib.ENUMS[c_type].values())
    known = _names.known_values(ENUMERATIONS[c_type])
    assert set(known) == declared, (
        f"{c_type}: nn.h declares {sorted(declared)}, libnn names {sorted(known)}")
    assert all(name and name == name.lower() and " " not in name for name in known.values())
    assert len(set(known.values())) == len(known), f"{c_type}: two values share a name: {known}"


def test_header_constant_names_match_libnn_names():
    """NN_ACTIVATION_LEAKY_RELU is libnn's "leaky_relu", and so on: the
    constant's suffix is the name (initializers: NN_INIT_X)."""
    prefixes = {"nn_activation": "NN_ACTIVATION_", "nn_initializer": "NN_INIT_",
                "nn_loss": "NN_LOSS_", "nn_optimizer": "NN_OPTIMIZER_", "nn_metric": "NN_METRIC_",
                "nn_layer_kind": "NN_LAYER_"}
    for c_type, prefix in prefixes.items():
        for constant, value in _lib.ENUMS[c_type].items():
            expected = constant[len(prefix):].lower()
            assert _names.enum_name(ENUMERATIONS[c_type], value) == expected, constant


def test_unknown_values_have_no_name():
    assert _lib.nn_enum_name(_lib.NN_ENUM_OPTIMIZER, 0) is None
    assert _lib.nn_enum_name(_lib.NN_ENUM_ACTIVATION, 255) is None
    assert _lib.nn_enum_name(_lib.NN_ENUM_ACTIVATION, -1) is None
    assert _lib.nn_enum_name(0, 1) is None
    with pytest.raises(LookupError, match="no name for value 77"):
        _names.enum_name(_lib.NN_ENUM_LOSS, 77)


def _classes(module, base):
    return [cls for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base
            and not cls.__name__.startswith("_")]


def test_every_activation_libnn_knows_has_a_python_class():
    known = _names.known_values(_lib.NN_ENUM_ACTIVATION)
    classes = {cls.code: cls for cls in _classes(activations, activations.ActivationFunction)}
    assert set(classes) == set(known)
    for code, cls in classes.items():
        assert cls.name == known[code]
        assert activations.get(known[code]).code == code
    assert activations.NAMES == known


def test_every_optimizer_libnn_knows_has_a_python_class():
    known = _names.known_values(_lib.NN_ENUM_OPTIMIZER)
    classes = {cls.kind: cls for cls in _classes(optimizers, optimizers.Optimizer)}
    assert set(classes) == set(known)
    for kind, cls in classes.items():
        assert cls.name == known[kind]
        assert type(optimizers.get(known[kind])) is cls


def test_layer_default_names_are_libnns():
    assert layers.KIND_NAMES == _names.known_values(_lib.NN_ENUM_LAYER_KIND)
    model = nn.Sequential([layers.Dense(4, input_dim=3), layers.Dropout(0.1), layers.Dense(2),
                           layers.BatchNormalization(), layers.Activation("relu")])
    assert [layer.name for layer in model.layers] == [
        "dense", "dropout", "dense_1", "batch_normalization", "activation"]


@pytest.mark.parametrize("module, base, enumeration", [
    (losses, losses.Loss, _lib.NN_ENUM_LOSS),
    (metrics, metrics.Metric, _lib.NN_ENUM_METRIC),
])
def test_loss_and_metric_names_are_libnns(module, base, enumeration):
    known = set(_names.known_values(enumeration).values())
    names = {cls.name for cls in _classes(module, base) if cls.name is not None}
    assert names <= known, f"names libnn does not know: {sorted(names - known)}"
    assert known <= names, f"libnn names without a Python class: {sorted(known - names)}"


def test_initializer_names_are_libnns():
    known = set(_names.known_values(_lib.NN_ENUM_INITIALIZER).values()) - {"default"}
    names = {cls.name for cls in _classes(initializers, initializers.Initializer) if cls.name}
    assert names == known
