package org.panmax.internal;

import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.panmax.DType;
import org.panmax.Matrix;

/**
 * Splits a batched call into row ranges run on a caller's {@link Executor}: at most {@code tasks} pieces, each of at
 * least {@link #MIN_WORK} elements of work (so a piece pays for its hand-off, a few microseconds), cut at multiples of
 * an alignment (heads: the native gemm row block, so every piece makes the same gemm calls as the whole). The calling
 * thread runs the first piece itself (and any piece the executor rejects) and waits for the others; the first failure
 * is re-thrown after all finished, so no piece writes after the call returns.
 * Rows are independent in every split operation, so the results are bit-identical to the single call.
 */
public final class Split {
    private Split() {}

    /** Elements of work below which a piece is not worth a task (~20-60 us of native work). */
    static final long MIN_WORK = 1 << 16;

    /** Body of one piece: rows [from, to). */
    interface Rows {
        void run(long from, long to);
    }

    static void rows(Executor ex, int tasks, long rows, long workPerRow, long align, Rows body) {
        long work = Math.multiplyHigh(rows, workPerRow) != 0 ? Long.MAX_VALUE : rows * workPerRow;
        long pieces = Math.min(tasks, Math.max(1, work / MIN_WORK));
        long units = (rows + align - 1) / align; // pieces are whole alignment units
        pieces = Math.min(pieces, units);
        if (pieces <= 1) {
            body.run(0, rows);
            return;
        }
        long perPiece = (units + pieces - 1) / pieces * align;
        int n = (int) ((rows + perPiece - 1) / perPiece);
        CountDownLatch done = new CountDownLatch(n - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 1; i < n; i++) {
            long from = i * perPiece, to = Math.min(rows, from + perPiece);
            Runnable piece = () -> {
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            };
            try {
                ex.execute(piece);
            } catch (RejectedExecutionException e) {
                piece.run(); // a saturated or shut-down executor: the caller does the piece itself
            }
        }
        Throwable mine = null;
        try {
            body.run(0, Math.min(rows, perPiece));
        } catch (Throwable t) {
            mine = t;
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the pieces write the caller's outputs: never return before they finish
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = mine != null ? mine : failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** Rows [from, to) of an optional matrix (a broadcast view, stride 0, stays one; null stays null). */
    public static Matrix rows(Matrix m, long from, long to) {
        return m == null ? null : m.rows(from, to);
    }

    /** Elements [from, to) of a vector view (one contiguous row or column), as a view of the same kind. */
    public static Matrix slice(Matrix v, long from, long to) {
        if (v == null) {
            return null;
        }
        if (v.rows() != 1 || v.cols() == 1) {
            return v.rows(from, to); // a column of stride 1 (or a 1 x 1)
        }
        Objects.checkFromToIndex(from, to, v.cols());
        long n = to - from;
        // no elements: an empty column (0 x 1), since a row needs at least one column
        long rows = n == 0 ? 0 : 1;
        long cols = n == 0 ? 1 : n;
        Object a = v.array();
        DType t = v.dtype();
        if (a != null) {
            long off = v.offset() + from;
            return switch (t) {
                case F32 -> Matrix.of((float[]) a, off, rows, cols, cols);
                case F64 -> Matrix.of((double[]) a, off, rows, cols, cols);
                case I64 -> Matrix.of((long[]) a, off, rows, cols, cols);
                case U8 -> Matrix.of((byte[]) a, off, rows, cols, cols);
            };
        }
        return Matrix.of(t, Objects.requireNonNull(v.segment()), from, rows, cols, cols);
    }
}
