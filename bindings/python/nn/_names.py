"""Names of nn.h's enum values, asked of libnn (nn_enum_name), so that the
binding never restates them: an activation's, optimizer's, loss's, metric's
or initializer's name, and a layer kind's default layer name."""

from . import _lib


def enum_name(enumeration, value):
    """libnn's name of `value` of `enumeration` (an NN_ENUM_* constant);
    LookupError if libnn does not know the value (a binding newer than its
    libnn)."""
    raw = _lib.nn_enum_name(enumeration, value)
    if raw is None:
        raise LookupError(f"libnn has no name for value {value} of enumeration {enumeration}; "
                          f"is the loaded libnn ({_lib.nn_version().decode()}) older than this binding?")
    return raw.decode("utf-8")


def known_values(enumeration):
    """{value: name} of every value of `enumeration` libnn knows."""
    names = {}
    for value in range(256):
        raw = _lib.nn_enum_name(enumeration, value)
        if raw is not None:
            names[value] = raw.decode("utf-8")
    return names


def name_classes(enumeration, classes, attribute="code"):
    """Sets each class's ``name`` to libnn's name of its ``code``; returns
    {name: class}."""
    for cls in classes:
        cls.name = enum_name(enumeration, getattr(cls, attribute))
    return {cls.name: cls for cls in classes}
