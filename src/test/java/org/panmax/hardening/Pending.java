package org.panmax.hardening;

/**
 * Tests that check a contract whose implementation lands from another branch: they are tagged
 * {@value #BACKEND_FIX} and excluded from the default run (pom.xml, {@code panmax.test.excludedGroups}), so that a
 * branch without the fix stays green while the test is already written. Run them with
 * {@code ./panmax test -Dpanmax.test.excludedGroups=} (nothing excluded) once the fix is merged, and drop the tag
 * from each test that passes.
 *
 * <ul>
 *   <li>extreme temperatures ({@code NumbersTest.extremeTemperaturesMatchTheReference}): softmax(z / T) for T up to
 *       Float/Double.MAX_VALUE on logits at ±MAX without overflow in z − max (backends: native-core, java-backends);</li>
 *   <li>inputs written by another thread during calls ({@code RacingInputsTest}): a label read twice by the native
 *       cross-entropy can index past the logits after the facade checked it (native-core: read each label once).</li>
 * </ul>
 */
final class Pending {
    private Pending() {}

    /** The JUnit tag of tests waiting for a backend fix. */
    static final String BACKEND_FIX = "needs-backend-fix";
}
