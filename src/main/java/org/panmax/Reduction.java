package org.panmax;

/** How {@link Panmax#crossEntropy} combines the per-row losses. */
public enum Reduction {
    /** One loss per row (ignored rows get 0). */
    NONE,
    /** The sum over rows; the gradient is that of the sum. */
    SUM,
    /** The sum divided by the number of rows not ignored (NaN if none); the gradient is scaled alike. */
    MEAN
}
