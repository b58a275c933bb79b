/*
 * swiftconv C ABI: the single definition of every struct and entry point.
 *
 * Included by the Swift engine (module CSwiftConv) and by the CPython extension
 * (python/swiftconv/_native.c), so the two can never disagree on a layout.
 *
 * Protocol for one call: fill an sc_conv_desc with the op, rank, dtype, parameters and the
 * shapes of the arrays as the user gave them; sc_plan_create() validates everything once
 * and chooses every kernel (no array data needed); sc_plan_results() gives the result
 * shapes; allocate the results; sc_plan_execute() with aligned, native-endian buffers,
 * C-contiguous in the descriptor's layout (the activations channels-first or channels-last) (as often as wanted, from any thread); sc_plan_destroy(). Every entry point
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

#define SC_ABI_VERSION 5
/* Enough for any NumPy array (NPY_MAXDIMS is 64 in NumPy 2). */
#define SC_MAX_DIMS 64
/* Spatial axes of a convolution: 1 (conv1d), 2 (conv2d) or 3 (conv3d). */
#define SC_MAX_SPATIAL 3

typedef enum {
    SC_OK = 0,
    SC_ERR_VALUE = 1,    /* bad shape or parameter  -> ValueError  */
    SC_ERR_TYPE = 2,     /* bad dtype or type        -> TypeError   */
    SC_ERR_MEMORY = 3,   /* allocation failed        -> MemoryError */
    SC_ERR_INTERNAL = 4  /* a bug in swiftconv       -> RuntimeError */
} sc_status;

/* The four operations; the rank comes from sc_conv_desc.spatial_dims
 * (SC_OP_CONV with spatial_dims 3 is conv3d). */
typedef enum {
    SC_OP_CONV = 0,
    SC_OP_CONV_TRANSPOSE = 1,
    SC_OP_CONV_BACKWARD = 2,
    SC_OP_CONV_TRANSPOSE_BACKWARD = 3
} sc_op;

/* The element type of every array of one call. SC_FLOAT16 (IEEE binary16) and SC_BFLOAT16
 * (the top 16 bits of a float32, as ml_dtypes.bfloat16) arrays hold 16-bit patterns; they
 * are computed in float32 (widened exactly, the float32 plan's kernels, the results rounded
 * to nearest even) and the results have the same type. Since ABI version 4. */
typedef enum { SC_FLOAT32 = 0, SC_FLOAT64 = 1, SC_FLOAT16 = 2, SC_BFLOAT16 = 3 } sc_dtype;

/* How the padding is given (sc_conv_desc.padding_form). */
typedef enum {
    SC_PADDING_EXPLICIT = 0, /* padding[] holds (before, after) per spatial axis */
    SC_PADDING_SAME = 1,
    SC_PADDING_VALID = 2
} sc_padding_form;

/* What the padding holds (sc_conv_desc.padding_mode), as torch.nn.Conv*d(padding_mode=...):
 * conv ops and their backward; the transposed ops accept zeros only. */
typedef enum {
    SC_PADDING_MODE_ZEROS = 0,
    SC_PADDING_MODE_REFLECT = 1,   /* mirrored without the edge; each pad < the input size */
    SC_PADDING_MODE_REPLICATE = 2, /* the edge element repeated */
    SC_PADDING_MODE_CIRCULAR = 3   /* wrapped around; each pad <= the input size */
} sc_padding_mode;

/* How the activations (input, output, grad_output, grad_input) lie in memory
 * (sc_conv_desc.layout); shapes are the logical (N, C, *spatial) ones either way. Weights
 * and biases are always C-contiguous in PyTorch's order. Since ABI version 5. */
typedef enum {
    SC_LAYOUT_CHANNELS_FIRST = 0, /* C-contiguous (N, C, *spatial) */
    SC_LAYOUT_CHANNELS_LAST = 1   /* C-contiguous (N, *spatial, C): NLC, NHWC, NDHWC */
} sc_layout;

/* output_mask bits for the backward ops. */
#define SC_MASK_GRAD_INPUT 1
#define SC_MASK_GRAD_WEIGHT 2
#define SC_MASK_GRAD_BIAS 4

/* The shape of one array exactly as the caller gave it. */
typedef struct {
    int64_t ndim;
    int64_t dims[SC_MAX_DIMS];
} sc_shape;

/* What to compute. Shapes are the user's arrays; the engine validates all of them.
 * Per-axis parameters hold `spatial_dims` values, outermost axis first (depth, height,
 * width for 3-D); entries past spatial_dims are ignored. */
typedef struct {
    int32_t op;             /* sc_op */
    int32_t dtype;          /* sc_dtype */
    int32_t spatial_dims;   /* 1, 2 or 3 */
    int32_t padding_form;   /* sc_padding_form */
    int32_t padding_mode;   /* sc_padding_mode */
    int32_t has_bias;       /* forward ops: a bias array is given */
    int32_t output_mask;    /* backward ops: SC_MASK_* bits */
    int32_t has_output_size; /* transposed ops: output_size is given */
    int32_t layout;         /* sc_layout of the activations (ABI 5) */
    int64_t stride[SC_MAX_SPATIAL];
    int64_t dilation[SC_MAX_SPATIAL];
    int64_t padding[2 * SC_MAX_SPATIAL];   /* (before, after) per axis (transposed ops: equal) */
    int64_t output_padding[SC_MAX_SPATIAL];
    int64_t groups;
    /* Algorithm name as the user gave it ("auto", "direct", "im2col", "taps", "scatter",
     * "upsample", "reference"); NULL means "auto". The engine checks it against the op. */
    const char *algorithm;
    sc_shape input;         /* forward: x; backward: the forward call's input */
    sc_shape weight;
    sc_shape bias;          /* forward ops with has_bias */
    sc_shape grad_output;   /* backward ops */
    /* Transposed ops with has_output_size: the requested output size as the user gave it
     * (`spatial_dims` sizes, or the whole output shape: the last spatial_dims entries are
     * used), as ConvTranspose*d.forward(input, output_size). It fixes output_padding (the
     * output_padding field is then ignored); the engine checks it. */
    sc_shape output_size;
} sc_conv_desc;

/* Result shapes of a plan: up to three arrays (forward: [0] = output; backward:
 * grad_input, grad_weight, grad_bias, each present only if its mask bit is set). */
typedef struct {
    int32_t count;
    int32_t present[3];
    sc_shape shapes[3];
} sc_plan_result;

/*
 * Plans: create once (validate, choose kernels, fix tiling and workspace sizes, optionally
 * pack the weights), execute many times (only the buffers are checked), destroy.
 * A plan is immutable once created; several threads may execute one plan at once.
 */
typedef struct sc_plan sc_plan;

/* Validates `desc` and makes a plan. `weight` (may be NULL) is the weight array to pack
 * into the plan now, for plans executed many times with the same weights (prepared
 * convolutions): it is read during this call only. `weights_from` (may be NULL) is an
 * earlier plan whose packed weights this plan shares when they fit (same op, rank, dtype,
 * weight shape and groups), so plans for several input sizes hold one packed copy.
 * float16 / bfloat16 weights are widened to float32 once, packed as float32, and the
 * float32 copy is kept (the plan's calls do not widen them again).
 * On success *plan is a new plan to release with sc_plan_destroy. */
int32_t sc_plan_create(const sc_conv_desc *desc, const void *weight, const sc_plan *weights_from,
                       sc_plan **plan, char *msg, size_t msg_len);

/* Releases a plan (NULL is ignored). */
void sc_plan_destroy(sc_plan *plan);

/* The shapes of the plan's results. */
int32_t sc_plan_results(const sc_plan *plan, sc_plan_result *result, char *msg, size_t msg_len);

/* Runs the plan. Buffers are aligned and native-endian, of the plan's dtype and the shapes
 * it was made for, C-contiguous in the plan's layout (activations channels-first, or
 * channels-last: (N, *spatial, C); unbatched (*spatial, C); weights always channels-first); `bias` is used by forward ops with has_bias, and
 * `grad_output` by backward ops; outputs[i] must be non-NULL exactly for the present
 * results (empty arrays may pass NULL). When the plan packed its weights, `weight` must
 * hold the same values (it is still read by the steps that do not use the packed copy). */
int32_t sc_plan_execute(const sc_plan *plan, const void *input, const void *weight,
                        const void *bias, const void *grad_output, void *const outputs[3],
                        char *msg, size_t msg_len);

/* Every decision the plan made, one line each (NUL-terminated, truncated to text_len). */
int32_t sc_plan_explain(const sc_plan *plan, char *text, size_t text_len);

/* Bytes of packed weights the plan holds (0 when it packs nothing ahead). */
int64_t sc_plan_packed_bytes(const sc_plan *plan);

/* The algorithm names `op` (sc_op) accepts, the same for every rank, separated by spaces
 * ("auto direct im2col taps reference"). */
int32_t sc_algorithms(int32_t op, char *text, size_t text_len);

/* Failure injection, for tests of the out-of-memory paths: with fail_after >= 1 the
 * fail_after-th engine allocation from now on fails (once); 0 disarms it; a negative value
 * leaves the setting alone. Returns the allocations still to go before the previous
 * setting would have failed one (0: none pending), and writes the number of engine
 * allocations not yet released to *live (when not NULL). Off, it costs one atomic load per
 * allocation. */
int64_t sc_test_allocation_failures(int64_t fail_after, int64_t *live);

/* Tests only (shows that the caller's memory reaches the engine uncopied): with
 * record = 1 every later sc_plan_execute records the input and grad_output pointers it is
 * given; 0 stops recording; a negative value leaves the setting alone. Writes the last
 * recorded pointers to *input and *grad_output (when not NULL). Off, it costs one relaxed
 * atomic load per execute. */
void sc_test_record_buffers(int32_t record, const void **input, const void **grad_output);

/* Worker threads (1..1024, the caller included). */
int32_t sc_set_num_threads(int64_t n, char *msg, size_t msg_len);
int64_t sc_get_num_threads(void);

/* Frees the large buffers the engine keeps between calls (workspaces of 32 MiB or more);
 * the bytes freed. Later calls allocate them again. */
int64_t sc_release_memory(void);

/* The engine's version string, e.g. "0.1.0". Static storage. */
const char *sc_version(void);

/* CPU features, detected once in C: 1 if AVX2, FMA and F16C are usable (what the x86-64-v3
   build of the kernels may use). */
int32_t sc_cpu_has_avx2_fma(void);
/* 1 if everything x86-64-v4 code may use is usable: AVX-512 F/BW/CD/DQ/VL (with the OS
   saving zmm state) on top of AVX2, FMA, BMI1/2. */
int32_t sc_cpu_has_avx512(void);
/* 1 if AVX-512 BF16 is usable too (vcvtne2ps2bf16: the x86-64-v4 build's bfloat16 rounding
   of the direct planes, DirectPlaneKernels.swift, when the CPU has it). */
int32_t sc_cpu_has_avx512_bf16(void);
/* The CPUs this process may run on (its affinity mask; the online CPUs elsewhere). */
int32_t sc_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif /* SWIFTCONV_H */
