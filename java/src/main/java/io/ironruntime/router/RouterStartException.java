package io.ironruntime.router;

/** The router could not start listening (port taken, address not available, ...). */
public class RouterStartException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RouterStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
