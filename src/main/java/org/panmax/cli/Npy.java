package org.panmax.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format (numpy.lib.format, versions 1.0 to 3.0): float32 or float64, 1-D (one row)
 * or 2-D (a batch of rows), C order. Anything else is rejected with a line that says what the file holds
 * and what to do. The writer produces the bytes {@code numpy.save} does (version 1.0, the header's spare
 * room for growing the first axis, padded to 64 bytes).
 */
final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy.lib.format.ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS. */
    private static final int ALIGN = 64;
    private static final int GROWTH_DIGITS = 21;

    static boolean isNpy(byte[] data) {
        if (data.length < MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (data[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Reads a .npy file's bytes; computes in {@code requested}, or the file's own dtype when null. */
    static Input.Rows read(byte[] data, String label, Dtype requested) {
        String what = label + " (.npy)";
        if (data.length < 10) {
            throw new UsageException(what + " is truncated: " + data.length + " bytes, not even a header");
        }
        int major = data[6] & 0xff;
        if (major < 1 || major > 3) {
            throw new UsageException(what + ": format version " + major + "." + (data[7] & 0xff)
                    + " is not one numpy writes (1.0, 2.0, 3.0)");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int start;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xffff;
            start = 10;
        } else {
            if (data.length < 12) {
                throw new UsageException(what + " is truncated inside its header");
            }
            headerLen = b.getInt(8) & 0xffffffffL;
            start = 12;
        }
        if (start + headerLen > data.length) {
            throw new UsageException(what + " is truncated: its header says " + headerLen + " bytes, the file has "
                    + (data.length - start) + " after the prefix");
        }
        String header = new String(data, start, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        if (!header.startsWith("{") || !header.endsWith("}")) {
            throw new UsageException(what + ": the header is not a dictionary: " + abbreviate(header));
        }
        String descr = find(DESCR, header, "descr", what);
        boolean fortran = find(FORTRAN, header, "fortran_order", what).equals("True");
        String shapeText = find(SHAPE, header, "shape", what).strip();

        ByteOrder order;
        Dtype fileType;
        switch (descr) {
            case "<f4" -> { order = ByteOrder.LITTLE_ENDIAN; fileType = Dtype.f32; }
            case "<f8" -> { order = ByteOrder.LITTLE_ENDIAN; fileType = Dtype.f64; }
            case ">f4" -> { order = ByteOrder.BIG_ENDIAN; fileType = Dtype.f32; }
            case ">f8" -> { order = ByteOrder.BIG_ENDIAN; fileType = Dtype.f64; }
            default -> throw new UsageException(what + ": dtype '" + descr + "'" + describe(descr)
                    + " is not supported; save float32 or float64 (e.g. np.save(f, a.astype(np.float32)))");
        }
        long[] shape = parseShape(shapeText, what);
        if (shape.length == 0 || shape.length > 2) {
            throw new UsageException(what + ": shape (" + shapeText + ") has " + shape.length
                    + " dimensions; give a 1-D array (one row) or a 2-D array (one row per sample)");
        }
        long rows = shape.length == 1 ? 1 : shape[0];
        long cols = shape[shape.length - 1];
        if (rows == 0 || cols == 0) {
            throw new UsageException(what + ": shape (" + shapeText + ") is empty; need at least one logit per row");
        }
        if (fortran && shape.length == 2 && rows > 1 && cols > 1) {
            throw new UsageException(what + " is in Fortran (column-major) order; save it in C order"
                    + " (np.save(f, np.ascontiguousarray(a)))");
        }
        if (rows * cols > Input.MAX_ELEMENTS) {
            throw Input.tooMany(what);
        }
        long need = rows * cols * fileType.bytes;
        long have = data.length - start - headerLen;
        if (have < need) {
            throw new UsageException(what + " is truncated: shape (" + shapeText + ") of " + fileType.numpyName + " needs "
                    + need + " bytes of data, the file has " + have);
        }
        if (have > need) {
            throw new UsageException(what + " has " + (have - need) + " bytes after the data its header describes ("
                    + need + " bytes); not a file numpy.save wrote");
        }
        Dtype t = requested == null ? fileType : requested;
        ByteBuffer d = ByteBuffer.wrap(data, (int) (start + headerLen), (int) need).slice().order(order);
        double[][] out = new double[(int) rows][(int) cols];
        for (int r = 0; r < rows; r++) {
            double[] row = out[r];
            for (int c = 0; c < cols; c++) {
                long i = (long) r * cols + c;
                double v = fileType == Dtype.f32 ? d.getFloat((int) (i * 4)) : d.getDouble((int) (i * 8));
                if (t == Dtype.f32 && fileType == Dtype.f64 && Double.isFinite(v) && Float.isInfinite((float) v)) {
                    throw new UsageException(what + " value [" + (shape.length == 1 ? c : r + ", " + c) + "] = " + v
                            + " is not finite in f32 (largest finite: " + Float.MAX_VALUE + "); use --dtype f64");
                }
                row[c] = v;
            }
        }
        return new Input.Rows(out, shape.length == 1, t, what + " " + fileType.numpyName + " (" + shapeText + ")");
    }

    private static String find(Pattern p, String header, String key, String what) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new UsageException(what + ": the header has no valid '" + key + "': " + abbreviate(header));
        }
        return m.group(1);
    }

    private static long[] parseShape(String s, String what) {
        if (s.isEmpty()) {
            return new long[0];
        }
        String[] parts = s.split(",", -1);
        int n = parts.length;
        if (parts[n - 1].isBlank()) {
            n--; // the trailing comma of (3,)
        }
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new UsageException(what + ": shape (" + s + ") is not a tuple of integers");
            }
            if (shape[i] < 0) {
                throw new UsageException(what + ": shape (" + s + ") has a negative dimension");
            }
        }
        return shape;
    }

    private static String describe(String descr) {
        if (descr.length() < 3) {
            return "";
        }
        String size = descr.substring(2);
        return switch (descr.charAt(1)) {
            case 'f' -> " (float" + bits(size) + ")";
            case 'i' -> " (int" + bits(size) + ")";
            case 'u' -> " (uint" + bits(size) + ")";
            case 'c' -> " (complex" + bits(size) + ")";
            case 'b' -> " (bool)";
            case 'U', 'S' -> " (strings)";
            case 'O' -> " (Python objects)";
            default -> "";
        };
    }

    private static String bits(String bytes) {
        try {
            return Integer.toString(8 * Integer.parseInt(bytes));
        } catch (NumberFormatException e) {
            return "";
        }
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() > 120 ? one.substring(0, 117) + "..." : one;
    }

    /** Writes {@code m} as a C-order array of the given shape (its element count must be rows * cols). */
    static void write(OutputStream out, Ops.Matrix m, long... shape) throws IOException {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            dims.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        dims.append(shape.length == 1 ? ",)" : ")");
        StringBuilder h = new StringBuilder("{'descr': '<f" + m.dtype().bytes + "', 'fortran_order': False, 'shape': "
                + dims + ", }");
        if (shape.length > 0) {
            h.append(" ".repeat(Math.max(0, GROWTH_DIGITS - Long.toString(shape[0]).length())));
        }
        int hlen = h.length() + 1;
        int pad = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
        h.append(" ".repeat(pad)).append('\n');
        byte[] header = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer prefix = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        prefix.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length);
        out.write(prefix.array());
        out.write(header);
        int count = m.rows() * m.cols();
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            if (chunk.remaining() < 8) {
                out.write(chunk.array(), 0, chunk.position());
                chunk.clear();
            }
            if (m.f() != null) {
                chunk.putFloat(m.f()[i]);
            } else {
                chunk.putDouble(m.d()[i]);
            }
        }
        out.write(chunk.array(), 0, chunk.position());
    }
}
