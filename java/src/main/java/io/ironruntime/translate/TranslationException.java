package io.ironruntime.translate;

/** A request that cannot be expressed in the other provider's format; its message is for the client (a 400). */
public final class TranslationException extends Exception {
    private static final long serialVersionUID = 1L;

    public TranslationException(String message) {
        super(message);
    }
}
