package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.provider.SseEvent;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;

/**
 * An Anthropic Messages stream as an OpenAI {@code chat.completion.chunk} stream, for an OpenAI-format
 * client calling a Claude model. Each upstream event becomes zero or one chunk at once; the only state
 * kept is the message's id and model, the tool call being streamed and the usage counts so far.
 * <p>
 * {@code message_start} gives the role chunk, text deltas give {@code content}, each {@code tool_use}
 * block a {@code tool_calls} entry numbered from 0 with its arguments streamed as they come;
 * {@code message_delta} gives the {@code finish_reason} chunk, {@code message_stop} the usage chunk
 * (when the client asked for {@code stream_options.include_usage}) and {@code [DONE]}. Thinking blocks,
 * signatures, citations and pings have no Chat counterpart and are skipped. An upstream {@code error}
 * event becomes an OpenAI error chunk and ends the stream.
 * <p>
 * A stream that ends cleanly but early is not passed off as a complete answer: without a stop reason
 * the client gets an error chunk (the SDK raises it) and no {@code [DONE]}; with a stop reason but
 * no {@code message_stop} the answer is whole, so it is finished as {@code message_stop} would.
 */
public final class MessagesStreamToChat implements StreamTranslator {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final SseEvent DONE = SseEvent.of(null, "[DONE]");

    private final boolean includeUsage;
    private final long created;
    private String id = "";
    private String model = "";
    /** Usage from message_start, overridden field by field by each message_delta's. */
    private ObjectNode usage = F.objectNode();
    /** The Anthropic index of the tool_use block being streamed, or -1. */
    private int toolBlock = -1;
    /** Tool calls started so far: the OpenAI index of the next one. */
    private int toolCalls;
    private boolean finishSent;
    private boolean ended;

    /**
     * @param includeUsage        the client's {@code stream_options.include_usage}: every chunk carries
     *                            {@code usage} (null until the last one) and a usage chunk ends the stream
     * @param createdEpochSeconds the chunks' {@code created}: Anthropic gives no timestamp
     */
    public MessagesStreamToChat(boolean includeUsage, long createdEpochSeconds) {
        this.includeUsage = includeUsage;
        this.created = createdEpochSeconds;
    }

    @Override
    public void onEvent(SseEvent event, Consumer<SseEvent> out) {
        if (ended || event.data() == null) {
            return;
        }
        JsonNode data = Json.readOrNull(event.data());
        if (data == null || !data.isObject()) {
            return; // not JSON: nothing the client could use (Anthropic sends only JSON data)
        }
        String type = data.path("type").isTextual() ? data.get("type").asText() : String.valueOf(event.event());
        switch (type) {
            case "message_start" -> messageStart(data.path("message"), out);
            case "content_block_start" -> blockStart(data.path("index").asInt(-1), data.path("content_block"), out);
            case "content_block_delta" -> blockDelta(data.path("index").asInt(-1), data.path("delta"), out);
            case "content_block_stop" -> {
                if (data.path("index").asInt(-1) == toolBlock) {
                    toolBlock = -1;
                }
            }
            case "message_delta" -> messageDelta(data, out);
            case "message_stop" -> finish(out);
            case "error" -> error(data.path("error"), out);
            default -> {
                // ping and event types added later: nothing to say to a Chat client
            }
        }
    }

    @Override
    public void onEnd(Consumer<SseEvent> out) {
        if (ended) {
            return;
        }
        if (finishSent) {
            finish(out);
        } else {
            ended = true;
            out.accept(StreamErrors.openAi("the upstream stream ended before the message was complete", "api_error"));
        }
    }

    private void messageStart(JsonNode message, Consumer<SseEvent> out) {
        id = JsonValues.text(message.path("id"));
        model = JsonValues.text(message.path("model"));
        mergeUsage(message.path("usage"));
        ObjectNode chunk = chunk();
        delta(chunk).put("role", "assistant").put("content", "");
        out.accept(event(chunk));
    }

    private void blockStart(int index, JsonNode block, Consumer<SseEvent> out) {
        String type = JsonValues.text(block.path("type"));
        if (type.equals("text")) {
            content(JsonValues.text(block.path("text")), out);
        } else if (type.equals("tool_use")) {
            toolBlock = index;
            ObjectNode chunk = chunk();
            ObjectNode call = delta(chunk).putArray("tool_calls").addObject();
            call.put("index", toolCalls++);
            call.put("id", JsonValues.text(block.path("id")));
            call.put("type", "function");
            call.putObject("function").put("name", JsonValues.text(block.path("name"))).put("arguments", "");
            out.accept(event(chunk));
        }
        // thinking, redacted_thinking, server tool blocks: not part of a Chat answer
    }

    private void blockDelta(int index, JsonNode delta, Consumer<SseEvent> out) {
        String type = JsonValues.text(delta.path("type"));
        if (type.equals("text_delta")) {
            content(JsonValues.text(delta.path("text")), out);
        } else if (type.equals("input_json_delta") && index == toolBlock) {
            String piece = JsonValues.text(delta.path("partial_json"));
            if (piece.isEmpty()) {
                return; // Anthropic opens each tool input with an empty piece
            }
            ObjectNode chunk = chunk();
            ObjectNode call = delta(chunk).putArray("tool_calls").addObject();
            call.put("index", toolCalls - 1);
            call.putObject("function").put("arguments", piece);
            out.accept(event(chunk));
        }
        // thinking_delta, signature_delta, citations_delta: skipped
    }

    private void content(String text, Consumer<SseEvent> out) {
        if (text.isEmpty()) {
            return;
        }
        ObjectNode chunk = chunk();
        delta(chunk).put("content", text);
        out.accept(event(chunk));
    }

    private void messageDelta(JsonNode data, Consumer<SseEvent> out) {
        mergeUsage(data.path("usage"));
        JsonNode stop = data.path("delta").path("stop_reason");
        if (finishSent || !stop.isTextual()) {
            return; // a later message_delta only updates the counts
        }
        finishSent = true;
        ObjectNode chunk = chunk();
        ((ObjectNode) chunk.get("choices").get(0)).put("finish_reason", StopReasons.toOpenAi(stop.asText()));
        out.accept(event(chunk));
    }

    private void finish(Consumer<SseEvent> out) {
        ended = true;
        if (includeUsage) {
            ObjectNode chunk = head();
            chunk.putArray("choices");
            chunk.set("usage", UsageTranslation.toOpenAi(usage));
            out.accept(event(chunk));
        }
        out.accept(DONE);
    }

    private void error(JsonNode error, Consumer<SseEvent> out) {
        ended = true;
        String type = JsonValues.text(error.path("type"));
        String message = JsonValues.text(error.path("message"));
        out.accept(StreamErrors.openAi(message.isEmpty() ? "the upstream stream failed" : message,
                type.isEmpty() ? "api_error" : type));
    }

    /** Counts that are present and not null replace the ones known so far (message_delta's are cumulative). */
    private void mergeUsage(JsonNode counts) {
        for (Iterator<Map.Entry<String, JsonNode>> it = counts.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNull()) {
                usage.set(e.getKey(), e.getValue());
            }
        }
    }

    /** A chunk with one choice whose delta is still empty; see {@link #delta}. */
    private ObjectNode chunk() {
        ObjectNode chunk = head();
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("delta");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        if (includeUsage) {
            chunk.putNull("usage"); // as OpenAI does on every chunk but the last when usage was asked for
        }
        return chunk;
    }

    private ObjectNode head() {
        ObjectNode chunk = F.objectNode();
        chunk.put("id", id);
        chunk.put("object", "chat.completion.chunk");
        chunk.put("created", created);
        chunk.put("model", model);
        return chunk;
    }

    private static ObjectNode delta(ObjectNode chunk) {
        return (ObjectNode) chunk.get("choices").get(0).get("delta");
    }

    private static SseEvent event(ObjectNode chunk) {
        return SseEvent.of(null, chunk.toString());
    }
}
