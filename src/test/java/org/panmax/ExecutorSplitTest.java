package org.panmax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Batched calls split across an Executor give the single call's results bit for bit, and use the executor. */
class ExecutorSplitTest {
    static ExecutorService pool;
    static final AtomicInteger RAN = new AtomicInteger();

    @BeforeAll
    static void start() {
        pool = Executors.newFixedThreadPool(3);
    }

    @AfterAll
    static void stop() {
        pool.shutdownNow();
    }

    static java.util.List<String> backends() {
        return InferReference.backends();
    }

    static float[] randoms(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * InferReference.gauss(rnd));
        }
        return a;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void splitCallsAreBitIdentical(String backend) {
        Panmax one = Panmax.backend(backend);
        Panmax many = one.withExecutor(r -> {
            RAN.incrementAndGet();
            pool.execute(r);
        }, 4);
        assertEquals(one.name(), many.name());
        SplittableRandom rnd = new SplittableRandom(8);
        final int B = 200, n = 1000;
        float[] x = randoms(rnd, B * n);
        Matrix X = Matrix.of(x, B, n);
        int before = RAN.get();
        // softmax with a broadcast mask and a full bias, log-softmax, logsumexp, backward
        byte[] mask = new byte[n];
        Arrays.fill(mask, (byte) 1);
        mask[5] = 0;
        SoftmaxOptions so = SoftmaxOptions.DEFAULT.withTemperature(0.8).withMask(Matrix.of(mask).broadcast(B))
                .withBias(Matrix.of(randoms(rnd, B * n), B, n));
        float[] y1 = new float[B * n], y2 = new float[B * n];
        one.softmax(X, Matrix.of(y1, B, n), so);
        many.softmax(X, Matrix.of(y2, B, n), so);
        assertArrayEquals(y1, y2);
        one.logSoftmax(X, Matrix.of(y1, B, n));
        many.logSoftmax(X, Matrix.of(y2, B, n));
        assertArrayEquals(y1, y2);
        float[] l1 = new float[B], l2 = new float[B];
        one.logSumExp(X, Matrix.of(l1));
        many.logSumExp(X, Matrix.of(l2));
        assertArrayEquals(l1, l2);
        float[] dy = randoms(rnd, B * n);
        one.softmaxBackward(X, Matrix.of(dy, B, n), Matrix.of(y1, B, n));
        many.softmaxBackward(X, Matrix.of(dy, B, n), Matrix.of(y2, B, n));
        assertArrayEquals(y1, y2);
        long[] labels = new long[B];
        for (int r = 0; r < B; r++) {
            labels[r] = rnd.nextInt(n);
        }
        one.crossEntropy(X, Matrix.of(labels), Matrix.of(y1, B, n), Matrix.of(l1), CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE));
        many.crossEntropy(X, Matrix.of(labels), Matrix.of(y2, B, n), Matrix.of(l2), CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE));
        assertArrayEquals(l1, l2);
        assertArrayEquals(y1, y2);
        // inference
        long[] a1 = new long[B], a2 = new long[B];
        one.argmax(X, Matrix.of(a1));
        many.argmax(X, Matrix.of(a2));
        assertArrayEquals(a1, a2);
        long[] i1 = new long[B * 5], i2 = new long[B * 5];
        float[] v1 = new float[B * 5], v2 = new float[B * 5];
        one.topK(X, Matrix.of(i1, 0, B, 5, 5), Matrix.of(v1, B, 5), TopKOptions.of(5));
        many.topK(X, Matrix.of(i2, 0, B, 5, 5), Matrix.of(v2, B, 5), TopKOptions.of(5));
        assertArrayEquals(i1, i2);
        assertArrayEquals(v1, v2);
        long[] seeds = new long[B];
        for (int r = 0; r < B; r++) {
            seeds[r] = rnd.nextLong();
        }
        SampleOptions sample = SampleOptions.DEFAULT.withTopP(0.9).withRowDraws(Matrix.of(seeds), null).withStep(3)
                .withPenalties(Matrix.of(labels, 0, B, 1, 1), 1.3, 0.1, 0.1);
        float[] s1 = new float[B * 4], s2 = new float[B * 4];
        one.sample(X, SampleOutputs.of(Matrix.of(a1)).withScores(Matrix.of(s1, B, 4)), sample);
        many.sample(X, SampleOutputs.of(Matrix.of(a2)).withScores(Matrix.of(s2, B, 4)), sample);
        assertArrayEquals(a1, a2);
        assertArrayEquals(s1, s2);
        // heads: 150 rows (not a multiple of the native gemm block), 2100 classes (three chunks)
        final int H = 150, d = 40, K = 2100;
        Matrix hx = Matrix.of(randoms(rnd, H * d), H, d), w = Matrix.of(randoms(rnd, K * d), K, d);
        float[] p1 = new float[H * K], p2 = new float[H * K];
        long[] t1 = new long[H * 3], t2 = new long[H * 3];
        one.head(hx, w, HeadOutputs.probabilities(Matrix.of(p1, H, K)).withTop(Matrix.of(t1, 0, H, 3, 3), null), HeadOptions.DEFAULT);
        many.head(hx, w, HeadOutputs.probabilities(Matrix.of(p2, H, K)).withTop(Matrix.of(t2, 0, H, 3, 3), null), HeadOptions.DEFAULT);
        assertArrayEquals(p1, p2);
        assertArrayEquals(t1, t2);
        assertEquals(true, RAN.get() > before, "the executor was never used");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aRejectingExecutorLeavesThePiecesToTheCaller(String backend) {
        Panmax one = Panmax.backend(backend);
        Panmax many = one.withExecutor(r -> {
            throw new java.util.concurrent.RejectedExecutionException("full");
        }, 4);
        final int B = 400, n = 1000;
        float[] x = randoms(new SplittableRandom(1), B * n), y1 = new float[B * n], y2 = new float[B * n];
        one.softmax(Matrix.of(x, B, n), Matrix.of(y1, B, n));
        many.softmax(Matrix.of(x, B, n), Matrix.of(y2, B, n));
        assertArrayEquals(y1, y2);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aFailingPieceFailsTheCallAfterAllPiecesFinished(String backend) {
        Panmax many = Panmax.backend(backend).withExecutor(pool, 4);
        final int B = 400, n = 1000;
        try (java.lang.foreign.Arena shared = java.lang.foreign.Arena.ofShared()) {
            var seg = shared.allocate((long) B * n * 4, 4);
            Matrix x = Matrix.of(DType.F32, seg, B, n);
            // the confined output is usable by this thread only: the pieces on the pool fail
            try (java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
                Matrix y = Matrix.of(DType.F32, confined.allocate((long) B * n * 4, 4), B, n);
                assertThrows(RuntimeException.class, () -> many.softmax(x, y));
            }
        }
    }

    @org.junit.jupiter.api.Test
    void rowRangesOfPerRowDrawsIncludingEmptyOnes() {
        long[] seeds = {11, 12, 13, 14};
        long[] steps = {1, 2, 3, 4};
        SampleOptions o = SampleOptions.DEFAULT.withRowDraws(Matrix.of(seeds), Matrix.of(steps));
        SampleOptions mid = o.rows(1, 3);
        assertEquals(2, mid.seeds().cols());
        assertEquals(12, ((long[]) mid.seeds().array())[(int) mid.seeds().offset()]);
        assertEquals(3, ((long[]) mid.steps().array())[(int) mid.steps().offset() + 1]);
        for (long at = 0; at <= 4; at++) {
            SampleOptions none = o.rows(at, at); // an empty piece of a split: 0 elements, not an error
            assertEquals(true, none.seeds().isVector(0), none.seeds().toString());
            assertEquals(true, none.steps().isVector(0), none.steps().toString());
        }
        assertThrows(IndexOutOfBoundsException.class, () -> o.rows(3, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> o.rows(2, 5));
    }
}
