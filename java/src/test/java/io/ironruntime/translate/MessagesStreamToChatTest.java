package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.provider.SseEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Anthropic Messages streams as OpenAI chunk streams: golden streams, edge cases, and random splits. */
class MessagesStreamToChatTest {
    private static final List<String> CASES = List.of("text-only", "include-usage-false", "text-then-tool-call",
            "two-tool-calls", "thinking-skipped", "cache-usage", "max-tokens-length", "error-mid-stream", "early-end",
            "end-after-stop-reason");

    @TestFactory
    Stream<DynamicTest> goldenStreams() {
        return CASES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            GoldenStream g = GoldenStream.load("messages-to-chat-" + name);
            StreamTranslator t = new MessagesStreamToChat(g.file.get("includeUsage").asBoolean(), g.file.get("created").asLong());
            GoldenStream.assertSameEvents(g.client, GoldenStream.run(t, g.upstream), name);
        }));
    }

    @Test
    void chunksAreUnnamedDataEventsAndTheStreamEndsWithDone() throws Exception {
        GoldenStream g = GoldenStream.load("messages-to-chat-text-only");
        List<SseEvent> out = GoldenStream.run(new MessagesStreamToChat(true, 1), g.upstream);
        for (SseEvent e : out) {
            assertEquals(null, e.event());
        }
        String first = new String(out.get(0).raw(), StandardCharsets.UTF_8);
        assertTrue(first.startsWith("data: {") && first.endsWith("}\n\n"), first);
        assertEquals("data: [DONE]\n\n", new String(out.get(out.size() - 1).raw(), StandardCharsets.UTF_8));
    }

    @Test
    void aSecondMessageDeltaUpdatesTheCountsWithoutASecondFinishChunk() {
        MessagesStreamToChat t = new MessagesStreamToChat(true, 1);
        List<SseEvent> out = new ArrayList<>();
        t.onEvent(anthropic("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\","
                + "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}"), out::add);
        t.onEvent(anthropic("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                + "\"usage\":{\"output_tokens\":3}}"), out::add);
        t.onEvent(anthropic("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                + "\"usage\":{\"output_tokens\":9,\"input_tokens\":null}}"), out::add);
        t.onEvent(anthropic("message_stop", "{\"type\":\"message_stop\"}"), out::add);
        t.onEnd(out::add);
        assertEquals(4, out.size(), "role, finish, usage, [DONE]");
        assertEquals("stop", Json.readOrNull(out.get(1).data()).at("/choices/0/finish_reason").asText());
        JsonNode usage = Json.readOrNull(out.get(2).data()).get("usage");
        assertEquals(5, usage.get("prompt_tokens").asInt(), "a null count does not erase the known one");
        assertEquals(9, usage.get("completion_tokens").asInt(), "the last cumulative count wins");
        assertEquals("[DONE]", out.get(3).data());
    }

    @Test
    void oddEventsAreSkippedNotACrash() {
        MessagesStreamToChat t = new MessagesStreamToChat(false, 1);
        List<SseEvent> out = new ArrayList<>();
        t.onEvent(anthropic("message_start", "{\"type\":\"message_start\",\"message\":[]}"), out::add);
        t.onEvent(anthropic("content_block_start", "not json"), out::add);
        t.onEvent(anthropic("content_block_start", "{\"type\":\"content_block_start\",\"content_block\":7}"), out::add);
        t.onEvent(anthropic("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,"
                + "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}"), out::add);
        t.onEvent(anthropic("content_block_delta", "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":5}}"), out::add);
        t.onEvent(anthropic("future_event", "{\"type\":\"future_event\"}"), out::add);
        t.onEvent(new SseEvent(new byte[0], null, null), out::add);
        t.onEvent(anthropic("error", "{\"type\":\"error\",\"error\":\"boom\"}"), out::add);
        assertEquals(2, out.size(), "the role chunk and the error chunk");
        JsonNode error = Json.readOrNull(out.get(1).data()).get("error");
        assertEquals("server_error", error.get("type").asText());
        assertEquals("api_error", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("failed"));
    }

    @Test
    void anInvalidRequestErrorKeepsItsKind() {
        MessagesStreamToChat t = new MessagesStreamToChat(false, 1);
        List<SseEvent> out = new ArrayList<>();
        t.onEvent(anthropic("error", "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad\"}}"), out::add);
        t.onEnd(out::add);
        assertEquals(1, out.size());
        assertEquals("invalid_request_error", Json.readOrNull(out.get(0).data()).at("/error/type").asText());
    }

    /**
     * For random splits of a text and of tool arguments, each delta is emitted as soon as it arrives and
     * the client's concatenated deltas are the original text and arguments.
     */
    @Test
    void randomSplitsArriveWholeAndAtOnce() {
        Random random = new Random(20240909);
        for (int round = 0; round < 300; round++) {
            String text = StreamSplits.randomText(random);
            String args = StreamSplits.randomArguments(random);
            List<String> textPieces = StreamSplits.split(text, random);
            List<String> argPieces = StreamSplits.split(args, random);

            MessagesStreamToChat t = new MessagesStreamToChat(random.nextBoolean(), 1);
            List<SseEvent> out = new ArrayList<>();
            StringBuilder content = new StringBuilder();
            StringBuilder arguments = new StringBuilder();
            t.onEvent(anthropic("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_r\",\"model\":\"m\","
                    + "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}"), out::add);
            t.onEvent(anthropic("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"), out::add);
            StringBuilder sent = new StringBuilder();
            for (String piece : textPieces) {
                t.onEvent(delta(0, "text_delta", "text", piece), out::add);
                sent.append(piece);
                collect(out, content, arguments);
                assertEquals(sent.toString(), content.toString(), "each text piece is out as soon as it is in");
            }
            t.onEvent(anthropic("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"), out::add);
            t.onEvent(anthropic("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
                    + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_r\",\"name\":\"f\",\"input\":{}}}"), out::add);
            sent.setLength(0);
            for (String piece : argPieces) {
                t.onEvent(delta(1, "input_json_delta", "partial_json", piece), out::add);
                sent.append(piece);
                collect(out, content, arguments);
                assertEquals(sent.toString(), arguments.toString(), "each arguments piece is out as soon as it is in");
            }
            t.onEvent(anthropic("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"), out::add);
            t.onEvent(anthropic("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":2}}"), out::add);
            t.onEvent(anthropic("message_stop", "{\"type\":\"message_stop\"}"), out::add);
            t.onEnd(out::add);
            collect(out, content, arguments);
            assertEquals(text, content.toString());
            assertEquals(args, arguments.toString());
            assertEquals(args, Json.readOrNull(arguments.toString()).toString(), "the arguments are the JSON sent");
        }
    }

    /** Appends the content and tool-call 0 arguments of the chunks in {@code out} and clears it. */
    private static void collect(List<SseEvent> out, StringBuilder content, StringBuilder arguments) {
        for (SseEvent e : out) {
            JsonNode chunk = Json.readOrNull(e.data());
            if (chunk == null) {
                continue;
            }
            JsonNode delta = chunk.path("choices").path(0).path("delta");
            if (delta.path("content").isTextual()) {
                content.append(delta.get("content").asText());
            }
            for (JsonNode call : delta.path("tool_calls")) {
                assertEquals(0, call.get("index").asInt());
                arguments.append(call.path("function").path("arguments").asText(""));
            }
        }
        out.clear();
    }

    private static SseEvent delta(int index, String type, String field, String value) {
        ObjectNode data = Json.MAPPER.createObjectNode().put("type", "content_block_delta").put("index", index);
        data.putObject("delta").put("type", type).put(field, value);
        return anthropic("content_block_delta", data.toString());
    }

    private static SseEvent anthropic(String event, String data) {
        return SseEvent.of(event, data);
    }
}
