/*
 * swiftconv C ABI: the single definition of every struct and entry point.
 *
 * Included by the Swift engine (module CSwiftConv) and by the CPython extension
 * (python/swiftconv/_native.c), so the two can never disagree on a layout.
 *
 * Protocol for one call: fill an sc_conv_desc with the op, dtype, parameters and the
 * shapes of the arrays as the user gave them; call sc_plan() to validate everything and
 * learn the result shapes (no array data needed, nothing allocated); allocate the results;
 * call sc_execute() with C-contiguous, aligned, native-endian buffers. Every entry point
 * returns an sc_status and writes a NUL-terminated message into `msg` on failure. None of
 * them traps on bad arguments.
 */
#ifndef SWIFTCONV_H
#define SWIFTCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SC_ABI_VERSION 1
/* Enough for any NumPy array (NPY_MAXDIMS is 64 in NumPy 2). */
#define SC_MAX_DIMS 64

typedef enum {
    SC_OK = 0,
    SC_ERR_VALUE = 1,    /* bad shape or parameter  -> ValueError  */
    SC_ERR_TYPE = 2,     /* bad dtype or type        -> TypeError   */
    SC_ERR_MEMORY = 3,   /* allocation failed        -> MemoryError */
    SC_ERR_INTERNAL = 4  /* a bug in swiftconv       -> RuntimeError */
} sc_status;

typedef enum {
    SC_OP_CONV2D = 0,
    SC_OP_CONV_TRANSPOSE2D = 1,
    SC_OP_CONV2D_BACKWARD = 2,
    SC_OP_CONV_TRANSPOSE2D_BACKWARD = 3
} sc_op;

typedef enum { SC_FLOAT32 = 0, SC_FLOAT64 = 1 } sc_dtype;

typedef enum {
    SC_PADDING_EXPLICIT = 0, /* padding[] holds top, bottom, left, right */
    SC_PADDING_SAME = 1,
    SC_PADDING_VALID = 2
} sc_padding_mode;


/* output_mask bits for the backward ops. */
#define SC_MASK_GRAD_INPUT 1
#define SC_MASK_GRAD_WEIGHT 2
#define SC_MASK_GRAD_BIAS 4

/* The shape of one array exactly as the caller gave it. */
typedef struct {
    int64_t ndim;
    int64_t dims[SC_MAX_DIMS];
} sc_shape;

/* What to compute. Shapes are the user's arrays; the engine validates all of them. */
typedef struct {
    int32_t op;             /* sc_op */
    int32_t dtype;          /* sc_dtype */
    int32_t padding_mode;   /* sc_padding_mode */
    int32_t has_bias;       /* forward ops: a bias array is given */
    int32_t output_mask;    /* backward ops: SC_MASK_* bits */
    int64_t stride[2];      /* (h, w) */
    int64_t dilation[2];    /* (h, w) */
    int64_t padding[4];     /* top, bottom, left, right (transposed ops: top == bottom, left == right) */
    int64_t output_padding[2];
    int64_t groups;
    /* Algorithm name as the user gave it ("auto", "direct", "im2col", "taps", "scatter",
     * "upsample", "reference"); NULL means "auto". The engine checks it against the op. */
    const char *algorithm;
    sc_shape input;         /* forward: x; backward: the forward call's input */
    sc_shape weight;
    sc_shape bias;          /* forward ops with has_bias */
    sc_shape grad_output;   /* backward ops */
} sc_conv_desc;

/* Results of sc_plan: up to three arrays (forward: [0] = output; backward: grad_input,
 * grad_weight, grad_bias, each present only if its mask bit is set). */
typedef struct {
    int32_t count;
    int32_t present[3];
    sc_shape shapes[3];
} sc_plan_result;

/* Validate `desc` and compute result shapes. */
int32_t sc_plan(const sc_conv_desc *desc, sc_plan_result *result, char *msg, size_t msg_len);

/* Validate again and compute. Buffers are C-contiguous, aligned and native-endian, of the
 * desc's dtype; `bias` may be NULL when has_bias is 0; `grad_output` is used by backward ops;
 * outputs[i] must be non-NULL exactly for the present results of sc_plan. */
int32_t sc_execute(const sc_conv_desc *desc, const void *input, const void *weight,
                   const void *bias, const void *grad_output, void *const outputs[3],
                   char *msg, size_t msg_len);

/* Describe what sc_execute would run for `desc` (kernel names, per sub-problem). */
int32_t sc_explain(const sc_conv_desc *desc, char *text, size_t text_len);

/* Worker threads (1..1024, the caller included). */
int32_t sc_set_num_threads(int64_t n, char *msg, size_t msg_len);
int64_t sc_get_num_threads(void);

/* The engine's version string, e.g. "0.1.0". Static storage. */
const char *sc_version(void);

/* CPU features, detected once in C: 1 if AVX2 and FMA are usable. */
int32_t sc_cpu_has_avx2_fma(void);
/* 1 if everything x86-64-v4 code may use is usable: AVX-512 F/BW/CD/DQ/VL (with the OS
   saving zmm state) on top of AVX2, FMA, BMI1/2. */
int32_t sc_cpu_has_avx512(void);

#ifdef __cplusplus
}
#endif
#endif /* SWIFTCONV_H */
