package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.SoftmaxOptions;

/**
 * A shared arena closed by another thread while a Java-backend call reads or writes it: the call throws
 * {@link IllegalStateException} naming the operation, the argument whose arena died and the output left partly
 * written, with the JDK's exception as the cause. The close is raced against large calls until it lands
 * (bounded time); an attempt where the call ended first asserts nothing, every exception is checked, and the
 * test is skipped only if no close ever landed.
 */
class JavaClosedArenaTest {
    static final long N = 1 << 22;          // elements per buffer: a call takes milliseconds
    static final long BUDGET_NANOS = 4_000_000_000L;
    static final int WANTED = 3;            // landed closes per case

    /** Makes the views of one call (inputs in {@code in}, outputs in {@code out}; one is closed) and returns it. */
    interface Call {
        Runnable prepare(Kernels k, Arena in, Arena out);
    }

    record Case(String name, String closedArg, boolean closeInput, String message, Call call) {
        @Override
        public String toString() {
            return name + (closeInput ? " (input arena)" : " (output arena)");
        }
    }

    static MemorySegment floats(Arena a, long n) {
        return a.allocate(n * 4, 64);
    }

    static Matrix rowsOf(Arena a, long rows, long cols) {
        return Matrix.of(DType.F32, floats(a, rows * cols), 0, rows, cols, cols);
    }

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        for (boolean closeInput : new boolean[] {true, false}) {
            String w = closeInput ? "x" : "y";
            cs.add(new Case("softmax", w, closeInput, "softmax: the arena of " + w + " was closed during the call; y is partly written",
                    (k, in, out) -> {
                        Matrix x = rowsOf(in, 1, N);
                        Matrix y = rowsOf(out, 1, N);
                        return () -> k.softmax(x, y, SoftmaxOptions.DEFAULT);
                    }));
            cs.add(new Case("logSumExp", closeInput ? "x" : "out", closeInput, "logSumExp: the arena of " + (closeInput ? "x" : "out")
                    + " was closed during the call; out is partly written",
                    (k, in, out) -> {
                        Matrix x = rowsOf(in, 64, N / 64);
                        Matrix o = rowsOf(out, 64, 1);
                        return () -> k.logSumExp(x, o);
                    }));
            String b = closeInput ? "p" : "dx";
            cs.add(new Case("softmaxBackward", b, closeInput, "softmaxBackward: the arena of " + b
                    + " was closed during the call; dx is partly written",
                    (k, in, out) -> {
                        Matrix p = rowsOf(in, 1, N);
                        Matrix dy = rowsOf(in, 1, N);
                        Matrix dx = rowsOf(out, 1, N);
                        return () -> k.softmaxBackward(p, dy, dx);
                    }));
            String j = closeInput ? "p" : "out";
            cs.add(new Case("jacobianMatmul", j, closeInput, "jacobianMatmul: the arena of " + j
                    + " was closed during the call; out is partly written",
                    (k, in, out) -> {
                        Matrix p = rowsOf(in, 1, 4);
                        Matrix v = rowsOf(in, 4, N / 4);
                        Matrix o = rowsOf(out, 4, N / 4);
                        return () -> k.jacobianMatmul(p, v, o, JacobianOptions.DEFAULT);
                    }));
            String c = closeInput ? "logits" : "grad";
            cs.add(new Case("crossEntropy", c, closeInput, "crossEntropy: the arena of " + c
                    + " was closed during the call; grad and loss are partly written",
                    (k, in, out) -> {
                        Matrix z = rowsOf(in, 16, N / 16);
                        Matrix g = rowsOf(out, 16, N / 16);
                        return () -> k.crossEntropy(z, Matrix.of(new long[16]), g, Matrix.of(new float[1]),
                                CrossEntropyOptions.DEFAULT);
                    }));
        }
        return cs;
    }

    static Stream<Arguments> backendsAndCases() {
        return JavaTestSupport.backends().stream().limit(2).flatMap(k -> cases().stream().map(c -> Arguments.of(k, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndCases")
    void closingTheArenaDuringACallNamesItsArgument(Kernels k, Case c) throws InterruptedException {
        int landed = 0;
        long t0 = System.nanoTime();
        for (int attempt = 0; landed < WANTED && System.nanoTime() - t0 < BUDGET_NANOS; attempt++) {
            Arena shared = Arena.ofShared();
            try (Arena other = Arena.ofShared()) {
                Arena in = c.closeInput() ? shared : other;
                Arena out = c.closeInput() ? other : shared;
                Runnable call = c.call().prepare(k, in, out);
                Throwable[] thrown = new Throwable[1];
                CountDownLatch started = new CountDownLatch(1);
                Thread t = new Thread(() -> {
                    try {
                        started.countDown();
                        call.run();
                    } catch (Throwable e) {
                        thrown[0] = e;
                    }
                });
                t.start();
                started.await();
                if (attempt % 3 != 0) {
                    Thread.sleep(attempt % 3); // vary where in the call the close lands
                }
                shared.close();
                t.join();
                if (thrown[0] == null) {
                    continue; // the call ended before the close
                }
                landed++;
                IllegalStateException e = assertInstanceOf(IllegalStateException.class, thrown[0], k.name() + " " + c);
                assertEquals(c.message(), e.getMessage(), k.name() + " " + c);
                assertInstanceOf(IllegalStateException.class, e.getCause(), "the JDK's exception is the cause");
            }
        }
        assumeTrue(landed > 0, k.name() + " " + c + ": the close never landed during a call in the time given");
    }
}
