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

/** OpenAI chunk streams as Anthropic Messages streams: golden streams, edge cases, and random splits. */
class ChatStreamToMessagesTest {
    private static final List<String> CASES = List.of("text-only", "text-then-tool-call", "two-tool-calls",
            "cache-usage", "no-usage-chunk", "length", "error-mid-stream", "early-end", "interleaved-tool-calls");

    @TestFactory
    Stream<DynamicTest> goldenStreams() {
        return CASES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            GoldenStream g = GoldenStream.load("chat-to-messages-" + name);
            GoldenStream.assertSameEvents(g.client, GoldenStream.run(new ChatStreamToMessages(), g.upstream), name);
        }));
    }

    @Test
    void eachEventIsNamedByItsType() throws Exception {
        List<SseEvent> out = GoldenStream.run(new ChatStreamToMessages(), GoldenStream.load("chat-to-messages-text-then-tool-call").upstream);
        for (SseEvent e : out) {
            assertEquals(Json.readOrNull(e.data()).get("type").asText(), e.event());
        }
        String first = new String(out.get(0).raw(), StandardCharsets.UTF_8);
        assertTrue(first.startsWith("event: message_start\ndata: {\"type\":\"message_start\""), first);
    }

    @Test
    void usageInTheFinishChunkEndsTheMessageThere() {
        // Some OpenAI-compatible servers put the usage in the chunk that finishes instead of a chunk of its own.
        List<SseEvent> out = run(
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":null}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                        + "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,\"total_tokens\":5}}",
                "[DONE]");
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop"), types(out));
        JsonNode delta = Json.readOrNull(out.get(4).data());
        assertEquals("end_turn", delta.at("/delta/stop_reason").asText());
        assertEquals(4, delta.at("/usage/input_tokens").asInt());
        assertEquals(1, delta.at("/usage/output_tokens").asInt());
    }

    @Test
    void aFinishedStreamWithoutDoneIsClosedAtTheEnd() {
        ChatStreamToMessages t = new ChatStreamToMessages();
        List<SseEvent> out = new ArrayList<>();
        t.onEvent(SseEvent.of(null, "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"length\"}]}"), out::add);
        t.onEnd(out::add);
        assertEquals("message_stop", out.get(out.size() - 1).event());
        assertEquals("max_tokens", Json.readOrNull(out.get(out.size() - 2).data()).at("/delta/stop_reason").asText());
    }

    @Test
    void rateLimitAndInvalidRequestErrorsKeepTheirKind() {
        assertEquals("rate_limit_error", errorType("{\"message\":\"Rate limit reached\",\"type\":\"tokens\",\"param\":null,\"code\":\"rate_limit_exceeded\"}"));
        assertEquals("invalid_request_error", errorType("{\"message\":\"bad\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}"));
        assertEquals("api_error", errorType("{\"message\":\"?\",\"type\":7}"));
        assertEquals("overloaded_error", errorType("{\"message\":\"Overloaded\",\"type\":\"server_error\",\"code\":\"overloaded_error\"}"),
                "an Anthropic error translated for an OpenAI client and back keeps its type");
    }

    @Test
    void streamsThatCannotBeTranslatedEndWithAClearError() {
        assertEquals(List.of("error"), types(run("[DONE]")), "[DONE] without any chunk");
        List<SseEvent> orphan = run("{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}}]}");
        assertEquals(List.of("message_start", "error"), types(orphan));
        assertTrue(Json.readOrNull(orphan.get(1).data()).at("/error/message").asText().contains("without a call"));
    }

    @Test
    void oddChunksAreSkippedNotACrash() {
        List<SseEvent> out = run("not json", "[1,2]", "{\"choices\":\"x\"}", "{\"choices\":[{\"delta\":{\"content\":7,\"tool_calls\":{}}}]}",
                "{\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":null}", "[DONE]");
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop"), types(out));
        assertEquals("", Json.readOrNull(out.get(0).data()).at("/message/id").asText());
    }

    @Test
    void aToolCallWithoutIndexesStillStreams() {
        List<SseEvent> out = run(
                "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}",
                "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}",
                "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"call_2\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}",
                "[DONE]");
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
                "message_stop"), types(out));
        assertEquals("call_2", Json.readOrNull(out.get(5).data()).at("/content_block/id").asText());
        assertEquals(1, Json.readOrNull(out.get(5).data()).get("index").asInt());
    }

    /**
     * For random splits of a text and of tool arguments, each delta is emitted as soon as it arrives and
     * the client's concatenated deltas are the original text and arguments.
     */
    @Test
    void randomSplitsArriveWholeAndAtOnce() {
        Random random = new Random(9092024);
        for (int round = 0; round < 300; round++) {
            String text = StreamSplits.randomText(random);
            String args = StreamSplits.randomArguments(random);
            ChatStreamToMessages t = new ChatStreamToMessages();
            List<SseEvent> out = new ArrayList<>();
            StringBuilder content = new StringBuilder();
            StringBuilder arguments = new StringBuilder();
            t.onEvent(chunk(delta().put("role", "assistant").put("content", ""), null), out::add);
            StringBuilder sent = new StringBuilder();
            for (String piece : StreamSplits.split(text, random)) {
                t.onEvent(chunk(delta().put("content", piece), null), out::add);
                sent.append(piece);
                collect(out, content, arguments);
                assertEquals(sent.toString(), content.toString(), "each text piece is out as soon as it is in");
            }
            ObjectNode first = delta();
            first.putArray("tool_calls").addObject().put("index", 0).put("id", "call_r").put("type", "function")
                    .putObject("function").put("name", "f").put("arguments", "");
            t.onEvent(chunk(first, null), out::add);
            sent.setLength(0);
            for (String piece : StreamSplits.split(args, random)) {
                ObjectNode d = delta();
                d.putArray("tool_calls").addObject().put("index", 0).putObject("function").put("arguments", piece);
                t.onEvent(chunk(d, null), out::add);
                sent.append(piece);
                collect(out, content, arguments);
                assertEquals(sent.toString(), arguments.toString(), "each arguments piece is out as soon as it is in");
            }
            t.onEvent(chunk(delta(), "tool_calls"), out::add);
            t.onEvent(SseEvent.of(null, "{\"id\":\"c\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}"), out::add);
            t.onEvent(SseEvent.of(null, "[DONE]"), out::add);
            t.onEnd(out::add);
            collect(out, content, arguments);
            assertEquals(text, content.toString());
            assertEquals(args, arguments.toString());
        }
    }

    /** An Anthropic stream through both translators comes back with the same text and tool-input pieces. */
    @Test
    void aRoundTripKeepsEveryPiece() throws Exception {
        for (String name : List.of("messages-to-chat-text-then-tool-call", "messages-to-chat-two-tool-calls")) {
            List<SseEvent> anthropic = GoldenStream.load(name).upstream;
            List<SseEvent> chat = GoldenStream.run(new MessagesStreamToChat(true, 1), anthropic);
            List<SseEvent> back = GoldenStream.run(new ChatStreamToMessages(), chat);
            assertEquals(pieces(anthropic), pieces(back), name);
            assertEquals(types(withoutEmptyPieces(anthropic)), types(back),
                    name + ": the same event sequence but for the empty opening input pieces, which carry nothing");
        }
    }

    /** The non-empty text and input pieces and the tool ids of an Anthropic stream, each with its block index. */
    private static List<String> pieces(List<SseEvent> anthropic) {
        List<String> pieces = new ArrayList<>();
        for (SseEvent e : anthropic) {
            JsonNode data = Json.readOrNull(e.data());
            String type = data.path("type").asText();
            JsonNode delta = data.path("delta");
            String piece = type.equals("content_block_delta") ? delta.path("text").asText(delta.path("partial_json").asText(""))
                    : type.equals("content_block_start") ? data.path("content_block").path("id").asText("") : "";
            if (!piece.isEmpty()) {
                pieces.add(data.get("index").asInt() + ":" + piece);
            }
        }
        return pieces;
    }

    private static List<SseEvent> withoutEmptyPieces(List<SseEvent> anthropic) {
        List<SseEvent> kept = new ArrayList<>();
        for (SseEvent e : anthropic) {
            if (!e.data().contains("\"partial_json\":\"\"")) {
                kept.add(e);
            }
        }
        return kept;
    }

    /** Event names, pings left out (the translators have no reason to forward them). */
    private static List<String> types(List<SseEvent> events) {
        List<String> types = new ArrayList<>();
        for (SseEvent e : events) {
            if (!"ping".equals(e.event())) {
                types.add(e.event());
            }
        }
        return types;
    }

    private static String errorType(String openAiError) {
        List<SseEvent> out = run("{\"error\":" + openAiError + "}");
        assertEquals(List.of("error"), types(out));
        return Json.readOrNull(out.get(0).data()).at("/error/type").asText();
    }

    private static List<SseEvent> run(String... data) {
        List<SseEvent> upstream = new ArrayList<>();
        for (String d : data) {
            upstream.add(SseEvent.of(null, d));
        }
        return GoldenStream.run(new ChatStreamToMessages(), upstream);
    }

    /** Appends the text and partial JSON of the events in {@code out} and clears it. */
    private static void collect(List<SseEvent> out, StringBuilder content, StringBuilder arguments) {
        for (SseEvent e : out) {
            JsonNode delta = Json.readOrNull(e.data()).path("delta");
            String type = delta.path("type").asText();
            if (type.equals("text_delta")) {
                content.append(delta.get("text").asText());
            } else if (type.equals("input_json_delta")) {
                arguments.append(delta.get("partial_json").asText());
            }
        }
        out.clear();
    }

    private static ObjectNode delta() {
        return Json.MAPPER.createObjectNode();
    }

    private static SseEvent chunk(ObjectNode delta, String finishReason) {
        ObjectNode chunk = Json.MAPPER.createObjectNode().put("id", "chatcmpl-r").put("object", "chat.completion.chunk")
                .put("created", 1).put("model", "gpt-4o");
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        choice.put("finish_reason", finishReason);
        chunk.putNull("usage");
        return SseEvent.of(null, chunk.toString());
    }
}
