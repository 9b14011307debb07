package io.ironruntime.bridge;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.config.RouterConfigReader;
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

    /** The token clients present; null in passthrough mode. */
    public String localToken() {
        return router.config().localToken();
    }

    public String provider() {
        Provider p = router.config().primaryProvider();
        return p == null ? null : p.wireName();
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
        return o.toString();
    }

    /** The Java router, for JVM callers that start from the bridge. */
    public LlmRouter router() {
        return router;
    }
}
