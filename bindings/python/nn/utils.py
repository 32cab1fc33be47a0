"""Utilities (Keras's keras.utils)."""

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels.

    y: labels 0 .. num_classes-1 (any shape; a trailing axis of size 1 is
    dropped). Returns an array of shape y.shape + (num_classes,).
    Raises ValueError for negative, non-integral or too-large labels.
    """
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("to_categorical needs integral class labels")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"to_categorical needs integral class labels, got dtype {arr.dtype}")
    labels = arr.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and labels.min() < 0:
        raise ValueError(f"class labels must be >= 0, got {labels.min()}")
    largest = int(labels.max()) if labels.size else -1
    if num_classes is None:
        num_classes = largest + 1
    else:
        num_classes = int(num_classes)
        if num_classes <= 0:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        if largest >= num_classes:
            raise ValueError(f"label {largest} is out of range for num_classes={num_classes}")
    flat = labels.reshape(-1)
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(labels.shape + (num_classes,))
