package org.panmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The .npy reader and writer against NumPy's own: numpy.save's files read back as the same values,
 * Npy.write byte for byte what numpy.save writes, and the layouts the CLI refuses refused. Skipped,
 * saying so, where python3 with numpy is not installed (CliTest covers the format with its own writer).
 */
class NpyNumpyTest {
    static boolean numpy;

    @BeforeAll
    static void findNumpy() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            numpy = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            numpy = false;
        }
        if (!numpy) {
            System.out.println("NpyNumpyTest: python3 with numpy not found; skipping the checks against numpy.save");
        }
    }

    static void python(Path dir, String script) throws IOException, InterruptedException {
        Assumptions.assumeTrue(numpy, "python3 with numpy not found: .npy files checked against the test's own writer only");
        Process p = new ProcessBuilder("python3", "-c", "import numpy as np, os\nos.chdir(" + "'" + dir + "')\n" + script)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 timed out");
        assertEquals(0, p.exitValue(), out);
    }

    /** The values both sides write: a[i] = i * 0.37 - 1.5, rounded to the dtype. */
    static Ops.Matrix values(Dtype t, int rows, int cols) {
        int n = rows * cols;
        if (t == Dtype.f32) {
            float[] f = new float[n];
            for (int i = 0; i < n; i++) {
                f[i] = (float) (i * 0.37 - 1.5);
            }
            return new Ops.Matrix(t, rows, cols, f, null);
        }
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = i * 0.37 - 1.5;
        }
        return new Ops.Matrix(t, rows, cols, null, d);
    }

    @Test
    void writerMatchesNumpySaveByteForByte(@TempDir Path dir) throws IOException, InterruptedException {
        String[][] cases = {{"(7,)", "7", "1"}, {"(3, 4)", "3", "4"}, {"(2, 3, 3)", "6", "3"}, {"(1, 200)", "1", "200"},
            {"(123456, 1)", "123456", "1"}};
        StringBuilder py = new StringBuilder();
        for (int k = 0; k < cases.length; k++) {
            for (String dt : new String[] {"float32", "float64"}) {
                py.append("np.save('np").append(k).append(dt).append(".npy', (np.arange(").append(count(cases[k][0]))
                        .append(") * 0.37 - 1.5).astype(np.").append(dt).append(").reshape(").append(cases[k][0]).append("))\n");
            }
        }
        python(dir, py.toString());
        for (int k = 0; k < cases.length; k++) {
            for (Dtype t : Dtype.values()) {
                Ops.Matrix m = values(t, Integer.parseInt(cases[k][1]), Integer.parseInt(cases[k][2]));
                ByteArrayOutputStream ours = new ByteArrayOutputStream();
                Npy.write(ours, m, shape(cases[k][0]));
                byte[] theirs = Files.readAllBytes(dir.resolve("np" + k + t.numpyName + ".npy"));
                assertArrayEquals(theirs, ours.toByteArray(), cases[k][0] + " " + t);
            }
        }
    }

    @Test
    void readerReadsNumpyFiles(@TempDir Path dir) throws IOException, InterruptedException {
        python(dir, """
                a = np.arange(12) * 0.37 - 1.5
                np.save('f4.npy', a.astype(np.float32).reshape(3, 4))
                np.save('f8.npy', a.reshape(3, 4))
                np.save('be.npy', a.astype('>f8').reshape(3, 4))
                np.save('v.npy', a.astype(np.float32))
                np.save('special.npy', np.array([np.inf, -np.inf, np.nan, 0.0], dtype=np.float32))
                np.save('fortran.npy', np.asfortranarray(a.reshape(3, 4)))
                np.save('int.npy', np.arange(12).reshape(3, 4))
                np.save('f2.npy', a.astype(np.float16))
                np.save('scalar.npy', np.float32(1.5))
                np.save('cube.npy', a.reshape(2, 3, 2))
                """);
        for (String f : new String[] {"f4", "f8", "be"}) {
            Input.Rows r = Input.read(dir.resolve(f + ".npy").toString(), null, null);
            assertEquals(f.equals("f4") ? Dtype.f32 : Dtype.f64, r.dtype(), f);
            assertEquals(3, r.rows().length);
            Ops.Matrix want = values(r.dtype(), 3, 4);
            for (int i = 0; i < 12; i++) {
                assertEquals(want.get(i / 4, i % 4), r.rows()[i / 4][i % 4], 0, f + " [" + i + "]");
            }
        }
        Input.Rows v = Input.read(dir.resolve("v.npy").toString(), null, null);
        assertTrue(v.vector());
        assertEquals(12, v.n());
        Input.Rows s = Input.read(dir.resolve("special.npy").toString(), null, null);
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 0}, s.rows()[0]);
        String[][] refused = {{"fortran", "Fortran"}, {"int", "'<i8' (int64) is not supported"},
            {"f2", "'<f2' (float16) is not supported"}, {"scalar", "0 dimensions"}, {"cube", "3 dimensions"}};
        for (String[] c : refused) {
            String line = CliTest.rejected(CliTest.run("softmax", "--input", dir.resolve(c[0] + ".npy").toString()));
            assertTrue(line.contains(c[1]), line);
        }
    }

    @Test
    void numpyLoadsWhatTheCliWrites(@TempDir Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("p.npy");
        CliTest.Run r = CliTest.run("1,2,3\n4,5,6\n".getBytes(StandardCharsets.UTF_8), "softmax", "--input", "-", "--dtype", "f64",
                "--format", "npy", "--output", out.toString());
        assertEquals(0, r.status(), r.err());
        python(dir, """
                p = np.load('p.npy')
                assert p.dtype == np.float64 and p.shape == (2, 3), (p.dtype, p.shape)
                x = np.array([[1., 2, 3], [4, 5, 6]])
                e = np.exp(x - x.max(axis=1, keepdims=True))
                assert np.allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-14, atol=0), p
                """);
    }

    private static long count(String shape) {
        long c = 1;
        for (long d : shape(shape)) {
            c *= d;
        }
        return c;
    }

    private static long[] shape(String s) {
        String[] p = s.replaceAll("[() ]", "").split(",");
        long[] l = new long[p.length];
        for (int i = 0; i < p.length; i++) {
            l[i] = Long.parseLong(p[i]);
        }
        return l;
    }
}
