package io.ironruntime.translate;

import io.ironruntime.provider.SseEvent;
import java.util.function.Consumer;

/**
 * Rewrites one streamed response from the provider's events into the client's, event by event: each
 * upstream event is turned into zero or more client events at once, never held for the whole stream.
 * One instance per response; not thread-safe.
 */
public interface StreamTranslator {
    /** Emits to {@code out} the client's events for this upstream event (possibly none). */
    void onEvent(SseEvent event, Consumer<SseEvent> out);

    /** The upstream stream ended normally: emit what the client's format still needs to close it. */
    void onEnd(Consumer<SseEvent> out);
}
