package io.ironruntime.agent;

import io.ironruntime.config.ConfigException;
import java.util.Locale;

/** When a supervised agent that exited is started again ({@code start_agent(restart=...)}). */
public enum RestartPolicy {
    /** Never: exit 0 is completed, anything else failed. */
    NEVER("never"),
    /** After a non-zero exit only. */
    ON_FAILURE("on-failure"),
    /** After any exit that was not a requested stop. */
    ALWAYS("always");

    private final String wireName;

    RestartPolicy(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** Reads {@code never}, {@code on-failure} (or {@code on_failure}, as a Python name would be) and {@code always}. */
    public static RestartPolicy parse(String value) {
        if (value != null) {
            String v = value.strip().toLowerCase(Locale.ROOT).replace('_', '-');
            for (RestartPolicy p : values()) {
                if (p.wireName.equals(v)) {
                    return p;
                }
            }
        }
        throw new ConfigException("restart must be 'never', 'on-failure' or 'always', got "
                + (value == null ? "None" : "'" + value + "'"));
    }
}
