package org.panmax.cli;

/** A bad command line or rejected input: printed as one line on stderr, exit status 2. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message, null, false, false);
    }
}
