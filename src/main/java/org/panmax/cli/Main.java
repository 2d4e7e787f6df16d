package org.panmax.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.panmax.Panmax;
import org.panmax.Reduction;

/**
 * The {@code panmax} command line. Results go to stdout as JSON; a usage error or rejected input prints
 * one line on stderr and exits with status 2.
 *
 * <pre>
 * panmax info
 * panmax softmax 1 2 3 [--backend NAME] [--dtype f32|f64] [--temperature T]
 * panmax logsoftmax 1 2 3 [--backend NAME] [--dtype f32|f64]
 * panmax jacobian 1 2 3 [--log] [--backend NAME] [--dtype f32|f64]
 * panmax crossentropy --target K 1 2 3 [--smoothing S] [--backend NAME] [--dtype f32|f64]
 * panmax demo
 * </pre>
 */
public final class Main {
    private Main() {}

    /** A bad command line or input: reported in one line, exit status 2. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        int status;
        try {
            status = run(args, System.out);
        } catch (UsageException | IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
            System.err.println("panmax: " + e.getMessage());
            status = 2;
        }
        System.out.flush();
        System.exit(status);
    }

    static final String USAGE = "usage: panmax info | softmax X... | logsoftmax X... | jacobian X... [--log]"
            + " | crossentropy --target K X... [--smoothing S] | demo   (options: --backend NAME --dtype f32|f64 --temperature T)";

    /** Parsed options and logits. */
    record Args(String command, List<Double> values, String backend, boolean f64, double temperature, boolean log,
                long target, double smoothing) {}

    static Args parse(String[] argv) {
        if (argv.length == 0) {
            throw new UsageException(USAGE);
        }
        String command = argv[0];
        List<Double> values = new ArrayList<>();
        String backend = null;
        boolean f64 = false;
        double temperature = 1;
        boolean log = false;
        long target = Long.MIN_VALUE;
        double smoothing = 0;
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--")) {
                String opt = a;
                String val = null;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    opt = a.substring(0, eq);
                    val = a.substring(eq + 1);
                }
                if (opt.equals("--log")) {
                    log = true;
                    continue;
                }
                if (val == null) {
                    if (i + 1 >= argv.length) {
                        throw new UsageException(opt + " needs a value");
                    }
                    val = argv[++i];
                }
                switch (opt) {
                    case "--backend" -> backend = val;
                    case "--dtype" -> {
                        switch (val) {
                            case "f32" -> f64 = false;
                            case "f64" -> f64 = true;
                            default -> throw new UsageException("--dtype must be f32 or f64, was '" + val + "'");
                        }
                    }
                    case "--temperature" -> temperature = number(val, "--temperature");
                    case "--smoothing" -> smoothing = number(val, "--smoothing");
                    case "--target" -> {
                        try {
                            target = Long.parseLong(val);
                        } catch (NumberFormatException e) {
                            throw new UsageException("--target must be an integer class index, was '" + val + "'");
                        }
                    }
                    default -> throw new UsageException("unknown option " + opt + "; " + USAGE);
                }
            } else {
                values.add(number(a, "logit #" + (values.size() + 1)));
            }
        }
        return new Args(command, values, backend, f64, temperature, log, target, smoothing);
    }

    static double number(String s, String what) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "nan": return Double.NaN;
            case "inf", "+inf", "infinity", "+infinity": return Double.POSITIVE_INFINITY;
            case "-inf", "-infinity": return Double.NEGATIVE_INFINITY;
            default:
                try {
                    if (t.endsWith("d") || t.endsWith("f")) {
                        throw new NumberFormatException();
                    }
                    return Double.parseDouble(t);
                } catch (NumberFormatException e) {
                    throw new UsageException(what + " is not a number: '" + s + "'");
                }
        }
    }

    static int run(String[] argv, PrintStream out) {
        Args a = parse(argv);
        switch (a.command()) {
            case "info" -> info(out);
            case "softmax", "logsoftmax" -> forward(a, out);
            case "jacobian" -> jacobian(a, out);
            case "crossentropy" -> crossEntropy(a, out);
            case "demo" -> Demo.run(out);
            case "help", "--help", "-h" -> out.println(USAGE);
            default -> throw new UsageException("unknown command '" + a.command() + "'; " + USAGE);
        }
        return 0;
    }

    static Panmax backend(Args a) {
        return a.backend() == null ? Panmax.get() : Panmax.backend(a.backend());
    }

    static void needValues(Args a) {
        if (a.values().isEmpty()) {
            throw new UsageException(a.command() + " needs at least one logit, e.g. panmax " + a.command() + " 1 2 3");
        }
    }

    static void info(PrintStream out) {
        out.println("{");
        out.println("  \"java\": " + str(System.getProperty("java.vm.name") + " " + Runtime.version()) + ",");
        out.println("  \"cpu_cores\": " + Runtime.getRuntime().availableProcessors() + ",");
        out.println("  \"native\": " + str(Panmax.nativeStatus()) + ",");
        out.println("  \"backends\": " + strs(Panmax.backends()) + ",");
        String chosen;
        try {
            chosen = Panmax.get().name();
        } catch (IllegalStateException e) {
            chosen = "none: " + e.getMessage();
        }
        out.println("  \"default_backend\": " + str(chosen));
        out.println("}");
    }

    static void forward(Args a, PrintStream out) {
        needValues(a);
        Panmax pm = backend(a);
        boolean log = a.command().equals("logsoftmax");
        int n = a.values().size();
        String key = log ? "log_probabilities" : "probabilities";
        String json;
        if (a.f64()) {
            double[] x = doubles(a);
            double[] y = new double[n];
            if (a.temperature() != 1 || log) {
                pm.softmaxEx(x, 0, n, y, 0, n, 1, n, a.temperature(), null, 0, 0, null, 0, 0, log ? Panmax.LOG : 0);
            } else {
                pm.softmax(x, y);
            }
            json = arr(y);
        } else {
            float[] x = floats(a);
            float[] y = new float[n];
            if (a.temperature() != 1 || log) {
                pm.softmaxEx(x, 0, n, y, 0, n, 1, n, (float) a.temperature(), null, 0, 0, null, 0, 0, log ? Panmax.LOG : 0);
            } else {
                pm.softmax(x, y);
            }
            json = arr(y);
        }
        out.println("{\"backend\": " + str(pm.name()) + ", \"dtype\": " + str(a.f64() ? "f64" : "f32") + ", "
                + str(key) + ": " + json + "}");
    }

    static void jacobian(Args a, PrintStream out) {
        needValues(a);
        Panmax pm = backend(a);
        int n = a.values().size();
        int flags = Panmax.FROM_LOGITS | (a.log() ? Panmax.LOG : 0);
        StringBuilder sb = new StringBuilder();
        if (a.f64()) {
            double[] j = new double[n * n];
            pm.jacobian(doubles(a), j, flags);
            for (int i = 0; i < n; i++) {
                double[] row = new double[n];
                System.arraycopy(j, i * n, row, 0, n);
                sb.append(i == 0 ? "" : ", ").append(arr(row));
            }
        } else {
            float[] j = new float[n * n];
            pm.jacobian(floats(a), j, flags);
            for (int i = 0; i < n; i++) {
                float[] row = new float[n];
                System.arraycopy(j, i * n, row, 0, n);
                sb.append(i == 0 ? "" : ", ").append(arr(row));
            }
        }
        out.println("{\"backend\": " + str(pm.name()) + ", \"dtype\": " + str(a.f64() ? "f64" : "f32")
                + ", \"of\": " + str(a.log() ? "log_softmax" : "softmax") + ", \"jacobian\": [" + sb + "]}");
    }

    static void crossEntropy(Args a, PrintStream out) {
        needValues(a);
        if (a.target() == Long.MIN_VALUE) {
            throw new UsageException("crossentropy needs --target K (the class index, 0-based)");
        }
        int n = a.values().size();
        if (a.target() < 0 || a.target() >= n) {
            throw new UsageException("--target " + a.target() + " is outside [0, " + n + ") for " + n + " logits");
        }
        Panmax pm = backend(a);
        long[] labels = {a.target()};
        String loss;
        String grad;
        if (a.f64()) {
            double[] g = new double[n];
            double[] l = new double[1];
            pm.crossEntropy(doubles(a), 1, n, labels, g, l, Reduction.NONE, Panmax.DEFAULT_IGNORE_INDEX, a.smoothing());
            loss = num(l[0]);
            grad = arr(g);
        } else {
            float[] g = new float[n];
            float[] l = new float[1];
            pm.crossEntropy(floats(a), 1, n, labels, g, l, Reduction.NONE, Panmax.DEFAULT_IGNORE_INDEX, (float) a.smoothing());
            loss = num(l[0]);
            grad = arr(g);
        }
        out.println("{\"backend\": " + str(pm.name()) + ", \"dtype\": " + str(a.f64() ? "f64" : "f32") + ", \"target\": "
                + a.target() + ", \"loss\": " + loss + ", \"gradient\": " + grad + "}");
    }

    static float[] floats(Args a) {
        float[] x = new float[a.values().size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (double) a.values().get(i);
        }
        return x;
    }

    static double[] doubles(Args a) {
        double[] x = new double[a.values().size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = a.values().get(i);
        }
        return x;
    }

    /** JSON number; JSON has no NaN or infinity, so those become strings. */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "\"NaN\"";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        }
        return Double.toString(v);
    }

    static String num(float v) {
        return Float.isFinite(v) ? Float.toString(v) : num((double) v);
    }

    static String arr(float[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(num(v[i]));
        }
        return sb.append(']').toString();
    }

    static String arr(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(num(v[i]));
        }
        return sb.append(']').toString();
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    static String strs(List<String> list) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(str(list.get(i)));
        }
        return sb.append(']').toString();
    }

    static float[] randomLogits(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 8 - 4);
        }
        return x;
    }
}
