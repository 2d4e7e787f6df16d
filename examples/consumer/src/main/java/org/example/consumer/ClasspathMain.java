package org.example.consumer;

import org.panmax.Matrix;
import org.panmax.Panmax;

/** Run on the class path: {@code java -cp target/consumer.jar:target/lib/* ...ClasspathMain}. */
public final class ClasspathMain {
    public static void main(String[] args) {
        Panmax pm = Panmax.get();
        double[] x = {0.5, -1, 2};
        double[] lse = new double[1];
        pm.logSumExp(Matrix.of(x, 1, 3), Matrix.of(lse));
        double want = Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2));
        System.out.println("class path: backend " + pm.name() + ", backends " + Panmax.backends() + ", logsumexp "
                + lse[0] + " (want " + want + ")");
        if (Math.abs(lse[0] - want) > 1e-12 || Panmax.class.getModule().isNamed()) {
            System.exit(1);
        }
    }
}
