/* nn._speedups: the Python binding's one compiled helper, for its hottest
 * call. Optional: the package works the same without it, through ctypes.
 *
 * Why it exists. A one-sample Sequential.predict spends about 12 us in
 * libnn; through ctypes the call around it cost 4-5 us more (two
 * c_float.from_buffer to reach the arrays' memory, byref, ctypes's argument
 * conversion and its libffi call). This module takes the two numpy arrays
 * through the buffer protocol and calls nn_model_predict directly, with the
 * GIL released, in well under a microsecond (README, "Python binding";
 * benchmarks/bench.py's w3_predict_latency rows).
 *
 * What it is not. It does not link libnn: nn/_lib.py loads libnn.so with
 * ctypes as before, and nn/_fast.py hands this module the address of that
 * library's nn_model_predict (bind), so one library serves both paths. It does not
 * link Python either (CPython extensions on Linux never do). It is built
 * against CPython's stable ABI of 3.11 (Py_LIMITED_API, file name
 * _speedups.abi3.so), so one build loads on every CPython >= 3.11; other
 * interpreters and versions (and free-threaded builds, which have no stable
 * ABI) use the ctypes path (nn/_fast.py imports it only where it may). It checks nothing that libnn checks: an array it
 * cannot hand over as is (not a C-contiguous float32 matrix, or empty) makes
 * predict return None, and the caller takes the general path, which
 * converts or refuses it with the usual messages.
 *
 * Built by `make python` (scripts/link-python.sh) next to the package, and
 * by cmake/PythonWheel.cmake into the wheel.
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* nn_model_predict's type, checked against the header's declaration (the
 * name is only inspected here, never referenced: nothing is linked). */
typedef nn_status predict_function(nn_model *model, const float *x, size_t rows, size_t cols,
                                   float *out, size_t capacity);
_Static_assert(__builtin_types_compatible_p(predict_function, __typeof__(nn_model_predict)),
               "nn_model_predict's signature in nn.h changed: update _speedups.c");

static predict_function *predict_entry;

/* bind(address): the address of nn_model_predict in the libnn.so that
 * ctypes loaded (an int). Called once, by nn/_fast.py at import. */
static PyObject *bind(PyObject *module, PyObject *address) {
    (void)module;
    void *entry = PyLong_AsVoidPtr(address);
    if (entry == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "bind: the address of nn_model_predict is NULL");
        return NULL;
    }
    predict_entry = (predict_function *)entry;
    Py_RETURN_NONE;
}

/* Whether view is a float32 matrix in C order with at least one element. */
static int is_float_matrix(const Py_buffer *view) {
    return view->ndim == 2 && view->itemsize == (Py_ssize_t)sizeof(float) && view->format != NULL &&
           view->format[0] == 'f' && view->format[1] == '\0' && view->len > 0;
}

/* predict(model, x, out) -> status or None
 *   model: the nn_model's address (an int); x: a float32 matrix (rows,
 *   cols); out: a writable float32 buffer of rows x outputs. Returns
 *   nn_model_predict's status (an int), or None, with nothing called, when
 *   x or out cannot be passed as they are. */
static PyObject *predict(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "predict(model, x, out) takes 3 arguments");
        return NULL;
    }
    if (predict_entry == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "nn._speedups.bind was not called");
        return NULL;
    }
    void *model = PyLong_AsVoidPtr(args[0]);
    if (model == NULL && PyErr_Occurred())
        return NULL;
    Py_buffer x, out;
    if (PyObject_GetBuffer(args[1], &x, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (PyObject_GetBuffer(args[2], &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) != 0) {
        PyErr_Clear();
        PyBuffer_Release(&x);
        Py_RETURN_NONE;
    }
    long status = -1;
    if (is_float_matrix(&x) && out.itemsize == (Py_ssize_t)sizeof(float) && out.format != NULL &&
        out.format[0] == 'f' && out.format[1] == '\0') {
        const float *xs = (const float *)x.buf;
        float *outs = (float *)out.buf;
        size_t rows = (size_t)x.shape[0], cols = (size_t)x.shape[1];
        size_t capacity = (size_t)out.len / sizeof(float);
        nn_status result;
        /* Both buffers stay exported (their arrays cannot be resized or
         * freed) until released below, after the call. */
        Py_BEGIN_ALLOW_THREADS
        result = predict_entry((nn_model *)model, xs, rows, cols, outs, capacity);
        Py_END_ALLOW_THREADS
        status = (long)result;
    }
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    if (status < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(status);
}

/* ---- nn.distributed's all-reduce, without Python ------------------------
 *
 * libnn's nn_allreduce_callback for a data-parallel fit, calling the
 * MPI_Allreduce of the MPI library that mpi4py loaded, on mpi4py's
 * communicator, with no Python and no GIL at each step. nn/distributed.py
 * fills the target (the function's address and MPI_IN_PLACE, MPI_FLOAT,
 * MPI_SUM and the communicator as mpi4py gives their handles) and passes
 * its address as the callback's user_data. The handles are passed as
 * intptr_t: Open MPI's are pointers; MPICH's are ints, which x86-64's and
 * AArch64's calling conventions read from the low half of the same
 * register. */
typedef int mpi_allreduce_function(const void *sendbuf, void *recvbuf, int count, intptr_t datatype,
                                   intptr_t op, intptr_t comm);

struct allreduce_target {
    mpi_allreduce_function *allreduce;
    intptr_t in_place, datatype, op, comm;
};

static int mpi_allreduce(float *values, size_t count, void *user_data) {
    const struct allreduce_target *t = user_data;
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        int status = t->allreduce((const void *)t->in_place, values, n, t->datatype, t->op, t->comm);
        if (status != 0) return status;
        values += n;
        count -= (size_t)n;
    }
    return 0;
}

/* The callback's address (an int), for nn/distributed.py. */
static PyObject *mpi_allreduce_callback(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    nn_allreduce_callback callback = mpi_allreduce;
    return PyLong_FromVoidPtr((void *)callback);
}

static PyMethodDef methods[] = {
    {"mpi_allreduce_callback", mpi_allreduce_callback, METH_NOARGS,
     "mpi_allreduce_callback() -> the address of an nn_allreduce_callback calling MPI_Allreduce "
     "through the target its user_data points to (nn/distributed.py)."},
    {"bind", bind, METH_O, "bind(address): the address of nn_model_predict in the loaded libnn."},
    {"predict", (PyCFunction)(void (*)(void))predict, METH_FASTCALL,
     "predict(model, x, out) -> nn_model_predict's status, or None when x or out "
     "is not a C-contiguous float32 buffer (x: a non-empty matrix)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT, "nn._speedups",
    "Optional compiled helper of the nn package: Sequential.predict's call into libnn.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    return PyModule_Create(&definition);
}
