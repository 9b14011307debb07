package io.ironruntime.agent;

import io.ironruntime.config.ConfigException;
import java.util.Locale;

/** What happens to an agent whose own budget is spent. */
public enum BudgetExhaustedPolicy {
    /** Its next calls are refused with 402; the agent decides what to do. */
    BLOCK,
    /** The runtime stops it. */
    STOP;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static BudgetExhaustedPolicy parse(String value) {
        if (value != null) {
            for (BudgetExhaustedPolicy p : values()) {
                if (p.wireName().equalsIgnoreCase(value.strip())) {
                    return p;
                }
            }
        }
        throw new ConfigException("on_budget_exhausted must be 'block' or 'stop', got "
                + (value == null ? "None" : "'" + value + "'"));
    }
}
