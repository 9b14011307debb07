package io.ironruntime.telemetry;

import java.util.Random;

/**
 * A W3C Trace Context {@code traceparent} header: {@code version-traceid-parentid-flags}, for example
 * {@code 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01}. Pure: parsing follows the
 * specification's rules (lowercase hex only, version {@code ff} is invalid, all-zero ids are invalid,
 * version 00 is exactly 55 characters, a later version may carry more fields after a dash), and a
 * fresh one takes its randomness from the caller.
 *
 * @param header the header value, exactly as received (a later version's extra fields included) or made
 */
public record TraceParent(String header) {
    /** The length of a version 00 header, and the least of any version. */
    public static final int LENGTH = 55;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** The header, or null when it is not a valid traceparent (then the trace restarts). */
    public static TraceParent parse(String header) {
        return valid(header) ? new TraceParent(header) : null;
    }

    /** Whether {@code h} is a traceparent a receiver may continue. */
    public static boolean valid(String h) {
        if (h == null || h.length() < LENGTH) {
            return false;
        }
        if (!hex(h, 0, 2) || h.startsWith("ff") || h.charAt(2) != '-' || !hex(h, 3, 35) || h.charAt(35) != '-'
                || !hex(h, 36, 52) || h.charAt(52) != '-' || !hex(h, 53, 55)) {
            return false;
        }
        if (zeros(h, 3, 35) || zeros(h, 36, 52)) {
            return false;
        }
        if (h.startsWith("00")) {
            return h.length() == LENGTH;
        }
        return h.length() == LENGTH || h.charAt(LENGTH) == '-'; // a later version may add fields
    }

    /**
     * A new trace: version 00, a random 16-byte trace id and 8-byte parent id (never all zeros),
     * sampled.
     */
    public static TraceParent generate(Random random) {
        StringBuilder b = new StringBuilder(LENGTH).append("00-");
        long hi;
        long lo;
        do {
            hi = random.nextLong();
            lo = random.nextLong();
        } while (hi == 0 && lo == 0);
        appendHex(b, hi);
        appendHex(b, lo);
        b.append('-');
        long parent;
        do {
            parent = random.nextLong();
        } while (parent == 0);
        appendHex(b, parent);
        return new TraceParent(b.append("-01").toString());
    }

    /** The 32 hex digits naming the whole trace. */
    public String traceId() {
        return header.substring(3, 35);
    }

    /** The 16 hex digits of the caller's span. */
    public String parentId() {
        return header.substring(36, 52);
    }

    /** The caller recorded (or may record) this trace: bit 0 of the flags. */
    public boolean sampled() {
        return (Character.digit(header.charAt(54), 16) & 1) == 1;
    }

    /** The trace id of a header recorded earlier (valid when written), or null for none. */
    public static String traceIdOf(String header) {
        return header == null || header.length() < 35 ? null : header.substring(3, 35);
    }

    private static boolean hex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean zeros(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    private static void appendHex(StringBuilder b, long v) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            b.append(HEX[(int) (v >>> shift) & 0xf]);
        }
    }

    @Override
    public String toString() {
        return header;
    }
}
