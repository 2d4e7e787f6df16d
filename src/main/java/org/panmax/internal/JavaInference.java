package org.panmax.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.panmax.DType;
import org.panmax.HeadOptions;
import org.panmax.HeadOutputs;
import org.panmax.Matrix;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;
import org.panmax.TopKOptions;

/**
 * The inference operations in plain Java: the backend of the pure-Java {@link Kernels}, and the reference every
 * native ISA's tokens are compared with. Sampling follows the rule of {@code native/include/panmax.h} to the bit
 * ({@link SamplingRule}); its algorithms are the plain ones (a quickselect over an index array where C uses a
 * histogram), which is allowed because the rule is defined by ranks and exact integer masses, not by the order of
 * the work. Every float operation is rounded to float as C's float arithmetic rounds it (a double operation on two
 * floats, then rounded, gives the float result: 53 >= 2 * 24 + 2 bits). Per-thread scratch arrays are kept, so a
 * steady stream of calls allocates nothing.
 */
final class JavaInference implements Inference {
    private final String name;

    JavaInference(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    /** Per-thread working arrays, grown on demand. */
    private static final class Scratch {
        double[] z = new double[0];
        double[] x = new double[0];
        long[] q = new long[0];
        int[] idx = new int[0];
        long[] ids = new long[0];

        void ensure(long n) {
            if (z.length < n) {
                int m = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(n, z.length + (z.length >> 1)));
                z = new double[m];
                x = new double[m];
                q = new long[m];
                idx = new int[m];
            }
        }

        void ensureIds(long n) {
            if (ids.length < n) {
                ids = new long[(int) Math.max(n, ids.length + (ids.length >> 1))];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    // ---- element access ----------------------------------------------------------------------------------

    private static double get(Matrix m, long r, long j) {
        long i = r * m.stride() + j;
        return m.dtype() == DType.F64 ? m.segment().getAtIndex(ValueLayout.JAVA_DOUBLE, i)
                                      : m.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    private static void set(Matrix m, long r, long j, double v) {
        long i = r * m.stride() + j;
        if (m.dtype() == DType.F64) {
            m.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        } else {
            m.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        }
    }

    private static long getLong(Matrix m, long r, long j) {
        return m.segment().getAtIndex(ValueLayout.JAVA_LONG, r * m.stride() + j);
    }

    private static void setLong(Matrix m, long r, long j, long v) {
        m.segment().setAtIndex(ValueLayout.JAVA_LONG, r * m.stride() + j, v);
    }

    /** Element i of a contiguous vector view. */
    private static long vecLong(Matrix v, long i) {
        return v.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
    }

    private static void loadRow(Matrix m, long r, double[] out, int n) {
        MemorySegment s = m.segment();
        long base = r * m.stride();
        if (m.dtype() == DType.F64) {
            for (int j = 0; j < n; j++) {
                out[j] = s.getAtIndex(ValueLayout.JAVA_DOUBLE, base + j);
            }
        } else {
            for (int j = 0; j < n; j++) {
                out[j] = s.getAtIndex(ValueLayout.JAVA_FLOAT, base + j);
            }
        }
    }

    /** The value as the element type rounds it. */
    private static double rnd(boolean f32, double v) {
        return f32 ? (double) (float) v : v;
    }

    // ---- rank order: larger z first, ties to the lower index -----------------------------------------------

    private static boolean before(double[] z, int a, int b) {
        return z[a] > z[b] || (z[a] == z[b] && a < b);
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /** Partitions idx[lo, hi) around a median of three; returns the pivot's final position. */
    private static int partition(double[] z, int[] idx, int lo, int hi) {
        int mid = lo + (hi - lo) / 2, last = hi - 1;
        if (before(z, idx[mid], idx[lo])) {
            swap(idx, mid, lo);
        }
        if (before(z, idx[last], idx[lo])) {
            swap(idx, last, lo);
        }
        if (before(z, idx[mid], idx[last])) {
            swap(idx, mid, last);
        }
        int pivot = idx[last];
        int i = lo;
        for (int j = lo; j < last; j++) {
            if (before(z, idx[j], pivot)) {
                swap(idx, i++, j);
            }
        }
        swap(idx, i, last);
        return i;
    }

    /** Insertion sort of idx[lo, hi) in rank order (the ranges sorted here are small or nearly so). */
    private static void sortRank(double[] z, int[] idx, int lo, int hi) {
        if (hi - lo > 48) {
            int p = partition(z, idx, lo, hi);
            sortRank(z, idx, lo, p);
            sortRank(z, idx, p + 1, hi);
            return;
        }
        for (int i = lo + 1; i < hi; i++) {
            int v = idx[i];
            int j = i - 1;
            while (j >= lo && before(z, v, idx[j])) {
                idx[j + 1] = idx[j];
                j--;
            }
            idx[j + 1] = v;
        }
    }

    /** Puts the count best of idx[0, n) first (any order). */
    private static void selectCount(double[] z, int[] idx, int n, int count) {
        int lo = 0, hi = n;
        while (count > lo && count < hi && hi - lo > 32) {
            int p = partition(z, idx, lo, hi);
            if (p == count || p + 1 == count) {
                return;
            }
            if (p > count) {
                hi = p;
            } else {
                lo = p + 1;
            }
        }
        sortRank(z, idx, lo, hi);
    }

    /** The element b of idx[0, n) at which the rank-order running mass of q first reaches need. */
    private static int selectMass(double[] z, long[] q, int[] idx, int n, long need) {
        int lo = 0, hi = n;
        while (hi - lo > 32) {
            int p = partition(z, idx, lo, hi);
            long before = 0;
            for (int i = lo; i < p; i++) {
                before += q[idx[i]];
            }
            if (before >= need) {
                hi = p;
            } else if (before + q[idx[p]] >= need) {
                return idx[p];
            } else {
                need -= before + q[idx[p]];
                lo = p + 1;
            }
        }
        sortRank(z, idx, lo, hi);
        long acc = 0;
        for (int i = lo; i < hi; i++) {
            acc += q[idx[i]];
            if (acc >= need) {
                return idx[i];
            }
        }
        return idx[hi - 1];
    }

    /** The k best of z[0, n) in rank order into idx[0, k). */
    private static void topRanks(double[] z, int[] idx, int n, int k) {
        for (int j = 0; j < n; j++) {
            idx[j] = j;
        }
        selectCount(z, idx, n, k);
        sortRank(z, idx, 0, k);
    }

    // ---- argmax and top-k ---------------------------------------------------------------------------------

    @Override
    public void argmax(Matrix x, Matrix out) {
        long rows = x.rows();
        int n = (int) x.cols();
        for (long r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY;
            long at = 0;
            boolean nan = false;
            for (int j = 0; j < n; j++) {
                double v = get(x, r, j);
                if (v != v) {
                    nan = true;
                    break;
                }
                if (v > m) {
                    m = v;
                    at = j;
                }
            }
            out.segment().setAtIndex(ValueLayout.JAVA_LONG, r, nan ? SampleOutputs.NO_TOKEN : at);
        }
    }

    @Override
    public void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o) {
        Scratch sc = SCRATCH.get();
        int n = (int) x.cols();
        int k = (int) o.k();
        sc.ensure(n);
        double[] z = sc.z;
        int[] idx = sc.idx;
        for (long r = 0; r < x.rows(); r++) {
            loadRow(x, r, z, n);
            double m = Double.NEGATIVE_INFINITY;
            boolean nan = false;
            long kinf = 0;
            for (int j = 0; j < n; j++) {
                nan |= z[j] != z[j];
                m = z[j] > m ? z[j] : m;
                kinf += z[j] == Double.POSITIVE_INFINITY ? 1 : 0;
            }
            if (nan) {
                for (int i = 0; i < k; i++) {
                    setLong(indices, r, i, SampleOutputs.NO_TOKEN);
                    if (values != null) {
                        set(values, r, i, Double.NaN);
                    }
                }
                continue;
            }
            topRanks(z, idx, n, k);
            double lse = 0;
            if (values != null && o.values() != TopKOptions.Values.LOGITS && Double.isFinite(m)) {
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += Math.exp(z[j] - m);
                }
                lse = Math.log(sum);
            }
            for (int i = 0; i < k; i++) {
                setLong(indices, r, i, idx[i]);
                if (values == null) {
                    continue;
                }
                double v = z[idx[i]];
                double out;
                if (o.values() == TopKOptions.Values.LOGITS) {
                    out = v;
                } else {
                    boolean log = o.values() == TopKOptions.Values.LOG_PROBABILITIES;
                    if (Double.isInfinite(m)) {
                        boolean on = m > 0 && v == Double.POSITIVE_INFINITY;
                        out = log ? (on ? -Math.log(kinf) : Double.NEGATIVE_INFINITY) : (on ? 1.0 / kinf : 0);
                    } else {
                        double lp = (v - m) - lse;
                        out = log ? lp : Math.exp(lp);
                    }
                }
                set(values, r, i, out);
            }
        }
    }

    // ---- sampling --------------------------------------------------------------------------------------------

    @Override
    public void sample(Matrix logits, SampleOutputs out, SampleOptions o) {
        Scratch sc = SCRATCH.get();
        int n = (int) logits.cols();
        sc.ensure(n);
        Matrix h = o.history();
        if (h != null) {
            sc.ensureIds(h.cols());
        }
        for (long r = 0; r < logits.rows(); r++) {
            long r64;
            if (o.uniforms() != null) {
                r64 = SamplingRule.drawFromUniform(o.uniforms().segment().getAtIndex(ValueLayout.JAVA_DOUBLE, r));
            } else {
                long seed = o.seeds() != null ? vecLong(o.seeds(), r) : o.seed();
                long step = o.steps() != null ? vecLong(o.steps(), r) : o.step();
                r64 = SamplingRule.draw(seed, step);
            }
            sampleRow(sc, logits, r, n, o, r64, out);
        }
    }

    private static void sampleRow(Scratch sc, Matrix logits, long r, int n, SampleOptions o, long r64,
                                  SampleOutputs out) {
        final boolean f32 = logits.dtype() == DType.F32;
        final double[] x = sc.x, z = sc.z;
        final long[] q = sc.q;
        final int[] idx = sc.idx;
        loadRow(logits, r, x, n);
        Matrix bias = o.bias(), mask = o.mask(), hist = o.history();
        // 1-2: penalties, bias, ban
        for (int j = 0; j < n; j++) {
            boolean banned = mask != null && mask.segment().get(ValueLayout.JAVA_BYTE, r * mask.stride() + j) == 0;
            z[j] = banned ? Double.NEGATIVE_INFINITY : bias != null ? rnd(f32, x[j] + get(bias, r, j)) : x[j];
        }
        boolean penalties = hist != null && hist.cols() > 0 && (o.repetitionPenalty() != 1 || o.presencePenalty() != 0
                || o.frequencyPenalty() != 0);
        if (penalties) {
            long[] ids = sc.ids;
            int count = 0;
            for (long i = 0; i < hist.cols(); i++) {
                long id = getLong(hist, r, i);
                if (id >= 0) {
                    ids[count++] = id;
                }
            }
            Arrays.sort(ids, 0, count);
            double rep = rnd(f32, o.repetitionPenalty());
            for (int i = 0; i < count;) {
                long id = ids[i];
                int c = 0;
                while (i < count && ids[i] == id) {
                    c++;
                    i++;
                }
                int j = (int) id;
                if (mask != null && mask.segment().get(ValueLayout.JAVA_BYTE, r * mask.stride() + j) == 0) {
                    continue;
                }
                double v = x[j];
                v = v > 0 ? rnd(f32, v / rep) : rnd(f32, v * rep);
                v = rnd(f32, v - rnd(f32, (double) c * o.frequencyPenalty() + o.presencePenalty()));
                if (bias != null) {
                    v = rnd(f32, v + get(bias, r, j));
                }
                z[j] = v;
            }
        }
        double m = Double.NEGATIVE_INFINITY;
        boolean nan = false;
        for (int j = 0; j < n; j++) {
            nan |= z[j] != z[j];
            m = z[j] > m ? z[j] : m;
        }
        if (nan || m == Double.NEGATIVE_INFINITY) {
            noToken(out, r);
            return;
        }
        if (m == Double.POSITIVE_INFINITY) { // +inf entries share the mass: as logits 0 against -inf
            for (int j = 0; j < n; j++) {
                z[j] = z[j] == Double.POSITIVE_INFINITY ? 0 : Double.NEGATIVE_INFINITY;
            }
            m = 0;
        }
        final boolean greedy = o.temperature() == 0;
        final double s = greedy ? 1 : rnd(f32, 1.0 / o.temperature());
        long chosen = -1, qc = 1, mass = 1;
        if (greedy) {
            for (int j = 0; j < n; j++) {
                if (z[j] == m) {
                    chosen = j;
                    break;
                }
            }
        } else {
            final double scale = Math.scalb(1.0, SamplingRule.quantShift(n));
            for (int j = 0; j < n; j++) {
                double t = rnd(f32, rnd(f32, z[j] - m) * s);
                double w = f32 ? SamplingRule.dexp((float) t) : SamplingRule.dexp(t);
                q[j] = SamplingRule.quant(w, scale);
            }
            long nk = o.topK() > 0 && o.topK() < n ? o.topK() : n;
            int bound = -1; // kept: ranked at or before idx bound (-1: no rank limit)
            if (nk < n) {
                int k = (int) nk;
                topRanks(z, idx, n, k);
                int keep = k;
                if (o.topP() < 1) {
                    long total = 0;
                    for (int i = 0; i < k; i++) {
                        total += q[idx[i]];
                    }
                    long need = SamplingRule.topPNeed(o.topP(), total);
                    long run = 0;
                    for (keep = 0; keep < k;) {
                        run += q[idx[keep++]];
                        if (run >= need) {
                            break;
                        }
                    }
                }
                bound = idx[keep - 1];
            } else if (o.topP() < 1) {
                long total = 0;
                for (int j = 0; j < n; j++) {
                    idx[j] = j;
                    total += q[j];
                }
                bound = selectMass(z, q, idx, n, SamplingRule.topPNeed(o.topP(), total));
            }
            // the draw over the kept tokens in index order
            final double minP = o.minP();
            mass = 0;
            for (int j = 0; j < n; j++) {
                if (!kept(z, j, bound, minP, f32, m, s)) {
                    q[j] = 0;
                }
                mass += q[j];
            }
            long target = SamplingRule.scaleDraw(r64, mass);
            long run = 0;
            for (int j = 0; j < n; j++) {
                run += q[j];
                if (run > target) {
                    chosen = j;
                    qc = q[j];
                    break;
                }
            }
        }
        setLong(out.tokens(), 0, r, chosen); // a vector: element r (stride of a 1 x n row is n, of a column 1)
        Matrix scores = out.scores(), ti = out.topIndices(), tl = out.topLogprobs();
        if (scores == null && ti == null) {
            return;
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += Math.exp(rnd(f32, rnd(f32, z[j] - m) * s));
        }
        final double lz = Math.log(sum);
        if (scores != null) {
            double rawLp = (z[(int) chosen] - m) * s - lz;
            set(scores, r, SampleOutputs.PROBABILITY, (double) qc / (double) mass);
            set(scores, r, SampleOutputs.LOGPROB, Math.log((double) qc / (double) mass));
            set(scores, r, SampleOutputs.RAW_PROBABILITY, Math.exp(rawLp));
            set(scores, r, SampleOutputs.RAW_LOGPROB, rawLp);
        }
        if (ti != null) {
            int tn = (int) ti.cols();
            topRanks(z, idx, n, tn);
            for (int i = 0; i < tn; i++) {
                setLong(ti, r, i, idx[i]);
                if (tl != null) {
                    set(tl, r, i, (z[idx[i]] - m) * s - lz);
                }
            }
        }
    }

    private static boolean kept(double[] z, int j, int bound, double minP, boolean f32, double m, double s) {
        if (bound >= 0 && before(z, bound, j)) {
            return false;
        }
        if (minP > 0) {
            double t = rnd(f32, rnd(f32, z[j] - m) * s);
            double w = f32 ? SamplingRule.dexp((float) t) : SamplingRule.dexp(t);
            return w >= minP;
        }
        return true;
    }

    private static void noToken(SampleOutputs out, long r) {
        setLong(out.tokens(), 0, r, SampleOutputs.NO_TOKEN);
        if (out.scores() != null) {
            for (int c = 0; c < SampleOutputs.SCORES; c++) {
                set(out.scores(), r, c, Double.NaN);
            }
        }
        if (out.topIndices() != null) {
            for (long i = 0; i < out.topIndices().cols(); i++) {
                setLong(out.topIndices(), r, i, SampleOutputs.NO_TOKEN);
                if (out.topLogprobs() != null) {
                    set(out.topLogprobs(), r, i, Double.NaN);
                }
            }
        }
    }

    // ---- heads --------------------------------------------------------------------------------------------

    @Override
    public void head(Matrix x, Matrix w, HeadOutputs out, HeadOptions o) {
        Scratch sc = SCRATCH.get();
        final boolean f32 = x.dtype() == DType.F32;
        final int d = (int) x.cols();
        final int classes = (int) (o.transposed() ? w.cols() : w.rows());
        sc.ensure(Math.max(classes, d));
        final double[] z = sc.z, xr = sc.x;
        final int[] idx = sc.idx;
        final Matrix bias = o.bias(), lg = out.logits(), pr = out.probabilities(), ti = out.topIndices(),
                tv = out.topValues();
        final double s = rnd(f32, 1.0 / o.temperature());
        for (long r = 0; r < x.rows(); r++) {
            loadRow(x, r, xr, d);
            double m = Double.NEGATIVE_INFINITY;
            boolean nan = false;
            long kinf = 0;
            for (int c = 0; c < classes; c++) {
                double acc = 0;
                for (int i = 0; i < d; i++) {
                    acc += xr[i] * (o.transposed() ? get(w, i, c) : get(w, c, i));
                }
                double v = rnd(f32, acc);
                if (bias != null) {
                    v = rnd(f32, v + get(bias, 0, c));
                }
                z[c] = v;
                nan |= v != v;
                m = v > m ? v : m;
                kinf += v == Double.POSITIVE_INFINITY ? 1 : 0;
                if (lg != null) {
                    set(lg, r, c, v);
                }
            }
            double logS = 0;
            if (!nan && Double.isFinite(m)) {
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += Math.exp((z[c] - m) * s);
                }
                logS = Math.log(sum);
            }
            if (pr != null) {
                for (int c = 0; c < classes; c++) {
                    set(pr, r, c, headValue(z[c], m, s, logS, nan, kinf, o.log()));
                }
            }
            if (ti != null) {
                int k = (int) ti.cols();
                if (!nan) {
                    topRanks(z, idx, classes, k);
                }
                for (int i = 0; i < k; i++) {
                    setLong(ti, r, i, nan ? SampleOutputs.NO_TOKEN : idx[i]);
                    if (tv != null) {
                        set(tv, r, i, nan ? Double.NaN : headValue(z[idx[i]], m, s, logS, false, kinf, o.log()));
                    }
                }
            }
        }
    }

    /** softmax's value at one logit of a row: NaN rows NaN, +inf rows share, empty rows 0 (log: -inf). */
    private static double headValue(double v, double m, double s, double logS, boolean nan, long kinf, boolean log) {
        if (nan) {
            return Double.NaN;
        }
        if (m == Double.POSITIVE_INFINITY) {
            boolean on = v == Double.POSITIVE_INFINITY;
            return log ? (on ? -Math.log(kinf) : Double.NEGATIVE_INFINITY) : (on ? 1.0 / kinf : 0);
        }
        if (m == Double.NEGATIVE_INFINITY) {
            return log ? Double.NEGATIVE_INFINITY : 0;
        }
        double lp = (v - m) * s - logS;
        return log ? lp : Math.exp(lp);
    }
}
