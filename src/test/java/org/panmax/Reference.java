package org.panmax;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * The one high-precision reference every backend is compared with (the agreement tests, the hardening suite,
 * the backends' own tests): plain loops in double, sums compensated (Neumaier), on the exact values of the
 * (float or double) inputs. It follows the header's rules for non-finite rows and the rules decided for every
 * backend (large temperatures, cross-entropy rows with +inf logits, class weights). Slow on purpose: clarity
 * first.
 */
public final class Reference {
    private Reference() {}

    /** Neumaier-compensated sum. */
    public static double sum(double[] v) {
        double s = 0;
        double c = 0;
        for (double x : v) {
            double t = s + x;
            c += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
            s = t;
        }
        return Double.isFinite(s) ? s + c : s; // an infinite (or NaN) sum is exact; its compensation is NaN
    }

    /** softmax (log = false) or log-softmax of z * scale, with the non-finite rules. */
    public static double[] softmax(double[] z, double scale, boolean log) {
        int n = z.length;
        double[] y = new double[n];
        double m = Double.NEGATIVE_INFINITY;
        boolean nan = false;
        int inf = 0;
        for (double v : z) {
            nan |= Double.isNaN(v);
            inf += v == Double.POSITIVE_INFINITY ? 1 : 0;
            if (v > m) {
                m = v;
            }
        }
        if (nan) {
            java.util.Arrays.fill(y, Double.NaN);
            return y;
        }
        if (m == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(y, log ? Double.NEGATIVE_INFINITY : 0);
            return y;
        }
        if (inf > 0) {
            for (int i = 0; i < n; i++) {
                boolean on = z[i] == Double.POSITIVE_INFINITY;
                y[i] = log ? (on ? -Math.log(inf) : Double.NEGATIVE_INFINITY) : (on ? 1.0 / inf : 0);
            }
            return y;
        }
        double[] t = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = (z[i] - m) * scale;
            e[i] = Math.exp(t[i]);
        }
        double s = sum(e);
        double ls = Math.log(s);
        for (int i = 0; i < n; i++) {
            y[i] = log ? t[i] - ls : e[i] / s;
        }
        return y;
    }

    /**
     * softmax (log = false) or log-softmax of z / temperature, with t = (z − max) / T formed exactly (in
     * BigDecimal, rounded once to double), so that no finite z and T overflow: the reference for large
     * temperatures, where z − max itself exceeds the largest double or float.
     */
    public static double[] softmaxT(double[] z, double temperature, boolean log) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            if (!(v <= m)) {
                m = v; // NaN and +inf end up in m, and softmax below applies their rules
            }
        }
        if (!Double.isFinite(m)) {
            return softmax(z, 1, log);
        }
        int n = z.length;
        double[] t = new double[n];
        BigDecimal bm = new BigDecimal(m);
        BigDecimal bt = new BigDecimal(temperature);
        for (int i = 0; i < n; i++) {
            t[i] = z[i] == Double.NEGATIVE_INFINITY ? Double.NEGATIVE_INFINITY
                    : new BigDecimal(z[i]).subtract(bm).divide(bt, MathContext.DECIMAL128).doubleValue();
        }
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(t[i]);
        }
        double s = sum(e);
        double ls = Math.log(s);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = log ? t[i] - ls : e[i] / s;
        }
        return y;
    }

    public static double logSumExp(double[] z) {
        double[] ls = softmax(z, 1, true);
        // lse = z_i - log_softmax_i for any finite entry; use the max entry (most accurate)
        int best = -1;
        for (int i = 0; i < z.length; i++) {
            if (Double.isNaN(z[i])) {
                return Double.NaN;
            }
            if (best < 0 || z[i] > z[best]) {
                best = i;
            }
        }
        if (z[best] == Double.NEGATIVE_INFINITY) {
            return Double.NEGATIVE_INFINITY;
        }
        if (z[best] == Double.POSITIVE_INFINITY) {
            return Double.POSITIVE_INFINITY;
        }
        return z[best] - ls[best];
    }

    public static double dot(double[] a, double[] b) {
        double[] p = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            p[i] = a[i] * b[i];
        }
        return sum(p);
    }

    /** Softmax VJP: p * (dy - <p, dy>). */
    public static double[] softmaxBackward(double[] p, double[] dy) {
        double c = dot(p, dy);
        double[] dx = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            dx[i] = p[i] * (dy[i] - c);
        }
        return dx;
    }

    /** Log-softmax VJP: dy - exp(logp) * sum(dy). */
    public static double[] logSoftmaxBackward(double[] logp, double[] dy) {
        double c = sum(dy);
        double[] dx = new double[dy.length];
        for (int i = 0; i < dy.length; i++) {
            dx[i] = dy[i] - Math.exp(logp[i]) * c;
        }
        return dx;
    }

    /** Log-softmax JVP: v - <exp(logp), v>. */
    public static double[] logSoftmaxJvp(double[] logp, double[] v) {
        double[] p = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            p[i] = Math.exp(logp[i]);
        }
        double c = dot(p, v);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] - c;
        }
        return out;
    }

    /** J = diag(p) - p p^T, or I - 1 p^T (log), row-major. */
    public static double[] jacobian(double[] p, boolean log) {
        int n = p.length;
        double[] j = new double[n * n];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                j[a * n + b] = log ? (a == b ? 1 : 0) - p[b] : p[a] * ((a == b ? 1 : 0) - p[b]);
            }
        }
        return j;
    }

    /** out = J V for one probability row p (n) and V (n x k): diag(p) V − p (pᵀV), or V − 1 (pᵀV) with log. */
    public static double[][] jacobianMatmul(double[] p, double[][] v, boolean log) {
        int n = p.length;
        int k = n > 0 ? v[0].length : 0;
        double[][] out = new double[n][k];
        for (int c = 0; c < k; c++) {
            double[] col = new double[n];
            for (int i = 0; i < n; i++) {
                col[i] = v[i][c];
            }
            double ptv = dot(p, col);
            for (int i = 0; i < n; i++) {
                out[i][c] = log ? v[i][c] - ptv : p[i] * (v[i][c] - ptv);
            }
        }
        return out;
    }

    /**
     * Per-row cross-entropy loss Σ_j t_j (lse − z_j) (t_j = 0 terms count 0) and grad p Σt − t; t are the
     * effective targets (weights and smoothing applied). A row with k logits at +inf (and no NaN) is the limit
     * as they grow together: p = 1/k on them, lse − z_j → log k on them and +inf elsewhere.
     */
    public static double crossEntropyRow(double[] z, double[] t, double[] gradOut) {
        double tSum = sum(t);
        double[] p = softmax(z, 1, false);
        for (int j = 0; j < z.length; j++) {
            gradOut[j] = p[j] * tSum - t[j];
        }
        int k = 0;
        for (double v : z) {
            if (Double.isNaN(v)) {
                return Double.NaN;
            }
            k += v == Double.POSITIVE_INFINITY ? 1 : 0;
        }
        double[] terms = new double[z.length];
        if (k > 0) {
            for (int j = 0; j < z.length; j++) {
                terms[j] = t[j] == 0 ? 0 : z[j] == Double.POSITIVE_INFINITY ? t[j] * Math.log(k)
                        : t[j] * Double.POSITIVE_INFINITY;
            }
            return sum(terms);
        }
        double lse = logSumExp(z);
        for (int j = 0; j < z.length; j++) {
            terms[j] = t[j] == 0 ? 0 : t[j] * (lse - z[j]);
        }
        return sum(terms);
    }

    /** The smoothed target row for a label: (1 - s) onehot + s / n. */
    public static double[] labelTarget(int n, long label, double smoothing) {
        double[] t = new double[n];
        for (int j = 0; j < n; j++) {
            t[j] = smoothing / n + (j == label ? 1 - smoothing : 0);
        }
        return t;
    }

    /** The smoothed target row (1 − s) t + s / n of a probability row t. */
    public static double[] smoothTarget(double[] t, double smoothing) {
        double[] u = new double[t.length];
        for (int j = 0; j < t.length; j++) {
            u[j] = (1 - smoothing) * t[j] + smoothing / t.length;
        }
        return u;
    }

    /** Losses (one per row for NONE, else one) and the gradient of a cross-entropy call. */
    public record CrossEntropy(double[] loss, double[][] grad) {}

    /**
     * Cross-entropy of a batch, PyTorch's {@code cross_entropy(weight=w, ignore_index, label_smoothing,
     * reduction)}: exactly one of labels and targets is non-null; weight may be null (all 1). Effective targets
     * u = w t' with t' the smoothed one-hot label or target row; row loss Σ u_j (lse − z_j), gradient p Σu − u.
     * Ignored rows (labels only): loss 0, gradient 0, not counted. MEAN divides loss and gradient by Σ w[label]
     * over the counted rows (labels) or by the rows (targets); a divisor of 0 gives NaN (and NaN gradients in the
     * counted rows).
     */
    public static CrossEntropy crossEntropy(double[][] z, long[] labels, double[][] targets, double[] weight,
                                            double smoothing, long ignoreIndex, Reduction reduction) {
        int rows = z.length;
        int n = rows > 0 ? z[0].length : 0;
        double[] rowLoss = new double[rows];
        double[][] grad = new double[rows][n];
        double[] divisorTerms = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (labels != null && labels[r] == ignoreIndex) {
                continue;
            }
            double[] t = labels != null ? labelTarget(n, labels[r], smoothing) : smoothTarget(targets[r], smoothing);
            for (int j = 0; j < n; j++) {
                t[j] *= weight != null ? weight[j] : 1;
            }
            rowLoss[r] = crossEntropyRow(z[r], t, grad[r]);
            divisorTerms[r] = labels == null ? 1 : weight != null ? weight[(int) labels[r]] : 1;
        }
        if (reduction == Reduction.NONE) {
            return new CrossEntropy(rowLoss, grad);
        }
        double total = sum(rowLoss);
        if (reduction == Reduction.SUM) {
            return new CrossEntropy(new double[] {total}, grad);
        }
        double divisor = sum(divisorTerms);
        for (int r = 0; r < rows; r++) {
            if (labels == null || labels[r] != ignoreIndex) {
                for (int j = 0; j < n; j++) {
                    grad[r][j] = divisor > 0 ? grad[r][j] / divisor : Double.NaN;
                }
            }
        }
        return new CrossEntropy(new double[] {divisor > 0 ? total / divisor : Double.NaN}, grad);
    }
}
