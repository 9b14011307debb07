package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.cost.Usage;
import io.ironruntime.provider.SseEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ResponseMeterTest {
    private static final String USAGE_CHUNK = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":2}}}";

    private static SseEvent data(String json) {
        return SseEvent.of(null, json);
    }

    private static JsonNode parse(String json) throws Exception {
        return Json.MAPPER.readTree(json);
    }

    @Test
    void aMemberNameEndingInAnEscapedUsageIsLeftAlone() throws Exception {
        String data = "{\"id\":\"x\",\"k\\\"usage\":null,\"usage\":null}";
        String out = ResponseMeter.withoutNullUsage(data);
        JsonNode parsed = Json.MAPPER.readTree(out);
        assertTrue(parsed.has("k\"usage"), out);
        assertFalse(parsed.has("usage"), out);
    }

    @Test
    void hiddenUsageChunkIsDroppedButItsUsageIsRead() {
        ResponseMeter m = new ResponseMeter(true);
        assertNull(m.onEvent(data(USAGE_CHUNK)));
        assertTrue(m.usage().hasUsage());
        assertEquals(new Usage(10, 2, 0, 5), m.usage().usage());
    }

    @Test
    void usageChunkPassesUnchangedWhenUsageIsNotHidden() {
        ResponseMeter m = new ResponseMeter(false);
        SseEvent e = data(USAGE_CHUNK);
        assertSame(e, m.onEvent(e));
        assertEquals(new Usage(10, 2, 0, 5), m.usage().usage());
    }

    @Test
    void chunkWithChoicesAndUsageIsKept() {
        ResponseMeter m = new ResponseMeter(true);
        String json = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}";
        SseEvent out = m.onEvent(data(json));
        assertNotNull(out);
        assertEquals(json, out.data());
        assertEquals(new Usage(3, 0, 0, 1), m.usage().usage());
        assertEquals("hi", m.text());
    }

    @Test
    void nullUsageIsRemovedWhereverItIs() throws Exception {
        String[][] cases = {
            // last, compact
            {"{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}],\"usage\":null}",
                "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}"},
            // first, compact
            {"{\"usage\":null,\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}",
                "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}"},
            // middle, compact
            {"{\"id\":\"c\",\"usage\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}",
                "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}"},
        };
        for (String[] c : cases) {
            ResponseMeter m = new ResponseMeter(true);
            SseEvent out = m.onEvent(data(c[0]));
            assertNotNull(out, c[0]);
            assertEquals(c[1], out.data(), c[0]);
            assertEquals("data: " + c[1] + "\n\n", new String(out.raw(), StandardCharsets.UTF_8));
            JsonNode n = parse(out.data());
            assertFalse(n.has("usage"), c[0]);
            assertEquals("c", n.get("id").asText());
            assertEquals("A", n.at("/choices/0/delta/content").asText());
            assertEquals("A", m.text());
        }
    }

    @Test
    void spacedNullUsageIsRemovedAndTheRestStaysValid() throws Exception {
        String[] inputs = {
            "{\"id\": \"c\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"A\"}}], \"usage\": null}",
            "{\"usage\": null, \"id\": \"c\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"A\"}}]}",
            "{\"id\": \"c\", \"usage\" : null , \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"A\"}}]}",
            "{ \"id\": \"c\" ,\n \"usage\":\tnull ,\n \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"A\"}}] }",
        };
        for (String in : inputs) {
            SseEvent out = new ResponseMeter(true).onEvent(data(in));
            assertNotNull(out, in);
            assertFalse(out.data().contains("usage"), out.data());
            JsonNode n = parse(out.data());
            assertEquals(2, n.size(), out.data());
            assertEquals("c", n.get("id").asText());
            assertEquals("A", n.at("/choices/0/delta/content").asText());
        }
    }

    @Test
    void onlyMemberNullUsageLeavesAnEmptyObject() throws Exception {
        SseEvent out = new ResponseMeter(true).onEvent(data("{\"usage\":null}"));
        assertNotNull(out);
        assertEquals(0, parse(out.data()).size());
    }

    @Test
    void eventNameIsKeptOnARewrite() {
        SseEvent out = new ResponseMeter(true).onEvent(SseEvent.of("chunk", "{\"a\":1,\"usage\":null}"));
        assertEquals("chunk", out.event());
        assertEquals("{\"a\":1}", out.data());
        assertEquals("event: chunk\ndata: {\"a\":1}\n\n", new String(out.raw(), StandardCharsets.UTF_8));
    }

    @Test
    void usageTextInsideAStringIsNotAltered() throws Exception {
        String content = "say \"usage\":null, \"usage\": null and ,\"usage\":null";
        String escaped = Json.MAPPER.writeValueAsString(content);
        assertTrue(escaped.contains("\\\"usage\\\":null"));
        String json = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":" + escaped + "}}],\"usage\":null}";
        ResponseMeter m = new ResponseMeter(true);
        SseEvent out = m.onEvent(data(json));
        assertEquals("{\"choices\":[{\"index\":0,\"delta\":{\"content\":" + escaped + "}}]}", out.data());
        assertEquals(content, parse(out.data()).at("/choices/0/delta/content").asText());
        assertEquals(content, m.text());

        // without a null usage member the event is unchanged
        String noUsage = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":" + escaped + "}}]}";
        SseEvent same = new ResponseMeter(true).onEvent(data(noUsage));
        assertEquals(noUsage, same.data());
    }

    @Test
    void nonNullUsageIsNotRemoved() {
        String json = "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}";
        SseEvent out = new ResponseMeter(true).onEvent(SseEvent.of("message_delta", json));
        assertEquals(json, out.data());
    }

    @Test
    void eventsWithoutUsagePassAsTheSameInstance() {
        ResponseMeter hidden = new ResponseMeter(true);
        SseEvent plain = data("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}");
        assertSame(plain, hidden.onEvent(plain));

        ResponseMeter shown = new ResponseMeter(false);
        SseEvent withNull = data("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}");
        assertSame(withNull, shown.onEvent(withNull));
        SseEvent notJson = data("not json {");
        assertSame(notJson, shown.onEvent(notJson));
        assertSame(notJson, hidden.onEvent(notJson));
    }

    @Test
    void doneAndCommentsPass() {
        ResponseMeter m = new ResponseMeter(true);
        SseEvent done = data("[DONE]");
        assertSame(done, m.onEvent(done));
        SseEvent comment = new SseEvent(": ping\n\n".getBytes(StandardCharsets.UTF_8), null, null);
        assertSame(comment, m.onEvent(comment));
        assertFalse(m.usage().hasUsage());
        assertEquals("", m.text());
    }

    @Test
    void textCollectsOpenAiChatDeltasAndToolCallArguments() {
        ResponseMeter m = new ResponseMeter(true);
        m.onEvent(data("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}],\"usage\":null}"));
        m.onEvent(data("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \"}}],\"usage\":null}"));
        m.onEvent(data("{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                + "\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"\"}}]}}]}"));
        m.onEvent(data("{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                + "\"function\":{\"arguments\":\"{\\\"q\\\":\"}}]}}]}"));
        m.onEvent(data("{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                + "\"function\":{\"arguments\":\"1}\"}}]}}]}"));
        assertNull(m.onEvent(data(USAGE_CHUNK)));
        m.onEvent(data("[DONE]"));
        assertEquals("Hello lookup{\"q\":1}", m.text());
        assertEquals(new Usage(10, 2, 0, 5), m.usage().usage());
    }

    @Test
    void textCollectsAnthropicDeltasAndUsage() {
        ResponseMeter m = new ResponseMeter(false);
        m.onEvent(SseEvent.of("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
                + "\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":40,"
                + "\"output_tokens\":1}}}"));
        m.onEvent(SseEvent.of("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm \"}}"));
        m.onEvent(SseEvent.of("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,"
                + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}"));
        m.onEvent(SseEvent.of("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
                + "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}"));
        m.onEvent(SseEvent.of("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
                + "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}"));
        m.onEvent(SseEvent.of("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                + "\"usage\":{\"output_tokens\":31}}"));
        m.onEvent(SseEvent.of("message_stop", "{\"type\":\"message_stop\"}"));
        assertEquals("hmm Hi{\"city\":\"Paris\"}", m.text());
        assertEquals(new Usage(25, 100, 40, 31), m.usage().usage());
    }

    @Test
    void textCollectsResponsesOutputTextDeltas() {
        ResponseMeter m = new ResponseMeter(false);
        m.onEvent(SseEvent.of("response.created", "{\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}"));
        m.onEvent(SseEvent.of("response.output_text.delta",
                "{\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"delta\":\"Bon\"}"));
        m.onEvent(SseEvent.of("response.output_text.delta",
                "{\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"delta\":\"jour\"}"));
        m.onEvent(SseEvent.of("response.output_text.done",
                "{\"type\":\"response.output_text.done\",\"item_id\":\"m\",\"text\":\"Bonjour\"}"));
        m.onEvent(SseEvent.of("response.completed", "{\"type\":\"response.completed\",\"response\":{\"usage\":"
                + "{\"input_tokens\":20,\"input_tokens_details\":{\"cached_tokens\":5},\"output_tokens\":7}}}"));
        assertEquals("Bonjour", m.text());
        assertEquals(new Usage(15, 5, 0, 7), m.usage().usage());
    }

    @Test
    void onBodyReadsUsageAndTextOfAChatCompletion() {
        ResponseMeter m = new ResponseMeter(false);
        m.onBody(("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"Hi there\",\"tool_calls\":[{\"id\":\"c\","
                + "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"prompt_tokens_details\":{\"cached_tokens\":0}}}")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("Hi theref{}", m.text());
        assertEquals(new Usage(9, 0, 0, 4), m.usage().usage());
    }

    @Test
    void onBodyReadsUsageAndTextOfAnAnthropicMessage() {
        ResponseMeter m = new ResponseMeter(false);
        m.onBody(("{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"},"
                + "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"get\",\"input\":{\"a\":1}}],"
                + "\"usage\":{\"input_tokens\":11,\"cache_read_input_tokens\":3,\"output_tokens\":6}}")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("Hello{\"a\":1}", m.text());
        assertEquals(new Usage(11, 3, 0, 6), m.usage().usage());
    }

    @Test
    void onBodyIgnoresInvalidJson() {
        ResponseMeter m = new ResponseMeter(false);
        m.onBody("<html>bad gateway</html>".getBytes(StandardCharsets.UTF_8));
        assertFalse(m.usage().hasUsage());
        assertEquals("", m.text());
    }
}
