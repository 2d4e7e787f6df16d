package org.panmax.hardening;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.panmax.Panmax;

/**
 * Run in a fresh JVM by {@link LoadingTest}. Without arguments: {@code Panmax.get().softmax} of {1, 2, 3}, then
 * one line {@code ok BACKEND P0 | STATUS} or {@code fail CLASS: MESSAGE}. With {@code loaders URL...}: the same in
 * two {@link URLClassLoader}s over those URLs (panmax's classes, parent the platform loader, so nothing is shared
 * with this one), one line {@code loader#i ...} each.
 */
public final class LoadingMain {
    private LoadingMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("loaders")) {
            URL[] urls = new URL[args.length - 1];
            for (int i = 1; i < args.length; i++) {
                urls[i - 1] = Path.of(args[i]).toUri().toURL();
            }
            for (int i = 1; i <= 2; i++) {
                try (URLClassLoader cl = new URLClassLoader("webapp" + i, urls, ClassLoader.getPlatformClassLoader())) {
                    Class<?> c = Class.forName(LoadingMain.class.getName(), true, cl);
                    Method once = c.getMethod("once");
                    System.out.println("loader#" + i + " " + once.invoke(null) + " | panmax from "
                            + Class.forName("org.panmax.Panmax", false, cl).getClassLoader().getName());
                }
            }
            return;
        }
        System.out.println(once());
    }

    /** One softmax through the default backend, as one line. */
    public static String once() {
        try {
            float[] y = new float[3];
            Panmax pm = Panmax.get();
            pm.softmax(new float[] {1, 2, 3}, y);
            return "ok " + pm.name() + " " + y[0] + " | " + Panmax.nativeStatus();
        } catch (Throwable t) {
            return "fail " + t.getClass().getName() + ": " + t.getMessage();
        }
    }
}
