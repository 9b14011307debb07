package io.ironruntime.pii;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Rewrites text around detections: a placeholder, a masked tail or a salted token in place of each
 * value, everything else unchanged. The salt belongs to one router, so tokens are stable within it
 * and mean nothing outside it. Thread-safe.
 */
public final class Redactor {
    /** Characters a mask keeps from the end of a value (never of a key block or token). */
    static final int MASK_TAIL = 4;

    private final PiiMode mode;
    private final ThreadLocal<Mac> mac;

    public Redactor(PiiMode mode, byte[] salt) {
        this.mode = mode;
        byte[] key = salt.clone();
        this.mac = ThreadLocal.withInitial(() -> {
            try {
                Mac m = Mac.getInstance("HmacSHA256");
                m.init(new SecretKeySpec(key, "HmacSHA256"));
                return m;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
            }
        });
    }

    public PiiMode mode() {
        return mode;
    }

    /** {@code text} with every detection (ordered, not overlapping) replaced as the mode says. */
    public String apply(CharSequence text, List<Detection> detections) {
        return apply(text, detections, 0, null);
    }

    /**
     * As {@link #apply(CharSequence, List)}, and reports each detection to {@code sink} (when not null)
     * with its offsets shifted by {@code offset} and the value's fingerprint.
     */
    public String apply(CharSequence text, List<Detection> detections, long offset, java.util.function.Consumer<Finding> sink) {
        if (sink != null) {
            for (Detection d : detections) {
                sink.accept(new Finding(d.type(), offset + d.start(), offset + d.end(), fingerprint(text, d)));
            }
        }
        if (!mode.rewrites() || detections.isEmpty()) {
            return text.toString();
        }
        StringBuilder out = new StringBuilder(text.length());
        int at = 0;
        for (Detection d : detections) {
            out.append(text, at, d.start());
            replacement(text, d, out);
            at = d.end();
        }
        return out.append(text, at, text.length()).toString();
    }

    /** The salted hash of a value for audit rows: 16 hex digits, never the value. */
    public String fingerprint(CharSequence text, Detection d) {
        return hex(text, d, 8);
    }

    private void replacement(CharSequence text, Detection d, StringBuilder out) {
        switch (mode) {
            case REDACT -> out.append('[').append(d.type()).append("_REDACTED]");
            case HASH -> out.append('[').append(d.type()).append('_').append(hex(text, d, 4)).append(']');
            case MASK -> {
                out.append("****");
                boolean secret = d.type().equals(EntityType.PRIVATE_KEY.name()) || d.type().equals(EntityType.JWT.name());
                if (!secret && d.length() > 2 * MASK_TAIL) {
                    out.append(text, d.end() - MASK_TAIL, d.end());
                }
            }
            default -> out.append(text, d.start(), d.end());
        }
    }

    private String hex(CharSequence text, Detection d, int bytes) {
        Mac m = mac.get();
        m.update(d.type().getBytes(StandardCharsets.UTF_8));
        byte[] digest = m.doFinal(text.subSequence(d.start(), d.end()).toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest, 0, bytes);
    }
}
