/*
 * swiftconv._native: the CPython shim between NumPy arrays and the Swift engine.
 *
 * It checks dtypes (float32, float64, float16, and bfloat16: a 2-byte user dtype named
 * "bfloat16", as ml_dtypes registers it; this file never imports ml_dtypes), asks the engine for a plan (sc_plan_create validates shapes and
 * parameters once: the Swift geometry type is the one place for those rules), decides the
 * memory layout of the activations (channels-first, or channels-last as PyTorch's
 * suggest_memory_format), passes the caller's memory as it is when it already has that
 * layout (else a C-contiguous, aligned, native-endian copy in it), allocates the results
 * in that layout (large ones reusing freed results' memory: "result memory"), releases the GIL
 * for the computation (sc_plan_execute) and turns status codes into ValueError /
 * TypeError / MemoryError. It never writes to its inputs. `Plan` objects keep a plan for
 * many calls (prepared convolutions).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "swiftconv.h"

#define MSG_LEN 1024

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

/* The names of the sc_dtype codes, as NumPy (and ml_dtypes) spell them. */
static const char *const DTYPE_NAMES[] = {"float32", "float64", "float16", "bfloat16"};

/* 1 if `d` is a bfloat16 dtype: a 2-byte user-defined dtype whose scalar type is named
 * "bfloat16" (ml_dtypes.bfloat16; the name is all that is looked at, so the ml_dtypes
 * module is never imported here). */
static int is_bfloat16(PyArray_Descr *d) {
    if (d->type_num < NPY_USERDEF || d->typeobj == NULL) return 0;
    const char *tp = d->typeobj->tp_name;
    const char *dot = strrchr(tp, '.');
    return strcmp(dot ? dot + 1 : tp, "bfloat16") == 0;
}

/* The sc_dtype of an array, or -1 for a dtype the engine does not take. */
static int array_dtype(PyArrayObject *a) {
    switch (PyArray_TYPE(a)) {
    case NPY_FLOAT32: return SC_FLOAT32;
    case NPY_FLOAT64: return SC_FLOAT64;
    case NPY_FLOAT16: return SC_FLOAT16;
    default: return PyArray_ITEMSIZE(a) == 2 && is_bfloat16(PyArray_DESCR(a)) ? SC_BFLOAT16 : -1;
    }
}

/* After a failed conversion of `obj`: if it says it holds bfloat16 values (a `dtype`
 * attribute whose text contains "bfloat16", e.g. a torch.bfloat16 tensor), replace the
 * error with a TypeError saying what NumPy needs for them; returns 1 if it did. */
static int explain_bfloat16(PyObject *obj, const char *op, const char *name) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *dtype = PyObject_GetAttrString(obj, "dtype");
    PyObject *text = dtype ? PyObject_Str(dtype) : NULL;
    const char *t = text ? PyUnicode_AsUTF8(text) : NULL;
    int found = t != NULL && strstr(t, "bfloat16") != NULL;
    PyErr_Clear();
    if (found) {
        PyErr_Format(PyExc_TypeError,
                     "%s: %s has dtype %s, which cannot be converted to a NumPy array here: NumPy holds "
                     "bfloat16 values only with the ml_dtypes package (pip install ml_dtypes); pass a NumPy "
                     "array of dtype ml_dtypes.bfloat16", op, name, t);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    } else {
        PyErr_Restore(type, value, tb);
    }
    Py_XDECREF(text);
    Py_XDECREF(dtype);
    return found;
}

/* The array behind `obj` (anything numpy.asarray accepts), unconverted; NULL + TypeError
 * if its dtype is not one the engine takes (array_dtype). Byte order is accepted and fixed
 * later. A failed conversion keeps its exception type and gains the op and argument name. */
static PyArrayObject *as_float_array(PyObject *obj, const char *op, const char *name) {
    PyArrayObject *arr = (PyArrayObject *)PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
    if (arr == NULL) {
        if (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
            if (explain_bfloat16(obj, op, name)) return NULL;
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
    if (array_dtype(arr) < 0) {
        PyObject *repr = PyObject_Str((PyObject *)PyArray_DESCR(arr));
        const char *dt = repr ? PyUnicode_AsUTF8(repr) : NULL;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s: %s has dtype %s; swiftconv computes in float32 or float64 (and takes float16 "
                     "and bfloat16 arrays, computed in float32) only (convert explicitly, e.g. "
                     "numpy.asarray(%s, dtype=numpy.float32))",
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
    if (PyArray_ISCARRAY_RO(a) && PyArray_ISNOTSWAPPED(a)) { /* the common case: use it as it is */
        Py_INCREF(a);
        return a;
    }
    PyArray_Descr *native = PyArray_DescrFromType(PyArray_TYPE(a));
    if (native == NULL) return NULL;
    return (PyArrayObject *)PyArray_FromAny((PyObject *)a, native, 0, 0,
                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
}

/* ------------------------------------------------------------------ result memory */

/*
 * Results of RESULT_MEMORY_MIN_BYTES or more are allocated by this NumPy memory handler
 * (set only around this module's own result allocations: every other array keeps NumPy's).
 * Two things make a large result slow to write, measured on the 2-vCPU AVX-512 Xeon VM
 * (one thread, ResNet-50 1x1 layers at batch 8):
 * - alignment: NumPy's own handler is malloc, whose blocks are 16-byte aligned, so the
 *   kernels' 64-byte stores straddle cache lines: 64->256 56x56 (a 25.7 MB result) took
 *   15.1 ms into 16-byte-aligned memory against 10.3 ms into 64-byte-aligned memory, both
 *   from this cache; 128->512 28x28 9.1 ms against 7.1 ms (results that fit in the caches,
 *   < 1 MiB, showed no difference). This handler's blocks are 64-byte aligned.
 * - fresh memory: first-touching memory the process has just got from the kernel costs
 *   far more than writing it (filling a fresh 20 MB NumPy array: 32 ms median, 2.2 ms at
 *   best), and glibc hands out fresh memory for every block of 32 MiB or more (its largest
 *   mmap threshold), the first time a size is used, and after it trims its heap. So the
 *   handler keeps the blocks of freed results (RESULT_CACHE_BLOCKS of them,
 *   RESULT_CACHE_BYTES in all, the oldest going back to malloc first) and gives them to
 *   later results of about their size (at most twice as large).
 * A miss is posix_memalign (with NumPy's MADV_HUGEPAGE advice from 4 MiB): glibc recycles
 * what it holds, so a training step that keeps hundreds of megabytes of results alive finds
 * the last step's memory there (a bounded cache of fresh mappings instead took 21,500 faults
 * per ResNet-50 N8 training pass and 1.9x its time). Each block starts with a header holding
 * its size, so free, realloc (a user's ndarray.resize) and calloc work on any block, from
 * any thread. The arrays are ordinary NumPy arrays (OWNDATA, no base); NumPy keeps a
 * reference to the handler in each. One lock guards the cache, only ever tried: a thread
 * that finds it taken (or a forked child that inherited it taken) goes to malloc / free, so
 * nothing waits.
 */
/* The handler API: NumPy >= 1.22 (its headers before 1.25 have no NPY_FEATURE_VERSION). */
#if defined(NPY_1_22_API_VERSION) && \
    (!defined(NPY_FEATURE_VERSION) || NPY_FEATURE_VERSION >= NPY_1_22_API_VERSION) && \
    (defined(__linux__) || defined(__APPLE__))
#define SC_RESULT_MEMORY 1
#include <pthread.h>
#include <sys/mman.h>

#define RESULT_MEMORY_MIN_BYTES ((size_t)1 << 20)
#define RESULT_CACHE_BLOCKS 8
#define RESULT_CACHE_BYTES ((size_t)128 << 20)
#define RESULT_HUGE_PAGE_BYTES ((size_t)4 << 20) /* NumPy's threshold for the advice */
#define RESULT_HEADER 64                         /* keeps the data 64-byte aligned */

typedef struct { void *base; size_t bytes; } result_block;

static result_block result_cache[RESULT_CACHE_BLOCKS]; /* oldest first */
static int result_cache_count;
static size_t result_cache_bytes;
static pthread_mutex_t result_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The allocated size (header included) of the block whose data is `p`. */
static size_t result_block_bytes(void *p) { return *(size_t *)((char *)p - RESULT_HEADER); }

/* Removes entry `i` of the cache (the lock held). */
static result_block result_cache_remove(int i) {
    result_block b = result_cache[i];
    result_cache_bytes -= b.bytes;
    result_cache_count--;
    memmove(&result_cache[i], &result_cache[i + 1], (size_t)(result_cache_count - i) * sizeof(result_block));
    return b;
}

/* The smallest cached block of at least `bytes` and at most twice that (so that a small
 * result does not take the block a larger one needs); NULL if none. */
static void *result_cache_take(size_t bytes, size_t *got) {
    if (pthread_mutex_trylock(&result_cache_lock) != 0) return NULL;
    int best = -1;
    for (int i = 0; i < result_cache_count; i++) {
        size_t b = result_cache[i].bytes;
        if (b >= bytes && b / 2 <= bytes && (best < 0 || b < result_cache[best].bytes)) best = i;
    }
    void *base = NULL;
    if (best >= 0) {
        result_block b = result_cache_remove(best);
        base = b.base;
        *got = b.bytes;
    }
    pthread_mutex_unlock(&result_cache_lock);
    return base;
}

/* Keeps a freed block for a later result, the oldest beyond the bounds going back to
 * malloc (as does the block itself when it cannot be kept). */
static void result_cache_keep(void *base, size_t bytes) {
    result_block evicted[RESULT_CACHE_BLOCKS + 1];
    int n = 0;
    if (bytes > RESULT_CACHE_BYTES || pthread_mutex_trylock(&result_cache_lock) != 0) {
        free(base);
        return;
    }
    if (result_cache_count == RESULT_CACHE_BLOCKS) evicted[n++] = result_cache_remove(0);
    result_cache[result_cache_count++] = (result_block){base, bytes};
    result_cache_bytes += bytes;
    while (result_cache_bytes > RESULT_CACHE_BYTES) evicted[n++] = result_cache_remove(0);
    pthread_mutex_unlock(&result_cache_lock);
    for (int i = 0; i < n; i++) free(evicted[i].base);
}

/* Frees every cached block (unless another thread holds the lock right now); the bytes. */
static size_t result_cache_empty(void) {
    result_block all[RESULT_CACHE_BLOCKS];
    int n = 0;
    size_t bytes = 0;
    if (pthread_mutex_trylock(&result_cache_lock) != 0) return 0;
    while (result_cache_count > 0) all[n++] = result_cache_remove(0);
    pthread_mutex_unlock(&result_cache_lock);
    for (int i = 0; i < n; i++) {
        bytes += all[i].bytes;
        free(all[i].base);
    }
    return bytes;
}

/* A block for `size` bytes of data: a cached one, else malloc's. */
static void *result_malloc(void *ctx, size_t size) {
    (void)ctx;
    if (size > SIZE_MAX - RESULT_HEADER) return NULL;
    size_t bytes = size + RESULT_HEADER, got = bytes;
    char *base = result_cache_take(bytes, &got);
    if (base == NULL) {
        void *p = NULL;
        if (posix_memalign(&p, RESULT_HEADER, bytes) != 0) return NULL;
        base = p;
#ifdef MADV_HUGEPAGE
        if (bytes >= RESULT_HUGE_PAGE_BYTES) { /* NumPy's advice, on the whole pages inside */
            uintptr_t start = ((uintptr_t)base + 4095) & ~(uintptr_t)4095;
            uintptr_t end = ((uintptr_t)base + bytes) & ~(uintptr_t)4095;
            if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE); /* advice only */
        }
#endif
    }
    *(size_t *)base = got;
    return base + RESULT_HEADER;
}

static void *result_calloc(void *ctx, size_t nelem, size_t elsize) {
    if (elsize != 0 && nelem > SIZE_MAX / elsize) return NULL;
    void *p = result_malloc(ctx, nelem * elsize);
    if (p != NULL) memset(p, 0, nelem * elsize);
    return p;
}

static void result_free(void *ctx, void *ptr, size_t size) {
    (void)ctx;
    (void)size; /* the array's current size; the block's is in its header */
    if (ptr == NULL) return;
    result_cache_keep((char *)ptr - RESULT_HEADER, result_block_bytes(ptr));
}

static void *result_realloc(void *ctx, void *ptr, size_t new_size) {
    if (ptr == NULL) return result_malloc(ctx, new_size);
    size_t capacity = result_block_bytes(ptr) - RESULT_HEADER;
    if (new_size <= capacity) return ptr;
    void *q = result_malloc(ctx, new_size);
    if (q == NULL) return NULL;
    memcpy(q, ptr, capacity);
    result_free(ctx, ptr, capacity);
    return q;
}

static PyDataMem_Handler result_handler = {
    "swiftconv_results", 1,
    {NULL, result_malloc, result_calloc, result_realloc, result_free},
};

/* The handler as NumPy takes it (a "mem_handler" capsule), made at import. */
static PyObject *result_handler_capsule;

static int result_memory_init(void) {
    result_handler_capsule = PyCapsule_New(&result_handler, "mem_handler", NULL);
    return result_handler_capsule == NULL ? -1 : 0;
}
#else
static int result_memory_init(void) { return 0; }
static size_t result_cache_empty(void) { return 0; }
#endif

/* A new result array (uninitialised, C-contiguous): from the result handler when it is
 * RESULT_MEMORY_MIN_BYTES or larger, from NumPy's own handler otherwise (small arrays
 * come from NumPy's and glibc's caches without faults). */
static PyArrayObject *new_result(int nd, const npy_intp *dims, int typenum) {
#ifdef SC_RESULT_MEMORY
    /* The engine's dtypes: float64, float32, and the 2-byte float16 and bfloat16. */
    npy_intp n = typenum == NPY_FLOAT64 ? 8 : typenum == NPY_FLOAT32 ? 4 : 2;
    for (int i = 0; i < nd && n > 0; i++) n = dims[i] > NPY_MAX_INTP / n ? -1 : n * dims[i];
    if (result_handler_capsule != NULL && n > 0 && (size_t)n >= RESULT_MEMORY_MIN_BYTES) {
        PyObject *previous = PyDataMem_SetHandler(result_handler_capsule);
        if (previous != NULL) {
            PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(nd, dims, typenum);
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyObject *ours = PyDataMem_SetHandler(previous); /* restored, whatever happened */
            Py_XDECREF(ours);
            Py_DECREF(previous);
            if (ours == NULL) { /* not restored (memory): report it rather than go on */
                Py_XDECREF(a);
                Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
                return NULL;
            }
            PyErr_Restore(type, value, tb);
            return a;
        }
        PyErr_Clear(); /* the handler could not be set: NumPy's below */
    }
#endif
    return (PyArrayObject *)PyArray_SimpleNew(nd, dims, typenum);
}

/* ------------------------------------------------------------------ memory layouts */

/* 1 if the strides of `a`, a (N, C, *spatial) array with `rank` spatial axes or an
 * unbatched (C, *spatial) one, are those of a channels-last array: PyTorch's
 * is_channels_last_strides_2d / _3d (what suggest_memory_format decides by), for every rank
 * and for unbatched arrays too. From the fastest axis (C, then the spatial axes innermost
 * first, then N) each stride is at least the extent of the axes before it; an empty array is
 * never channels-last, and neither is one whose batch stride equals its channel stride.
 * So C == 1 or all spatial sizes 1 decide by the strides the size-1 axes have, as torch. */
static int suggests_channels_last(PyArrayObject *a, int rank) {
    int nd = PyArray_NDIM(a);
    if (nd != rank + 1 && nd != rank + 2) return 0;
    int batched = nd == rank + 2, c = batched ? 1 : 0;
    const npy_intp *size = PyArray_DIMS(a), *stride = PyArray_STRIDES(a);
    int order[SC_MAX_SPATIAL + 2], k = 0;
    order[k++] = c;
    for (int d = nd - 1; d > c; d--) order[k++] = d;
    if (batched) order[k++] = 0;
    npy_intp min = 0;
    for (int i = 0; i < k; i++) {
        int d = order[i];
        if (size[d] == 0 || stride[d] < min) return 0;
        if (batched && d == 0 && min == stride[1]) return 0;
        min = stride[d];
        if (size[d] > 1) min *= size[d];
    }
    return 1;
}

/* The axis order that views a logical (N, C, *spatial) array as its channels-last memory
 * (N, *spatial, C) (to_memory = 1), or the reverse (0); unbatched: (C, *sp) <-> (*sp, C). */
static void channels_last_axes(int nd, int batched, int to_memory, npy_intp *perm) {
    int c = batched ? 1 : 0;
    for (int i = 0; i < c; i++) perm[i] = i;
    for (int i = c; i < nd; i++) {
        if (to_memory) perm[i] = i == nd - 1 ? c : i + 1;
        else perm[i] = i == c ? nd - 1 : i - 1;
    }
}

static PyArrayObject *permuted(PyArrayObject *a, npy_intp *perm) {
    PyArray_Dims dims = {perm, PyArray_NDIM(a)};
    return (PyArrayObject *)PyArray_Transpose(a, &dims);
}

/* A buffer holding `a` (logical (N, C, *spatial) or unbatched) as a C-contiguous, aligned,
 * native-endian (N, *spatial, C) array: a view of `a` itself when its memory already is
 * that (the common case: no copy), else a copy. A new reference. */
static PyArrayObject *as_channels_last_buffer(PyArrayObject *a, int rank) {
    int nd = PyArray_NDIM(a);
    npy_intp perm[SC_MAX_DIMS];
    channels_last_axes(nd, nd == rank + 2, 1, perm);
    PyArrayObject *view = permuted(a, perm);
    if (view == NULL) return NULL;
    if (PyArray_ISCARRAY_RO(view) && PyArray_ISNOTSWAPPED(view)) return view;
    PyArray_Descr *native = PyArray_DescrFromType(PyArray_TYPE(a));
    if (native == NULL) { Py_DECREF(view); return NULL; }
    PyArrayObject *copy = (PyArrayObject *)PyArray_FromAny((PyObject *)view, native, 0, 0,
                                                           NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
    Py_DECREF(view);
    return copy;
}

/* A new array of logical shape `dims` (N, C, *spatial) whose memory is C-contiguous
 * (N, *spatial, C): the (N, *spatial, C) array allocated, returned as its transposed view. */
static PyArrayObject *new_channels_last(int nd, const npy_intp *dims, int typenum, int batched) {
    npy_intp perm[SC_MAX_DIMS], memory[SC_MAX_DIMS] = {0};
    channels_last_axes(nd, batched, 1, perm);
    for (int i = 0; i < nd; i++) memory[i] = dims[perm[i]];
    PyArrayObject *m = new_result(nd, memory, typenum);
    if (m == NULL) return NULL;
    channels_last_axes(nd, batched, 0, perm);
    PyArrayObject *view = permuted(m, perm);
    Py_DECREF(m);
    return view;
}

/* `a` (C-contiguous, logical (N, C, *spatial)) copied into a channels-last array (a new reference). */
static PyArrayObject *copy_to_channels_last(PyArrayObject *a, int batched) {
    int nd = PyArray_NDIM(a);
    PyArrayObject *r = new_channels_last(nd, PyArray_DIMS(a), PyArray_TYPE(a), batched);
    if (r == NULL) return NULL;
    if (PyArray_CopyInto(r, a) < 0) { Py_DECREF(r); return NULL; }
    return r;
}

/* Reads a tuple of exactly `count` ints (the Python layer normalised it). */
static int read_ints(PyObject *seq, int64_t *out, int count, const char *name) {
    if (!PyTuple_Check(seq) || PyTuple_GET_SIZE(seq) != count) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple of %d ints", name, count);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        long long v = PyLong_AsLongLong(PyTuple_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) return -1;
        out[i] = v;
    }
    return 0;
}

/* One call's descriptor and the arrays behind it (new references, NULL where absent). */
typedef struct {
    sc_conv_desc desc;
    PyArrayObject *arrays[4]; /* input, weight, bias, grad_output */
    int typenum;              /* the NumPy type of every array (bfloat16: its user type) */
    int weight_channels_last; /* the weight suggests channels-last (grad_weight follows it) */
    char opname[40];
} call_args;

static const char *ARG_NAMES[4] = {"input", "weight", "bias", "grad_output"};

static void call_args_release(call_args *c) {
    for (int i = 0; i < 4; i++) Py_CLEAR(c->arrays[i]);
}

static void op_name(char *out, size_t len, int op, int rank) {
    static const char *fmt[] = {"conv%dd", "conv_transpose%dd", "conv%dd_backward",
                                "conv_transpose%dd_backward"};
    snprintf(out, len, fmt[op], rank);
}

/* Checks the arrays' dtypes (one of array_dtype's, all equal) and fills the descriptor's shapes. */
static int read_arrays(call_args *c, PyObject *const objs[4]) {
    int backward = c->desc.op == SC_OP_CONV_BACKWARD || c->desc.op == SC_OP_CONV_TRANSPOSE_BACKWARD;
    for (int i = 0; i < 4; i++) {
        int required = i < 2 || (i == 3 && backward);
        if (objs[i] == Py_None) {
            if (required) {
                PyErr_Format(PyExc_TypeError, "%s: %s must be an array (float32, float64, float16 or bfloat16), got None",
                             c->opname, ARG_NAMES[i]);
                return -1;
            }
            continue;
        }
        if (i == 2 && backward) continue; /* the backward ops take no bias */
        c->arrays[i] = as_float_array(objs[i], c->opname, ARG_NAMES[i]);
        if (c->arrays[i] == NULL) return -1;
    }
    c->typenum = PyArray_TYPE(c->arrays[0]);
    int dtype = array_dtype(c->arrays[0]);
    for (int i = 1; i < 4; i++) {
        if (c->arrays[i] != NULL && PyArray_TYPE(c->arrays[i]) != c->typenum) {
            int other = array_dtype(c->arrays[i]);
            PyErr_Format(PyExc_TypeError,
                         "%s: input type (%s) and %s type (%s) should be the same (swiftconv does not "
                         "mix dtypes: convert explicitly, e.g. %s.astype(input.dtype))", c->opname,
                         DTYPE_NAMES[dtype], ARG_NAMES[i], other >= 0 ? DTYPE_NAMES[other] : "?",
                         ARG_NAMES[i]);
            return -1;
        }
    }
    c->desc.dtype = dtype;
    fill_shape(&c->desc.input, c->arrays[0]);
    fill_shape(&c->desc.weight, c->arrays[1]);
    if (c->arrays[2] != NULL) {
        c->desc.has_bias = 1;
        fill_shape(&c->desc.bias, c->arrays[2]);
    }
    if (c->arrays[3] != NULL) fill_shape(&c->desc.grad_output, c->arrays[3]);
    /* The layout of the activations, as PyTorch decides it on the CPU: channels-last when
     * the input suggests it, or (forward ops) the weight does; the backward ops' results
     * follow what they are gradients of (grad_input the input, grad_weight the weight). */
    int rank = c->desc.spatial_dims;
    int input_cl = suggests_channels_last(c->arrays[0], rank);
    c->weight_channels_last = PyArray_NDIM(c->arrays[1]) == rank + 2 && suggests_channels_last(c->arrays[1], rank);
    c->desc.layout = input_cl || (!backward && c->weight_channels_last) ? SC_LAYOUT_CHANNELS_LAST : SC_LAYOUT_CHANNELS_FIRST;
    return 0;
}

/* Reads output_size: None, or a tuple of ints of any length (the engine checks it). */
static int read_output_size(PyObject *obj, call_args *c) {
    if (obj == Py_None) return 0;
    if (!PyTuple_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: output_size must be a tuple of ints or None", c->opname);
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(obj);
    c->desc.has_output_size = 1;
    c->desc.output_size.ndim = (int64_t)n; /* more than SC_MAX_DIMS: the engine refuses the count */
    for (Py_ssize_t i = 0; i < n && i < SC_MAX_DIMS; i++) {
        long long v = PyLong_AsLongLong(PyTuple_GET_ITEM(obj, i));
        if (v == -1 && PyErr_Occurred()) return -1;
        c->desc.output_size.dims[i] = v;
    }
    return 0;
}

/*
 * Parses (op, rank, input, weight, bias, grad_output, stride, padding, padding_form,
 * dilation, output_padding, groups, algorithm, output_mask, padding_mode, output_size)
 * into `c`: stride, dilation, output_padding: `rank` ints; padding: (before, after) per
 * axis; padding_form, padding_mode: the sc_padding_form / sc_padding_mode codes;
 * output_size: None or a tuple of ints.
 * Returns the index of the first argument after them, or -1 with an exception set.
 */
#define CALL_ARGS 16
static int parse_call(PyObject *args, call_args *c) {
    memset(c, 0, sizeof *c);
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) < CALL_ARGS) {
        PyErr_SetString(PyExc_TypeError, "internal: expected 16 call arguments");
        return -1;
    }
    int op = (int)PyLong_AsLong(PyTuple_GET_ITEM(args, 0));
    int rank = (int)PyLong_AsLong(PyTuple_GET_ITEM(args, 1));
    if (PyErr_Occurred()) return -1;
    if (op < 0 || op > 3) { PyErr_Format(PyExc_ValueError, "unknown op %d", op); return -1; }
    if (rank < 1 || rank > SC_MAX_SPATIAL) { PyErr_Format(PyExc_ValueError, "unknown rank %d", rank); return -1; }
    op_name(c->opname, sizeof c->opname, op, rank);
    c->desc.op = op;
    c->desc.spatial_dims = rank;
    if (read_ints(PyTuple_GET_ITEM(args, 6), c->desc.stride, rank, "stride") < 0 ||
        read_ints(PyTuple_GET_ITEM(args, 7), c->desc.padding, 2 * rank, "padding") < 0 ||
        read_ints(PyTuple_GET_ITEM(args, 9), c->desc.dilation, rank, "dilation") < 0 ||
        read_ints(PyTuple_GET_ITEM(args, 10), c->desc.output_padding, rank, "output_padding") < 0)
        return -1;
    c->desc.padding_form = (int32_t)PyLong_AsLong(PyTuple_GET_ITEM(args, 8));
    c->desc.groups = PyLong_AsLongLong(PyTuple_GET_ITEM(args, 11));
    c->desc.output_mask = (int32_t)PyLong_AsLong(PyTuple_GET_ITEM(args, 13));
    c->desc.padding_mode = (int32_t)PyLong_AsLong(PyTuple_GET_ITEM(args, 14));
    if (PyErr_Occurred()) return -1;
    if (read_output_size(PyTuple_GET_ITEM(args, 15), c) < 0) return -1;
    PyObject *alg = PyTuple_GET_ITEM(args, 12);
    c->desc.algorithm = PyUnicode_Check(alg) ? PyUnicode_AsUTF8(alg) : NULL;
    if (c->desc.algorithm == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "algorithm must be a str");
        return -1;
    }
    PyObject *objs[4] = {PyTuple_GET_ITEM(args, 2), PyTuple_GET_ITEM(args, 3),
                         PyTuple_GET_ITEM(args, 4), PyTuple_GET_ITEM(args, 5)};
    if (read_arrays(c, objs) < 0) return -1;
    return CALL_ARGS;
}

/* Runs `plan` on arrays already checked against it: makes C buffers, allocates the
 * results, computes with the GIL released. Returns the tuple of results (None where
 * masked off). */
static PyObject *execute_plan(const sc_plan *plan, const sc_plan_result *shapes,
                              PyArrayObject *const arrays[4], int typenum, int has_bias, int rank,
                              int layout, int weight_channels_last) {
    PyArrayObject *buffers[4] = {NULL, NULL, NULL, NULL};
    PyArrayObject *results[3] = {NULL, NULL, NULL};
    PyObject *ret = NULL;
    char msg[MSG_LEN];
    int32_t st;
    int channels_last = layout == SC_LAYOUT_CHANNELS_LAST;
    for (int i = 0; i < 4; i++) {
        if (arrays[i] == NULL) continue;
        /* The activations (input, grad_output) in the plan's layout: the caller's memory as
         * it is when it already has that layout; weights and bias C-contiguous. */
        int activation = i == 0 || i == 3;
        buffers[i] = activation && channels_last ? as_channels_last_buffer(arrays[i], rank) : as_c_buffer(arrays[i]);
        if (buffers[i] == NULL) goto done;
    }
    void *outs[3] = {NULL, NULL, NULL};
    for (int i = 0; i < shapes->count && i < 3; i++) {
        if (!shapes->present[i]) continue;
        int nd = (int)shapes->shapes[i].ndim;
        npy_intp dims[SC_MAX_DIMS];
        for (int j = 0; j < nd; j++) dims[j] = (npy_intp)shapes->shapes[i].dims[j];
        /* Result 0 (output, grad_input) is an activation: in the plan's layout. */
        results[i] = i == 0 && channels_last ? new_channels_last(nd, dims, typenum, nd == rank + 2)
                                             : new_result(nd, dims, typenum);
        if (results[i] == NULL) goto done;
        outs[i] = PyArray_DATA(results[i]);
    }
    const void *data[4];
    for (int i = 0; i < 4; i++) data[i] = buffers[i] ? PyArray_DATA(buffers[i]) : NULL;

    Py_BEGIN_ALLOW_THREADS
    st = sc_plan_execute(plan, data[0], data[1], has_bias ? data[2] : NULL, data[3], outs, msg,
                         sizeof msg);
    Py_END_ALLOW_THREADS
    if (st != SC_OK) { raise_status(st, msg); goto done; }
    /* grad_weight of a channels-last weight: channels-last too (as autograd's grad). */
    if (shapes->count == 3 && results[1] != NULL && weight_channels_last) {
        PyArrayObject *cl = copy_to_channels_last(results[1], 1);
        if (cl == NULL) goto done;
        Py_SETREF(results[1], cl);
    }

    ret = PyTuple_New(shapes->count);
    if (ret == NULL) goto done;
    for (int i = 0; i < shapes->count; i++) {
        PyObject *r = results[i] ? (PyObject *)results[i] : Py_None;
        Py_INCREF(r);
        PyTuple_SET_ITEM(ret, i, r);
    }
done:
    for (int i = 0; i < 4; i++) Py_XDECREF(buffers[i]);
    for (int i = 0; i < 3; i++) Py_XDECREF(results[i]);
    return ret;
}

/* ------------------------------------------------------------------ plan cache */

/*
 * The plans of the last calls, reused by calls with the same descriptor. A plan is a pure
 * function of its descriptor (every shape, parameter, dtype, layout and the algorithm
 * name) and of the engine's thread count (its tiling), so a call whose descriptor and
 * thread count equal a cached plan's gets exactly the plan sc_plan_create would make, with
 * every check it made: only the repeated validation and planning are skipped. Measured
 * (one thread, AVX-512 Xeon, run() of an 8->8 1x1 conv on a 1x1 plane, arguments built
 * once): 6.35 us -> 2.08 us; perf put ~85% of the 6.35 us in sc_plan_create (ConvPlan and
 * ConvGeometry: small arrays and reference counting) and sc_plan_destroy. Plans made
 * without weights hold no weight data. Only touched with the GIL held; an entry in use by a
 * call that released the GIL (`busy`) is never evicted.
 */
#define PLAN_CACHE_SIZE 32
#define PLAN_CACHE_ALGORITHM 32

typedef struct {
    sc_conv_desc desc;                   /* algorithm == NULL: the name is in `algorithm` */
    char algorithm[PLAN_CACHE_ALGORITHM];
    int64_t threads;
    uint64_t hash;
    uint64_t last_use;
    int busy;
    sc_plan *plan;                       /* NULL: a free entry */
    sc_plan_result results;
} plan_cache_entry;

static plan_cache_entry plan_cache[PLAN_CACHE_SIZE];
static uint64_t plan_cache_clock;

/* The descriptor as a cache key (algorithm name moved out of it); 0 if the name is too long. */
static int plan_key(const sc_conv_desc *d, sc_conv_desc *key, char *algorithm, int64_t *threads, uint64_t *hash) {
    const char *name = d->algorithm ? d->algorithm : "auto";
    size_t len = strlen(name);
    if (len >= PLAN_CACHE_ALGORITHM) return 0;
    memcpy(key, d, sizeof *key);
    key->algorithm = NULL;
    memset(algorithm, 0, PLAN_CACHE_ALGORITHM);
    memcpy(algorithm, name, len);
    *threads = sc_get_num_threads();
    /* A rotate-xor over the words, mixed once at the end: only a filter before memcmp
     * confirms a match (the descriptor is a few hundred bytes: a byte-wise FNV hash took
     * about 1 us a call, a multiply per word a quarter of a cached call). */
    uint64_t h = 1469598103934665603ull, word;
    const unsigned char *bytes = (const unsigned char *)key;
    size_t i = 0;
    for (; i + 8 <= sizeof *key; i += 8) {
        memcpy(&word, bytes + i, 8);
        h = ((h << 7) | (h >> 57)) ^ word;
    }
    h *= 0x9E3779B97F4A7C15ull;
    for (; i < sizeof *key; i++) h = (h ^ bytes[i]) * 1099511628211ull;
    for (size_t j = 0; j < len; j++) h = (h ^ (unsigned char)name[j]) * 1099511628211ull;
    *hash = (h ^ (uint64_t)*threads) * 0x9E3779B97F4A7C15ull;
    return 1;
}

/* The cached entry for a key, or NULL. */
static plan_cache_entry *plan_cache_find(const sc_conv_desc *key, const char *algorithm, int64_t threads, uint64_t hash) {
    for (int i = 0; i < PLAN_CACHE_SIZE; i++) {
        plan_cache_entry *e = &plan_cache[i];
        if (e->plan != NULL && e->hash == hash && e->threads == threads && memcmp(&e->desc, key, sizeof *key) == 0 &&
            memcmp(e->algorithm, algorithm, PLAN_CACHE_ALGORITHM) == 0)
            return e;
    }
    return NULL;
}

/* Keeps `plan` (made for the key) in the cache, evicting the least recently used entry that
 * no call is using; returns its entry, or NULL when every entry is busy (the caller then
 * destroys the plan itself). */
static plan_cache_entry *plan_cache_insert(const sc_conv_desc *key, const char *algorithm, int64_t threads,
                                           uint64_t hash, sc_plan *plan, const sc_plan_result *results) {
    plan_cache_entry *victim = NULL;
    for (int i = 0; i < PLAN_CACHE_SIZE; i++) {
        plan_cache_entry *e = &plan_cache[i];
        if (e->busy) continue;
        if (e->plan == NULL) { victim = e; break; }
        if (victim == NULL || e->last_use < victim->last_use) victim = e;
    }
    if (victim == NULL) return NULL;
    if (victim->plan != NULL) sc_plan_destroy(victim->plan);
    memcpy(&victim->desc, key, sizeof *key);
    memcpy(victim->algorithm, algorithm, PLAN_CACHE_ALGORITHM);
    victim->threads = threads;
    victim->hash = hash;
    victim->plan = plan;
    victim->results = *results;
    victim->busy = 0;
    return victim;
}

/*
 * run(op, rank, input, weight, bias, grad_output, stride, padding, padding_form, dilation,
 *     output_padding, groups, algorithm, output_mask, padding_mode, output_size, explain)
 * One call: the plan of its descriptor (from the plan cache, or created: validated once,
 * then cached), run. Returns a tuple of results (None where masked off), or the
 * explanation string.
 */
static PyObject *native_run(PyObject *self, PyObject *args) {
    call_args c;
    if (parse_call(args, &c) < 0) { call_args_release(&c); return NULL; }
    int explain = PyTuple_GET_SIZE(args) > CALL_ARGS && PyObject_IsTrue(PyTuple_GET_ITEM(args, CALL_ARGS));
    char msg[MSG_LEN];
    sc_plan *plan = NULL;
    PyObject *ret = NULL;
    sc_conv_desc key;
    char algorithm[PLAN_CACHE_ALGORITHM];
    int64_t threads = 0;
    uint64_t hash = 0;
    int cacheable = plan_key(&c.desc, &key, algorithm, &threads, &hash);
    plan_cache_entry *entry = cacheable ? plan_cache_find(&key, algorithm, threads, hash) : NULL;
    sc_plan_result shapes;
    if (entry == NULL) {
        int32_t st = sc_plan_create(&c.desc, NULL, NULL, &plan, msg, sizeof msg);
        if (st == SC_OK) st = sc_plan_results(plan, &shapes, msg, sizeof msg);
        if (st != SC_OK) {
            sc_plan_destroy(plan);
            call_args_release(&c);
            return raise_status(st, msg);
        }
        if (cacheable) entry = plan_cache_insert(&key, algorithm, threads, hash, plan, &shapes);
    }
    if (entry != NULL) {
        plan = entry->plan;
        shapes = entry->results;
        entry->last_use = ++plan_cache_clock;
        entry->busy++; /* execute_plan releases the GIL: no other call may evict it meanwhile */
    }
    if (explain) {
        char text[4096];
        int32_t st = sc_plan_explain(plan, text, sizeof text);
        ret = st == SC_OK ? PyUnicode_FromString(text) : raise_status(st, text);
    } else {
        ret = execute_plan(plan, &shapes, c.arrays, c.typenum, c.desc.has_bias, c.desc.spatial_dims,
                           c.desc.layout, c.weight_channels_last);
    }
    if (entry != NULL) entry->busy--;
    else sc_plan_destroy(plan);
    call_args_release(&c);
    return ret;
}

/* ------------------------------------------------------------------ Plan objects */

/* A plan kept for many calls (prepared convolutions): validated and planned once for one
 * set of shapes and dtype; calling it checks the arrays against those and runs. */
typedef struct {
    PyObject_HEAD
    sc_plan *plan;
    int typenum;
    int dtype; /* sc_dtype */
    int has_bias;
    int backward;
    int rank;
    int layout; /* sc_layout of the activations */
    int weight_channels_last;
    char opname[40];
    sc_shape shapes[4]; /* input, weight, bias, grad_output as planned (ndim 0 if absent) */
    sc_plan_result results; /* the result shapes */
} PlanObject;

static void Plan_dealloc(PlanObject *self) {
    sc_plan_destroy(self->plan);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject PlanType;

/* Plan(op, rank, input, weight, bias, grad_output, stride, padding, padding_form, dilation,
 *      output_padding, groups, algorithm, output_mask, padding_mode, output_size, pack,
 *      weights_from)
 * pack: pack `weight` into the plan now; weights_from: a Plan whose packed weights to share. */
static PyObject *Plan_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    if (kwds != NULL && PyDict_Size(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "Plan() takes positional arguments only");
        return NULL;
    }
    if (PyTuple_GET_SIZE(args) != CALL_ARGS + 2) {
        PyErr_SetString(PyExc_TypeError, "Plan() takes 18 arguments");
        return NULL;
    }
    call_args c;
    if (parse_call(args, &c) < 0) { call_args_release(&c); return NULL; }
    int pack = PyObject_IsTrue(PyTuple_GET_ITEM(args, CALL_ARGS));
    PyObject *from = PyTuple_GET_ITEM(args, CALL_ARGS + 1);
    if (from != Py_None && !PyObject_TypeCheck(from, &PlanType)) {
        call_args_release(&c);
        PyErr_SetString(PyExc_TypeError, "weights_from must be a Plan or None");
        return NULL;
    }
    PyArrayObject *wbuf = NULL;
    if (pack > 0) {
        wbuf = as_c_buffer(c.arrays[1]);
        if (wbuf == NULL) { call_args_release(&c); return NULL; }
    }
    PlanObject *self = (PlanObject *)type->tp_alloc(type, 0);
    if (self == NULL) { Py_XDECREF(wbuf); call_args_release(&c); return NULL; }
    char msg[MSG_LEN];
    int32_t st;
    const sc_plan *shared = from == Py_None ? NULL : ((PlanObject *)from)->plan;
    const void *wdata = wbuf ? PyArray_DATA(wbuf) : NULL;
    Py_BEGIN_ALLOW_THREADS
    st = sc_plan_create(&c.desc, wdata, shared, &self->plan, msg, sizeof msg);
    Py_END_ALLOW_THREADS
    Py_XDECREF(wbuf);
    if (st != SC_OK) {
        call_args_release(&c);
        Py_DECREF(self);
        return raise_status(st, msg);
    }
    st = sc_plan_results(self->plan, &self->results, msg, sizeof msg);
    if (st != SC_OK) {
        call_args_release(&c);
        Py_DECREF(self);
        return raise_status(st, msg);
    }
    self->typenum = c.typenum;
    self->dtype = c.desc.dtype;
    self->has_bias = c.desc.has_bias;
    self->backward = c.desc.op == SC_OP_CONV_BACKWARD || c.desc.op == SC_OP_CONV_TRANSPOSE_BACKWARD;
    self->rank = c.desc.spatial_dims;
    self->layout = c.desc.layout;
    self->weight_channels_last = c.weight_channels_last;
    memcpy(self->opname, c.opname, sizeof self->opname);
    self->shapes[0] = c.desc.input;
    self->shapes[1] = c.desc.weight;
    self->shapes[2] = c.desc.bias;
    self->shapes[3] = c.desc.grad_output;
    call_args_release(&c);
    return (PyObject *)self;
}

static int same_shape(const sc_shape *s, PyArrayObject *a) {
    if (s->ndim != PyArray_NDIM(a)) return 0;
    for (int i = 0; i < s->ndim; i++)
        if (s->dims[i] != (int64_t)PyArray_DIM(a, i)) return 0;
    return 1;
}

/* plan(input, weight, bias, grad_output) -> tuple of results. The arrays must have the
 * planned dtype and shapes (ValueError / TypeError otherwise). */
static PyObject *Plan_call(PlanObject *self, PyObject *args, PyObject *kwds) {
    PyObject *objs[4];
    if (!PyArg_UnpackTuple(args, "Plan", 4, 4, &objs[0], &objs[1], &objs[2], &objs[3])) return NULL;
    PyArrayObject *arrays[4] = {NULL, NULL, NULL, NULL};
    PyObject *ret = NULL;
    for (int i = 0; i < 4; i++) {
        int wanted = i < 2 || (i == 2 && self->has_bias) || (i == 3 && self->backward);
        if (!wanted) continue;
        if (objs[i] == Py_None) {
            PyErr_Format(PyExc_TypeError, "%s: %s must be an array, got None", self->opname, ARG_NAMES[i]);
            goto done;
        }
        arrays[i] = as_float_array(objs[i], self->opname, ARG_NAMES[i]);
        if (arrays[i] == NULL) goto done;
        if (PyArray_TYPE(arrays[i]) != self->typenum) {
            PyErr_Format(PyExc_TypeError, "%s: %s has dtype %s but the plan was made for %s", self->opname,
                         ARG_NAMES[i], DTYPE_NAMES[array_dtype(arrays[i])], DTYPE_NAMES[self->dtype]);
            goto done;
        }
        if (!same_shape(&self->shapes[i], arrays[i])) {
            PyErr_Format(PyExc_ValueError, "%s: %s does not have the shape the plan was made for",
                         self->opname, ARG_NAMES[i]);
            goto done;
        }
    }
    {
        /* The call's layout must be the plan's (swiftconv.prepare keys its plans by it). */
        int input_cl = suggests_channels_last(arrays[0], self->rank);
        int weight_cl = PyArray_NDIM(arrays[1]) == self->rank + 2 && suggests_channels_last(arrays[1], self->rank);
        int layout = input_cl || (!self->backward && weight_cl) ? SC_LAYOUT_CHANNELS_LAST : SC_LAYOUT_CHANNELS_FIRST;
        if (layout != self->layout || weight_cl != self->weight_channels_last) {
            PyErr_Format(PyExc_ValueError, "%s: the arrays do not have the memory layout the plan was made for",
                         self->opname);
            goto done;
        }
    }
    ret = execute_plan(self->plan, &self->results, arrays, self->typenum, self->has_bias, self->rank, self->layout,
                       self->weight_channels_last);
done:
    for (int i = 0; i < 4; i++) Py_XDECREF(arrays[i]);
    return ret;
}

static PyObject *Plan_explain(PlanObject *self, PyObject *noargs) {
    char text[4096];
    int32_t st = sc_plan_explain(self->plan, text, sizeof text);
    return st == SC_OK ? PyUnicode_FromString(text) : raise_status(st, text);
}

static PyObject *Plan_packed_bytes(PlanObject *self, void *closure) {
    return PyLong_FromLongLong(sc_plan_packed_bytes(self->plan));
}

static PyMethodDef Plan_methods[] = {
    {"explain", (PyCFunction)Plan_explain, METH_NOARGS, "Every decision the plan made."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Plan_getset[] = {
    {"packed_bytes", (getter)Plan_packed_bytes, NULL, "Bytes of weights packed into the plan.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "swiftconv._native.Plan",
    .tp_basicsize = sizeof(PlanObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A validated convolution plan for fixed shapes (internal; see swiftconv.prepare).",
    .tp_new = Plan_new,
    .tp_dealloc = (destructor)Plan_dealloc,
    .tp_call = (ternaryfunc)Plan_call,
    .tp_methods = Plan_methods,
    .tp_getset = Plan_getset,
};

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

/* release_memory() -> the bytes freed: the engine's kept workspaces and freed results' blocks. */
static PyObject *native_release_memory(PyObject *self, PyObject *noargs) {
    long long bytes = (long long)sc_release_memory();
    bytes += (long long)result_cache_empty();
    return PyLong_FromLongLong(bytes);
}

/* _test_allocation_failures(fail_after) -> (pending, live): see sc_test_allocation_failures. */
static PyObject *native_test_allocation_failures(PyObject *self, PyObject *arg) {
    long long n = PyLong_AsLongLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    int64_t live = 0;
    int64_t pending = sc_test_allocation_failures(n, &live);
    return Py_BuildValue("(LL)", (long long)pending, (long long)live);
}

/* layout(array, rank) -> 1 if `array` (N, C, *spatial) or (C, *spatial) with `rank` spatial
 * axes suggests channels-last memory (the rule of every call), else 0. */
static PyObject *native_layout(PyObject *self, PyObject *args) {
    PyObject *obj;
    int rank;
    if (!PyArg_ParseTuple(args, "Oi", &obj, &rank)) return NULL;
    if (!PyArray_Check(obj)) return PyLong_FromLong(0);
    return PyLong_FromLong(suggests_channels_last((PyArrayObject *)obj, rank));
}

/* _test_record_buffers(record) -> (input address, grad_output address): see
 * sc_test_record_buffers. */
static PyObject *native_test_record_buffers(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    const void *input = NULL, *grad_output = NULL;
    sc_test_record_buffers((int32_t)n, &input, &grad_output);
    return Py_BuildValue("(nn)", (Py_ssize_t)(uintptr_t)input, (Py_ssize_t)(uintptr_t)grad_output);
}

/* algorithms(op) -> tuple of the algorithm names the engine accepts for op (0..3). */
static PyObject *native_algorithms(PyObject *self, PyObject *arg) {
    long op = PyLong_AsLong(arg);
    if (op == -1 && PyErr_Occurred()) return NULL;
    char text[256];
    if (sc_algorithms((int32_t)op, text, sizeof text) != SC_OK)
        return PyErr_Format(PyExc_ValueError, "unknown op %ld", op);
    PyObject *joined = PyUnicode_FromString(text);
    if (joined == NULL) return NULL;
    PyObject *list = PyUnicode_Split(joined, NULL, -1);
    Py_DECREF(joined);
    if (list == NULL) return NULL;
    PyObject *tuple = PyList_AsTuple(list);
    Py_DECREF(list);
    return tuple;
}

static PyMethodDef methods[] = {
    {"_test_allocation_failures", native_test_allocation_failures, METH_O,
     "Tests only: make the n-th engine allocation fail; returns (pending, live allocations)."},
    {"_test_record_buffers", native_test_record_buffers, METH_O,
     "Tests only: record the buffers the engine is given (1) or stop (0); returns the last recorded."},
    {"algorithms", native_algorithms, METH_O, "The algorithm names the engine accepts for an op."},
    {"layout", native_layout, METH_VARARGS, "1 if an array suggests channels-last memory, else 0."},
    {"run", native_run, METH_VARARGS, "Validate, then run one convolution op (internal)."},
    {"set_num_threads", native_set_num_threads, METH_O, "Set the engine's thread count."},
    {"get_num_threads", native_get_num_threads, METH_NOARGS, "The engine's thread count."},
    {"release_memory", native_release_memory, METH_NOARGS, "Free the memory kept between calls; the bytes freed."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "swiftconv._native",
                                    "CPython shim over the swiftconv Swift engine.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__native(void) {
    import_array();
    if (result_memory_init() < 0) return NULL;
    if (PyType_Ready(&PlanType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&PlanType);
    if (PyModule_AddObject(m, "Plan", (PyObject *)&PlanType) < 0) {
        Py_DECREF(&PlanType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "engine_version", sc_version()) < 0 ||
        PyModule_AddIntConstant(m, "abi_version", SC_ABI_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
