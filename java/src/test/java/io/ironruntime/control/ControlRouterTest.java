package io.ironruntime.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.router.ControlStartException;
import io.ironruntime.router.LlmRouter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A router in control-server mode end to end: the fake Iron Cage server hands out the key (whose
 * base_url is a real provider on loopback) and the lease; the router reports, posts analytics and
 * returns the lease. Without persistence, so the in-memory outbox is the one exercised here
 * (tests/test_control_server.py covers the database, crashes and outages through Python).
 */
class ControlRouterTest {
    private static final String REPLY = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}";
    private static final String BODY = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":600,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    private final HttpClient http = HttpClient.newHttpClient();
    private final FixedReplyProvider provider = new FixedReplyProvider(REPLY);
    private final FakeIronCage cage = FakeIronCage.start().baseUrl(provider.origin() + "/v1");
    private LlmRouter router;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
        cage.close();
        provider.close();
    }

    private LlmRouter router(String extra) {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"api_key\":\"" + cage.token(1) + "\",\"server_url\":\""
                + cage.url() + "\",\"persist\":false,\"analytics_interval\":0.1" + extra + "}"));
        router.start();
        return router;
    }

    private HttpResponse<String> chat() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + router.config().localToken())
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void keyLeaseReportsAnalyticsAndReturnWithoutADatabase() throws Exception {
        router("");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, chat().statusCode());
        }
        assertEquals(3, provider.authorizations().size());
        assertTrue(provider.authorizations().stream().allMatch(a -> a.equals("Bearer " + cage.providerKey())),
                "the key from the server, sent to the server's base_url");
        assertEquals("openai", cage.handshakes().get(0).body().path("provider").asText());
        await(() -> cage.reports().size() == 3 && cage.analytics().size() == 3, "reports and analytics");
        long perRequest = 1000 * 150_000L + 500 * 600_000L; // gpt-4o-mini, pico-dollars
        for (JsonNode r : cage.reports()) {
            assertEquals(1500, r.path("tokens").asLong());
            assertEquals(perRequest / 1_000_000, r.path("cost_microdollars").asLong());
        }
        router.stop();
        assertEquals(1, cage.returns().size());
        FakeIronCage.Return back = cage.returns().get(0);
        assertEquals(3 * perRequest / 1_000_000, back.spentMicrodollars());
        assertEquals(FakeIronCage.DEFAULT_OWNER_BUDGET - back.spentMicrodollars(), cage.ownerRemaining());
        JsonNode m = router.metrics().path("control");
        assertEquals(3, m.path("reports_sent").asLong());
        assertEquals(3, m.path("analytics_sent").asLong());
        assertEquals(1, m.path("leases_returned").asLong());
        assertEquals(0, m.path("reports_pending").asLong());
    }

    @Test
    void aRequestWaitsForTheKeyFetchUnderWayAndGoesOn() throws Exception {
        router(",\"cache_ttl_seconds\":1");
        Thread.sleep(1_100); // the key expired
        cage.delay("provider-key", Duration.ofMillis(700));
        assertEquals(200, chat().statusCode(), "it waited for the fetch instead of failing");
        assertEquals(2, cage.calls("provider-key"));
    }

    @Test
    void aRequestWaitsForARefreshWhenTheLeaseIsTooSmallForIt() throws Exception {
        router(",\"lease_budget\":0.0005"); // 500 micro-dollars; a call costs 450 and reserves up to ~360
        cage.delay("refresh", Duration.ofMillis(500)); // the refresh the first call sets off is still running...
        assertEquals(200, chat().statusCode());
        assertEquals(200, chat().statusCode(), "...when the second finds 50 left: it waits for it instead of a 402");
        assertEquals(1, cage.refreshes().size());
        assertEquals("approved", cage.refreshes().get(0).answer().path("status").asText());
    }

    @Test
    void aStrictStartFailsWithTheServersCodeAndLeavesNothingListening() {
        cage.keyEnabled(false);
        ControlStartException e = assertThrows(ControlStartException.class, () -> router(",\"strict\":true"));
        assertTrue(e.getMessage().contains("NO_PROVIDER_ASSIGNED"), e.getMessage());
        assertFalse(e.getMessage().contains(cage.token(1)));
        assertFalse(router.isRunning());
    }

    @Test
    void aRefusingServerGivesA502NamingItsCode() throws Exception {
        cage.keyEnabled(false);
        router("");
        HttpResponse<String> r = chat();
        assertEquals(502, r.statusCode());
        JsonNode error = Json.MAPPER.readTree(r.body()).path("error");
        assertEquals("control_server_refused", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("NO_PROVIDER_ASSIGNED"));
        assertEquals("NO_PROVIDER_ASSIGNED", r.headers().firstValue("x-iron-control-code").orElse(""));
        assertEquals("none", router.metrics().path("control").path("key_state").asText());
    }
}
