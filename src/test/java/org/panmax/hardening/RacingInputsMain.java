package org.panmax.hardening;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.Reduction;
import org.panmax.SoftmaxOptions;

/**
 * Run in a fresh JVM by {@link RacingInputsTest} (a crash must not take the test run with it): on every backend,
 * a second thread keeps writing the inputs of the calls the main thread makes (labels flipped between a valid class
 * and 2^40, logits and masks between ordinary and extreme values) on native segments and heap arrays. No call may
 * crash, throw anything but the facade's own label rejection (the label it read was out of range), or write a byte
 * outside its output elements: every output has poisoned guard zones before and after, checked after each call.
 * Prints one line per backend and "racing-inputs failures=[...]"; exits 1 on any failure.
 */
public final class RacingInputsMain {
    private RacingInputsMain() {}

    static final int ROWS = 8;
    static final int COLS = 67;
    static final int GUARD = 64; // elements of guard zone on each side of every buffer
    static final float POISON = -31337.25f;
    static final long BAD_LABEL = 1L << 40;

    public static void main(String[] args) throws Exception {
        long millis = Long.getLong("panmax.racing.millis", 1500);
        List<String> failures = new ArrayList<>();
        for (String b : Panmax.backends()) {
            for (boolean nativeMemory : new boolean[] {true, false}) {
                race(Panmax.backend(b), nativeMemory, millis, failures);
            }
        }
        System.out.println("racing-inputs failures=" + failures);
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    /** A buffer of n floats (or longs, bytes) between two guard zones, as a native segment or a heap array. */
    static final class Buf {
        final MemorySegment whole;
        final Object array;
        final int el;
        final long n;

        Buf(Arena arena, boolean nativeMemory, DType t, long n) {
            this.el = t.bytes();
            this.n = n;
            long total = n + 2L * GUARD;
            if (nativeMemory) {
                whole = arena.allocate(total * el, 64);
                array = null;
            } else {
                array = switch (t) {
                    case F32 -> new float[(int) total];
                    case I64 -> new long[(int) total];
                    default -> new byte[(int) total];
                };
                whole = switch (t) {
                    case F32 -> MemorySegment.ofArray((float[]) array);
                    case I64 -> MemorySegment.ofArray((long[]) array);
                    default -> MemorySegment.ofArray((byte[]) array);
                };
            }
            poison();
        }

        void poison() {
            for (long i = 0; i < n + 2L * GUARD; i++) {
                switch (el) {
                    case 4 -> whole.setAtIndex(ValueLayout.JAVA_FLOAT, i, POISON);
                    case 8 -> whole.setAtIndex(ValueLayout.JAVA_LONG, i, Float.floatToRawIntBits(POISON));
                    default -> whole.set(ValueLayout.JAVA_BYTE, i, (byte) 0x5A);
                }
            }
        }

        /** The view of rows x cols (a vector: 1 x cols) between the guards. */
        Matrix view(DType t, long rows, long cols) {
            if (array != null) {
                return switch (t) {
                    case F32 -> Matrix.of((float[]) array, GUARD, rows, cols, cols);
                    case I64 -> Matrix.of((long[]) array, GUARD, rows, cols, cols);
                    default -> Matrix.of((byte[]) array, GUARD, rows, cols, cols);
                };
            }
            return Matrix.of(t, whole, GUARD, rows, cols, cols);
        }

        /** Whether the guard zones still hold their poison. */
        boolean guardsIntact() {
            for (long i = 0; i < n + 2L * GUARD; i++) {
                if (i == GUARD) {
                    i = GUARD + n;
                }
                boolean ok = switch (el) {
                    case 4 -> Float.floatToRawIntBits(whole.getAtIndex(ValueLayout.JAVA_FLOAT, i))
                            == Float.floatToRawIntBits(POISON);
                    case 8 -> whole.getAtIndex(ValueLayout.JAVA_LONG, i) == Float.floatToRawIntBits(POISON);
                    default -> whole.get(ValueLayout.JAVA_BYTE, i) == (byte) 0x5A;
                };
                if (!ok) {
                    return false;
                }
            }
            return true;
        }

        void setFloat(long i, float v) {
            whole.setAtIndex(ValueLayout.JAVA_FLOAT, GUARD + i, v);
        }

        void setLong(long i, long v) {
            whole.setAtIndex(ValueLayout.JAVA_LONG, GUARD + i, v);
        }

        void setByte(long i, byte v) {
            whole.set(ValueLayout.JAVA_BYTE, GUARD + i, v);
        }
    }

    static void race(Panmax pm, boolean nativeMemory, long millis, List<String> failures) throws Exception {
        String where = pm.name() + (nativeMemory ? " native" : " heap");
        try (Arena arena = Arena.ofShared()) {
            int n = ROWS * COLS;
            Buf logits = new Buf(arena, nativeMemory, DType.F32, n);
            Buf labels = new Buf(arena, nativeMemory, DType.I64, ROWS);
            Buf mask = new Buf(arena, nativeMemory, DType.U8, n);
            Buf dy = new Buf(arena, nativeMemory, DType.F32, n);
            Buf grad = new Buf(arena, nativeMemory, DType.F32, n);
            Buf y = new Buf(arena, nativeMemory, DType.F32, n);
            Buf loss = new Buf(arena, nativeMemory, DType.F32, ROWS);
            Buf out = new Buf(arena, nativeMemory, DType.F32, (long) COLS * 3);
            SplittableRandom init = new SplittableRandom(7);
            for (int i = 0; i < n; i++) {
                logits.setFloat(i, (float) init.nextGaussian());
                dy.setFloat(i, (float) init.nextGaussian());
                mask.setByte(i, (byte) 1);
            }
            for (int r = 0; r < ROWS; r++) {
                labels.setLong(r, r % COLS);
            }
            Matrix xv = logits.view(DType.F32, ROWS, COLS);
            Matrix lv = labels.view(DType.I64, 1, ROWS);
            Matrix mv = mask.view(DType.U8, ROWS, COLS);
            Matrix dyv = dy.view(DType.F32, ROWS, COLS);
            Matrix gv = grad.view(DType.F32, ROWS, COLS);
            Matrix yv = y.view(DType.F32, ROWS, COLS);
            Matrix lossNone = loss.view(DType.F32, 1, ROWS);
            Matrix lossOne = Matrix.of(DType.F32, loss.whole, GUARD, 1, 1, 1);
            Matrix vv = dy.view(DType.F32, COLS, 3);
            Matrix ov = out.view(DType.F32, COLS, 3);
            Buf[] outputs = {grad, y, loss, out};
            float[] extremes = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE,
                1e30f, -1e30f, 0f, 1f};
            CrossEntropyOptions[] ce = {CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE),
                CrossEntropyOptions.DEFAULT.withReduction(Reduction.SUM).withLabelSmoothing(0.1),
                CrossEntropyOptions.DEFAULT};
            SoftmaxOptions masked = SoftmaxOptions.DEFAULT.withMask(mv).withTemperature(0.5);

            volatile_stop = false;
            Thread writer = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(11);
                while (!volatile_stop) {
                    int row = r.nextInt(ROWS);
                    labels.setLong(row, r.nextBoolean() ? BAD_LABEL : r.nextInt(COLS));
                    int i = r.nextInt(n);
                    logits.setFloat(i, r.nextInt(4) == 0 ? extremes[r.nextInt(extremes.length)] : (float) r.nextGaussian());
                    mask.setByte(r.nextInt(n), (byte) r.nextInt(2));
                    dy.setFloat(r.nextInt(n), r.nextInt(8) == 0 ? Float.NaN : (float) r.nextGaussian());
                }
            }, "racing-writer");
            writer.setDaemon(true);
            writer.start();
            long calls = 0;
            long rejected = 0;
            long end = System.nanoTime() + millis * 1_000_000;
            SplittableRandom pick = new SplittableRandom(13);
            int failuresBefore = failures.size();
            while (System.nanoTime() < end && failures.size() < failuresBefore + 5) { // 5 say enough per race
                int op = pick.nextInt(6);
                try {
                    switch (op) {
                        case 0 -> pm.crossEntropy(xv, lv, gv, lossNone, ce[0]);
                        case 1 -> pm.crossEntropy(xv, lv, gv, lossOne, ce[1]);
                        case 2 -> pm.crossEntropy(xv, lv, null, lossOne, ce[2]);
                        case 3 -> pm.softmax(xv, yv, masked);
                        case 4 -> pm.softmaxBackward(yv, dyv, gv);
                        default -> pm.jacobianMatmul(yv.row(0), vv, ov, JacobianOptions.DEFAULT);
                    }
                } catch (IllegalArgumentException e) {
                    if (op <= 2 && e.getMessage().contains("is outside [0, " + COLS + ")")) {
                        rejected++; // the facade read a flipped label: a clean rejection
                    } else {
                        failures.add(where + " op " + op + ": " + e);
                    }
                } catch (Throwable t) {
                    failures.add(where + " op " + op + ": " + t);
                }
                calls++;
                for (Buf b : outputs) {
                    if (!b.guardsIntact()) {
                        failures.add(where + " op " + op + ": wrote outside its output");
                        b.poison();
                    }
                }
                for (Buf b : new Buf[] {logits, labels, mask, dy}) {
                    if (!b.guardsIntact()) {
                        failures.add(where + " op " + op + ": wrote into an input's guard zone");
                        b.poison();
                    }
                }
            }
            volatile_stop = true;
            writer.join();
            System.out.println("racing-inputs " + where + ": " + calls + " calls, " + rejected
                    + " rejected by the facade's label check");
        }
    }

    static volatile boolean volatile_stop;
}
