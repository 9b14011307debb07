package io.ironruntime.config;

import io.ironruntime.provider.Provider;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The one validated configuration of a router. Built by {@link RouterConfigReader} from the Python
 * keyword arguments (as JSON), the CLI flags or the environment; everything downstream trusts it.
 *
 * @param providerKeys real provider keys in direct mode (empty otherwise); never printed
 * @param control      control-server mode's settings (the Iron Cage token among them); null in other modes
 * @param localToken   the token clients must present, or null in passthrough mode
 * @param adminToken   the token of the router's own endpoints (metrics, REST, feeds): the local token,
 *                     or in passthrough mode a random one of its own; never null, never printed
 * @param budget       budget, pricing and ledger settings
 * @param pii          PII and secret detection and redaction
 * @param resilience   circuit breakers, retries, rate limits, timeouts
 * @param modelAliases names clients may use for models, applied before routing and pricing
 * @param eventRetentionDays how long the database keeps engine events (whole days, at least 1)
 * @param verbose      log one JSON line per finished request ({@code iron_runtime.requests})
 * @param logLevel     the level of the engine's other log messages
 */
public record RouterConfig(
        String host,
        int port,
        KeyMode keyMode,
        Map<Provider, String> providerKeys,
        ControlConfig control,
        Map<Provider, URI> upstreamOrigins,
        long maxRequestBytes,
        String localToken,
        String adminToken,
        BudgetConfig budget,
        PiiConfig pii,
        ResilienceConfig resilience,
        ModelAliases modelAliases,
        int eventRetentionDays,
        boolean verbose,
        LogLevel logLevel) {

    public static final long DEFAULT_MAX_REQUEST_BYTES = 32L * 1024 * 1024;
    public static final int DEFAULT_EVENT_RETENTION_DAYS = 30;
    /** Ten years: a larger number is more likely a unit mistake than a wish. */
    public static final int MAX_EVENT_RETENTION_DAYS = 3_650;

    public RouterConfig {
        if (adminToken == null || logLevel == null || modelAliases == null) {
            throw new IllegalArgumentException("adminToken, logLevel and modelAliases are required");
        }
        providerKeys = Map.copyOf(providerKeys);
        upstreamOrigins = Map.copyOf(new EnumMap<>(upstreamOrigins));
    }

    /** The Iron Cage token in control-server mode, else null; never printed. */
    public String icToken() {
        return control == null ? null : control.icToken();
    }

    /** The Iron Cage server in control-server mode, else null. */
    public URI serverUrl() {
        return control == null ? null : control.serverUrl();
    }

    /** The provider a user means by "the" provider: the only key's, OpenAI when there are both. */
    public Provider primaryProvider() {
        if (providerKeys.size() == 1) {
            return providerKeys.keySet().iterator().next();
        }
        return providerKeys.isEmpty() ? null : Provider.OPENAI;
    }

    public URI origin(Provider provider) {
        return upstreamOrigins.get(provider);
    }

    /** Safe to log: names what is configured, never a key or token. */
    @Override
    public String toString() {
        List<String> keys = new ArrayList<>();
        providerKeys.keySet().forEach(p -> keys.add(p.wireName()));
        return "RouterConfig[host=" + host + ", port=" + port + ", mode=" + keyMode.wireName()
                + ", providers=" + keys + (control == null ? "" : ", " + control) + ", origins=" + upstreamOrigins
                + ", maxRequestBytes=" + maxRequestBytes + ", " + resilience + ", budgetId=" + budget.budgetId()
                + ", database=" + budget.database() + ", " + pii + ", modelAliases=" + modelAliases.aliases().size()
                + ", verbose=" + verbose + ", logLevel="
                + logLevel.wireName() + "]";
    }
}
