/*
 * The argument checks and entry points for one element type, included by api.c once per type
 * (per_type.h) with PM_T, PM_S and PM_T_MIN defined (see rows.h). No include guard on purpose.
 */
#ifndef PM_T
#error "api_generic.h is included by api.c only"
#endif

/* ---- forward entry points -------------------------------------------------------------------- */

/* Checks shared by the unary row-to-row functions (softmax, log_softmax). */
static int32_t PM_FN(pm_check_unary)(const PM_T *x, int64_t x_stride, const PM_T *y,
                                     int64_t y_stride, int64_t rows, int64_t cols)
{
    if (x == NULL || y == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols || y_stride < cols) {
        return PANMAX_ERR_STRIDE;
    }
    pm_region rx, ry;
    if (pm_span(x, rows, cols, x_stride, PM_ES, &rx) || pm_span(y, rows, cols, y_stride, PM_ES, &ry)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(x, sizeof(PM_T)) || pm_misaligned(y, sizeof(PM_T))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_bad_overlap(ry, y_stride, rx, x_stride, 1)) {
        return PANMAX_ERR_OVERLAP;
    }
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(softmax)(const PM_T *x, int64_t x_stride, PM_T *y, int64_t y_stride,
                                   int64_t rows, int64_t cols, int32_t isa)
{
    const pm_isa_table *t;
    int32_t st = PM_FN(pm_check_unary)(x, x_stride, y, y_stride, rows, cols);
    if (st || (st = pm_check_isa(isa, &t))) {
        return st;
    }
    PM_FN(pm_softmax_rows)(&t->PM_S, x, x_stride, y, y_stride, rows, cols, (PM_T)1, NULL, 0, NULL, 0,
                           0, 0);
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(log_softmax)(const PM_T *x, int64_t x_stride, PM_T *y,
                                       int64_t y_stride, int64_t rows, int64_t cols, int32_t isa)
{
    const pm_isa_table *t;
    int32_t st = PM_FN(pm_check_unary)(x, x_stride, y, y_stride, rows, cols);
    if (st || (st = pm_check_isa(isa, &t))) {
        return st;
    }
    PM_FN(pm_softmax_rows)(&t->PM_S, x, x_stride, y, y_stride, rows, cols, (PM_T)1, NULL, 0, NULL, 0,
                           1, 0);
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(logsumexp)(const PM_T *x, int64_t x_stride, PM_T *out, int64_t rows,
                                     int64_t cols, int32_t isa)
{
    if (x == NULL || out == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols) {
        return PANMAX_ERR_STRIDE;
    }
    pm_region rx, ro;
    if (pm_span(x, rows, cols, x_stride, PM_ES, &rx) || pm_span_n(out, rows, PM_ES, &ro)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(x, sizeof(PM_T)) || pm_misaligned(out, sizeof(PM_T))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_overlap(ro, rx)) {
        return PANMAX_ERR_OVERLAP;
    }
    const pm_isa_table *t;
    int32_t st = pm_check_isa(isa, &t);
    if (st) {
        return st;
    }
    PM_FN(pm_logsumexp_rows)(&t->PM_S, x, x_stride, out, rows, cols);
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(softmax_ex)(const PM_T *x, int64_t x_stride, PM_T *y, int64_t y_stride,
                                      int64_t rows, int64_t cols, PM_T temperature,
                                      const uint8_t *mask, int64_t mask_stride,
                                      const PM_T *bias, int64_t bias_stride, int32_t flags,
                                      int32_t isa)
{
    if (x == NULL || y == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols || y_stride < cols || (mask && mask_stride != 0 && mask_stride < cols) ||
        (bias && bias_stride != 0 && bias_stride < cols)) {
        return PANMAX_ERR_STRIDE;
    }
    /* A broadcast (stride 0) mask or bias spans one row. */
    pm_region rx, ry, rm = {0, 0}, rb = {0, 0};
    if (pm_span(x, rows, cols, x_stride, PM_ES, &rx) || pm_span(y, rows, cols, y_stride, PM_ES, &ry) ||
        (mask && pm_span(mask, mask_stride ? rows : (rows > 0), cols, mask_stride, 1, &rm)) ||
        (bias && pm_span(bias, bias_stride ? rows : (rows > 0), cols, bias_stride, PM_ES, &rb))) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(x, sizeof(PM_T)) || pm_misaligned(y, sizeof(PM_T)) ||
        (bias && pm_misaligned(bias, sizeof(PM_T)))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_bad_overlap(ry, y_stride, rx, x_stride, 1) || pm_overlap(ry, rm) || pm_overlap(ry, rb)) {
        return PANMAX_ERR_OVERLAP;
    }
    if ((flags & ~(PANMAX_FLAG_LOG | PANMAX_FLAG_EXACT)) != 0 || !isfinite(temperature) ||
        !(temperature >= PM_T_MIN)) {
        return PANMAX_ERR_ARGUMENT;
    }
    const pm_isa_table *t;
    int32_t st = pm_check_isa(isa, &t);
    if (st) {
        return st;
    }

    PM_FN(pm_softmax_rows)(&t->PM_S, x, x_stride, y, y_stride, rows, cols, temperature, mask,
                           mask_stride, bias, bias_stride, (flags & PANMAX_FLAG_LOG) != 0,
                           (flags & PANMAX_FLAG_EXACT) != 0);
    return PANMAX_OK;
}

/* ---- backward --------------------------------------------------------------------------------- */

/* Checks of the binary row functions: out = f(a, b), out may equal a or b. */
static int32_t PM_FN(pm_check_binary)(const PM_T *a, int64_t a_stride, const PM_T *b,
                                      int64_t b_stride, const PM_T *o, int64_t o_stride,
                                      int64_t rows, int64_t cols)
{
    if (a == NULL || b == NULL || o == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (a_stride < cols || b_stride < cols || o_stride < cols) {
        return PANMAX_ERR_STRIDE;
    }
    pm_region ra, rb, ro;
    if (pm_span(a, rows, cols, a_stride, PM_ES, &ra) || pm_span(b, rows, cols, b_stride, PM_ES, &rb) ||
        pm_span(o, rows, cols, o_stride, PM_ES, &ro)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(a, sizeof(PM_T)) || pm_misaligned(b, sizeof(PM_T)) ||
        pm_misaligned(o, sizeof(PM_T))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_bad_overlap(ro, o_stride, ra, a_stride, 1) || pm_bad_overlap(ro, o_stride, rb, b_stride, 1)) {
        return PANMAX_ERR_OVERLAP;
    }
    return PANMAX_OK;
}

/* The three backward entry points: check, then the driver for `which`. */
static int32_t PM_FN(pm_backward_call)(int which, const PM_T *a, int64_t a_stride, const PM_T *b,
                                       int64_t b_stride, PM_T *out, int64_t out_stride, int64_t rows,
                                       int64_t cols, int32_t isa)
{
    const pm_isa_table *t;
    int32_t st = PM_FN(pm_check_binary)(a, a_stride, b, b_stride, out, out_stride, rows, cols);
    if (st || (st = pm_check_isa(isa, &t))) {
        return st;
    }
    PM_FN(pm_backward_rows)(&t->PM_S, which, a, a_stride, b, b_stride, out, out_stride, rows, cols);
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(softmax_backward)(const PM_T *p, int64_t p_stride, const PM_T *dy,
                                            int64_t dy_stride, PM_T *dx, int64_t dx_stride,
                                            int64_t rows, int64_t cols, int32_t isa)
{
    return PM_FN(pm_backward_call)(PM_BWD_SOFTMAX, p, p_stride, dy, dy_stride, dx, dx_stride, rows,
                                   cols, isa);
}

PANMAX_API int32_t PM_PUB(log_softmax_backward)(const PM_T *logp, int64_t logp_stride,
                                                const PM_T *dy, int64_t dy_stride, PM_T *dx,
                                                int64_t dx_stride, int64_t rows, int64_t cols,
                                                int32_t isa)
{
    return PM_FN(pm_backward_call)(PM_BWD_LOG_SOFTMAX, logp, logp_stride, dy, dy_stride, dx,
                                   dx_stride, rows, cols, isa);
}

PANMAX_API int32_t PM_PUB(log_softmax_jvp)(const PM_T *logp, int64_t logp_stride, const PM_T *v,
                                           int64_t v_stride, PM_T *out, int64_t out_stride,
                                           int64_t rows, int64_t cols, int32_t isa)
{
    return PM_FN(pm_backward_call)(PM_JVP_LOG_SOFTMAX, logp, logp_stride, v, v_stride, out,
                                   out_stride, rows, cols, isa);
}

/* ---- Jacobians -------------------------------------------------------------------------------- */

PANMAX_API int32_t PM_PUB(jacobian)(const PM_T *x, int64_t x_stride, PM_T *jac, int64_t rows,
                                    int64_t cols, int32_t flags, int32_t isa)
{
    if (x == NULL || jac == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols) {
        return PANMAX_ERR_STRIDE;
    }
    pm_region rx, rj;
    int64_t block, total;
    if (pm_span(x, rows, cols, x_stride, PM_ES, &rx) ||
        __builtin_mul_overflow(cols, cols, &block) ||
        __builtin_mul_overflow(block, rows, &total) || pm_span_n(jac, total, PM_ES, &rj)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(x, sizeof(PM_T)) || pm_misaligned(jac, sizeof(PM_T))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_overlap(rj, rx)) {
        return PANMAX_ERR_OVERLAP;
    }
    if ((flags & ~(PANMAX_FLAG_LOG | PANMAX_FLAG_FROM_LOGITS)) != 0) {
        return PANMAX_ERR_ARGUMENT;
    }
    const pm_isa_table *t;
    int32_t st = pm_check_isa(isa, &t);
    if (st) {
        return st;
    }
    PM_FN(pm_jacobian_rows)(&t->PM_S, x, x_stride, jac, rows, cols, (flags & PANMAX_FLAG_LOG) != 0,
                            (flags & PANMAX_FLAG_FROM_LOGITS) != 0);
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(jacobian_matmul)(const PM_T *p, int64_t n, const PM_T *v,
                                           int64_t v_stride, PM_T *out, int64_t out_stride,
                                           int64_t k, int32_t flags, int32_t isa)
{
    if (p == NULL || v == NULL || out == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (n < 1 || k < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (v_stride < k || out_stride < k) {
        return PANMAX_ERR_STRIDE;
    }
    pm_region rp, rv, ro;
    if (pm_span_n(p, n, PM_ES, &rp) || pm_span(v, n, k, v_stride, PM_ES, &rv) ||
        pm_span(out, n, k, out_stride, PM_ES, &ro)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(p, sizeof(PM_T)) || pm_misaligned(v, sizeof(PM_T)) ||
        pm_misaligned(out, sizeof(PM_T))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_overlap(ro, rp) || pm_overlap(ro, rv)) {
        return PANMAX_ERR_OVERLAP;
    }
    if ((flags & ~PANMAX_FLAG_LOG) != 0) {
        return PANMAX_ERR_ARGUMENT;
    }
    const pm_isa_table *t;
    int32_t st = pm_check_isa(isa, &t);
    if (st) {
        return st;
    }
    return PM_FN(pm_jacobian_matmul)(&t->PM_S, p, n, v, v_stride, out, out_stride, k,
                                     (flags & PANMAX_FLAG_LOG) != 0);
}

/* ---- cross-entropy ----------------------------------------------------------------------------- */

/*
 * The labels check (step 9): every label read once (pm_load_label), in range or ignore_index, and
 * the MEAN denominator in the same pass: the number of counted rows, or with class weights the sum
 * of their w[label] (each index checked before it is used). Soft targets: rows.
 */
static int32_t PM_FN(pm_check_labels)(const int64_t *labels, const PM_T *weight, int64_t rows,
                                      int64_t cols, int64_t ignore_index, double *denom)
{
    if (labels == NULL) {
        *denom = (double)rows;
        return PANMAX_OK;
    }
    int64_t count = 0;
    double wsum = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const int64_t y = pm_load_label(labels + r);
        if (y == ignore_index) {
            continue;
        }
        if (y < 0 || y >= cols) {
            return PANMAX_ERR_ARGUMENT;
        }
        count++;
        if (weight) {
            wsum += (double)weight[y];
        }
    }
    *denom = weight ? wsum : (double)count;
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(cross_entropy_ex)(const PM_T *logits, int64_t x_stride,
                                            const int64_t *labels, const PM_T *target,
                                            int64_t target_stride, const PM_T *weight, PM_T *grad,
                                            int64_t grad_stride, PM_T *loss, int64_t rows,
                                            int64_t cols, int64_t ignore_index,
                                            PM_T label_smoothing, int32_t reduction, int32_t isa)
{
    const int64_t loss_len = reduction == PANMAX_REDUCTION_NONE ? rows : 1;
    /* rows == 0: nothing is read, so only what is written must exist (loss[0] for SUM, MEAN) */
    if ((rows > 0 && (logits == NULL || (labels == NULL && target == NULL))) ||
        (loss_len > 0 && loss == NULL)) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols || (target && target_stride < cols) || (grad && grad_stride < cols)) {
        return PANMAX_ERR_STRIDE;
    }
    pm_region rx, rl = {0, 0}, rt = {0, 0}, rw = {0, 0}, rg = {0, 0}, rloss;
    if (pm_span(logits, rows, cols, x_stride, PM_ES, &rx) ||
        (labels && pm_span_n(labels, rows, (int64_t)sizeof(int64_t), &rl)) ||
        (target && pm_span(target, rows, cols, target_stride, PM_ES, &rt)) ||
        (weight && pm_span_n(weight, cols, PM_ES, &rw)) ||
        (grad && pm_span(grad, rows, cols, grad_stride, PM_ES, &rg)) ||
        pm_span_n(loss, loss_len, PM_ES, &rloss)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_misaligned(logits, sizeof(PM_T)) || pm_misaligned(loss, sizeof(PM_T)) ||
        (labels && pm_misaligned(labels, sizeof(int64_t))) ||
        (target && pm_misaligned(target, sizeof(PM_T))) ||
        (weight && pm_misaligned(weight, sizeof(PM_T))) ||
        (grad && pm_misaligned(grad, sizeof(PM_T)))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if ((grad && (pm_bad_overlap(rg, grad_stride, rx, x_stride, 1) || pm_overlap(rg, rl) ||
                  pm_overlap(rg, rt) || pm_overlap(rg, rw) || pm_overlap(rg, rloss))) ||
        pm_overlap(rloss, rx) || pm_overlap(rloss, rl) || pm_overlap(rloss, rt) ||
        pm_overlap(rloss, rw)) {
        return PANMAX_ERR_OVERLAP;
    }
    if ((labels != NULL && target != NULL) || reduction < PANMAX_REDUCTION_NONE ||
        reduction > PANMAX_REDUCTION_MEAN || !(label_smoothing >= 0 && label_smoothing <= 1)) {
        return PANMAX_ERR_ARGUMENT;
    }
    for (int64_t j = 0; weight && j < cols; j++) {
        if (!(isfinite(weight[j]) && weight[j] >= 0)) {
            return PANMAX_ERR_ARGUMENT;
        }
    }
    const pm_isa_table *t;
    int32_t st = pm_check_isa(isa, &t);
    if (st) {
        return st;
    }
    double denom;
    if ((st = PM_FN(pm_check_labels)(labels, weight, rows, cols, ignore_index, &denom))) {
        return st;
    }
    PM_FN(pm_cross_entropy_rows)(&t->PM_S, logits, x_stride, labels, target, target_stride, weight,
                                 grad, grad_stride, loss, rows, cols, ignore_index, label_smoothing,
                                 reduction, denom);
    return PANMAX_OK;
}

PANMAX_API int32_t PM_PUB(cross_entropy)(const PM_T *logits, int64_t x_stride,
                                         const int64_t *labels, const PM_T *target,
                                         int64_t target_stride, PM_T *grad, int64_t grad_stride,
                                         PM_T *loss, int64_t rows, int64_t cols,
                                         int64_t ignore_index, PM_T label_smoothing,
                                         int32_t reduction, int32_t isa)
{
    return PM_PUB(cross_entropy_ex)(logits, x_stride, labels, target, target_stride, NULL, grad,
                                    grad_stride, loss, rows, cols, ignore_index, label_smoothing,
                                    reduction, isa);
}
