package org.panmax.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a command's result: JSON (the default; one object on one line), CSV (one table row per line)
 * or .npy (one array). JSON has no infinity or NaN, so those are written as the strings "Infinity",
 * "-Infinity" and "NaN" (which the CLI reads back); CSV writes inf, -inf and nan (as numpy.loadtxt reads).
 */
final class Output {
    private Output() {}

    enum Format { json, csv, npy }

    /** A named array of the JSON object: {@code m}'s values nested by {@code shape} (empty: one number). */
    record Field(String name, Ops.Matrix m, int... shape) {}

    /**
     * What a command produced: {@code head} (the JSON object's first members, already formatted as
     * {@code "key": value}), its arrays, and the one table (rows x cols, shaped {@code tableShape} in
     * .npy) that CSV and .npy write.
     */
    record Result(List<String> head, List<Field> fields, Ops.Matrix table, long... tableShape) {}

    static void write(Result r, Format f, OutputStream out) throws IOException {
        if (f == Format.npy) {
            Npy.write(out, r.table(), r.tableShape());
            out.flush();
            return;
        }
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
        if (f == Format.csv) {
            Ops.Matrix m = r.table();
            for (int i = 0; i < m.rows(); i++) {
                for (int j = 0; j < m.cols(); j++) {
                    if (j > 0) {
                        w.write(',');
                    }
                    w.write(csv(m, i * m.cols() + j));
                }
                w.write('\n');
            }
        } else {
            w.write('{');
            boolean first = true;
            for (String h : r.head()) {
                w.write(first ? "" : ", ");
                w.write(h);
                first = false;
            }
            for (Field fd : r.fields()) {
                w.write(first ? "" : ", ");
                w.write(str(fd.name()));
                w.write(": ");
                nest(w, fd.m(), fd.shape(), 0, 0);
                first = false;
            }
            w.write("}\n");
        }
        w.flush();
    }

    /** Writes the values from flat index {@code at} nested by shape[dim..]; returns the next index. */
    private static int nest(Writer w, Ops.Matrix m, int[] shape, int dim, int at) throws IOException {
        if (dim == shape.length) {
            w.write(json(m, at));
            return at + 1;
        }
        w.write('[');
        for (int i = 0; i < shape[dim]; i++) {
            if (i > 0) {
                w.write(", ");
            }
            at = nest(w, m, shape, dim + 1, at);
        }
        w.write(']');
        return at;
    }

    static String json(Ops.Matrix m, int i) {
        return m.f() != null ? num(m.f()[i]) : num(m.d()[i]);
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

    private static String csv(Ops.Matrix m, int i) {
        double v = m.f() != null ? m.f()[i] : m.d()[i];
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return m.f() != null ? Float.toString(m.f()[i]) : Double.toString(v);
    }

    /** A JSON string literal. */
    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
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

    /** "key": value, with value already JSON. */
    static String member(String key, String jsonValue) {
        return str(key) + ": " + jsonValue;
    }
}
