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

/* ---- numpy arrays read in place --------------------------------------
 *
 * Taking an array through the buffer protocol costs about 0.1 us (numpy
 * fills a Py_buffer, with its format string, shape and strides), twice a
 * predict. For an exact numpy.ndarray this module can read the same facts
 * from the array object itself: the first fields of numpy's
 * PyArrayObject_fields (data, nd, dimensions, strides, base, descr,
 * flags), laid out that way since numpy 1.0 and kept in numpy 2. It does so
 * only after bind_arrays has checked that layout on arrays made for the
 * purpose (their data pointer against the buffer protocol's, their shapes,
 * strides, dtype and flags); anything else, or a failed check, and predict
 * takes the arrays through the buffer protocol as before. numpy's headers
 * are not needed (nor is numpy at build time). */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
} array_fields;

/* numpy's NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_ALIGNED, NPY_ARRAY_WRITEABLE. */
enum { ARRAY_C_CONTIGUOUS = 0x0001, ARRAY_ALIGNED = 0x0100, ARRAY_WRITEABLE = 0x0400 };

/* numpy.ndarray and numpy.dtype("float32") once bind_arrays has checked the
 * layout; NULL before, or if it did not hold. */
static PyObject *array_type, *float32_dtype;

/* Whether probe's fields, read as array_fields, say what its buffer says,
 * and that it is a (rows, cols) float32 array with these strides whose
 * flags have (and lack) these bits. */
static int array_fields_agree(PyObject *probe, PyObject *dtype, Py_ssize_t rows, Py_ssize_t cols,
                              Py_ssize_t row_stride, Py_ssize_t col_stride, int has, int lacks) {
    Py_buffer view;
    if (PyObject_GetBuffer(probe, &view, PyBUF_STRIDES | PyBUF_FORMAT) != 0) {
        PyErr_Clear();
        return 0;
    }
    const array_fields *a = (const array_fields *)probe;
    int agree = a->data == (char *)view.buf && a->nd == 2 && view.ndim == 2 && a->dimensions[0] == rows &&
                a->dimensions[1] == cols && a->strides[0] == row_stride && a->strides[1] == col_stride &&
                view.strides != NULL && view.strides[0] == row_stride && view.strides[1] == col_stride &&
                a->descr == dtype && (a->flags & has) == has && (a->flags & lacks) == 0;
    PyBuffer_Release(&view);
    return agree;
}

/* bind_arrays(ndarray, float32, probe, strided) -> bool
 *   probe: numpy.empty((3, 5), numpy.float32); strided: probe[:, ::2]. If
 *   both, read as array_fields, agree with their buffers, predict reads
 *   exact ndarrays that way from now on. Called once, by nn/_fast.py. */
static PyObject *bind_arrays(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "bind_arrays(ndarray, float32, probe, strided) takes 4 arguments");
        return NULL;
    }
    PyObject *type = args[0], *dtype = args[1], *probe = args[2], *strided = args[3];
    int agree = (PyObject *)Py_TYPE(probe) == type && (PyObject *)Py_TYPE(strided) == type &&
                array_fields_agree(probe, dtype, 3, 5, 20, 4, ARRAY_C_CONTIGUOUS | ARRAY_ALIGNED | ARRAY_WRITEABLE,
                                   0) &&
                array_fields_agree(strided, dtype, 3, 3, 20, 8, ARRAY_ALIGNED, ARRAY_C_CONTIGUOUS);
    Py_CLEAR(array_type);
    Py_CLEAR(float32_dtype);
    if (agree) {
        Py_INCREF(type);
        Py_INCREF(dtype);
        array_type = type;
        float32_dtype = dtype;
    }
    return PyBool_FromLong(agree);
}

/* nn_model_predict with the GIL released, so that other Python threads run
 * meanwhile (the caller keeps x and out alive and unresized). */
static PyObject *call_predict(void *model, const float *xs, size_t rows, size_t cols, float *outs,
                              size_t capacity) {
    nn_status result;
    Py_BEGIN_ALLOW_THREADS
    result = predict_entry((nn_model *)model, xs, rows, cols, outs, capacity);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong((long)result);
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
    if (array_type != NULL && (PyObject *)Py_TYPE(args[1]) == array_type &&
        (PyObject *)Py_TYPE(args[2]) == array_type) {
        const array_fields *x = (const array_fields *)args[1], *out = (const array_fields *)args[2];
        if (x->descr == float32_dtype && out->descr == float32_dtype && x->nd == 2 && x->dimensions[0] > 0 &&
            x->dimensions[1] > 0 && (x->flags & (ARRAY_C_CONTIGUOUS | ARRAY_ALIGNED)) ==
                                        (ARRAY_C_CONTIGUOUS | ARRAY_ALIGNED) &&
            (out->flags & (ARRAY_C_CONTIGUOUS | ARRAY_ALIGNED | ARRAY_WRITEABLE)) ==
                (ARRAY_C_CONTIGUOUS | ARRAY_ALIGNED | ARRAY_WRITEABLE)) {
            size_t capacity = 1;
            for (int i = 0; i < out->nd; i++)
                capacity *= (size_t)out->dimensions[i];
            /* The caller's references keep both arrays alive; the extra
             * ones make numpy refuse to resize them (refcheck) meanwhile. */
            Py_INCREF(args[1]);
            Py_INCREF(args[2]);
            PyObject *status = call_predict(model, (const float *)x->data, (size_t)x->dimensions[0],
                                            (size_t)x->dimensions[1], (float *)out->data, capacity);
            Py_DECREF(args[2]);
            Py_DECREF(args[1]);
            return status;
        }
    }
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
    PyObject *status = NULL;
    if (is_float_matrix(&x) && out.itemsize == (Py_ssize_t)sizeof(float) && out.format != NULL &&
        out.format[0] == 'f' && out.format[1] == '\0') {
        /* Both buffers stay exported (their arrays cannot be resized or
         * freed) until released below, after the call. */
        status = call_predict(model, (const float *)x.buf, (size_t)x.shape[0], (size_t)x.shape[1],
                              (float *)out.buf, (size_t)out.len / sizeof(float));
    }
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    if (status == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;   /* not float32 matrices: declined, nothing called */
    return status;
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
    {"bind_arrays", (PyCFunction)(void (*)(void))bind_arrays, METH_FASTCALL,
     "bind_arrays(ndarray, float32, probe, strided) -> whether predict reads exact ndarrays in place "
     "(probe: numpy.empty((3, 5), numpy.float32); strided: probe[:, ::2])."},
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
