/*
 * panmax: the softmax family on the CPU (scalar C, AVX2+FMA, AVX-512F).
 *
 * This is the only public header and the only input of jextract (see bindings/).
 * Rules that keep it binding-friendly and stable:
 *   - fixed-width types only (int32_t status/flags, int64_t sizes and strides in ELEMENTS);
 *   - every entry point returns an int32_t status (PANMAX_OK = 0, negative = error) and
 *     writes nothing when it returns an error;
 *   - no structs by value, no function-like macros, no variadics;
 *   - the header grows by adding functions; a signature never changes.
 *
 * Shapes. A "matrix" argument is (pointer, row stride) plus the shared (rows, cols):
 * row r of x starts at x + r * x_stride. Strides are element counts and must be >= cols
 * (broadcast arguments document where 0 is allowed). rows >= 0 (0 = nothing to do),
 * cols >= 1. Every pointer must be aligned to its element type.
 *
 * In place. Where documented, an output may be the very same pointer as one input with
 * the same stride. Any other overlap between the memory spanned by an output and by an
 * input ([p, p + ((rows-1)*stride + cols) elements)) is rejected with PANMAX_ERR_OVERLAP.
 *
 * Non-finite logits (the same rule on every ISA and in the Java backends):
 *   - a NaN in a row makes every output of that row NaN (other rows are unaffected);
 *   - a row whose entries are all -inf (or all masked) is "empty": softmax gives 0 for
 *     every entry, log-softmax and logsumexp give -inf;
 *   - +inf entries share the probability mass equally (the limit of softmax as they grow
 *     together): p = 1/k on the k entries equal to +inf, 0 elsewhere; log-softmax gives
 *     -log(k) there and -inf elsewhere; logsumexp gives +inf.
 *
 * Underflow is gradual on every ISA: a result below the smallest normal (e.g. softmax([0, -95])[1]
 * = 5.5e-42 in float) is returned as IEEE arithmetic gives it, a subnormal, never flushed to 0.
 *
 * ISA. Every compute function takes `isa`: PANMAX_ISA_AUTO uses the active ISA (the best
 * this CPU supports, lowered by the PANMAX_ISA environment variable or panmax_set_isa());
 * a specific value forces that kernel set and fails with PANMAX_ERR_ISA if the CPU or
 * this build lacks it. The choice is per call, so threads never race on it.
 */
#ifndef PANMAX_H
#define PANMAX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PANMAX_VERSION_MAJOR 0
#define PANMAX_VERSION_MINOR 1
#define PANMAX_VERSION_PATCH 0
/* Bumped on any incompatible change of this header (none is planned). */
#define PANMAX_ABI_VERSION 1

/* Status codes: 0 is success, each error has its own negative value. */
enum panmax_status {
    PANMAX_OK = 0,
    PANMAX_ERR_NULL = -1,     /* a required pointer is NULL */
    PANMAX_ERR_SIZE = -2,     /* rows < 0, cols < 1, or a byte size overflows int64_t */
    PANMAX_ERR_STRIDE = -3,   /* a row stride is below cols (or not 0 where 0 is allowed) */
    PANMAX_ERR_OVERLAP = -4,  /* an output overlaps an input other than documented in-place use */
    PANMAX_ERR_ISA = -5,      /* unknown ISA, or not supported by this CPU or build */
    PANMAX_ERR_ARGUMENT = -6, /* a value out of its domain: temperature, flags, label, reduction */
    PANMAX_ERR_ALIGNMENT = -7,/* a pointer not aligned to its element type */
    PANMAX_ERR_NO_MEMORY = -8 /* an internal allocation failed */
};

/* Instruction sets. */
enum panmax_isa {
    PANMAX_ISA_AUTO = -1,
    PANMAX_ISA_SCALAR = 0,
    PANMAX_ISA_AVX2 = 1,   /* AVX2 + FMA */
    PANMAX_ISA_AVX512 = 2, /* AVX-512F */
    PANMAX_ISA_NEON = 3    /* aarch64 Advanced SIMD: the aarch64 baseline */
};

/* Flags of panmax_softmax_ex_* and panmax_jacobian_*. */
enum panmax_flags {
    PANMAX_FLAG_LOG = 1,         /* log-softmax instead of softmax */
    PANMAX_FLAG_EXACT = 2,       /* softmax_ex: carry the rounding error of x - max (f32: <= 1 ulp-ish) */
    PANMAX_FLAG_FROM_LOGITS = 4  /* jacobian: the input rows are logits, not probabilities */
};

/* Reductions of panmax_cross_entropy_*. */
enum panmax_reduction {
    PANMAX_REDUCTION_NONE = 0, /* loss[r] per row (ignored rows: 0) */
    PANMAX_REDUCTION_SUM = 1,  /* loss[0] = sum over rows */
    PANMAX_REDUCTION_MEAN = 2  /* loss[0] = sum / number of rows not ignored (NaN if none);
                                * with class weights: sum / sum of w[label] (see cross_entropy_ex) */
};

/* ---- library information -------------------------------------------------------------- */

/* MAJOR * 10000 + MINOR * 100 + PATCH of the loaded library. */
int32_t panmax_version(void);
/* PANMAX_ABI_VERSION of the loaded library. */
int32_t panmax_abi_version(void);
/* Static, NUL-terminated English text for a status code ("unknown status" otherwise). */
const char *panmax_status_string(int32_t status);
/* Static name of an ISA ("scalar", "avx2", "avx512", "neon"), or NULL for an unknown value. */
const char *panmax_isa_name(int32_t isa);
/* 1 if `isa` is compiled in and this CPU (and OS, via XCR0) supports it, else 0. */
int32_t panmax_isa_supported(int32_t isa);
/* The ISA that PANMAX_ISA_AUTO resolves to now. */
int32_t panmax_active_isa(void);
/* Sets the ISA that PANMAX_ISA_AUTO resolves to; PANMAX_ISA_AUTO restores the detected best.
 * PANMAX_ERR_ISA (and no change) if the ISA is unknown or unsupported. Thread-safe. */
int32_t panmax_set_isa(int32_t isa);
/* Static space-separated list of the CPU features panmax checked, e.g. "sse2 avx avx2 fma". */
const char *panmax_cpu_features(void);
/* Static description of the BLAS in use, e.g. "OpenBLAS 0.3.28 ... (threads: 2)". */
const char *panmax_blas_info(void);

/* ---- forward ---------------------------------------------------------------------------- */

/* y[r,:] = softmax(x[r,:]) = exp(x - max) / sum(exp(x - max)), for each of `rows` rows.
 * In place allowed (y == x, y_stride == x_stride). */
int32_t panmax_softmax_f32(const float *x, int64_t x_stride, float *y, int64_t y_stride,
                           int64_t rows, int64_t cols, int32_t isa);
int32_t panmax_softmax_f64(const double *x, int64_t x_stride, double *y, int64_t y_stride,
                           int64_t rows, int64_t cols, int32_t isa);

/* y[r,:] = log_softmax(x[r,:]) = x - max - log(sum(exp(x - max))). In place allowed. */
int32_t panmax_log_softmax_f32(const float *x, int64_t x_stride, float *y, int64_t y_stride,
                               int64_t rows, int64_t cols, int32_t isa);
int32_t panmax_log_softmax_f64(const double *x, int64_t x_stride, double *y, int64_t y_stride,
                               int64_t rows, int64_t cols, int32_t isa);

/* out[r] = logsumexp(x[r,:]) = max + log(sum(exp(x - max))). `out` holds `rows` values and
 * must not overlap x. */
int32_t panmax_logsumexp_f32(const float *x, int64_t x_stride, float *out,
                             int64_t rows, int64_t cols, int32_t isa);
int32_t panmax_logsumexp_f64(const double *x, int64_t x_stride, double *out,
                             int64_t rows, int64_t cols, int32_t isa);

/* The general forward: y = softmax(z / temperature) (log-softmax with PANMAX_FLAG_LOG) where
 *   z[r,j] = x[r,j] + bias[r,j]   if mask == NULL or mask[r,j] != 0,
 *   z[r,j] = -inf                 if mask != NULL and mask[r,j] == 0 (x is not read there).
 * temperature: finite, positive and normal (>= FLT_MIN / DBL_MIN), else PANMAX_ERR_ARGUMENT.
 * mask: optional bytes (nonzero = keep); mask_stride >= cols, or 0 to use one row for all.
 * bias: optional additive bias (e.g. -inf for causal masks); bias_stride >= cols, or 0.
 * flags: PANMAX_FLAG_LOG | PANMAX_FLAG_EXACT, other bits are PANMAX_ERR_ARGUMENT.
 * A fully masked row follows the "empty row" rule above. In place allowed (y == x).
 * Large temperatures: t = (z - max(z)) / temperature is computed as (z - max) * (1/T) in the element
 * type, except where z - max overflows it (entries of opposite sign near the type's largest
 * value): there z and max are first scaled by 2^-64 (double: 2^-512) and the difference is
 * multiplied by 2^64 / T (2^512 / T), so every finite input and temperature gives softmax(z / T)
 * ({FLT_MAX, -FLT_MAX} at T = FLT_MAX gives [0.881, 0.119], not [1, 0]). Entries whose z - max does
 * not overflow keep the bits of the plain formula (whenever 1/T is normal). */
int32_t panmax_softmax_ex_f32(const float *x, int64_t x_stride, float *y, int64_t y_stride,
                              int64_t rows, int64_t cols, float temperature,
                              const uint8_t *mask, int64_t mask_stride,
                              const float *bias, int64_t bias_stride,
                              int32_t flags, int32_t isa);
int32_t panmax_softmax_ex_f64(const double *x, int64_t x_stride, double *y, int64_t y_stride,
                              int64_t rows, int64_t cols, double temperature,
                              const uint8_t *mask, int64_t mask_stride,
                              const double *bias, int64_t bias_stride,
                              int32_t flags, int32_t isa);

/* ---- backward ----------------------------------------------------------------------------- */

/* Softmax vector-Jacobian product without forming J: dx = p * (dy - <p, dy>) per row, where
 * p is the softmax output. J is symmetric, so this is also the Jacobian-vector product
 * (pass the tangent as dy). In place allowed: dx == dy or dx == p (same stride). */
int32_t panmax_softmax_backward_f32(const float *p, int64_t p_stride,
                                    const float *dy, int64_t dy_stride,
                                    float *dx, int64_t dx_stride,
                                    int64_t rows, int64_t cols, int32_t isa);
int32_t panmax_softmax_backward_f64(const double *p, int64_t p_stride,
                                    const double *dy, int64_t dy_stride,
                                    double *dx, int64_t dx_stride,
                                    int64_t rows, int64_t cols, int32_t isa);

/* Log-softmax vector-Jacobian product: dx = dy - exp(logp) * sum(dy) per row, where logp is
 * the log-softmax output. In place allowed: dx == dy or dx == logp. */
int32_t panmax_log_softmax_backward_f32(const float *logp, int64_t logp_stride,
                                        const float *dy, int64_t dy_stride,
                                        float *dx, int64_t dx_stride,
                                        int64_t rows, int64_t cols, int32_t isa);
int32_t panmax_log_softmax_backward_f64(const double *logp, int64_t logp_stride,
                                        const double *dy, int64_t dy_stride,
                                        double *dx, int64_t dx_stride,
                                        int64_t rows, int64_t cols, int32_t isa);

/* Log-softmax Jacobian-vector product (J = I - 1 p^T is not symmetric):
 * out = v - <exp(logp), v> per row. In place allowed: out == v or out == logp. */
int32_t panmax_log_softmax_jvp_f32(const float *logp, int64_t logp_stride,
                                   const float *v, int64_t v_stride,
                                   float *out, int64_t out_stride,
                                   int64_t rows, int64_t cols, int32_t isa);
int32_t panmax_log_softmax_jvp_f64(const double *logp, int64_t logp_stride,
                                   const double *v, int64_t v_stride,
                                   double *out, int64_t out_stride,
                                   int64_t rows, int64_t cols, int32_t isa);

/* ---- Jacobians -------------------------------------------------------------------------------- */

/* For each of `rows` input rows (probabilities p, or logits with PANMAX_FLAG_FROM_LOGITS),
 * writes the cols x cols row-major Jacobian to jac + r * cols * cols:
 *   softmax:                       J[i][j] = p_i * (delta_ij - p_j)   (diag(p) - p p^T)
 *   log-softmax (PANMAX_FLAG_LOG): J[i][j] = delta_ij - p_j            (I - 1 p^T)
 * jac must hold rows * cols * cols elements (overflow: PANMAX_ERR_SIZE) and must not overlap x.
 * flags: PANMAX_FLAG_LOG | PANMAX_FLAG_FROM_LOGITS.
 * Each entry is the formula evaluated in IEEE arithmetic of the element type on whatever the rows
 * hold (nothing checks they are probabilities): J[i][i] = p_i * (1 - p_i), J[i][j] = p_j * (-p_i)
 * (log-softmax: 1 - p_i and -p_j). So p = {inf, 0, 0} gives J00 = inf * (1 - inf) = -inf and
 * J01 = J10 = NaN (inf * 0), a NaN gives NaN in its row and column; an off-diagonal zero may be
 * -0. */
int32_t panmax_jacobian_f32(const float *x, int64_t x_stride, float *jac,
                            int64_t rows, int64_t cols, int32_t flags, int32_t isa);
int32_t panmax_jacobian_f64(const double *x, int64_t x_stride, double *jac,
                            int64_t rows, int64_t cols, int32_t flags, int32_t isa);

/* out = J * V for one probability row p (length n) and a row-major n x k matrix V, without
 * forming J (OpenBLAS gemv + rank-1 update):
 *   softmax:                       out = diag(p) V - p (p^T V)
 *   log-softmax (PANMAX_FLAG_LOG): out = V - 1 (p^T V)
 * v_stride, out_stride >= k. out must not overlap p or V. flags: PANMAX_FLAG_LOG only. */
int32_t panmax_jacobian_matmul_f32(const float *p, int64_t n,
                                   const float *v, int64_t v_stride,
                                   float *out, int64_t out_stride,
                                   int64_t k, int32_t flags, int32_t isa);
int32_t panmax_jacobian_matmul_f64(const double *p, int64_t n,
                                   const double *v, int64_t v_stride,
                                   double *out, int64_t out_stride,
                                   int64_t k, int32_t flags, int32_t isa);

/* ---- cross-entropy ------------------------------------------------------------------------------ */

/* Cross-entropy of softmax(logits) against targets, fused with its gradient, one pass per row.
 * Targets: exactly one of
 *   labels (rows class indices, 0 <= label < cols, or == ignore_index: that row has loss 0,
 *           gradient 0 and does not count in MEAN; any other value: PANMAX_ERR_ARGUMENT), or
 *   target (rows x cols probability rows, target_stride >= cols; used as given).
 * label_smoothing in [0, 1]: the label target becomes (1 - s) * onehot + s / cols
 *   (with soft targets: (1 - s) * target + s / cols).
 * Per-row loss = sum_j t_j * (logsumexp(z) - z_j)  (= logsumexp(z) - z_y for a hard label;
 *   terms with t_j == 0 count 0 even where z_j = -inf).
 * loss: rows values for PANMAX_REDUCTION_NONE, one value for SUM and MEAN.
 * grad: optional (NULL = loss only); grad = softmax(z) * sum_j t_j - t (= p - t for targets
 *   that sum to 1), divided by the count for MEAN.
 *   grad may be the logits themselves (grad == logits, same stride); it must not overlap target.
 * rows == 0 is valid with any pointer (NULL allowed for logits, labels, target, grad; loss may be
 *   NULL for NONE): SUM gives loss[0] = 0, MEAN gives loss[0] = NaN (0/0, PyTorch's empty mean),
 *   NONE writes nothing.
 * Non-finite logits (the limits of the softmax rule at the top):
 *   - a NaN anywhere in the row gives NaN loss and gradient;
 *   - +inf logits: the row is the limit as its k +inf logits grow together, p = 1/k on them and 0
 *     elsewhere, gradient p * sum_j t_j - t as for finite rows; loss = sum over the +inf entries of
 *     t_j * log(k), plus +inf if any t_j > 0 sits on an entry that is not +inf. So a hard label on
 *     a +inf logit gives log(k) (0 for k = 1), a label elsewhere +inf; label smoothing puts mass on
 *     every class, so it gives +inf unless every logit is +inf.
 * Labels are read from `labels` once when checked and once more, into a local, where used: a label
 *   that another thread changed in between to a value out of range makes that row's loss and
 *   gradient NaN (never an access outside logits or grad); changed to ignore_index, the row is
 *   ignored. */
int32_t panmax_cross_entropy_f32(const float *logits, int64_t x_stride,
                                 const int64_t *labels,
                                 const float *target, int64_t target_stride,
                                 float *grad, int64_t grad_stride,
                                 float *loss, int64_t rows, int64_t cols,
                                 int64_t ignore_index, float label_smoothing,
                                 int32_t reduction, int32_t isa);
int32_t panmax_cross_entropy_f64(const double *logits, int64_t x_stride,
                                 const int64_t *labels,
                                 const double *target, int64_t target_stride,
                                 double *grad, int64_t grad_stride,
                                 double *loss, int64_t rows, int64_t cols,
                                 int64_t ignore_index, double label_smoothing,
                                 int32_t reduction, int32_t isa);

/* panmax_cross_entropy_* with optional per-class weights `weight` (cols values, each finite and
 * >= 0, else PANMAX_ERR_ARGUMENT; NULL = all 1, identical to panmax_cross_entropy_*, which is this
 * function with weight NULL). The semantics are PyTorch's cross_entropy(weight=...):
 *   effective targets u_j = w_j * t'_j, t' the smoothed one-hot or soft target as above;
 *   per-row loss = sum_j u_j * (logsumexp(z) - z_j) (hard label, no smoothing: w_y * (lse - z_y));
 *   gradient = softmax(z) * sum_j u_j - u, then the reduction's scale;
 *   non-finite rows follow the rules above with u in place of t.
 * MEAN with class labels divides the loss and every gradient by W = the sum of w[label] over the
 *   rows not ignored (with label smoothing too, as PyTorch does); W == 0 (every counted label
 *   weighs 0, every row ignored, or rows == 0) gives loss[0] = NaN and a NaN gradient on the
 *   counted rows, as PyTorch's 0/0 does (ignored rows keep gradient 0).
 * MEAN with soft targets divides by rows (PyTorch's rule for probability targets).
 * weight must not overlap grad or loss. */
int32_t panmax_cross_entropy_ex_f32(const float *logits, int64_t x_stride, const int64_t *labels,
                                    const float *target, int64_t target_stride, const float *weight,
                                    float *grad, int64_t grad_stride, float *loss, int64_t rows,
                                    int64_t cols, int64_t ignore_index, float label_smoothing,
                                    int32_t reduction, int32_t isa);
int32_t panmax_cross_entropy_ex_f64(const double *logits, int64_t x_stride, const int64_t *labels,
                                    const double *target, int64_t target_stride, const double *weight,
                                    double *grad, int64_t grad_stride, double *loss, int64_t rows,
                                    int64_t cols, int64_t ignore_index, double label_smoothing,
                                    int32_t reduction, int32_t isa);

/* ==== inference: argmax, top-k, token sampling, classifier heads ============================
 *
 * Rank order. "Best" means the larger logit; ties go to the lower index. +inf ranks above every
 * finite value and -inf below; rows containing NaN have no best entry: their indices and tokens
 * are PANMAX_NO_TOKEN and their values NaN (other rows are unaffected).
 *
 * No sort of a row: top-k keeps a running threshold (an entry is copied only while it can still
 * make the cut; a quickselect compacts the copies), top-p ranks only the candidates of one bucket
 * of a mass histogram, and the k survivors are sorted at the end.
 *
 * Scratch. These functions keep one buffer per calling thread (grown on demand, about 50 bytes
 * per logit for sampling), freed when the thread exits or by panmax_release_scratch(); a call
 * then allocates nothing. PANMAX_ERR_NO_MEMORY when it cannot be grown (nothing written). No
 * function here starts a thread; OpenBLAS runs with the thread count panmax_set_blas_threads()
 * (or OPENBLAS_NUM_THREADS) gave it.
 */

/* Token or index of a row without one (NaN in the row, or no finite logit left to sample). */
#define PANMAX_NO_TOKEN (-1)

/* What panmax_topk_* writes to `values`. */
enum panmax_topk_values {
    PANMAX_TOPK_LOGITS = 0,           /* the selected entries as given */
    PANMAX_TOPK_PROBABILITIES = 1,    /* softmax of the row, at the selected entries */
    PANMAX_TOPK_LOG_PROBABILITIES = 2 /* log-softmax of the row, at the selected entries */
};

/* Flags of panmax_head_* (with PANMAX_FLAG_LOG). */
enum panmax_head_flags {
    PANMAX_HEAD_W_TRANSPOSED = 8 /* w is dim x classes (row stride >= classes), not classes x dim */
};

/* Columns of panmax_sample_*'s `scores` (one row of PANMAX_SCORE_COUNT per sampled row). */
enum panmax_sample_score {
    PANMAX_SCORE_PROB = 0,        /* probability of the token under the filtered distribution */
    PANMAX_SCORE_LOGPROB = 1,     /* its log */
    PANMAX_SCORE_RAW_PROB = 2,    /* under softmax(z / T) before top-k/top-p/min-p (T = 1 if 0) */
    PANMAX_SCORE_RAW_LOGPROB = 3, /* its log */
    PANMAX_SCORE_COUNT = 4
};

/* How panmax_sample_* draws. Every field is 8 bytes (no padding). PANMAX_ERR_ARGUMENT unless:
 *   temperature          0 (greedy: the best token) or a normal number of the element type;
 *   top_k                0 (off) or >= 1 (k >= cols is the same as off);
 *   top_p                in (0, 1]; 1 is off;
 *   min_p                in [0, 1]; 0 is off;
 *   repetition_penalty   finite and > 0; 1 is off;
 *   presence_penalty, frequency_penalty   finite and >= 0; 0 is off;
 *   top_logprobs         in [0, cols]: how many best tokens' raw log-probabilities to return;
 *   seed, step           the draw of every row without its own (see panmax_sample_f32). */
typedef struct panmax_sample_config {
    double temperature;
    double top_p;
    double min_p;
    double repetition_penalty;
    double presence_penalty;
    double frequency_penalty;
    int64_t top_k;
    int64_t top_logprobs;
    uint64_t seed;
    uint64_t step;
} panmax_sample_config;

/* out[r] = the best index of row r (rank order), PANMAX_NO_TOKEN if the row has a NaN. out holds
 * rows values and must not overlap x. */
int32_t panmax_argmax_f32(const float *x, int64_t x_stride, int64_t rows, int64_t cols,
                          int64_t *out, int32_t isa);
int32_t panmax_argmax_f64(const double *x, int64_t x_stride, int64_t rows, int64_t cols,
                          int64_t *out, int32_t isa);

/* The k best entries of each row, best first: indices[r, 0..k) and optionally (values != NULL)
 * values[r, 0..k) as chosen by values_kind (probabilities follow softmax's rules for -inf and
 * +inf rows). 1 <= k <= cols (PANMAX_ERR_SIZE below 1, PANMAX_ERR_ARGUMENT above cols); strides
 * >= k. Outputs must not overlap x or each other. */
int32_t panmax_topk_f32(const float *x, int64_t x_stride, int64_t rows, int64_t cols, int64_t k,
                        int64_t *indices, int64_t indices_stride, float *values,
                        int64_t values_stride, int32_t values_kind, int32_t isa);
int32_t panmax_topk_f64(const double *x, int64_t x_stride, int64_t rows, int64_t cols, int64_t k,
                        int64_t *indices, int64_t indices_stride, double *values,
                        int64_t values_stride, int32_t values_kind, int32_t isa);

/*
 * One token per row of logits, drawn from softmax(z / T) after, in this order:
 *   1. penalties over row r's previous tokens history[r, 0..history_len) (-1 entries are padding;
 *      history_stride 0 shares one history): for each distinct id with c occurrences,
 *      z = x > 0 ? x / repetition : x * repetition, then z -= c * frequency + presence
 *      (the penalty amount rounded to the element type);
 *   2. z += bias[r, :] (optional; stride 0 broadcasts one row); z = -inf where mask[r, j] == 0
 *      (optional bytes; x is not read there);
 *   3. temperature: t = (z - max z) * (1 / T) in the element type; T = 0 takes the best token;
 *   4. top-k: the k best (rank order); 5. top-p: the shortest rank-order prefix of those whose
 *      mass reaches p of theirs; 6. min-p: of those, the tokens with weight >= min_p (the best
 *      token's weight is 1);
 *   7. the draw among the survivors in index order.
 * Determinism: the same logits, options, seed and step give the same token on every ISA, thread
 * and batch position, and in panmax's pure-Java backend. Weights are w = e^t by a fixed
 * polynomial in the element type's arithmetic (not libm), quantised to q = round(w 2^S) with
 * S = min(52, 62 - floor(log2 cols)); every mass is an exact 64-bit integer sum, so summation
 * order cannot matter; top-p's prefix is the first whose mass reaches ceil(p * mass) (computed
 * in double); the draw's 64 bits r pick the first survivor whose running mass exceeds
 * floor(r * M / 2^64), M the survivors' mass. r is Philox4x32-10 with key = seed and counter =
 * (step, 0): seeds[r] and steps[r] when given (each optional), else config->seed and ->step;
 * or, with uniforms (then seeds and steps must be NULL), r = 2 floor(u * 2^63) for u in [0, 1).
 * Tokens with w < 2^-(S+1) (1.4e-14 at 256 000 logits) are never drawn.
 * Outputs: tokens[r]; optional scores[r, 0..4) (enum panmax_sample_score: the filtered
 * probability is the exact q / M the draw used); with config->top_logprobs = n > 0,
 * top_indices[r, 0..n) (required) and top_logprobs[r, 0..n) (optional) are the n best tokens and
 * their raw log-probabilities. A row with NaN, or without a finite logit, gets PANMAX_NO_TOKEN
 * and NaN scores.
 * PANMAX_ERR_ARGUMENT (nothing written) also for: a history id outside [-1, cols), a row whose
 * mask bans every token, a uniform outside [0, 1), uniforms together with seeds or steps.
 * Outputs must not overlap any input or each other.
 */
int32_t panmax_sample_f32(const float *logits, int64_t logits_stride, int64_t rows, int64_t cols,
                          const panmax_sample_config *config,
                          const int64_t *history, int64_t history_stride, int64_t history_len,
                          const float *bias, int64_t bias_stride,
                          const uint8_t *mask, int64_t mask_stride,
                          const int64_t *seeds, const int64_t *steps, const double *uniforms,
                          int64_t *tokens, float *scores, int64_t scores_stride,
                          int64_t *top_indices, int64_t top_indices_stride,
                          float *top_logprobs, int64_t top_logprobs_stride, int32_t isa);
int32_t panmax_sample_f64(const double *logits, int64_t logits_stride, int64_t rows, int64_t cols,
                          const panmax_sample_config *config,
                          const int64_t *history, int64_t history_stride, int64_t history_len,
                          const double *bias, int64_t bias_stride,
                          const uint8_t *mask, int64_t mask_stride,
                          const int64_t *seeds, const int64_t *steps, const double *uniforms,
                          int64_t *tokens, double *scores, int64_t scores_stride,
                          int64_t *top_indices, int64_t top_indices_stride,
                          double *top_logprobs, int64_t top_logprobs_stride, int32_t isa);

/*
 * Classifier head: z = x w^T + bias (x: rows x dim; w: classes x dim, or dim x classes with
 * PANMAX_HEAD_W_TRANSPOSED; bias: optional, classes values), then softmax(z / temperature), or
 * log-softmax with PANMAX_FLAG_LOG. The product runs through OpenBLAS (gemv for one row, gemm
 * for blocks of up to panmax_head_row_block() rows) in chunks of 1024 classes, each normalised
 * while it is in cache (online max and sum), then one rescale pass. Outputs, each optional but
 * not all absent (PANMAX_ERR_NULL):
 *   logits (rows x classes): z;
 *   probs (rows x classes): the (log-)probabilities;
 *   top_indices, top_values (rows x k, 1 <= k <= classes): the k best classes and their
 *     (log-)probabilities, best first; when only these are asked, no rows x classes matrix is
 *     written anywhere.
 * temperature: finite, normal, > 0. dim, classes, rows and the strides of x, w, logits and probs
 * must fit in an int (OpenBLAS's LP64 interface; PANMAX_ERR_SIZE / _STRIDE). Rows with NaN, +inf
 * or no finite logit follow softmax's rules (top-k: PANMAX_NO_TOKEN and NaN for NaN rows).
 * Outputs must not overlap the inputs or each other. Results do not depend on how many rows one
 * call gets as long as calls start at multiples of panmax_head_row_block() (same gemm shapes).
 */
int32_t panmax_head_f32(const float *x, int64_t x_stride, int64_t rows, int64_t dim,
                        const float *w, int64_t w_stride, int64_t classes, const float *bias,
                        float temperature, int32_t flags, float *logits, int64_t logits_stride,
                        float *probs, int64_t probs_stride, int64_t k, int64_t *top_indices,
                        int64_t top_indices_stride, float *top_values, int64_t top_values_stride,
                        int32_t isa);
int32_t panmax_head_f64(const double *x, int64_t x_stride, int64_t rows, int64_t dim,
                        const double *w, int64_t w_stride, int64_t classes, const double *bias,
                        double temperature, int32_t flags, double *logits, int64_t logits_stride,
                        double *probs, int64_t probs_stride, int64_t k, int64_t *top_indices,
                        int64_t top_indices_stride, double *top_values, int64_t top_values_stride,
                        int32_t isa);
/* Rows per gemm call of panmax_head_*: split a batch at multiples of it for identical results. */
int32_t panmax_head_row_block(void);

/* OpenBLAS's thread count for this process (threads >= 1, else PANMAX_ERR_ARGUMENT). OpenBLAS
 * starts its worker threads when it loads, from OPENBLAS_NUM_THREADS (default: one per core);
 * raising the count here starts more. panmax's Java loader sets OPENBLAS_NUM_THREADS=1 for the
 * load unless told otherwise (see the README). */
int32_t panmax_set_blas_threads(int32_t threads);
/* OpenBLAS's current thread count (1 for another BLAS). */
int32_t panmax_blas_threads(void);
/* Frees the calling thread's scratch buffer now (it is otherwise freed when the thread exits). */
void panmax_release_scratch(void);

#ifdef __cplusplus
}
#endif

#endif /* PANMAX_H */
