package org.panmax.hardening;

import org.panmax.Panmax;

/**
 * Run in a fresh JVM by {@link ConfigurationTest} with one setting under test: calls {@link Panmax#get()} three
 * times, then uses {@code java-scalar} by name, and prints one line per step ({@code get#1 ...}, {@code named ...},
 * {@code status ...}) so the parent can judge them.
 */
public final class ConfigurationMain {
    private ConfigurationMain() {}

    public static void main(String[] args) {
        for (int i = 1; i <= 3; i++) {
            try {
                Panmax pm = Panmax.get();
                System.out.println("get#" + i + " ok " + pm.name());
            } catch (Throwable t) {
                System.out.println("get#" + i + " " + t.getClass().getName() + ": " + t.getMessage());
            }
        }
        try {
            float[] y = new float[3];
            Panmax.backend("java-scalar").softmax(new float[] {1, 2, 3}, y);
            System.out.println("named ok " + y[0] + " " + y[1] + " " + y[2]);
        } catch (Throwable t) {
            System.out.println("named " + t.getClass().getName() + ": " + t.getMessage());
        }
        try {
            System.out.println("status " + Panmax.nativeStatus());
        } catch (Throwable t) {
            System.out.println("status " + t.getClass().getName() + ": " + t.getMessage());
        }
    }
}
