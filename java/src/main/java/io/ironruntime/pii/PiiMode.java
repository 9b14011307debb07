package io.ironruntime.pii;

import java.util.Locale;

/** What the router does with a detected value ({@code LlmRouter(pii=...)}). */
public enum PiiMode {
    /** Replace with a placeholder: {@code [EMAIL_REDACTED]}. */
    REDACT,
    /** Keep a short tail: {@code ****1234}. */
    MASK,
    /** A stable salted token: the same value maps to the same token within one router. */
    HASH,
    /** Refuse the request (400 naming the entity types, never the values). */
    BLOCK,
    /** Record the detection only; the text passes unchanged. */
    DETECT,
    /** No scanning. */
    OFF;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True when the text that passes is rewritten. */
    public boolean rewrites() {
        return this == REDACT || this == MASK || this == HASH;
    }

    public static PiiMode ofWireName(String name) {
        for (PiiMode m : values()) {
            if (m.wireName().equals(name)) {
                return m;
            }
        }
        return null;
    }
}
