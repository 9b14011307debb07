package io.ironruntime.bridge;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.provider.Provider;
import io.ironruntime.router.LlmRouter;

/**
 * What Python's {@code LlmRouter} holds: plain values and JSON text in and out, nothing that would
 * need a callback into Python. Errors surface as {@link io.ironruntime.config.ConfigException} and
 * {@link io.ironruntime.router.RouterStartException}, which the Python side maps to its own exceptions.
 */
public final class RouterBridge {
    private static final ObjectMapper JSON = Json.MAPPER;
    private final LlmRouter router;

    private RouterBridge(RouterConfig config) {
        this.router = new LlmRouter(config);
    }

    /** Validates the settings (JSON object with the Python keyword names) without starting anything. */
    public static RouterBridge create(String settingsJson) {
        return new RouterBridge(RouterConfigReader.fromJson(settingsJson));
    }

    public void start() {
        router.start();
    }

    public void stop() {
        router.stop();
    }

    public boolean isRunning() {
        return router.isRunning();
    }

    public int port() {
        return router.port();
    }

    public String host() {
        return router.config().host();
    }

    public String baseUrl() {
        return router.baseUrl();
    }

    /** The dashboard's link, carrying the admin token in its fragment. */
    public String dashboardUrl() {
        return router.dashboardUrl();
    }

    /** The live feed's WebSocket URL while running, else null. */
    public String eventsUrl() {
        return router.eventsUrl();
    }

    /** The token clients present; null in passthrough mode. */
    public String localToken() {
        return router.config().localToken();
    }

    public String adminToken() {
        return router.config().adminToken();
    }

    public String provider() {
        Provider p = router.control() != null ? router.control().provider() : router.config().primaryProvider();
        return p == null ? null : p.wireName();
    }

    /** The PII mode: redact, mask, hash, block, detect or off. */
    public String piiMode() {
        return router.config().pii().mode().wireName();
    }

    /** The PII scope: request, response or both. */
    public String piiScope() {
        return router.config().pii().scope().name().toLowerCase(java.util.Locale.ROOT);
    }

    public String mode() {
        return router.config().keyMode().wireName();
    }

    /** Public facts for repr and diagnostics; never a key or token. */
    public String describeJson() {
        RouterConfig c = router.config();
        ObjectNode o = JSON.createObjectNode();
        o.put("mode", c.keyMode().wireName());
        o.put("provider", provider());
        ArrayNode providers = o.putArray("providers");
        c.providerKeys().keySet().stream().sorted().forEach(p -> providers.add(p.wireName()));
        o.put("base_url", router.baseUrl());
        o.put("running", router.isRunning());
        o.put("server_url", c.serverUrl() == null ? null : c.serverUrl().toString());
        o.put("openai_base_url", c.origin(Provider.OPENAI).toString());
        o.put("anthropic_base_url", c.origin(Provider.ANTHROPIC).toString());
        o.put("requests", router.stats().requests());
        o.put("resilience", c.resilience().toString());
        o.put("verbose", c.verbose());
        o.put("log_level", c.logLevel().wireName());
        return o.toString();
    }

    /** Stops and closes the ledger database; the router cannot start again. */
    public void close() {
        router.close();
    }

    /** The budget as JSON: limit (null when unlimited), spent and reserved, in dollars and exact pico-dollars. */
    public String budgetJson() {
        BudgetLedger.Snapshot b = router.budget();
        ObjectNode o = JSON.createObjectNode();
        if (b.unlimited()) {
            o.putNull("limit");
            o.putNull("limit_picos");
        } else {
            o.put("limit", Money.picosToDollars(b.limit()));
            o.put("limit_picos", b.limit());
        }
        o.put("spent", Money.picosToDollars(b.spent()));
        o.put("spent_picos", b.spent());
        o.put("reserved", Money.picosToDollars(b.reserved()));
        o.put("reserved_picos", b.reserved());
        o.put("budget_id", router.config().budget().budgetId());
        return o.toString();
    }

    /** @param usd the new limit as decimal text (Python's repr of the float), or null for no limit */
    public void setBudget(String usd) {
        router.setBudget(RouterConfigReader.budgetLimit(usd));
    }

    public String metricsJson() {
        return router.metrics().toString();
    }

    /** Events (budget alerts, PII detections) as a JSON array, waiting up to {@code timeoutMillis} for the first one. */
    public String pollEventsJson(long timeoutMillis) throws InterruptedException {
        ArrayNode a = JSON.createArrayNode();
        for (EngineEvent e : router.pollEvents(256, timeoutMillis)) {
            a.add(e.toJson());
        }
        return a.toString();
    }

    /** Starts buffering events for {@link #pollEventsJson}: called when Python registers its first callback. */
    public void subscribeEvents() {
        router.deliveryQueue();
    }

    /**
     * Stored events as a JSON array, oldest first (Python checked the arguments).
     *
     * @param sinceMs      only events at or after this time (ms since the epoch); negative for no bound
     * @param afterEventId only events recorded after this one, or null
     * @param typesJson    a JSON array of type names, or null for all
     */
    public String eventsJson(long sinceMs, String afterEventId, String typesJson, int limit) throws Exception {
        java.util.Set<String> types = null;
        if (typesJson != null) {
            types = new java.util.HashSet<>();
            for (com.fasterxml.jackson.databind.JsonNode t : JSON.readTree(typesJson)) {
                types.add(t.asText());
            }
        }
        ArrayNode a = JSON.createArrayNode();
        for (EngineEvent e : router.events(new io.ironruntime.events.EventQuery(sinceMs < 0 ? null : sinceMs,
                afterEventId, types, limit))) {
            a.add(e.toJson());
        }
        return a.toString();
    }

    public boolean flushLedger(long timeoutMillis) {
        return router.flushLedger(timeoutMillis);
    }

    /** The SQLite file holding the ledger, or null when persistence is off. */
    public String databasePath() {
        java.nio.file.Path p = router.config().budget().database();
        return p == null ? null : p.toString();
    }

    /** The Java router, for JVM callers that start from the bridge. */
    public LlmRouter router() {
        return router;
    }
}
