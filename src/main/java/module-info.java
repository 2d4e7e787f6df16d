/**
 * panmax: the softmax family (softmax, log-softmax, logsumexp, temperature and masks, backward passes,
 * Jacobians, cross-entropy) on native AVX2/AVX-512 kernels through Panama FFM, with pure-Java
 * (scalar and Vector API) backends. Only {@code org.panmax} is API.
 *
 * <p>The command line ({@code org.panmax.cli}, not exported) uses picocli and jackson-core, which
 * target/panmax.jar carries relocated under {@code org.panmax.cli.shaded}: hence {@code requires static}
 * (needed to compile, never at run time; the library itself needs neither).
 */
module org.panmax {
    requires jdk.incubator.vector;
    // compile-time only: the tests compiled into this module (JavaRulesTest, JavaAllocationMain) read them
    requires static java.management;
    requires static jdk.management;
    requires static info.picocli;
    requires static com.fasterxml.jackson.core;

    exports org.panmax;
    // picocli reads and sets the commands' annotated fields reflectively.
    opens org.panmax.cli to info.picocli;
}
