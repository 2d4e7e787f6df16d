package org.panmax.internal;

import static java.lang.foreign.MemorySegment.NULL;
import static org.panmax.bindings.panmax_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.panmax.DType;
import org.panmax.HeadOptions;
import org.panmax.HeadOutputs;
import org.panmax.Matrix;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;
import org.panmax.TopKOptions;
import org.panmax.bindings.panmax_sample_config;

/**
 * The inference operations of libpanmax at one ISA. Like {@link NativeKernels}: a critical downcall (no thread-state
 * transition, heap arrays reach C without a copy) unless the call is long and every buffer is off-heap, then the
 * plain jextract function (safepoints may proceed meanwhile). A call passes each view's prebuilt segment; the
 * sampling configuration goes through one small native struct per calling thread, so a call allocates nothing
 * after the thread's first.
 */
final class NativeInference implements Inference {
    private final int isa;
    private final String name;

    NativeInference(int isa, String name) {
        this.isa = isa;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    static final MethodHandle ARGMAX_F32 = NativeKernels.critical(panmax_argmax_f32$address(), panmax_argmax_f32$descriptor());
    static final MethodHandle ARGMAX_F64 = NativeKernels.critical(panmax_argmax_f64$address(), panmax_argmax_f64$descriptor());
    static final MethodHandle TOPK_F32 = NativeKernels.critical(panmax_topk_f32$address(), panmax_topk_f32$descriptor());
    static final MethodHandle TOPK_F64 = NativeKernels.critical(panmax_topk_f64$address(), panmax_topk_f64$descriptor());
    static final MethodHandle SAMPLE_F32 = NativeKernels.critical(panmax_sample_f32$address(), panmax_sample_f32$descriptor());
    static final MethodHandle SAMPLE_F64 = NativeKernels.critical(panmax_sample_f64$address(), panmax_sample_f64$descriptor());
    static final MethodHandle HEAD_F32 = NativeKernels.critical(panmax_head_f32$address(), panmax_head_f32$descriptor());
    static final MethodHandle HEAD_F64 = NativeKernels.critical(panmax_head_f64$address(), panmax_head_f64$descriptor());

    /** One configuration struct per thread (an automatic arena frees it with the thread's last use). */
    private static final ThreadLocal<MemorySegment> CONFIG =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(panmax_sample_config.layout()));

    private static MemorySegment seg(Matrix m) {
        return m == null ? NULL : m.segment();
    }

    private static long stride(Matrix m) {
        return m == null ? 0 : m.stride();
    }

    private static boolean off(Matrix m) {
        return m == null || m.isNative();
    }

    private static boolean longCall(long work) {
        return work > NativeKernels.CRITICAL_MAX_WORK;
    }

    @Override
    public void argmax(Matrix x, Matrix out) {
        boolean f64 = x.dtype() == DType.F64;
        MemorySegment xs = x.segment(), os = out.segment();
        long st = x.stride(), rows = x.rows(), cols = x.cols();
        int status;
        try {
            if (longCall(rows * cols) && x.isNative() && out.isNative()) {
                status = f64 ? panmax_argmax_f64(xs, st, rows, cols, os, isa) : panmax_argmax_f32(xs, st, rows, cols, os, isa);
            } else {
                status = f64 ? (int) ARGMAX_F64.invokeExact(xs, st, rows, cols, os, isa)
                             : (int) ARGMAX_F32.invokeExact(xs, st, rows, cols, os, isa);
            }
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
        NativeKernels.check(status, "argmax");
    }

    @Override
    public void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o) {
        boolean f64 = x.dtype() == DType.F64;
        MemorySegment xs = x.segment(), is = indices.segment(), vs = seg(values);
        long st = x.stride(), rows = x.rows(), cols = x.cols(), k = o.k(), ist = indices.stride(), vst = stride(values);
        int kind = o.values().ordinal(); // LOGITS, PROBABILITIES, LOG_PROBABILITIES: the C enum's order
        int status;
        try {
            if (longCall(rows * cols) && x.isNative() && indices.isNative() && off(values)) {
                status = f64 ? panmax_topk_f64(xs, st, rows, cols, k, is, ist, vs, vst, kind, isa)
                             : panmax_topk_f32(xs, st, rows, cols, k, is, ist, vs, vst, kind, isa);
            } else {
                status = f64 ? (int) TOPK_F64.invokeExact(xs, st, rows, cols, k, is, ist, vs, vst, kind, isa)
                             : (int) TOPK_F32.invokeExact(xs, st, rows, cols, k, is, ist, vs, vst, kind, isa);
            }
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
        NativeKernels.check(status, "topk");
    }

    @Override
    public void sample(Matrix logits, SampleOutputs out, SampleOptions o) {
        boolean f64 = logits.dtype() == DType.F64;
        MemorySegment cfg = CONFIG.get();
        panmax_sample_config.temperature(cfg, o.temperature());
        panmax_sample_config.top_p(cfg, o.topP());
        panmax_sample_config.min_p(cfg, o.minP());
        panmax_sample_config.repetition_penalty(cfg, o.repetitionPenalty());
        panmax_sample_config.presence_penalty(cfg, o.presencePenalty());
        panmax_sample_config.frequency_penalty(cfg, o.frequencyPenalty());
        panmax_sample_config.top_k(cfg, o.topK());
        Matrix ti = out.topIndices(), tl = out.topLogprobs(), sc = out.scores();
        panmax_sample_config.top_logprobs(cfg, ti == null ? 0 : ti.cols());
        panmax_sample_config.seed(cfg, o.seed());
        panmax_sample_config.step(cfg, o.step());
        Matrix h = o.history();
        MemorySegment xs = logits.segment(), hs = seg(h), bs = seg(o.bias()), ms = seg(o.mask()), ss = seg(o.seeds()),
                ps = seg(o.steps()), us = seg(o.uniforms()), ts = out.tokens().segment(), scs = seg(sc), tis = seg(ti),
                tls = seg(tl);
        long xst = logits.stride(), rows = logits.rows(), cols = logits.cols(), hst = stride(h),
                hlen = h == null ? 0 : h.cols(), bst = stride(o.bias()), mst = stride(o.mask()), scst = stride(sc),
                tist = stride(ti), tlst = stride(tl);
        boolean plain = longCall(rows * cols) && logits.isNative() && off(h) && off(o.bias()) && off(o.mask())
                && off(o.seeds()) && off(o.steps()) && off(o.uniforms()) && out.tokens().isNative() && off(sc)
                && off(ti) && off(tl);
        int status;
        try {
            if (plain) {
                status = f64 ? panmax_sample_f64(xs, xst, rows, cols, cfg, hs, hst, hlen, bs, bst, ms, mst, ss, ps, us, ts,
                                scs, scst, tis, tist, tls, tlst, isa)
                             : panmax_sample_f32(xs, xst, rows, cols, cfg, hs, hst, hlen, bs, bst, ms, mst, ss, ps, us, ts,
                                scs, scst, tis, tist, tls, tlst, isa);
            } else if (f64) {
                status = (int) SAMPLE_F64.invokeExact(xs, xst, rows, cols, cfg, hs, hst, hlen, bs, bst, ms, mst, ss, ps,
                        us, ts, scs, scst, tis, tist, tls, tlst, isa);
            } else {
                status = (int) SAMPLE_F32.invokeExact(xs, xst, rows, cols, cfg, hs, hst, hlen, bs, bst, ms, mst, ss, ps,
                        us, ts, scs, scst, tis, tist, tls, tlst, isa);
            }
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
        NativeKernels.check(status, "sample");
    }

    static final int FLAG_LOG = 1;
    static final int FLAG_W_TRANSPOSED = 8;

    @Override
    public void head(Matrix x, Matrix w, HeadOutputs out, HeadOptions o) {
        boolean f64 = x.dtype() == DType.F64;
        Matrix lg = out.logits(), pr = out.probabilities(), ti = out.topIndices(), tv = out.topValues(), b = o.bias();
        long rows = x.rows(), dim = x.cols(), classes = o.transposed() ? w.cols() : w.rows();
        long k = ti == null ? 0 : ti.cols();
        int flags = (o.log() ? FLAG_LOG : 0) | (o.transposed() ? FLAG_W_TRANSPOSED : 0);
        MemorySegment xs = x.segment(), ws = w.segment(), bs = seg(b), ls = seg(lg), ps = seg(pr), tis = seg(ti),
                tvs = seg(tv);
        long xst = x.stride(), wst = w.stride(), lst = stride(lg), pst = stride(pr), tist = stride(ti), tvst = stride(tv);
        double t = o.temperature();
        boolean plain = longCall(rows * classes * Math.min(dim, 64)) && x.isNative() && w.isNative() && off(b)
                && off(lg) && off(pr) && off(ti) && off(tv);
        int status;
        try {
            if (plain) {
                status = f64 ? panmax_head_f64(xs, xst, rows, dim, ws, wst, classes, bs, t, flags, ls, lst, ps, pst, k, tis,
                                tist, tvs, tvst, isa)
                             : panmax_head_f32(xs, xst, rows, dim, ws, wst, classes, bs, (float) t, flags, ls, lst, ps, pst,
                                k, tis, tist, tvs, tvst, isa);
            } else if (f64) {
                status = (int) HEAD_F64.invokeExact(xs, xst, rows, dim, ws, wst, classes, bs, t, flags, ls, lst, ps, pst, k,
                        tis, tist, tvs, tvst, isa);
            } else {
                status = (int) HEAD_F32.invokeExact(xs, xst, rows, dim, ws, wst, classes, bs, (float) t, flags, ls, lst, ps,
                        pst, k, tis, tist, tvs, tvst, isa);
            }
        } catch (Throwable e) {
            throw NativeKernels.rethrow(e);
        }
        NativeKernels.check(status, "head");
    }
}
