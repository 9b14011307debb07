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

    /**
     * Consumes all remaining bytes of {@code chunk}, emitting every event it completes. The bytes between
     * line ends are copied in runs, not one at a time: this runs on the I/O thread for every streamed byte.
     */
    public void feed(ByteBuffer chunk, Consumer<SseEvent> sink) {
        int n = chunk.remaining();
        byte[] bytes;
        int from;
        if (chunk.hasArray()) {
            bytes = chunk.array();
            from = chunk.arrayOffset() + chunk.position();
            chunk.position(chunk.limit());
        } else {
            bytes = new byte[n];
            chunk.get(bytes);
            from = 0;
        }
        int end = from + n;
        int lineStart = from; // the current line's bytes not yet in {@code line}
        int rawStart = from; // bytes not yet in {@code raw}
        boolean cr = lastWasCr;
        for (int i = from; i < end; i++) {
            byte b = bytes[i];
            if (b != '\n' && b != '\r') {
                cr = false;
                continue;
            }
            if (b == '\n' && cr) {
                cr = false; // second half of a CRLF: the line already ended at CR
                lineStart = i + 1;
                continue;
            }
            cr = b == '\r';
            line.write(bytes, lineStart, i - lineStart);
            lineStart = i + 1;
            if (line.size() == 0) {
                raw.write(bytes, rawStart, i + 1 - rawStart); // an event's raw bytes end with its blank line's end
                rawStart = i + 1;
                lastWasCr = cr;
                emit(sink);
            } else {
                processField();
                line.reset();
            }
        }
        lastWasCr = cr;
        line.write(bytes, lineStart, end - lineStart);
        raw.write(bytes, rawStart, end - rawStart);
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
