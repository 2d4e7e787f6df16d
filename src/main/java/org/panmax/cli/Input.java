package org.panmax.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Reads the logits of a command: from its arguments, or from a file or standard input ({@code --input
 * FILE|-}) holding a JSON array (one row) or array of rows, rows of text (one per line, values separated
 * by commas or white space; blank lines and lines starting with '#' are skipped), or a NumPy {@code .npy}
 * file (recognised by its magic bytes, whatever its name).
 *
 * <p>Numbers are read as written and must be finite in the dtype they will be computed in: {@code 1e300}
 * in f32, or {@code 1e400} in either, is an error rather than a silent infinity. Infinity and NaN are
 * accepted only when written as such: {@code inf}, {@code -inf}, {@code +inf}, {@code infinity},
 * {@code nan} (any case; in JSON as strings, e.g. {@code "-inf"}, or the {@code "Infinity"} and
 * {@code "NaN"} the CLI writes). A NaN logit is legitimate input: it poisons its row, as documented.
 * Numbers too small for the dtype round to zero or a subnormal, as any conversion does.
 */
final class Input {
    private Input() {}

    /**
     * Rows of logits, all of one length. {@code vector}: the input was a single row written as one (the
     * arguments, a flat JSON array, a 1-D {@code .npy}, a text input of one line), so results print as
     * one row too. {@code dtype}: what to compute in. {@code source}: what was read, for --verbose.
     */
    record Rows(double[][] rows, boolean vector, Dtype dtype, String source) {
        int n() {
            return rows[0].length;
        }
    }

    /** Largest number of logits the CLI holds (its arrays are indexed by int). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

    /**
     * The number written as {@code s}, checked for {@code t}: a decimal, or one of the words for infinity
     * and NaN. {@code what} names it in the error ("logit #3", "line 2, value 4").
     */
    static double number(String s, Dtype t, String what) {
        String w = s.strip().toLowerCase(Locale.ROOT);
        switch (w) {
            case "nan", "+nan", "-nan":
                return Double.NaN;
            case "inf", "+inf", "infinity", "+infinity":
                return Double.POSITIVE_INFINITY;
            case "-inf", "-infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
        }
        if (!DECIMAL.matcher(w).matches()) {
            throw new UsageException(what + " is not a number: '" + s + "'"
                    + (w.isEmpty() ? "" : " (write decimals like 1.5 or -2e3, or inf, -inf, nan)"));
        }
        // Each dtype parses the text itself: float's own rounding, not double's and then float's.
        double v = t == Dtype.f32 ? Float.parseFloat(w) : Double.parseDouble(w);
        if (Double.isInfinite(v)) {
            throw notFinite(what, s, t);
        }
        return v;
    }

    private static UsageException notFinite(String what, String s, Dtype t) {
        return new UsageException(what + " = " + s + " is not finite in " + t + " (largest finite: "
                + (t == Dtype.f32 ? Float.toString(Float.MAX_VALUE) : Double.toString(Double.MAX_VALUE)) + ")"
                + (t == Dtype.f32 ? "; use --dtype f64" : "") + "; write inf or -inf for an infinite logit");
    }

    /** The logits given as arguments: one row. */
    static Rows fromArgs(List<String> values, Dtype requested) {
        Dtype t = requested == null ? Dtype.f32 : requested;
        double[] row = new double[values.size()];
        for (int i = 0; i < row.length; i++) {
            row[i] = number(values.get(i), t, "logit #" + (i + 1));
        }
        return new Rows(new double[][] {row}, true, t, row.length + " logits from the arguments");
    }

    /** Reads {@code --input name} ("-": {@code stdin}). */
    static Rows read(String name, InputStream stdin, Dtype requested) {
        byte[] data;
        String label = name.equals("-") ? "standard input" : name;
        try {
            data = name.equals("-") ? stdin.readAllBytes() : Files.readAllBytes(Path.of(name));
        } catch (NoSuchFileException e) {
            throw new UsageException("--input " + name + ": no such file");
        } catch (AccessDeniedException e) {
            throw new UsageException("--input " + name + ": permission denied");
        } catch (IOException e) {
            throw new UsageException("--input " + name + ": cannot read it: " + e.getMessage());
        } catch (OutOfMemoryError e) {
            throw new UsageException("--input " + name + ": too large to hold in memory (" + e.getMessage() + ")");
        }
        return parse(data, label, requested);
    }

    /** Parses the bytes of an input; {@code label} names it in errors. */
    static Rows parse(byte[] data, String label, Dtype requested) {
        if (Npy.isNpy(data)) {
            return Npy.read(data, label, requested);
        }
        String text = new String(data, StandardCharsets.UTF_8);
        int i = 0;
        if (text.startsWith("\uFEFF")) {
            i = 1;
        }
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            throw new UsageException(label + " is empty: expected logits (JSON, rows of text, or .npy)");
        }
        Dtype t = requested == null ? Dtype.f32 : requested;
        if (text.charAt(i) == '[') {
            return json(data, label, t);
        }
        return lines(text, label, t);
    }

    /** Text rows: one per line, values separated by commas (CSV) or white space. */
    private static Rows lines(String text, String label, Dtype t) {
        List<double[]> rows = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        int firstLine = 0;
        long total = 0;
        for (int ln = 0; ln < lines.length; ln++) {
            String line = ln == 0 && lines[0].startsWith("\uFEFF") ? lines[0].substring(1) : lines[ln];
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                continue;
            }
            String[] fields = s.contains(",") ? s.split(",", -1) : s.split("\\s+");
            double[] row = new double[fields.length];
            for (int k = 0; k < fields.length; k++) {
                String where = label + " line " + (ln + 1) + ", value " + (k + 1);
                if (fields[k].isBlank()) {
                    throw new UsageException(where + " is empty (two commas in a row, or one at the end of the line)");
                }
                row[k] = number(fields[k], t, where);
            }
            if (!rows.isEmpty() && row.length != rows.get(0).length) {
                throw new UsageException(label + " line " + (ln + 1) + " has " + row.length + " values, but line "
                        + (firstLine + 1) + " has " + rows.get(0).length + ": every row needs the same number");
            }
            if (rows.isEmpty()) {
                firstLine = ln;
            }
            total += row.length;
            if (total > MAX_ELEMENTS) {
                throw tooMany(label);
            }
            rows.add(row);
        }
        if (rows.isEmpty()) {
            throw new UsageException(label + " has no rows of logits (only blank or # lines)");
        }
        double[][] r = rows.toArray(new double[0][]);
        return new Rows(r, r.length == 1, t, label + " (" + shape(r) + " from text rows)");
    }

    private static final JsonFactory JSON = JsonFactory.builder().build();

    /** A JSON array of numbers (one row) or of rows; strict JSON, inf and NaN as strings. */
    private static Rows json(byte[] data, String label, Dtype t) {
        try (JsonParser p = JSON.createParser(data)) {
            p.nextToken(); // START_ARRAY, seen by parse()
            JsonToken first = p.nextToken();
            List<double[]> rows = new ArrayList<>();
            boolean vector = first != JsonToken.START_ARRAY;
            if (vector) {
                rows.add(jsonRow(p, first, label, t, -1));
            } else {
                long total = 0;
                for (JsonToken tok = first; tok != JsonToken.END_ARRAY; tok = p.nextToken()) {
                    if (tok != JsonToken.START_ARRAY) {
                        throw new UsageException(label + ": row " + (rows.size() + 1) + " is not an array"
                                + at(p) + ": give an array of numbers or an array of rows of numbers, not a mix");
                    }
                    double[] row = jsonRow(p, p.nextToken(), label, t, rows.size());
                    if (!rows.isEmpty() && row.length != rows.get(0).length) {
                        throw new UsageException(label + ": row " + (rows.size() + 1) + " has " + row.length
                                + " values, but row 1 has " + rows.get(0).length + ": every row needs the same number");
                    }
                    total += row.length;
                    if (total > MAX_ELEMENTS) {
                        throw tooMany(label);
                    }
                    rows.add(row);
                }
            }
            if (p.nextToken() != null) {
                throw new UsageException(label + ": unexpected content after the JSON array" + at(p));
            }
            double[][] r = rows.toArray(new double[0][]);
            return new Rows(r, vector, t, label + " (" + shape(r) + " from JSON)");
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new UsageException(label + ": not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse("")
                    + (l == null ? "" : " (line " + l.getLineNr() + ", column " + l.getColumnNr() + ")"));
        } catch (IOException e) {
            throw new UsageException(label + ": cannot read it: " + e.getMessage());
        }
    }

    /** The numbers of one row up to its END_ARRAY; {@code tok} is the row's first token. */
    private static double[] jsonRow(JsonParser p, JsonToken tok, String label, Dtype t, int rowIndex) throws IOException {
        double[] row = new double[16];
        int n = 0;
        for (; tok != JsonToken.END_ARRAY; tok = p.nextToken()) {
            String where = label + (rowIndex < 0 ? "" : " row " + (rowIndex + 1)) + ", value " + (n + 1);
            if (tok == null) {
                throw new UsageException(label + ": the JSON ends inside an array");
            }
            double v = switch (tok) {
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> number(p.getText(), t, where);
                case VALUE_STRING -> special(p.getText(), where);
                case START_ARRAY -> throw new UsageException(where + " is an array" + at(p)
                        + ": give an array of numbers or an array of rows of numbers (at most two levels)");
                default -> throw new UsageException(where + " is not a number: " + p.getText() + at(p));
            };
            if (n == row.length) {
                if (n >= MAX_ELEMENTS) {
                    throw tooMany(label);
                }
                row = Arrays.copyOf(row, (int) Math.min(MAX_ELEMENTS, 2L * n));
            }
            row[n++] = v;
        }
        if (n == 0) {
            throw new UsageException(label + (rowIndex < 0 ? "" : " row " + (rowIndex + 1)) + " is an empty array: need at least one logit");
        }
        return Arrays.copyOf(row, n);
    }

    /** A JSON string stands for a number JSON cannot write: infinity or NaN, and nothing else. */
    private static double special(String s, String where) {
        String w = s.strip().toLowerCase(Locale.ROOT);
        return switch (w) {
            case "nan", "+nan", "-nan" -> Double.NaN;
            case "inf", "+inf", "infinity", "+infinity" -> Double.POSITIVE_INFINITY;
            case "-inf", "-infinity" -> Double.NEGATIVE_INFINITY;
            default -> throw new UsageException(where + " is the string \"" + s
                    + "\": a JSON string is accepted only for inf, -inf and nan (write numbers without quotes)");
        };
    }

    private static String at(JsonParser p) {
        JsonLocation l = p.currentTokenLocation();
        return " (line " + l.getLineNr() + ", column " + l.getColumnNr() + ")";
    }

    static UsageException tooMany(String label) {
        return new UsageException(label + " has more than " + MAX_ELEMENTS + " logits, the most the CLI holds");
    }

    static String shape(double[][] r) {
        return r.length == 1 ? "1 row of " + r[0].length : r.length + " rows of " + r[0].length;
    }
}
