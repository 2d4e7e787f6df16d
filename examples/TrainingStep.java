import java.util.Random;
import org.panmax.CrossEntropyOptions;
import org.panmax.GradCheck;
import org.panmax.Matrix;
import org.panmax.Panmax;

/**
 * One training step of a tiny linear classifier: logits = X·W (plain Java), the fused cross-entropy gives the mean
 * loss and ∂loss/∂logits in one pass, ∂loss/∂W = Xᵀ·∂loss/∂logits, both checked with GradCheck, and one SGD step
 * must lower the loss (else exit 1). Run from the repository root.
 */
public class TrainingStep {
    static final int B = 16, D = 5, C = 4; // batch, features, classes
    static final Panmax PM = Panmax.get();

    public static void main(String[] args) {
        Random rnd = new Random(42);
        double[] x = new double[B * D], w = new double[D * C];
        long[] labels = new long[B];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.1 * rnd.nextGaussian();
        }
        for (int b = 0; b < B; b++) {
            labels[b] = b % C;
        }
        double[] gradLogits = new double[B * C];
        double loss = loss(x, w, labels, gradLogits);
        double[] gradW = matTmul(x, gradLogits);

        // The analytic gradients against central differences.
        double[] logits = matmul(x, w);
        GradCheck.Result byLogits = GradCheck.check(z -> crossEntropy(z, labels, null), logits, gradLogits);
        GradCheck.Result byWeights = GradCheck.check(v -> loss(x, v, labels, null), w, gradW);
        System.out.println("gradcheck dloss/dlogits: " + (byLogits.passes() ? "passes" : "FAILS " + byLogits));
        System.out.println("gradcheck dloss/dW:      " + (byWeights.passes() ? "passes" : "FAILS " + byWeights));

        // One SGD step.
        double lr = 0.5;
        for (int i = 0; i < w.length; i++) {
            w[i] -= lr * gradW[i];
        }
        double after = loss(x, w, labels, null);
        System.out.printf("loss %.6f -> %.6f after one step (%s)%n", loss, after, PM.name());
        if (!byLogits.passes() || !byWeights.passes() || !(after < loss)) {
            System.err.println("training step: FAILED");
            System.exit(1);
        }
        System.out.println("training step: ok");
    }

    /** Mean cross-entropy of softmax(X·W) against the labels; its gradient by the logits into grad (may be null). */
    static double loss(double[] x, double[] w, long[] labels, double[] grad) {
        return crossEntropy(matmul(x, w), labels, grad);
    }

    static double crossEntropy(double[] logits, long[] labels, double[] grad) {
        double[] loss = new double[1];
        PM.crossEntropy(Matrix.of(logits, B, C), Matrix.of(labels), grad == null ? null : Matrix.of(grad, B, C),
                Matrix.of(loss), CrossEntropyOptions.DEFAULT);
        return loss[0];
    }

    static double[] matmul(double[] x, double[] w) { // (B x D)(D x C)
        double[] z = new double[B * C];
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < C; c++) {
                for (int d = 0; d < D; d++) {
                    z[b * C + c] += x[b * D + d] * w[d * C + c];
                }
            }
        }
        return z;
    }

    static double[] matTmul(double[] x, double[] g) { // (B x D)ᵀ(B x C)
        double[] gw = new double[D * C];
        for (int b = 0; b < B; b++) {
            for (int d = 0; d < D; d++) {
                for (int c = 0; c < C; c++) {
                    gw[d * C + c] += x[b * D + d] * g[b * C + c];
                }
            }
        }
        return gw;
    }
}
