import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.SoftmaxOptions;

/** Softmax of one row, of a batch, and with options. Run from the repository root (see examples/README.md). */
public class Quickstart {
    public static void main(String[] args) {
        Panmax pm = Panmax.get(); // the fastest backend present
        System.out.println("backend: " + pm.name());

        // One row: arrays in, array out, no view needed.
        float[] logits = {1, 2, 3, 4};
        float[] probs = new float[4];
        pm.softmax(logits, probs);
        System.out.printf("row:     %.4f %.4f %.4f %.4f%n", probs[0], probs[1], probs[2], probs[3]);

        // A batch: 3 rows x 4 columns of one float[]. Views are made once and reused.
        float[] batch = {1, 2, 3, 4, 0, 0, 0, 0, -1, 5, 2, 2};
        float[] out = new float[12];
        Matrix x = Matrix.of(batch, 3, 4);
        Matrix y = Matrix.of(out, 3, 4);
        pm.softmax(x, y);
        check(rowSumsAreOne(out, 3, 4), "batch rows sum to 1");

        // Options: a temperature and a keep-mask shared by every row (the last column masked out).
        Matrix keep = Matrix.of(new byte[] {1, 1, 1, 0}).broadcast(3);
        SoftmaxOptions options = SoftmaxOptions.DEFAULT.withTemperature(0.5).withMask(keep);
        pm.softmax(x, y, options);
        check(rowSumsAreOne(out, 3, 4) && out[3] == 0 && out[7] == 0 && out[11] == 0, "masked column is 0");
        System.out.printf("masked:  %.4f %.4f %.4f %.4f%n", out[0], out[1], out[2], out[3]);

        // Log-softmax of the same batch, in place.
        pm.logSoftmax(x, x);
        System.out.printf("log row: %.4f %.4f %.4f %.4f%n", batch[0], batch[1], batch[2], batch[3]);
        check(Math.abs(Math.exp(batch[3]) - probs[3]) < 1e-6, "exp(log-softmax) = softmax");
        System.out.println("quickstart: ok");
    }

    static boolean rowSumsAreOne(float[] a, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < cols; j++) {
                s += a[r * cols + j];
            }
            if (Math.abs(s - 1) > 1e-5) {
                return false;
            }
        }
        return true;
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("quickstart: FAILED: " + what);
            System.exit(1);
        }
    }
}
