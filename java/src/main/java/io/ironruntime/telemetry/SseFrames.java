package io.ironruntime.telemetry;

import java.nio.charset.StandardCharsets;

/**
 * Server-Sent Events framing: one message is {@code id:}, {@code event:} and {@code data:} lines and a
 * blank line. The id differs per connection, the rest is the same for all: made once per message. Pure.
 */
public final class SseFrames {
    private SseFrames() {
    }

    /** An event block's first line: its {@code id}, counted per connection. */
    public static byte[] id(long id) {
        return ("id: " + id + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The rest of an event block: {@code event:}, {@code data:} and the blank line. A line break inside
     * {@code data} (never in the feed's one-line JSON, but cheap to honour) becomes another {@code data:}
     * line, which a client joins back with {@code \n}; line breaks in {@code event} would end the field
     * early, so they are replaced by spaces.
     */
    public static byte[] body(String event, String data) {
        StringBuilder b = new StringBuilder(data.length() + event.length() + 24);
        b.append("event: ").append(oneLine(event)).append('\n');
        int start = 0;
        for (int i = 0; i < data.length(); i++) {
            char c = data.charAt(i);
            if (c == '\n' || c == '\r') {
                b.append("data: ").append(data, start, i).append('\n');
                if (c == '\r' && i + 1 < data.length() && data.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        b.append("data: ").append(data, start, data.length()).append("\n\n");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The reconnection delay a browser's EventSource should use, as the stream's first block. */
    public static byte[] retry(long millis) {
        return ("retry: " + millis + "\n\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static String oneLine(String s) {
        return s.replace('\r', ' ').replace('\n', ' ');
    }
}
