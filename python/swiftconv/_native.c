/*
 * swiftconv._native: the CPython shim between NumPy arrays and the Swift engine.
 *
 * It checks dtypes, asks the engine to validate shapes and parameters (sc_plan: the Swift
 * geometry type is the one place for those rules), makes the inputs C-contiguous, aligned
 * and native-endian, allocates the results, releases the GIL for the computation
 * (sc_execute) and turns status codes into ValueError / TypeError / MemoryError.
 * It never writes to its inputs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "swiftconv.h"

#define MSG_LEN 1024
static const char *OP_NAMES[] = {"conv2d", "conv_transpose2d", "conv2d_backward",
                                 "conv_transpose2d_backward"};

/* Raise the Python exception for an engine status. */
static PyObject *raise_status(int32_t status, const char *msg) {
    PyObject *type = PyExc_RuntimeError;
    switch (status) {
    case SC_ERR_VALUE: type = PyExc_ValueError; break;
    case SC_ERR_TYPE: type = PyExc_TypeError; break;
    case SC_ERR_MEMORY: type = PyExc_MemoryError; break;
    default: break;
    }
    PyErr_SetString(type, msg);
    return NULL;
}

/* The array behind `obj` (anything numpy.asarray accepts), unconverted; NULL + TypeError
 * if its dtype is not float32/float64. Byte order is accepted and fixed later. A failed
 * conversion keeps its exception type and gains the op and argument name. */
static PyArrayObject *as_float_array(PyObject *obj, const char *op, const char *name) {
    PyArrayObject *arr = (PyArrayObject *)PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
    if (arr == NULL) {
        if (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            if (tb != NULL) PyException_SetTraceback(value, tb);
            /* The base class: a subclass (UnicodeError, ...) may need other constructor args. */
            PyObject *base = PyErr_GivenExceptionMatches(type, PyExc_ValueError) ? PyExc_ValueError
                                                                                : PyExc_TypeError;
            PyErr_Format(base, "%s: %s (a %.200s) cannot be converted to an array: %S", op, name,
                         Py_TYPE(obj)->tp_name, value);
            PyObject *t2, *v2, *tb2;
            PyErr_Fetch(&t2, &v2, &tb2);
            PyErr_NormalizeException(&t2, &v2, &tb2);
            PyException_SetCause(v2, value); /* steals value */
            PyErr_Restore(t2, v2, tb2);
            Py_DECREF(type);
            Py_XDECREF(tb);
        }
        return NULL;
    }
    int t = PyArray_TYPE(arr);
    if (t != NPY_FLOAT32 && t != NPY_FLOAT64) {
        PyObject *repr = PyObject_Str((PyObject *)PyArray_DESCR(arr));
        const char *dt = repr ? PyUnicode_AsUTF8(repr) : NULL;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s: %s has dtype %s; swiftconv computes in float32 or float64 only "
                     "(convert explicitly, e.g. numpy.asarray(%s, dtype=numpy.float32))",
                     op, name, dt ? dt : "?", name);
        Py_XDECREF(repr);
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

static void fill_shape(sc_shape *s, PyArrayObject *a) {
    int nd = PyArray_NDIM(a);
    s->ndim = nd;
    for (int i = 0; i < nd && i < SC_MAX_DIMS; i++) s->dims[i] = (int64_t)PyArray_DIM(a, i);
}

/* A C-contiguous, aligned, native-endian version of `a` (a new reference; may be `a`). */
static PyArrayObject *as_c_buffer(PyArrayObject *a) {
    PyArray_Descr *native = PyArray_DescrFromType(PyArray_TYPE(a));
    if (native == NULL) return NULL;
    return (PyArrayObject *)PyArray_FromAny((PyObject *)a, native, 0, 0,
                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
}

static int read_pair(PyObject *seq, int64_t out[2], const char *name) {
    if (!PyArg_ParseTuple(seq, "LL", &out[0], &out[1])) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple of two ints", name);
        return -1;
    }
    return 0;
}

/*
 * run(op, input, weight, bias, grad_output, stride, padding, padding_mode, dilation,
 *     output_padding, groups, algorithm, output_mask, explain)
 *   stride, dilation, output_padding: (h, w); padding: (top, bottom, left, right).
 * Returns a tuple of results (None where masked off), or the explanation string.
 */
static PyObject *native_run(PyObject *self, PyObject *args) {
    int op, padding_mode, output_mask, explain;
    PyObject *input_obj, *weight_obj, *bias_obj, *grad_obj, *stride_obj, *padding_obj,
        *dilation_obj, *outpad_obj;
    long long groups;
    const char *algorithm;
    if (!PyArg_ParseTuple(args, "iOOOOOOiOOLsip", &op, &input_obj, &weight_obj, &bias_obj,
                          &grad_obj, &stride_obj, &padding_obj, &padding_mode, &dilation_obj,
                          &outpad_obj, &groups, &algorithm, &output_mask, &explain))
        return NULL;
    if (op < 0 || op > 3) return PyErr_Format(PyExc_ValueError, "unknown op %d", op);
    const char *opname = OP_NAMES[op];

    sc_conv_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.op = op;
    desc.padding_mode = padding_mode;
    desc.groups = groups;
    desc.algorithm = algorithm;
    desc.output_mask = output_mask;
    if (read_pair(stride_obj, desc.stride, "stride") < 0 ||
        read_pair(dilation_obj, desc.dilation, "dilation") < 0 ||
        read_pair(outpad_obj, desc.output_padding, "output_padding") < 0)
        return NULL;
    if (!PyArg_ParseTuple(padding_obj, "LLLL", &desc.padding[0], &desc.padding[1],
                          &desc.padding[2], &desc.padding[3]))
        return NULL;

    int backward = (op == SC_OP_CONV2D_BACKWARD || op == SC_OP_CONV_TRANSPOSE2D_BACKWARD);
    PyArrayObject *arrays[4] = {NULL, NULL, NULL, NULL};   /* input, weight, bias, grad */
    PyArrayObject *buffers[4] = {NULL, NULL, NULL, NULL};  /* their C-contiguous versions */
    PyArrayObject *results[3] = {NULL, NULL, NULL};
    PyObject *ret = NULL;
    const char *names[4] = {"input", "weight", "bias", "grad_output"};
    PyObject *objs[4] = {input_obj, weight_obj, bias_obj, grad_obj};

    for (int i = 0; i < 4; i++) {
        int required = i < 2 || (i == 3 && backward);
        if (objs[i] == Py_None) {
            if (required) {
                PyErr_Format(PyExc_TypeError, "%s: %s must be an array (float32 or float64), got None",
                             opname, names[i]);
                goto done;
            }
            continue;
        }
        arrays[i] = as_float_array(objs[i], opname, names[i]);
        if (arrays[i] == NULL) goto done;
    }
    int typenum = PyArray_TYPE(arrays[0]);
    for (int i = 1; i < 4; i++) {
        if (arrays[i] != NULL && PyArray_TYPE(arrays[i]) != typenum) {
            PyErr_Format(PyExc_TypeError,
                         "%s: input type (%s) and %s type (%s) should be the same", opname,
                         typenum == NPY_FLOAT32 ? "float32" : "float64", names[i],
                         PyArray_TYPE(arrays[i]) == NPY_FLOAT32 ? "float32" : "float64");
            goto done;
        }
    }
    desc.dtype = typenum == NPY_FLOAT32 ? SC_FLOAT32 : SC_FLOAT64;
    fill_shape(&desc.input, arrays[0]);
    fill_shape(&desc.weight, arrays[1]);
    if (arrays[2] != NULL && !backward) {
        desc.has_bias = 1;
        fill_shape(&desc.bias, arrays[2]);
    }
    if (arrays[3] != NULL) fill_shape(&desc.grad_output, arrays[3]);

    char msg[MSG_LEN];
    if (explain) {
        char text[4096];
        int32_t st = sc_explain(&desc, text, sizeof text);
        ret = st == SC_OK ? PyUnicode_FromString(text) : raise_status(st, text);
        goto done;
    }

    /* Validate shapes and parameters before touching any data. */
    sc_plan_result plan;
    int32_t st = sc_plan(&desc, &plan, msg, sizeof msg);
    if (st != SC_OK) { raise_status(st, msg); goto done; }

    for (int i = 0; i < 4; i++) {
        if (arrays[i] == NULL) continue;
        buffers[i] = as_c_buffer(arrays[i]);
        if (buffers[i] == NULL) goto done;
    }
    void *outs[3] = {NULL, NULL, NULL};
    for (int i = 0; i < plan.count && i < 3; i++) {
        if (!plan.present[i]) continue;
        npy_intp dims[SC_MAX_DIMS];
        for (int j = 0; j < plan.shapes[i].ndim; j++) dims[j] = (npy_intp)plan.shapes[i].dims[j];
        results[i] = (PyArrayObject *)PyArray_SimpleNew((int)plan.shapes[i].ndim, dims, typenum);
        if (results[i] == NULL) goto done;
        outs[i] = PyArray_DATA(results[i]);
    }
    const void *data[4];
    for (int i = 0; i < 4; i++) data[i] = buffers[i] ? PyArray_DATA(buffers[i]) : NULL;

    Py_BEGIN_ALLOW_THREADS
    st = sc_execute(&desc, data[0], data[1], desc.has_bias ? data[2] : NULL, data[3], outs,
                    msg, sizeof msg);
    Py_END_ALLOW_THREADS
    if (st != SC_OK) { raise_status(st, msg); goto done; }

    ret = PyTuple_New(plan.count);
    if (ret == NULL) goto done;
    for (int i = 0; i < plan.count; i++) {
        PyObject *r = results[i] ? (PyObject *)results[i] : Py_None;
        Py_INCREF(r);
        PyTuple_SET_ITEM(ret, i, r);
    }

done:
    for (int i = 0; i < 4; i++) { Py_XDECREF(arrays[i]); Py_XDECREF(buffers[i]); }
    for (int i = 0; i < 3; i++) Py_XDECREF(results[i]);
    return ret;
}

static PyObject *native_set_num_threads(PyObject *self, PyObject *arg) {
    long long n = PyLong_AsLongLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            return PyErr_Format(PyExc_ValueError, "set_num_threads: expected 1 <= n <= 1024, got %R", arg);
        }
        return NULL;
    }
    char msg[MSG_LEN];
    int32_t st = sc_set_num_threads(n, msg, sizeof msg);
    if (st != SC_OK) return raise_status(st, msg);
    Py_RETURN_NONE;
}

static PyObject *native_get_num_threads(PyObject *self, PyObject *noargs) {
    return PyLong_FromLongLong(sc_get_num_threads());
}

static PyMethodDef methods[] = {
    {"run", native_run, METH_VARARGS, "Validate, then run one convolution op (internal)."},
    {"set_num_threads", native_set_num_threads, METH_O, "Set the engine's thread count."},
    {"get_num_threads", native_get_num_threads, METH_NOARGS, "The engine's thread count."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "swiftconv._native",
                                    "CPython shim over the swiftconv Swift engine.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__native(void) {
    import_array();
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddStringConstant(m, "engine_version", sc_version()) < 0 ||
        PyModule_AddIntConstant(m, "abi_version", SC_ABI_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
