package io.ironruntime.provider;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Incremental Server-Sent Events parser (WHATWG rules: LF, CRLF or CR line ends; a blank line ends an
 * event). Fed arbitrary chunks, it hands out each event as soon as its blank line arrives, keeping
 * only the unfinished tail. Concatenating the raw bytes of all events and of {@link #finish} gives
 * back the input exactly. Pure: no I/O, no threads; one instance per stream, not thread-safe.
 */
public final class SseParser {
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream(512);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private String event;
    private boolean lastWasCr;

    /** Consumes all remaining bytes of {@code chunk}, emitting every event it completes. */
    public void feed(ByteBuffer chunk, Consumer<SseEvent> sink) {
        while (chunk.hasRemaining()) {
            byte b = chunk.get();
            raw.write(b);
            if (b == '\n' && lastWasCr) {
                lastWasCr = false; // second half of a CRLF: the line already ended at CR
                continue;
            }
            lastWasCr = b == '\r';
            if (b == '\n' || b == '\r') {
                endLine(sink);
            } else {
                line.write(b);
            }
        }
    }

    /**
     * Ends the stream. An event that was complete except for its blank line is emitted as an event;
     * bytes that never formed one are returned raw (possibly empty) so nothing is lost.
     */
    public byte[] finish(Consumer<SseEvent> sink) {
        if (line.size() > 0) {
            processField();
            line.reset();
        }
        if (hasData || event != null) {
            emit(sink);
            return new byte[0];
        }
        byte[] rest = raw.toByteArray();
        raw.reset();
        return rest;
    }

    private void endLine(Consumer<SseEvent> sink) {
        if (line.size() == 0) {
            emit(sink);
            return;
        }
        processField();
        line.reset();
    }

    private void processField() {
        byte[] bytes = line.toByteArray();
        if (bytes[0] == ':') {
            return; // comment
        }
        int colon = indexOf(bytes, (byte) ':');
        String name = colon < 0 ? new String(bytes, StandardCharsets.UTF_8)
                : new String(bytes, 0, colon, StandardCharsets.UTF_8);
        String value = "";
        if (colon >= 0) {
            int start = colon + 1;
            if (start < bytes.length && bytes[start] == ' ') {
                start++;
            }
            value = new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
        }
        if (name.equals("data")) {
            if (hasData) {
                data.append('\n');
            }
            data.append(value);
            hasData = true;
        } else if (name.equals("event")) {
            event = value;
        }
        // id and retry are kept in the raw bytes; nothing downstream needs them parsed.
    }

    private void emit(Consumer<SseEvent> sink) {
        SseEvent e = new SseEvent(raw.toByteArray(), event, hasData ? data.toString() : null);
        raw.reset();
        data.setLength(0);
        hasData = false;
        event = null;
        sink.accept(e);
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
