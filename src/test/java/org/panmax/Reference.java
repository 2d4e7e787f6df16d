package org.panmax;

/**
 * The one high-precision reference every backend is compared with: plain loops in double, sums
 * compensated (Neumaier), on the exact values of the (float or double) inputs. It follows the header's
 * rules for non-finite rows. Slow on purpose: clarity first.
 */
final class Reference {
    private Reference() {}

    /** Neumaier-compensated sum. */
    static double sum(double[] v) {
        double s = 0;
        double c = 0;
        for (double x : v) {
            double t = s + x;
            c += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
            s = t;
        }
        return s + c;
    }

    /** softmax (log = false) or log-softmax of z * scale, with the non-finite rules. */
    static double[] softmax(double[] z, double scale, boolean log) {
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

    static double logSumExp(double[] z) {
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

    static double dot(double[] a, double[] b) {
        double[] p = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            p[i] = a[i] * b[i];
        }
        return sum(p);
    }

    /** Softmax VJP: p * (dy - <p, dy>). */
    static double[] softmaxBackward(double[] p, double[] dy) {
        double c = dot(p, dy);
        double[] dx = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            dx[i] = p[i] * (dy[i] - c);
        }
        return dx;
    }

    /** Log-softmax VJP: dy - exp(logp) * sum(dy). */
    static double[] logSoftmaxBackward(double[] logp, double[] dy) {
        double c = sum(dy);
        double[] dx = new double[dy.length];
        for (int i = 0; i < dy.length; i++) {
            dx[i] = dy[i] - Math.exp(logp[i]) * c;
        }
        return dx;
    }

    /** Log-softmax JVP: v - <exp(logp), v>. */
    static double[] logSoftmaxJvp(double[] logp, double[] v) {
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
    static double[] jacobian(double[] p, boolean log) {
        int n = p.length;
        double[] j = new double[n * n];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                j[a * n + b] = log ? (a == b ? 1 : 0) - p[b] : p[a] * ((a == b ? 1 : 0) - p[b]);
            }
        }
        return j;
    }

    /** Per-row cross-entropy loss sum_j t_j (lse - z_j) (t_j = 0 terms count 0) and grad p * sum(t) - t. */
    static double crossEntropyRow(double[] z, double[] t, double[] gradOut) {
        double lse = logSumExp(z);
        double[] terms = new double[z.length];
        double tSum = sum(t);
        for (int j = 0; j < z.length; j++) {
            terms[j] = t[j] == 0 ? 0 : t[j] * (lse - z[j]);
        }
        double[] p = softmax(z, 1, false);
        for (int j = 0; j < z.length; j++) {
            gradOut[j] = p[j] * tSum - t[j];
        }
        return sum(terms);
    }

    /** The smoothed target row for a label: (1 - s) onehot + s / n. */
    static double[] labelTarget(int n, long label, double smoothing) {
        double[] t = new double[n];
        for (int j = 0; j < n; j++) {
            t[j] = smoothing / n + (j == label ? 1 - smoothing : 0);
        }
        return t;
    }
}
