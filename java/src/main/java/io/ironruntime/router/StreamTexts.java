package io.ironruntime.router;

import io.ironruntime.pii.Finding;
import io.ironruntime.pii.JsonTextStream;
import io.ironruntime.pii.StreamRedactor;
import io.ironruntime.pii.TextStream;
import io.ironruntime.provider.SseEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The texts one response streams, each with its own redactor, by key: {@code c0} (choice 0's
 * content), {@code t0.1} (its second tool call's arguments), {@code b2} (Anthropic block 2), {@code o1.0}
 * (a Responses output part). A text opens with its first delta and closes where the format says it
 * ended; what its redactor still holds then goes to the client in the event its carrier builds.
 */
final class StreamTexts {
    private final PiiGuard guard;
    /** The audit sink for the values found in a text, given where the text is. */
    private final Function<String, Consumer<Finding>> audit;
    /** Open texts in the order they opened. */
    private final Map<String, Open> open = new LinkedHashMap<>();

    /** One open text: its redactor and how to carry a flushed rest to the client. */
    private record Open(TextStream stream, Function<String, SseEvent> carrier) {
    }

    StreamTexts(PiiGuard guard, Function<String, Consumer<Finding>> audit) {
        this.guard = guard;
        this.audit = audit;
    }

    /** Adds a delta to the text {@code key} (opening it); returns what may be emitted now. */
    String push(String key, String delta, TextFields.Kind kind, String where, Function<String, SseEvent> carrier) {
        Open s = open.get(key);
        if (s == null) {
            Consumer<Finding> sink = audit.apply(where);
            TextStream stream = kind == TextFields.Kind.JSON_SOURCE
                    ? new JsonTextStream(guard.scanner, guard.redactor, sink)
                    : new StreamRedactor(guard.scanner, guard.redactor, sink);
            s = new Open(stream, carrier);
            open.put(key, s);
        }
        String out = s.stream.push(delta);
        guard.audit.maxHeld.accumulate(s.stream.held());
        return out;
    }

    /** Ends one streamed text; returns its redacted rest ("" when nothing was held or it was not open). */
    String finish(String key) {
        Open s = open.remove(key);
        return s == null ? "" : s.stream.finish();
    }

    void flush(String key, Consumer<SseEvent> out) {
        Open s = open.remove(key);
        if (s != null) {
            String rest = s.stream.finish();
            if (!rest.isEmpty()) {
                out.accept(s.carrier.apply(rest));
            }
        }
    }

    void flushAll(Consumer<SseEvent> out) {
        for (String key : new ArrayList<>(open.keySet())) {
            flush(key, out);
        }
    }

    List<String> keysWithPrefix(String prefix) {
        List<String> keys = new ArrayList<>();
        for (String k : open.keySet()) {
            if (k.startsWith(prefix)) {
                keys.add(k);
            }
        }
        return keys;
    }
}
