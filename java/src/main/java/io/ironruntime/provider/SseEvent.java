package io.ironruntime.provider;

import java.nio.charset.StandardCharsets;

/**
 * One Server-Sent Event as it travelled on the wire.
 *
 * @param raw   the exact bytes of the event including its terminating blank line, so an event that
 *              nobody changes is forwarded byte for byte
 * @param event the {@code event:} field, or null
 * @param data  the {@code data:} lines joined with '\n', or null when the event has none (a comment)
 */
public record SseEvent(byte[] raw, String event, String data) {

    /** A new event serialised in the canonical form {@code event: x\ndata: y\n\n}. */
    public static SseEvent of(String event, String data) {
        StringBuilder sb = new StringBuilder();
        if (event != null) {
            sb.append("event: ").append(event).append('\n');
        }
        for (String line : data.split("\n", -1)) {
            sb.append("data: ").append(line).append('\n');
        }
        sb.append('\n');
        return new SseEvent(sb.toString().getBytes(StandardCharsets.UTF_8), event, data);
    }

    public boolean isComment() {
        return data == null && event == null;
    }
}
