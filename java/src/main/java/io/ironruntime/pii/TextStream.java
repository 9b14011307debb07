package io.ironruntime.pii;

/** One stream of text redacted piece by piece: what can be emitted at once, the rest when it ends. */
public interface TextStream {
    /** Adds {@code delta}; returns the redacted text that can be emitted now (maybe empty). */
    String push(CharSequence delta);

    /** The stream ended: the redacted rest. */
    String finish();

    /** Characters held back right now, for reporting the hold-back size. */
    int held();
}
