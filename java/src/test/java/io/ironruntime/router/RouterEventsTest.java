package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventQuery;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The router's own events end to end: a real router, a real provider on loopback, the real database. */
class RouterEventsTest {
    private static final String KEY = "sk-test-REALKEY";
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";
    @TempDir
    Path dir;

    private static int chat(LlmRouter router) throws Exception {
        return FixedReplyProvider.chat(router.baseUrl(), router.config().localToken());
    }

    @Test
    void startRequestRefusalAndStopAreRecordedDeliveredAndStored() throws Exception {
        List<EngineEvent> stored;
        List<EngineEvent> delivered = new ArrayList<>();
        try (FixedReplyProvider provider = new FixedReplyProvider(REPLY);
                LlmRouter router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                        + "\",\"openai_base_url\":\"" + provider.origin() + "\",\"state_dir\":\"" + dir + "\","
                        + "\"budget\":\"1\",\"event_retention_days\":7}"))) {
            router.deliveryQueue(); // Python's consumer, as the first callback makes it
            router.start();
            assertEquals(200, chat(router));
            router.setBudget(1); // one pico-dollar: spent already, so the next request is refused
            assertEquals(402, chat(router));
            router.stop();
            stored = router.events(new EventQuery(null, null, null, 100));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (delivered.size() < stored.size() && System.nanoTime() < deadline) {
                delivered.addAll(router.pollEvents(256, 200));
            }
            ObjectNode m = router.metrics();
            assertEquals(0, m.get("events_dropped").asLong());
            assertEquals(stored.size(), m.get("events_published").asLong());
        }
        // Lowering the budget below the spend crosses the four default alert thresholds at once.
        assertEquals(List.of("router_started", "request_completed", "budget_threshold_reached",
                "budget_threshold_reached", "budget_threshold_reached", "budget_threshold_reached", "budget_exceeded",
                "router_stopped"), stored.stream().map(EngineEvent::type).toList());
        assertEquals(stored.stream().map(EngineEvent::eventId).toList(),
                delivered.stream().map(EngineEvent::eventId).toList());
        ObjectNode done = stored.get(1).payload();
        assertEquals("openai", done.get("provider").asText());
        assertEquals("gpt-4o-mini", done.get("model").asText());
        assertEquals(200, done.get("status").asInt());
        assertEquals("completed", done.get("outcome").asText());
        assertEquals(1000, done.get("input_tokens").asLong());
        assertEquals(100, done.get("output_tokens").asLong());
        assertTrue(done.get("cost_picos").asLong() > 0);
        assertEquals(1, done.get("attempts").asInt());
        assertFalse(done.get("usage_estimated").asBoolean());
        assertNotNull(stored.get(1).requestId());
        ObjectNode refused = stored.get(6).payload();
        assertEquals("router", refused.get("scope").asText());
        assertEquals("exhausted", refused.get("reason").asText());
        assertNotNull(stored.get(6).requestId());
        assertFalse(stored.toString().contains(KEY));

        // A new router on the same directory reads them back after its own start.
        try (LlmRouter again = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"" + KEY
                + "\",\"state_dir\":\"" + dir + "\"}"))) {
            again.start();
            List<EngineEvent> all = again.events(new EventQuery(null, null, null, 100));
            assertEquals(stored, all.subList(0, stored.size()));
            assertEquals("router_started", all.get(stored.size()).type());
        }
    }
}
