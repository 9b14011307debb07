package io.ironruntime.router;

/** A strict control-server router could not get its provider key or its first budget lease at start. */
public final class ControlStartException extends RouterStartException {
    private static final long serialVersionUID = 1L;

    public ControlStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
