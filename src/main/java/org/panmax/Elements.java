package org.panmax;

import java.lang.foreign.ValueLayout;

/** Element i of a vector view (one row, or one column of stride 1), read or written through its segment. */
final class Elements {
    private Elements() {}

    static double load(Matrix v, long i) {
        return v.dtype() == DType.F64 ? v.segment().getAtIndex(ValueLayout.JAVA_DOUBLE, i)
                                      : v.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    static long loadLong(Matrix v, long i) {
        return v.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
    }

    static void store(Matrix v, double value) {
        if (v.dtype() == DType.F64) {
            v.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, 0, value);
        } else {
            v.segment().setAtIndex(ValueLayout.JAVA_FLOAT, 0, (float) value);
        }
    }
}
