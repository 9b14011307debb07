package io.ironruntime.agent;

import java.nio.charset.StandardCharsets;

/**
 * The newest {@code capacity} bytes written to it; older bytes are overwritten. Not thread-safe: its
 * owner ({@link AgentOutput}) holds a lock around it.
 */
final class ByteRing {
    private final byte[] buffer;
    /** Bytes ever written: the write position is total % capacity. */
    private long total;

    ByteRing(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("ring capacity must be positive, got " + capacity);
        }
        this.buffer = new byte[capacity];
    }

    void write(byte[] bytes, int offset, int length) {
        int capacity = buffer.length;
        if (length >= capacity) {
            offset += length - capacity;
            total += length - capacity;
            length = capacity;
        }
        int at = (int) (total % capacity);
        int first = Math.min(length, capacity - at);
        System.arraycopy(bytes, offset, buffer, at, first);
        System.arraycopy(bytes, offset + first, buffer, 0, length - first);
        total += length;
    }

    /** Bytes ever written, including those already overwritten. */
    long total() {
        return total;
    }

    /**
     * The last {@code lines} lines as UTF-8 text (malformed bytes replaced). When the ring has
     * overwritten older output, the cut-off line at its start is left out.
     */
    String tail(int lines) {
        if (lines <= 0) {
            return "";
        }
        byte[] content = contents();
        int end = content.length;
        // A final newline ends the last line; it does not start another one.
        int i = end > 0 && content[end - 1] == '\n' ? end - 2 : end - 1;
        int found = 0;
        int start = 0;
        for (; i >= 0; i--) {
            if (content[i] == '\n' && ++found == lines) {
                start = i + 1;
                break;
            }
        }
        if (i < 0 && total > buffer.length) {
            // Fewer lines than asked: drop the partial line the ring cut at its beginning.
            int firstBreak = indexOf(content, (byte) '\n');
            start = firstBreak < 0 ? end : firstBreak + 1;
        }
        return decode(content, start, end - start);
    }

    private byte[] contents() {
        int capacity = buffer.length;
        if (total <= capacity) {
            byte[] out = new byte[(int) total];
            System.arraycopy(buffer, 0, out, 0, out.length);
            return out;
        }
        int at = (int) (total % capacity);
        byte[] out = new byte[capacity];
        System.arraycopy(buffer, at, out, 0, capacity - at);
        System.arraycopy(buffer, 0, out, capacity - at, at);
        return out;
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** UTF-8 with malformed bytes replaced (what the String constructor does). */
    static String decode(byte[] bytes, int offset, int length) {
        return new String(bytes, offset, length, StandardCharsets.UTF_8);
    }
}
