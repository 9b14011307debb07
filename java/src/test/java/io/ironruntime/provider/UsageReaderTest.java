package io.ironruntime.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.cost.Usage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageReaderTest {
    private static UsageReader body(String json) {
        UsageReader r = new UsageReader();
        r.acceptBody(json.getBytes(StandardCharsets.UTF_8));
        return r;
    }

    private static UsageReader stream(String sse) {
        UsageReader r = new UsageReader();
        SseParser p = new SseParser();
        p.feed(ByteBuffer.wrap(sse.getBytes(StandardCharsets.UTF_8)), r::acceptEvent);
        p.finish(r::acceptEvent);
        return r;
    }

    @Test
    void openAiChatBodyWithCachedTokens() {
        UsageReader r = body("{\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,"
                + "\"completion_tokens\":50,\"total_tokens\":1050,\"prompt_tokens_details\":{\"cached_tokens\":768},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":20}}}");
        assertEquals(new Usage(232, 768, 0, 50), r.usage());
        assertTrue(r.hasUsage());
    }

    @Test
    void openAiChatStreamTakesTheFinalUsageChunk() {
        UsageReader r = stream("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
                + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n"
                + "data: [DONE]\n\n");
        assertEquals(new Usage(12, 0, 0, 7), r.usage());
    }

    @Test
    void openAiResponsesBodyAndStream() {
        assertEquals(new Usage(90, 10, 0, 33), body("{\"object\":\"response\",\"usage\":{\"input_tokens\":100,"
                + "\"input_tokens_details\":{\"cached_tokens\":10},\"output_tokens\":33,"
                + "\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":133}}").usage());
        UsageReader s = stream("event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n"
                + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n"
                + "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{"
                + "\"input_tokens\":40,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":5,\"total_tokens\":45}}}\n\n");
        assertEquals(new Usage(40, 0, 0, 5), s.usage());
    }

    @Test
    void anthropicBodyAndStreamWithCache() {
        assertEquals(new Usage(21, 1800, 200, 64), body("{\"type\":\"message\",\"usage\":{\"input_tokens\":21,"
                + "\"cache_read_input_tokens\":1800,\"cache_creation_input_tokens\":200,\"output_tokens\":64}}").usage());
        UsageReader s = stream("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
                + "{\"input_tokens\":25,\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n"
                + "event: ping\ndata: {\"type\": \"ping\"}\n\n"
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}\n\n"
                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                + "\"usage\":{\"output_tokens\":15}}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        assertEquals(new Usage(25, 100, 0, 15), s.usage(), "message_delta output is cumulative, input from message_start");
    }

    @Test
    void anthropicOneHourCacheWritesAreCountedApart() {
        UsageReader r = body("{\"type\":\"message\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":0,"
                + "\"cache_creation_input_tokens\":300,\"cache_creation\":{\"ephemeral_5m_input_tokens\":100,"
                + "\"ephemeral_1h_input_tokens\":200},\"output_tokens\":5}}");
        assertEquals(new Usage(10, 0, 300, 200, 5), r.usage());
    }

    @Test
    void openAiServiceTierIsReadFromBodiesChunksAndResponses() {
        assertEquals("priority", body("{\"service_tier\":\"priority\",\"usage\":{\"prompt_tokens\":1,"
                + "\"completion_tokens\":1}}").serviceTier());
        assertEquals("flex", stream("data: {\"service_tier\":\"flex\",\"choices\":[{\"delta\":{}}]}\n\n").serviceTier());
        assertEquals("priority", stream("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":"
                + "{\"service_tier\":\"priority\",\"usage\":{\"input_tokens\":1,\"input_tokens_details\":{},"
                + "\"output_tokens\":1}}}\n\n").serviceTier());
        assertEquals(null, body("{\"usage\":{\"input_tokens\":1,\"output_tokens\":1,\"service_tier\":\"standard\"}}")
                .serviceTier(), "Anthropic's usage.service_tier is not an OpenAI processing tier");
    }

    @Test
    void noUsageAndGarbageAreNotUsage() {
        assertFalse(body("{\"id\":\"x\"}").hasUsage());
        assertFalse(body("not json").hasUsage());
        assertFalse(stream("data: {\"choices\":[],\"usage\":null}\n\ndata: [DONE]\n\n").hasUsage());
        assertEquals(Usage.NONE, body("{\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":\"x\"}}").usage());
    }
}
