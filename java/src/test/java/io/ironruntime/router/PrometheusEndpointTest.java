package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.FixedReplyProvider;
import io.ironruntime.config.RouterConfigReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code /metrics} through a real router in front of a real (JDK HttpServer) provider. */
class PrometheusEndpointTest {
    private static final String REPLY = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":4}}}";
    private final HttpClient http = HttpClient.newHttpClient();
    private final FixedReplyProvider provider = new FixedReplyProvider(REPLY);
    private LlmRouter router;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
        provider.close();
    }

    private LlmRouter start(String extra) {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"persist\":false,"
                + "\"openai_base_url\":\"" + provider.origin() + "\"" + extra + "}"));
        router.start();
        return router;
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private int chat(String model) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + router.config().localToken())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                        + "\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void unauthenticatedScrapesGetAProviderShaped401() throws Exception {
        start("");
        for (String path : new String[] {"/metrics", "/iron/metrics"}) {
            HttpResponse<String> none = get(path, null);
            assertEquals(401, none.statusCode());
            assertTrue(none.body().contains("\"error\""), none.body());
            assertFalse(none.body().contains("iron_"), "no series without the token");
            assertEquals(401, get(path, "not-the-token").statusCode());
            HttpResponse<String> ok = get(path, router.config().localToken());
            assertEquals(200, ok.statusCode());
            assertTrue(ok.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        }
    }

    @Test
    void seriesCountWhatTheRequestsDid() throws Exception {
        start(",\"unknown_model\":\"block\"");
        int n = 5;
        for (int i = 0; i < n; i++) {
            assertEquals(200, chat("gpt-4o-mini"));
        }
        assertEquals(400, chat("no-such-model"));
        Map<String, Double> m = scrapeWhen(s -> value(s, "iron_router_added_seconds_count{provider=openai}") == n
                && value(s, "iron_requests_total{model=no-such-model,provider=openai,status=400}") == 1);
        assertEquals(n, value(m, "iron_requests_total{model=gpt-4o-mini,provider=openai,status=200}"));
        assertEquals(n * 6, value(m, "iron_tokens_total{kind=input,model=gpt-4o-mini,provider=openai}"));
        assertEquals(n * 4, value(m, "iron_tokens_total{kind=cache_read,model=gpt-4o-mini,provider=openai}"));
        assertEquals(n * 5, value(m, "iron_tokens_total{kind=output,model=gpt-4o-mini,provider=openai}"));
        double cost = router.metrics().get("cost").asDouble();
        assertTrue(cost > 0);
        assertEquals(cost, value(m, "iron_cost_usd_total{model=gpt-4o-mini,provider=openai}"), 1e-12);
        assertEquals(cost, value(m, "iron_budget_spent_usd"), 1e-12);
        assertEquals(n, value(m, "iron_upstream_response_head_seconds_count{provider=openai}"));
        assertEquals(n, value(m, "iron_upstream_duration_seconds_count{provider=openai}"));
        assertEquals(n, value(m, "iron_router_added_seconds_count{provider=openai}"));
        assertTrue(value(m, "iron_router_added_seconds_sum{provider=openai}") > 0);
        assertEquals(0, value(m, "iron_circuit_state{origin=" + provider.origin() + ",provider=openai}"));
        assertEquals(0, value(m, "iron_upstream_in_flight"));
        assertFalse(m.containsKey("iron_budget_limit_usd"), "no limit: no limit series");
    }

    /** Scrapes until {@code ready} holds (the counters of an exchange land just after its last byte). */
    private Map<String, Double> scrapeWhen(java.util.function.Predicate<Map<String, Double>> ready) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        Map<String, Double> m = parse(get("/metrics", router.config().localToken()).body());
        while (!ready.test(m) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            m = parse(get("/metrics", router.config().localToken()).body());
        }
        return m;
    }

    private static double value(Map<String, Double> m, String key) {
        Double v = m.get(key);
        return v == null ? Double.NaN : v;
    }

    /** Text format 0.0.4 samples as {@code name{label=value,...}} (labels sorted, quotes dropped) to value. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> out = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String series = line.substring(0, space);
            double v = Double.parseDouble(line.substring(space + 1).replace("+Inf", "Infinity"));
            int brace = series.indexOf('{');
            if (brace < 0) {
                out.put(series, v);
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            for (String pair : series.substring(brace + 1, series.length() - 1).split(",(?=[a-z_]+=\")")) {
                int eq = pair.indexOf('=');
                labels.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
            }
            StringBuilder key = new StringBuilder(series.substring(0, brace)).append('{');
            labels.forEach((k, val) -> key.append(k).append('=').append(val).append(','));
            key.setLength(key.length() - 1);
            out.put(key.append('}').toString(), v);
        }
        return out;
    }
}
