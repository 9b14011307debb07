package io.ironruntime.agent;

import io.ironruntime.config.ConfigException;
import io.ironruntime.config.RouterConfig;
import java.time.Duration;

/**
 * How an {@link AgentRuntime} runs its agents.
 *
 * @param router            the settings of the router the runtime owns; null when it is given a running one
 * @param onBudgetExhausted what happens to an agent whose own budget is spent
 * @param stopTimeout       how long a stop waits after SIGTERM before SIGKILL, at shutdown and for the stop policy
 * @param python            the interpreter agents run with unless they name one
 * @param verbose           log each agent's lifecycle at INFO (else DEBUG)
 */
public record RuntimeConfig(RouterConfig router, BudgetExhaustedPolicy onBudgetExhausted, Duration stopTimeout,
        String python, boolean verbose) {
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);

    public RuntimeConfig {
        onBudgetExhausted = onBudgetExhausted == null ? BudgetExhaustedPolicy.BLOCK : onBudgetExhausted;
        stopTimeout = stopTimeout == null ? DEFAULT_STOP_TIMEOUT : stopTimeout;
        if (stopTimeout.isNegative() || stopTimeout.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException("stop_timeout must be between 0 and 3600 seconds");
        }
        python = python == null || python.isBlank() ? "python3" : python;
    }

    /** A runtime that owns a router with these settings, and the defaults for the rest. */
    public static RuntimeConfig of(RouterConfig router) {
        return new RuntimeConfig(router, null, null, null, false);
    }
}
