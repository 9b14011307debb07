package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.provider.SseEvent;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An OpenAI {@code chat.completion.chunk} stream as an Anthropic Messages stream, for an
 * Anthropic-format client calling an OpenAI model. Each chunk is translated when it arrives; the state
 * kept is the open content block, the tool calls already seen and the finish reason waiting for the
 * usage chunk.
 * <p>
 * The first chunk gives {@code message_start} (with zero usage: OpenAI counts only at the end). Text
 * opens a text block and streams as {@code text_delta}; a tool call entry with an {@code id} closes the
 * open block and opens a {@code tool_use} block whose arguments stream as {@code input_json_delta}. A
 * {@code finish_reason} closes the open block; the usage chunk (the router always asks for it) then gives
 * {@code message_delta} with the stop reason and usage, and {@code message_stop}. Without a usage chunk,
 * {@code [DONE]} closes the message with zero output tokens. An error chunk becomes {@code event: error}
 * and ends the stream.
 * <p>
 * Anthropic blocks cannot interleave, so a piece of a tool call whose block was already closed (OpenAI
 * streams parallel calls one after another, so this does not happen in practice) cannot be delivered:
 * the stream ends with an error rather than hand the client arguments with a piece missing. Likewise a
 * stream that ends cleanly without a finish reason ends with an error instead of looking complete; one
 * that has its finish reason but no usage chunk or {@code [DONE]} is closed as {@code [DONE]} would.
 */
public final class ChatStreamToMessages implements StreamTranslator {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private boolean started;
    private boolean ended;
    /** Index of the next Anthropic content block. */
    private int nextBlock;
    /** Index of the open block, or -1. */
    private int openBlock = -1;
    private boolean openIsText;
    /** OpenAI index of the tool call in the open block (meaningful while a tool block is open). */
    private int openTool;
    /** OpenAI indices of the tool calls started so far. */
    private final Set<Integer> tools = new HashSet<>();
    private String finishReason;

    @Override
    public void onEvent(SseEvent event, Consumer<SseEvent> out) {
        if (ended || event.data() == null) {
            return;
        }
        if (event.data().equals("[DONE]")) {
            if (started) {
                close(null, out);
            } else {
                fail("the upstream stream ended without any chunk", "api_error", out);
            }
            return;
        }
        JsonNode chunk = Json.readOrNull(event.data());
        if (chunk == null || !chunk.isObject()) {
            return; // not a chunk: nothing the client could use
        }
        JsonNode error = chunk.path("error");
        if (error.isObject()) {
            String message = JsonValues.text(error.path("message"));
            fail(message.isEmpty() ? "the upstream stream failed" : message, StreamErrors.anthropicType(error), out);
            return;
        }
        if (!started) {
            messageStart(chunk, out);
        }
        JsonNode choice = chunk.path("choices").path(0); // n > 1 is never requested for an Anthropic client
        if (choice.isObject()) {
            choice(choice, out);
        }
        if (!ended && chunk.path("usage").isObject()) {
            close(chunk.get("usage"), out);
        }
    }

    @Override
    public void onEnd(Consumer<SseEvent> out) {
        if (ended) {
            return;
        }
        if (started && finishReason != null) {
            close(null, out);
        } else {
            fail("the upstream stream ended before the message was complete", "api_error", out);
        }
    }

    private void messageStart(JsonNode chunk, Consumer<SseEvent> out) {
        started = true;
        ObjectNode data = data("message_start");
        ObjectNode message = data.putObject("message");
        message.put("id", JsonValues.text(chunk.path("id")));
        message.put("type", "message");
        message.put("role", "assistant");
        message.put("model", JsonValues.text(chunk.path("model")));
        message.putArray("content");
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.putObject("usage").put("input_tokens", 0).put("output_tokens", 0);
        emit(data, out);
    }

    private void choice(JsonNode choice, Consumer<SseEvent> out) {
        JsonNode delta = choice.path("delta");
        text(JsonValues.text(delta.path("content")), out);
        text(JsonValues.text(delta.path("refusal")), out); // a refusal is the answer's text
        for (JsonNode call : delta.path("tool_calls")) {
            toolCall(call, out);
            if (ended) {
                return;
            }
        }
        if (choice.path("finish_reason").isTextual()) {
            finishReason = choice.get("finish_reason").asText();
            closeBlock(out);
        }
    }

    private void text(String text, Consumer<SseEvent> out) {
        if (text.isEmpty()) {
            return;
        }
        if (openBlock < 0 || !openIsText) {
            openBlock(F.objectNode().put("type", "text").put("text", ""), out);
        }
        ObjectNode data = blockDelta();
        ((ObjectNode) data.get("delta")).put("type", "text_delta").put("text", text);
        emit(data, out);
    }

    private void toolCall(JsonNode call, Consumer<SseEvent> out) {
        boolean hasIndex = call.path("index").canConvertToInt();
        int index = call.path("index").asInt();
        String id = JsonValues.text(call.path("id"));
        boolean toolOpen = openBlock >= 0 && !openIsText;
        boolean continues = toolOpen && (hasIndex ? index == openTool : id.isEmpty());
        if (!continues) {
            if (hasIndex && tools.contains(index)) {
                fail("the upstream interleaved the arguments of parallel tool calls, which an Anthropic stream"
                        + " cannot carry; retry without streaming or with parallel_tool_calls disabled", "api_error", out);
                return;
            }
            if (id.isEmpty()) {
                fail("the upstream streamed a tool call piece without a call it belongs to", "api_error", out);
                return;
            }
            int key = hasIndex ? index : -1 - tools.size(); // no index: a key no indexed call can have
            ObjectNode block = F.objectNode().put("type", "tool_use").put("id", id)
                    .put("name", JsonValues.text(call.path("function").path("name")));
            block.putObject("input");
            openBlock(block, out);
            tools.add(key);
            openTool = key;
        }
        String piece = JsonValues.text(call.path("function").path("arguments"));
        if (!piece.isEmpty()) {
            ObjectNode data = blockDelta();
            ((ObjectNode) data.get("delta")).put("type", "input_json_delta").put("partial_json", piece);
            emit(data, out);
        }
    }

    /** Closes the open block, if any, and opens the next one with this {@code content_block}. */
    private void openBlock(ObjectNode contentBlock, Consumer<SseEvent> out) {
        closeBlock(out);
        openBlock = nextBlock++;
        openIsText = contentBlock.get("type").asText().equals("text");
        ObjectNode start = data("content_block_start");
        start.put("index", openBlock);
        start.set("content_block", contentBlock);
        emit(start, out);
    }

    private void closeBlock(Consumer<SseEvent> out) {
        if (openBlock < 0) {
            return;
        }
        emit(data("content_block_stop").put("index", openBlock), out);
        openBlock = -1;
    }

    private ObjectNode blockDelta() {
        ObjectNode data = data("content_block_delta");
        data.put("index", openBlock);
        data.putObject("delta");
        return data;
    }

    /** Ends the message: the stop reason remembered from the finish chunk and the usage, if any came. */
    private void close(JsonNode usage, Consumer<SseEvent> out) {
        closeBlock(out);
        ObjectNode data = data("message_delta");
        data.putObject("delta").put("stop_reason", StopReasons.toAnthropic(finishReason)).putNull("stop_sequence");
        if (usage != null) {
            data.set("usage", UsageTranslation.toAnthropic(usage));
        } else {
            data.putObject("usage").put("output_tokens", 0);
        }
        emit(data, out);
        emit(data("message_stop"), out);
        ended = true;
    }

    private void fail(String message, String type, Consumer<SseEvent> out) {
        ended = true;
        out.accept(StreamErrors.anthropic(message, type));
    }

    private static ObjectNode data(String type) {
        return F.objectNode().put("type", type);
    }

    private static void emit(JsonNode data, Consumer<SseEvent> out) {
        out.accept(SseEvent.of(data.get("type").asText(), data.toString()));
    }
}
