package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** SSE framing and the feed's type filter. */
class SseFramesTest {
    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String block(long id, String event, String data) {
        return text(SseFrames.id(id)) + text(SseFrames.body(event, data));
    }

    @Test
    void oneBlockPerMessage() {
        assertEquals("id: 7\nevent: request_completed\ndata: {\"type\":\"request_completed\",\"cost\":0.1}\n\n",
                block(7, "request_completed", "{\"type\":\"request_completed\",\"cost\":0.1}"));
        assertEquals("retry: 3000\n\n", text(SseFrames.retry(3000)));
        FeedMessage m = new FeedMessage("COST_ALERT", "{\"type\":\"COST_ALERT\"}");
        assertEquals("event: COST_ALERT\ndata: {\"type\":\"COST_ALERT\"}\n\n", text(m.sseBody()), "made once per message");
        assertSame(m.sseBody(), m.sseBody());
    }

    @Test
    void lineBreaksCannotBreakTheFraming() {
        assertEquals("id: 1\nevent: a b\ndata: x\ndata: y\ndata: z\ndata: \n\n",
                block(1, "a\nb", "x\ny\r\nz\r"));
        assertEquals("id: 2\nevent: e\ndata: caf\u00e9\n\n", block(2, "e", "caf\u00e9"), "UTF-8");
    }

    @Test
    void typesFilter() {
        FeedFilter all = FeedFilter.parse(null);
        assertTrue(all.accepts("request_completed") && all.accepts("STATE_UPDATE"));
        assertTrue(FeedFilter.parse("  ").accepts("pii_detected"));
        FeedFilter some = FeedFilter.parse("request_completed, cost_alert,,PII_DETECTED");
        assertTrue(some.accepts("request_completed"));
        assertTrue(some.accepts("COST_ALERT"), "protocol types in either case");
        assertTrue(some.accepts("pii_detected"), "engine types in either case");
        assertTrue(some.accepts("HEARTBEAT"), "heartbeats always pass");
        assertFalse(some.accepts("STATE_UPDATE"));
        assertFalse(some.accepts("request_failed"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FeedFilter.parse("request_completed,bogus\u0007"));
        assertTrue(e.getMessage().contains("'bogus?'"), e.getMessage());
        assertTrue(e.getMessage().contains("STATE_UPDATE") && e.getMessage().contains("agent_paused"), e.getMessage());
    }
}
