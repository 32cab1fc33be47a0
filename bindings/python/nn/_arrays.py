"""numpy <-> C: the conversions every call into libnn makes (float32
C-contiguous matrices without a copy when possible, size_t arguments,
pointers). Used by models.py and _fit.py.

pandas: x may be a DataFrame and y a DataFrame or a Series wherever an
array is taken (fit, validation_data, evaluate, predict, ...). pandas is
never imported here: an object is a pandas one only if pandas is loaded
already (sys.modules) and the object is an instance of its DataFrame or
Series (subclasses too). The rules:

- Numeric columns (numpy int, uint, float, bool, and pandas' nullable
  Int*/UInt*/Float*/boolean) become float32 (True = 1.0) in one
  row-major array (pandas keeps columns, libnn reads rows). Copies:
  columns of one numpy dtype, one (a one-column float32 frame: none;
  two if pandas keeps them in several blocks, e.g. after columns were
  added one by one and not consolidated); mixed dtypes, one per column
  into the result (nullable and object columns through a float32
  temporary of the column).
- Missing values (NaN, None, pd.NA) become NaN, which libnn refuses with
  its own message, as NaN in an ndarray ("training input holds a
  non-finite value (nan) at row 3, column 2").
- The first column that is not numeric raises ValueError naming it:
  "x: column 'city' is not numeric (dtype str); encode it first (e.g.
  pandas.get_dummies)". Strings, categoricals, datetimes, timedeltas
  and complex numbers are not numeric.
- An object-dtype column is taken when every value in it is a real
  number (int, float, bool, numpy numbers, decimal.Decimal) or missing;
  the first other value (a str, even "3.5") raises ValueError naming
  the column, the row and the value ("convert it first (e.g.
  pandas.to_numeric)"): text is never parsed as a number silently.
- The index is ignored: rows are taken in order (as Keras and PyTorch
  take them through numpy), so x and y must be in the same row order.
- A Series as x is refused as a 1-D array is (pass series.to_frame());
  as y it is one target column.

_feature_names(a) gives a DataFrame's column names when all are str (scikit-learn's
rule), else None.
"""

import ctypes
import decimal
import numbers
import sys

import numpy as np

_FLOAT = ctypes.c_float
_FLOAT_P = ctypes.POINTER(_FLOAT)



def _as_matrix(a, what):
    """a as a 2-D float32 C-contiguous array; no copy when it already is one.
    A pandas DataFrame: see the module docstring."""
    if isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous:
        arr = a
    else:
        kind = _pandas_kind(a)
        if kind == "frame":
            arr = _frame_values(a, what)
        elif kind == "series":
            raise ValueError(f"{what} must be a 2-D array (samples, features), got a pandas "
                             f"Series of {len(a)} values; for one feature pass "
                             "series.to_frame()")
        else:
            try:
                arr = np.ascontiguousarray(a, dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{what} must be numeric array data: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (samples, features), got an array of "
                         f"shape {arr.shape}")
    return arr


def _as_targets(a, what):
    """Targets: a 1-D array (or a pandas Series) becomes a column; integers
    become float32."""
    kind = _pandas_kind(a)
    if kind == "series":
        arr = _series_values(a, what)
    elif kind == "frame":
        arr = _frame_values(a, what)
    else:
        arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return _as_matrix(arr, what)


def _feature_names(a):
    """The column names of a pandas DataFrame whose names are all str, as a
    list, else None (scikit-learn's rule for feature_names_in_: integer
    labels 0, 1, ... name no feature, and "1" must not match 1)."""
    if _pandas_kind(a) != "frame":
        return None
    names = list(a.columns)
    return names if all(isinstance(name, str) for name in names) else None


# --------------------------------------------------------------------------
# pandas (never imported here; see the module docstring)
# --------------------------------------------------------------------------

def _pandas_kind(a):
    """'frame' for a pandas DataFrame, 'series' for a Series, else None.
    Costs a dict lookup when pandas is not loaded."""
    pandas = sys.modules.get("pandas")
    if pandas is None or isinstance(a, np.ndarray):
        return None
    if isinstance(a, pandas.DataFrame):
        return "frame"
    if isinstance(a, pandas.Series):
        return "series"
    return None


def _column_kind(dtype):
    """'numpy' for a numpy int/uint/float/bool dtype, 'nullable' for one of
    pandas' numeric or boolean extension dtypes, 'object' for numpy's
    object dtype, None for anything else (not numeric)."""
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biuf":
            return "numpy"
        return "object" if dtype.kind == "O" else None
    from pandas.api import types      # pandas is loaded: the data is pandas'
    if isinstance(dtype, sys.modules["pandas"].CategoricalDtype):
        return None                   # categories are labels, even 0/1 or True/False ones
    if types.is_bool_dtype(dtype) or (types.is_numeric_dtype(dtype)
                                      and not types.is_complex_dtype(dtype)):
        return "nullable"
    return None


def _not_numeric(what, name, dtype):
    return ValueError(f"{what}: {name} is not numeric (dtype {dtype}); encode it first "
                      "(e.g. pandas.get_dummies)")


_NUMBERS = (numbers.Real, decimal.Decimal, np.bool_)


def _object_values(values, what, name):
    """An object column's values as float32, if every one is a real number
    (bool as 0/1) or missing (then NaN); else ValueError naming the first
    other value."""
    from pandas import api, isna      # pandas is loaded: the data is pandas'
    out = np.empty(len(values), dtype=np.float32)
    for row, value in enumerate(values):
        number = isinstance(value, _NUMBERS) and not isinstance(value, (np.timedelta64, np.datetime64))
        if number:
            try:
                out[row] = float(value)
                continue
            except (TypeError, ValueError, OverflowError):
                number = False        # (a huge int, a signalling NaN Decimal)
        try:
            missing = value is None or (api.types.is_scalar(value) and bool(isna(value)))
        except (TypeError, ValueError, ArithmeticError):   # (a signalling NaN Decimal)
            missing = False
        if missing:
            out[row] = np.nan
        else:
            raise ValueError(f"{what}: {name} (dtype object) holds a {type(value).__name__} at "
                             f"row {row}: {value!r}; libnn takes numbers only, convert it "
                             "first (e.g. pandas.to_numeric, or pandas.get_dummies for "
                             "categories)")
    return out


def _column_values(column, kind, what, name):
    """One Series' values as a 1-D float32 array (or a numpy view of them
    for a numpy numeric dtype, which the caller copies once)."""
    if kind == "numpy":
        return column.to_numpy()
    if kind == "nullable":
        return column.to_numpy(dtype=np.float32, na_value=np.nan)
    return _object_values(column.to_numpy(), what, name)


def _label(name, series=False):
    if series:
        return "the Series" if name is None else f"Series {name!r}"
    return f"column {name!r}"


def _series_values(series, what):
    """A pandas Series as a 1-D float32 array (one copy)."""
    name = _label(series.name, series=True)
    kind = _column_kind(series.dtype)
    if kind is None:
        raise _not_numeric(what, name, series.dtype)
    return np.asarray(_column_values(series, kind, what, name), dtype=np.float32)


def _frame_values(frame, what):
    """A pandas DataFrame as a 2-D float32 C-contiguous array: every column
    checked first (the first non-numeric one is named), then one copy."""
    kinds = []
    for name, dtype in frame.dtypes.items():
        kind = _column_kind(dtype)
        if kind is None:
            raise _not_numeric(what, _label(name), dtype)
        kinds.append(kind)
    dtypes = frame.dtypes
    if kinds and all(k == "numpy" for k in kinds) and all(d == dtypes.iloc[0] for d in dtypes):
        # one numpy dtype: pandas gives its block as a view (column-major),
        # converted and made row-major in one copy
        return np.ascontiguousarray(frame.to_numpy(), dtype=np.float32)
    out = np.empty(frame.shape, dtype=np.float32)
    for j, ((name, column), kind) in enumerate(zip(frame.items(), kinds)):
        out[:, j] = _column_values(column, kind, what, _label(name))
    return out


def _ptr(arr):
    """A float * argument for arr's data. A ctypes c_float over arr's own
    buffer (ctypes passes its address where a POINTER(c_float) is declared)
    costs a quarter of `arr.ctypes.data_as` (0.6 µs against 3.7 on the
    project's machine), which is most of a small predict's Python overhead;
    read-only and empty arrays, which from_buffer refuses, take the general
    path."""
    try:
        return _FLOAT.from_buffer(arr)
    except (TypeError, ValueError):
        return arr.ctypes.data_as(_FLOAT_P)


def _pointer(arr):
    """A POINTER(c_float) to arr's data, for a pointer field of a struct
    (where ctypes does not take the address of a c_float itself)."""
    return arr.ctypes.data_as(_FLOAT_P)


def _size(value, what):
    """A non-negative int for a size_t argument (ctypes would wrap negatives)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_rows(x, y, what):
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: x and y have different numbers of samples: "
                         f"{x.shape[0]} and {y.shape[0]}")
