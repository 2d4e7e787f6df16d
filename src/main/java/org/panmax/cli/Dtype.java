package org.panmax.cli;

/** The element type the CLI computes in ({@code --dtype f32|f64}); lower case as typed on the command line. */
enum Dtype {
    f32(4, "float32", Float.MAX_VALUE),
    f64(8, "float64", Double.MAX_VALUE);

    final int bytes;
    final String numpyName;
    final double maxFinite;

    Dtype(int bytes, String numpyName, double maxFinite) {
        this.bytes = bytes;
        this.numpyName = numpyName;
        this.maxFinite = maxFinite;
    }
}
