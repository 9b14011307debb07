package io.ironruntime.router;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Version;
import io.ironruntime.config.RouterConfig;
import java.nio.charset.StandardCharsets;

/** The body of {@code GET /} and {@code GET /iron/health}: public facts only, no keys, no token. */
final class HealthReport {
    private static final ObjectMapper JSON = Json.MAPPER;
    private final RouterConfig config;
    private final RouterStats stats;
    private final long startedMillis = System.currentTimeMillis();

    HealthReport(RouterConfig config, RouterStats stats) {
        this.config = config;
        this.stats = stats;
    }

    byte[] json() {
        ObjectNode root = JSON.createObjectNode();
        root.put("status", "ok");
        root.put("service", "iron-runtime");
        root.put("version", Version.VERSION);
        root.put("mode", config.keyMode().wireName());
        ArrayNode providers = root.putArray("providers");
        config.providerKeys().keySet().stream().sorted().forEach(p -> providers.add(p.wireName()));
        root.put("uptime_seconds", (System.currentTimeMillis() - startedMillis) / 1000.0);
        ObjectNode counts = root.putObject("requests");
        counts.put("total", stats.requests());
        counts.put("proxied", stats.proxied());
        counts.put("rejected", stats.rejected());
        counts.put("upstream_failures", stats.upstreamFailures());
        counts.put("client_aborts", stats.clientAborts());
        counts.put("in_flight", stats.inFlight());
        root.put("stream_events", stats.streamEvents());
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }
}
