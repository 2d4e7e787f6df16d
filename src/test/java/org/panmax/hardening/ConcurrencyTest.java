package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.Reduction;
import org.panmax.SoftmaxOptions;

/**
 * Many more threads than cores run every operation at once, on shared read-only inputs and private
 * outputs, on every backend: results must be bit-identical to the sequential ones. And an arena closed
 * by another thread while batches run gives clean exceptions, never a crash.
 */
class ConcurrencyTest {
    static final int THREADS = 8 * Math.max(2, Runtime.getRuntime().availableProcessors());
    static final int ROWS = 16;
    static final int COLS = 257;

    /** Every operation on the given backend; returns all outputs concatenated. */
    static float[] everything(Panmax pm, float[] x, float[] p, float[] dy, long[] labels) {
        int n = ROWS * COLS;
        float[] out = new float[8 * n + COLS * COLS + ROWS + 2];
        float[] y = new float[n];
        Matrix xv = Matrix.of(x, ROWS, COLS);
        Matrix pv = Matrix.of(p, ROWS, COLS);
        Matrix dyv = Matrix.of(dy, ROWS, COLS);
        Matrix yv = Matrix.of(y, ROWS, COLS);
        int at = 0;
        pm.softmax(xv, yv);
        System.arraycopy(y, 0, out, at, n);
        at += n;
        pm.logSoftmax(xv, yv);
        System.arraycopy(y, 0, out, at, n);
        at += n;
        pm.softmax(xv, yv, SoftmaxOptions.DEFAULT.withTemperature(0.7f).withExact(true));
        System.arraycopy(y, 0, out, at, n);
        at += n;
        pm.softmaxBackward(pv, dyv, yv);
        System.arraycopy(y, 0, out, at, n);
        at += n;
        pm.logSoftmaxBackward(pv, dyv, yv);
        System.arraycopy(y, 0, out, at, n);
        at += n;
        float[] loss = new float[ROWS];
        pm.crossEntropy(xv, Matrix.of(labels), yv, Matrix.of(loss),
                CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE).withLabelSmoothing(0.1f));
        System.arraycopy(y, 0, out, at, n);
        at += n;
        System.arraycopy(loss, 0, out, at, ROWS);
        at += ROWS;
        float[] lse = new float[ROWS];
        pm.logSumExp(xv, Matrix.of(lse));
        System.arraycopy(lse, 0, out, at, ROWS);
        float[] jac = new float[COLS * COLS];
        pm.jacobian(pv.row(0), Matrix.of(jac, COLS, COLS), JacobianOptions.DEFAULT);
        System.arraycopy(jac, 0, out, 8 * n, COLS * COLS);
        return out;
    }

    @Test
    void allOperationsOnAllBackendsFromManyThreadsGiveTheSequentialResults() throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[ROWS * COLS];
        float[] dy = new float[ROWS * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 20 - 10);
            dy[i] = (float) (r.nextDouble() - 0.5);
        }
        long[] labels = new long[ROWS];
        for (int i = 0; i < ROWS; i++) {
            labels[i] = i == 3 ? -100 : r.nextInt(COLS);
        }
        List<String> backends = Panmax.backends();
        List<float[]> sequential = new ArrayList<>();
        for (String b : backends) {
            Panmax pm = Panmax.backend(b);
            float[] p = new float[x.length];
            pm.softmax(Matrix.of(x, ROWS, COLS), Matrix.of(p, ROWS, COLS));
            sequential.add(everything(pm, x, p, dy, labels));
        }
        float[] pShared = new float[x.length];
        Panmax.backend("java-scalar").softmax(Matrix.of(x, ROWS, COLS), Matrix.of(pShared, ROWS, COLS));
        List<float[]> seqShared = new ArrayList<>();
        for (String b : backends) {
            seqShared.add(everything(Panmax.backend(b), x, pShared, dy, labels));
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int rep = 0; rep < 6; rep++) {
                        int bi = (id + rep) % backends.size();
                        float[] got = everything(Panmax.backend(backends.get(bi)), x, pShared, dy, labels);
                        assertArrayEquals(seqShared.get(bi), got, backends.get(bi) + " thread " + id + " rep " + rep);
                        calls.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(THREADS * 6, calls.get());
        System.out.println("[panmax] concurrency: " + THREADS + " threads x 6 rounds x 9 operations on " + backends);
    }

    @Test
    void arenaClosedByAnotherThreadDuringBatchesGivesCleanExceptions() throws Exception {
        int rows = 512;
        int cols = 1000;
        for (String b : Panmax.backends()) {
            Panmax pm = Panmax.backend(b);
            for (int round = 0; round < 3; round++) {
                Arena arena = Arena.ofShared();
                Matrix x = Matrix.of(DType.F32, arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * cols), rows, cols);
                Matrix y = Matrix.of(DType.F32, arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * cols), rows, cols);
                ExecutorService pool = Executors.newFixedThreadPool(2);
                CountDownLatch running = new CountDownLatch(1);
                Function<Integer, Object> work = i -> {
                    running.countDown();
                    for (int k = 0; k < 200; k++) {
                        pm.softmax(x, y);
                    }
                    return null;
                };
                Future<?> f1 = pool.submit(() -> work.apply(0));
                running.await();
                boolean closed = false;
                for (int attempt = 0; attempt < 10_000 && !closed; attempt++) {
                    try {
                        arena.close(); // fails with IllegalStateException while a native call holds the segment
                        closed = true;
                    } catch (IllegalStateException busy) {
                        Thread.onSpinWait();
                    }
                }
                try {
                    f1.get(120, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    assertTrue(e.getCause() instanceof IllegalStateException, b + ": " + e.getCause());
                } finally {
                    pool.shutdownNow();
                }
                if (!closed) {
                    arena.close();
                }
            }
        }
    }
}
