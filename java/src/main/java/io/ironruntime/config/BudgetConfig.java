package io.ironruntime.config;

import io.ironruntime.cost.PricingTable;
import java.nio.file.Path;
import java.util.List;

/**
 * The money side of a router's configuration, validated with the rest by {@link RouterConfigReader}.
 *
 * @param limitPicos      the hard budget in pico-dollars, or {@link io.ironruntime.cost.BudgetLedger#UNLIMITED}
 * @param budgetId        the name spend accumulates under across restarts and routers, or null (this router only)
 * @param database        the SQLite file holding the ledger, or null when persistence is off
 * @param pricing         the bundled table with the user's pricing file and custom prices laid over it
 * @param unknownModel    what to do with a model that has no price
 * @param alertsPpm       budget fractions that raise an alert, in parts per million, ascending
 */
public record BudgetConfig(long limitPicos, String budgetId, Path database, PricingTable pricing,
        UnknownModelPolicy unknownModel, List<Integer> alertsPpm) {

    public static final String DATABASE_FILE = "iron_runtime.db";
    public static final List<Integer> DEFAULT_ALERTS_PPM = List.of(500_000, 800_000, 950_000, 1_000_000);

    public BudgetConfig {
        alertsPpm = List.copyOf(alertsPpm);
    }

    /** What a request for a model without a price gets. */
    public enum UnknownModelPolicy {
        /** Refused before it is sent, with an error naming the model and how to price it. */
        BLOCK,
        /** Forwarded; its tokens are recorded and its cost is flagged unknown. */
        ALLOW
    }
}
