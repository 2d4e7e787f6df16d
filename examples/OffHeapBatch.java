import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.panmax.DType;
import org.panmax.Matrix;
import org.panmax.Panmax;

/**
 * A batch in off-heap memory: one Arena, the views made once before the loop and reused by every step (a call on
 * views allocates nothing), rows(from, to) for part of the batch. Run from the repository root.
 */
public class OffHeapBatch {
    public static void main(String[] args) {
        Panmax pm = Panmax.get();
        int rows = 64, cols = 1000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * cols);
            MemorySegment probs = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * cols);
            MemorySegment lse = arena.allocate(ValueLayout.JAVA_FLOAT, rows);
            Matrix x = Matrix.of(DType.F32, logits, rows, cols);   // checked once, here
            Matrix p = Matrix.of(DType.F32, probs, rows, cols);
            Matrix out = Matrix.of(DType.F32, lse, 1, rows);       // one value per row
            for (int step = 0; step < 3; step++) {
                fill(logits, rows * cols, step);                   // new logits, same memory, same views
                pm.softmax(x, p);
                pm.logSumExp(x, out);
                double worst = 0;
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int j = 0; j < cols; j++) {
                        s += probs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * cols + j);
                    }
                    worst = Math.max(worst, Math.abs(s - 1));
                }
                System.out.printf("step %d: %d rows of %d on %s, worst |row sum - 1| = %.2e, logsumexp[0] = %.4f%n",
                        step, rows, cols, pm.name(), worst, lse.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
                if (worst > 1e-4) {
                    System.err.println("off-heap batch: FAILED: rows do not sum to 1");
                    System.exit(1);
                }
            }
            // Half of the batch: a slice of the views, no copy, no new check of the memory.
            pm.logSoftmax(x.rows(0, rows / 2), p.rows(0, rows / 2));
            float lp = probs.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
            float expected = logits.getAtIndex(ValueLayout.JAVA_FLOAT, 0) - lse.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
            if (Math.abs(lp - expected) > 1e-4) {
                System.err.println("off-heap batch: FAILED: log-softmax != x - logsumexp");
                System.exit(1);
            }
        }
        System.out.println("off-heap batch: ok");
    }

    static void fill(MemorySegment s, int n, int step) {
        for (int i = 0; i < n; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (4 * Math.sin(0.37 * i + step)));
        }
    }
}
