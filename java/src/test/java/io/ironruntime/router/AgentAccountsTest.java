package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.cost.BudgetLedger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtime agents through a real router: each agent's token attributes its requests to it, its own
 * budget holds on top of the router's, and its figures, ledger rows and PII audit rows carry its id.
 */
class AgentAccountsTest {
    /** 1000 input and 100 output tokens of gpt-4o-mini: $0.00015 + $0.00006 = $0.00021. */
    private static final String REPLY = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";
    private static final long COST = 210_000_000L; // pico-dollars
    private static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

    @TempDir
    Path state;
    private FixedReplyProvider provider;
    private LlmRouter router;

    @BeforeEach
    void startProvider() {
        provider = new FixedReplyProvider(REPLY);
    }

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
        provider.close();
    }

    private LlmRouter router(String extra) {
        String origin = provider.origin();
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-REAL\",\"openai_base_url\":\""
                + origin + "\",\"state_dir\":\"" + state + "\",\"pii\":\"redact\"" + extra + "}"));
        router.start();
        return router;
    }

    private static HttpResponse<String> chat(LlmRouter r, String token, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(r.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anAgentsTokenAttributesItsRequestsToItAndNoOneElse() throws Exception {
        LlmRouter r = router("");
        AgentAccount a = r.agents().register("agent_a", "tok-a-123", BudgetLedger.UNLIMITED);
        AgentAccount b = r.agents().register("agent_b", "tok-b-456", BudgetLedger.UNLIMITED);
        assertEquals(200, chat(r, "tok-a-123", CHAT).statusCode());
        assertEquals(200, chat(r, "tok-a-123", CHAT.replace("hello", "mail jane.doe@example.com")).statusCode());
        assertEquals(200, chat(r, r.config().localToken(), CHAT).statusCode());
        // x-api-key works too (the Anthropic SDK sends the key there)
        HttpResponse<String> viaKey = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(r.baseUrl() + "/chat/completions")).header("x-api-key", "tok-b-456")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, viaKey.statusCode());
        settled(r);
        assertTrue(r.flushLedger(5_000));

        assertEquals(2, a.requests());
        assertEquals(2000, a.inputTokens());
        assertEquals(200, a.outputTokens());
        assertEquals(2 * COST, a.budget().spent());
        assertEquals(1, a.piiDetections());
        assertEquals(1, b.requests());
        assertEquals(COST, b.budget().spent());
        assertEquals(4 * COST, r.budget().spent(), "the router's budget counts every agent's spend and its own");
        assertTrue(provider.authorizations().stream().allMatch("Bearer sk-REAL"::equals), "the provider only ever sees the real key");

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + state.resolve(io.ironruntime.config.BudgetConfig.DATABASE_FILE))) {
            assertEquals(List.of("agent_a", "agent_a", "agent_b", "none"), column(c,
                    "SELECT COALESCE(agent_id, 'none') FROM ledger ORDER BY agent_id IS NULL, agent_id"));
            assertEquals(List.of("agent_a"), column(c, "SELECT agent_id FROM pii_audit"));
        }
    }

    @Test
    void anAgentWhoseBudgetIsSpentGets402WhileOthersGoOn() throws Exception {
        LlmRouter r = router(",\"budget\":\"1\"");
        List<String> exhausted = new CopyOnWriteArrayList<>();
        r.agents().onExhausted(acc -> exhausted.add(acc.agentId()));
        AgentAccount poor = r.agents().register("agent_poor", "tok-poor", 200_000_000L); // $0.0002: one call (it costs $0.00021)
        r.agents().register("agent_rich", "tok-rich", BudgetLedger.UNLIMITED);

        assertEquals(200, chat(r, "tok-poor", CHAT).statusCode());
        settled(r); // settlement trails the client's read of the body
        HttpResponse<String> refused = chat(r, "tok-poor", CHAT);
        assertEquals(402, refused.statusCode(), refused.body());
        JsonNode error = Json.MAPPER.readTree(refused.body()).get("error");
        assertTrue(error.get("code").asText().startsWith("agent_"), refused.body());
        assertTrue(error.get("message").asText().contains("agent_poor"), refused.body());
        assertEquals(200, chat(r, "tok-rich", CHAT).statusCode());
        assertEquals(200, chat(r, "tok-rich", CHAT).statusCode());

        assertEquals(List.of("agent_poor"), exhausted, "the listener hears of each exhausted agent once");
        assertEquals(0, poor.budget().reserved());
        assertEquals(0, r.budget().reserved());
        assertEquals(3 * COST, r.budget().spent());
        assertTrue(poor.refusedRequests() >= 1);
    }

    @Test
    void theRouterBudgetStillBindsAnAgentWithARoomierOne() throws Exception {
        LlmRouter r = router(",\"budget\":\"0.0002\"");
        r.agents().register("agent_a", "tok-a", 1_000_000_000_000L); // $1
        assertEquals(200, chat(r, "tok-a", CHAT).statusCode());
        settled(r);
        HttpResponse<String> refused = chat(r, "tok-a", CHAT);
        assertEquals(402, refused.statusCode());
        assertEquals("budget_exceeded", Json.MAPPER.readTree(refused.body()).path("error").path("code").asText());
    }

    @Test
    void whenBothBudgetsAreSpentTheRefusalNamesTheAgent() throws Exception {
        LlmRouter r = router(",\"budget\":\"0.0002\"");
        List<String> exhausted = new CopyOnWriteArrayList<>();
        r.agents().onExhausted(acc -> exhausted.add(acc.agentId()));
        r.agents().register("agent_a", "tok-a", 200_000_000L);
        assertEquals(200, chat(r, "tok-a", CHAT).statusCode());
        settled(r);
        HttpResponse<String> refused = chat(r, "tok-a", CHAT);
        assertEquals("agent_budget_exceeded", Json.MAPPER.readTree(refused.body()).path("error").path("code").asText());
        assertEquals(List.of("agent_a"), exhausted);
        assertEquals(0, r.budget().reserved());
    }

    @Test
    void aRevokedTokenIsRefusedButTheFiguresStay() throws Exception {
        LlmRouter r = router("");
        AgentAccount a = r.agents().register("agent_a", "tok-a", BudgetLedger.UNLIMITED);
        assertEquals(200, chat(r, "tok-a", CHAT).statusCode());
        r.agents().revoke("agent_a");
        assertEquals(401, chat(r, "tok-a", CHAT).statusCode());
        assertEquals(1, a.requests());
        assertEquals(a, r.agents().get("agent_a"));
        // a restarted agent gets a new token and keeps its account
        assertEquals(a, r.agents().register("agent_a", "tok-a2", BudgetLedger.UNLIMITED));
        assertEquals(200, chat(r, "tok-a2", CHAT).statusCode());
        assertEquals(401, chat(r, "tok-a", CHAT).statusCode());
        assertEquals(2, a.requests());
        assertNull(r.agents().get("agent_unknown"));
    }

    private static void settled(LlmRouter r) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (r.budget().reserved() != 0 || r.budget().spent() == 0) {
            assertTrue(System.nanoTime() < deadline, "requests not settled in 5 s");
            Thread.sleep(10);
        }
    }

    private static List<String> column(Connection c, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
