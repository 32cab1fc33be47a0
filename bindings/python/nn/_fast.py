"""predict's compiled helper (nn/_speedups.c), loaded where it may load.

`predict` is nn._speedups.predict bound to the nn_model_predict of the
libnn that _lib loaded, or None: on interpreters other than CPython >= 3.11
with the GIL (the helper is built for CPython's stable ABI of 3.11, which a
free-threaded build does not have), where it was not built, or with NN_NO_SPEEDUPS=1 in the environment. models.Sequential's
predict then calls libnn through ctypes, with the same results and errors.
"""

import ctypes
import os
import sys
import sysconfig

from . import _lib

predict = None
# Whether the helper reads numpy arrays' fields in place (nn/_speedups.c,
# bind_arrays) rather than through the buffer protocol.
arrays_in_place = False
# The address of _speedups.c's nn_allreduce_callback that calls MPI_Allreduce
# without Python (nn.distributed), or None.
mpi_allreduce_callback = None
if (os.environ.get("NN_NO_SPEEDUPS", "") in ("", "0") and sys.implementation.name == "cpython"
        and sys.version_info >= (3, 11) and not sysconfig.get_config_var("Py_GIL_DISABLED")):
    try:
        from . import _speedups
    except ImportError:
        _speedups = None
    if _speedups is not None:
        _speedups.bind(ctypes.cast(_lib.lib.nn_model_predict, ctypes.c_void_p).value)
        # Exact ndarrays read in place, once the layout is checked on these
        # (a helper built before bind_arrays existed, in a checkout not yet
        # rebuilt, takes every array through the buffer protocol).
        if hasattr(_speedups, "bind_arrays"):
            import numpy
            _probe = numpy.empty((3, 5), numpy.float32)
            arrays_in_place = _speedups.bind_arrays(numpy.ndarray, numpy.dtype(numpy.float32), _probe,
                                                    _probe[:, ::2])
            del _probe
        predict = _speedups.predict
        mpi_allreduce_callback = _speedups.mpi_allreduce_callback()
