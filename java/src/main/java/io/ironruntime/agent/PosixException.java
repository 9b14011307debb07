package io.ironruntime.agent;

/** A POSIX call failed for a reason other than "no such process" (which callers get as {@code false}). */
public final class PosixException extends RuntimeException {
    private final int errno;

    PosixException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The C errno the call left (1 = EPERM, 22 = EINVAL, ...). */
    public int errno() {
        return errno;
    }
}
