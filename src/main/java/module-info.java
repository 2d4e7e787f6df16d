/**
 * panmax: the softmax family (softmax, log-softmax, logsumexp, temperature and masks, backward passes,
 * Jacobians, cross-entropy) on native AVX2/AVX-512 kernels through Panama FFM, with pure-Java
 * (scalar and Vector API) backends. Only {@code org.panmax} is API.
 */
module org.panmax {
    requires jdk.incubator.vector;

    exports org.panmax;
}
