package org.example.consumer;

import org.panmax.CrossEntropyOptions;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.Reduction;

/** Run on the module path: {@code java -p target/consumer.jar:target/lib -m org.example.consumer/...ModularMain}. */
public final class ModularMain {
    public static void main(String[] args) {
        Panmax pm = Panmax.get();
        float[] x = {1, 2, 3, 4};
        float[] p = new float[4];
        pm.softmax(x, p);
        float sum = p[0] + p[1] + p[2] + p[3];
        float[] loss = new float[1];
        pm.crossEntropy(Matrix.of(x, 1, 4), Matrix.of(new long[] {3}), null, Matrix.of(loss),
                CrossEntropyOptions.DEFAULT.withReduction(Reduction.SUM));
        boolean internalHidden;
        try {
            Class.forName("org.panmax.internal.Backends").getMethod("best").invoke(null);
            internalHidden = false;
        } catch (IllegalAccessException e) {
            internalHidden = true; // the module does not export org.panmax.internal
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        System.out.println("module path: backend " + pm.name() + ", module " + Panmax.class.getModule().getName()
                + ", sum " + sum + ", loss " + loss[0] + ", internal hidden " + internalHidden);
        if (Math.abs(sum - 1) > 1e-6 || Math.abs(loss[0] - 0.4401897) > 1e-5 || !internalHidden
                || !Panmax.class.getModule().isNamed()) {
            System.exit(1);
        }
    }
}
