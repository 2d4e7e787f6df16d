package org.panmax.internal;

import java.util.concurrent.Executor;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Reduction;
import org.panmax.SoftmaxOptions;

/**
 * A backend whose batched calls are split by rows across an {@link Executor} (see {@link Split}); results are
 * bit-identical to the inner backend's single call, because every split operation treats its rows independently.
 * Not split: {@code jacobianMatmul} (one row), cross-entropy with a SUM or MEAN reduction (its total is one ordered
 * sum over rows), and the one-row array shortcuts.
 */
public final class SplitKernels implements Kernels {
    private final Kernels inner;
    private final Executor ex;
    private final int tasks;

    public SplitKernels(Kernels inner, Executor ex, int tasks) {
        this.inner = inner instanceof SplitKernels s ? s.inner : inner;
        this.ex = ex;
        this.tasks = tasks;
    }

    /** The backend doing the work. */
    public Kernels inner() {
        return inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void softmax(Matrix x, Matrix y, SoftmaxOptions o) {
        Split.rows(ex, tasks, x.rows(), x.cols(), 1, (a, b) -> inner.softmax(x.rows(a, b), y.rows(a, b),
                o.mask() == null && o.bias() == null ? o
                        : o.withMask(Split.rows(o.mask(), a, b)).withBias(Split.rows(o.bias(), a, b))));
    }

    @Override
    public void logSumExp(Matrix x, Matrix out) {
        Split.rows(ex, tasks, x.rows(), x.cols(), 1, (a, b) -> inner.logSumExp(x.rows(a, b), Split.slice(out, a, b)));
    }

    @Override
    public void softmaxBackward(Matrix p, Matrix dy, Matrix dx) {
        Split.rows(ex, tasks, p.rows(), p.cols(), 1,
                (a, b) -> inner.softmaxBackward(p.rows(a, b), dy.rows(a, b), dx.rows(a, b)));
    }

    @Override
    public void logSoftmaxBackward(Matrix logp, Matrix dy, Matrix dx) {
        Split.rows(ex, tasks, logp.rows(), logp.cols(), 1,
                (a, b) -> inner.logSoftmaxBackward(logp.rows(a, b), dy.rows(a, b), dx.rows(a, b)));
    }

    @Override
    public void logSoftmaxJvp(Matrix logp, Matrix v, Matrix out) {
        Split.rows(ex, tasks, logp.rows(), logp.cols(), 1,
                (a, b) -> inner.logSoftmaxJvp(logp.rows(a, b), v.rows(a, b), out.rows(a, b)));
    }

    @Override
    public void jacobian(Matrix x, Matrix jac, JacobianOptions o) {
        long n = x.cols();
        Split.rows(ex, tasks, x.rows(), n * n, 1, (a, b) -> inner.jacobian(x.rows(a, b), jac.rows(a * n, b * n), o));
    }

    @Override
    public void jacobianMatmul(Matrix p, Matrix v, Matrix out, JacobianOptions o) {
        inner.jacobianMatmul(p, v, out, o);
    }

    @Override
    public void crossEntropy(Matrix logits, Matrix targets, Matrix grad, Matrix loss, CrossEntropyOptions o) {
        if (o.reduction() != Reduction.NONE) {
            inner.crossEntropy(logits, targets, grad, loss, o);
            return;
        }
        boolean labels = targets.dtype() == DType.I64;
        Split.rows(ex, tasks, logits.rows(), logits.cols(), 1, (a, b) -> inner.crossEntropy(logits.rows(a, b),
                labels ? Split.slice(targets, a, b) : targets.rows(a, b), grad == null ? null : grad.rows(a, b),
                Split.slice(loss, a, b), o));
    }

    @Override
    public void softmaxRow(boolean log, float[] x, float[] y) {
        inner.softmaxRow(log, x, y);
    }

    @Override
    public void softmaxRow(boolean log, double[] x, double[] y) {
        inner.softmaxRow(log, x, y);
    }

    @Override
    public void softmaxBackwardRow(float[] p, float[] dy, float[] dx) {
        inner.softmaxBackwardRow(p, dy, dx);
    }

    @Override
    public void softmaxBackwardRow(double[] p, double[] dy, double[] dx) {
        inner.softmaxBackwardRow(p, dy, dx);
    }
}
