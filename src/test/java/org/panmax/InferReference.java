package org.panmax;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Brute-force float64 references of the inference operations, written the plain way (every logit ranked by a full
 * sort, Math.exp, float64 cumulative sums), for the tests of top-k, sampling filters and heads; plus the row families
 * and backend lists the inference tests share.
 */
final class InferReference {
    private InferReference() {}

    /** Backends present, the pure-Java reference ("java-scalar") last. */
    static List<String> backends() {
        return Panmax.backends();
    }

    /** The pure-Java backend: the reference for tokens (SamplingRule, bit for bit). */
    static Panmax java() {
        return Panmax.backend("java-scalar");
    }

    /** Row families: 0 gauss, 1 peaked, 2 flat, 3 small integers (ties), 4 all equal, 5 with -inf, 6 with +inf,
     * 7 with NaN, 8 large offset, 9 huge. */
    static final int FAMILIES = 10;

    static double[] row(SplittableRandom rnd, int n, int family, boolean f32) {
        double[] x = new double[n];
        for (int j = 0; j < n; j++) {
            x[j] = switch (family) {
                case 1 -> 4 * gauss(rnd);
                case 2 -> 0.2 * gauss(rnd);
                case 3 -> rnd.nextInt(7) - 3;
                case 4 -> 1.25;
                case 8 -> 80 + gauss(rnd);
                case 9 -> (f32 ? 1e30 : 1e300) * (2 * rnd.nextDouble() - 1);
                default -> gauss(rnd);
            };
            if (family == 5 && rnd.nextInt(3) == 0) {
                x[j] = Double.NEGATIVE_INFINITY;
            }
        }
        if (family == 6) {
            x[rnd.nextInt(n)] = Double.POSITIVE_INFINITY;
            x[rnd.nextInt(n)] = Double.POSITIVE_INFINITY;
        } else if (family == 7) {
            x[rnd.nextInt(n)] = Double.NaN;
        }
        if (f32) {
            for (int j = 0; j < n; j++) {
                x[j] = (float) x[j];
            }
        }
        return x;
    }

    static double gauss(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    /** A view of rows x n (stride n + pad) of the given type holding the values. */
    static Matrix matrix(DType t, double[][] rows, int pad) {
        int n = rows[0].length, stride = n + pad;
        if (t == DType.F64) {
            double[] a = new double[rows.length * stride];
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(rows[r], 0, a, r * stride, n);
            }
            return Matrix.of(a, 0, rows.length, n, stride);
        }
        float[] a = new float[rows.length * stride];
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < n; j++) {
                a[r * stride + j] = (float) rows[r][j];
            }
        }
        return Matrix.of(a, 0, rows.length, n, stride);
    }

    static Matrix zeros(DType t, int rows, int cols) {
        return t == DType.F64 ? Matrix.of(new double[rows * cols], rows, cols) : Matrix.of(new float[rows * cols], rows, cols);
    }

    static double get(Matrix m, long r, long j) {
        long i = r * m.stride() + j;
        return m.dtype() == DType.F64 ? m.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i)
                                      : m.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
    }

    static long getLong(Matrix m, long r, long j) {
        return m.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, r * m.stride() + j);
    }

    /** Indices of x in rank order: larger first, ties to the lower index (no NaN in x). */
    static Integer[] rank(double[] x) {
        Integer[] o = new Integer[x.length];
        for (int j = 0; j < x.length; j++) {
            o[j] = j;
        }
        Arrays.sort(o, Comparator.<Integer>comparingDouble(j -> -x[j]).thenComparingInt(j -> j));
        return o;
    }

    /** The effective logits of sampling steps 1-2 (penalties, bias, ban) in float64. */
    static double[] effective(double[] x, long[] history, double[] bias, byte[] mask, SampleOptions o) {
        int n = x.length;
        double[] z = new double[n];
        for (int j = 0; j < n; j++) {
            z[j] = mask != null && mask[j] == 0 ? Double.NEGATIVE_INFINITY : x[j] + (bias != null ? bias[j] : 0);
        }
        if (history != null) {
            for (int i = 0; i < history.length; i++) {
                long id = history[i];
                boolean first = id >= 0;
                int count = 0;
                for (int k = 0; k < history.length; k++) {
                    first &= !(k < i && history[k] == id);
                    count += history[k] == id ? 1 : 0;
                }
                if (!first || (mask != null && mask[(int) id] == 0)) {
                    continue;
                }
                double v = x[(int) id];
                v = v > 0 ? v / o.repetitionPenalty() : v * o.repetitionPenalty();
                v -= count * o.frequencyPenalty() + o.presencePenalty();
                z[(int) id] = v + (bias != null ? bias[(int) id] : 0);
            }
        }
        return z;
    }

    /**
     * The filtered distribution of sampling (float64): softmax(z / T) restricted to top-k, then the shortest rank
     * prefix reaching p of the top-k mass, then p_i >= minP p_max; renormalised. Greedy: one-hot at the first max.
     * Null for a row without a token (NaN or no finite logit).
     */
    static double[] filtered(double[] z, SampleOptions o) {
        int n = z.length;
        double m = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            if (Double.isNaN(v)) {
                return null;
            }
            m = Math.max(m, v);
        }
        if (m == Double.NEGATIVE_INFINITY) {
            return null;
        }
        double[] e = new double[n];
        if (m == Double.POSITIVE_INFINITY) {
            for (int j = 0; j < n; j++) {
                e[j] = z[j] == m ? 1 : 0;
            }
        } else {
            double t = o.temperature() == 0 ? 1 : o.temperature();
            for (int j = 0; j < n; j++) {
                e[j] = Math.exp((z[j] - m) / t);
            }
        }
        Integer[] order = rank(z);
        double[] p = new double[n];
        if (o.temperature() == 0) {
            p[order[0]] = 1;
            return p;
        }
        int k = o.topK() > 0 && o.topK() < n ? (int) o.topK() : n;
        double massK = 0;
        for (int i = 0; i < k; i++) {
            massK += e[order[i]];
        }
        int len = k;
        if (o.topP() < 1) {
            double cum = 0;
            for (len = 0; len < k;) {
                cum += e[order[len++]];
                if (cum >= o.topP() * massK) {
                    break;
                }
            }
        }
        double emax = e[order[0]], kept = 0;
        for (int i = 0; i < len; i++) {
            int j = order[i];
            if (e[j] >= o.minP() * emax) {
                p[j] = e[j];
                kept += e[j];
            }
        }
        for (int j = 0; j < n; j++) {
            p[j] /= kept;
        }
        return p;
    }

    /** Critical value of chi-square with df degrees of freedom at significance 1e-4 (Wilson-Hilferty, z = 3.719). */
    static double chiSquareCritical(int df) {
        double a = 2.0 / (9 * df);
        return df * Math.pow(1 - a + 3.719 * Math.sqrt(a), 3);
    }
}
