package io.ironruntime.router;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.pii.CustomPattern;
import io.ironruntime.pii.Finding;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.SseEvent;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Scans and rewrites one response on its way to the client. A whole JSON body is rewritten at once.
 * A stream is rewritten event by event ({@link ChatChunks}, {@link MessagesEvents},
 * {@link ResponsesEvents}): each streamed text has its own redactor that holds back only the tail
 * that could still grow into a value, flushed where that text ends.
 *
 * <p>In block mode a detection throws {@link Refused}; any other failure throws it too, and the
 * exchange ends the response with an error rather than let text through unchecked. Not thread-safe.
 */
final class ResponsePii {
    private final PiiGuard guard;
    /** The request this response answers: its id, agent and detection count go with each finding. */
    private final ProxyRequest request;
    private final StreamTexts texts;
    private final ChatChunks chat;
    private final MessagesEvents messages;
    private final ResponsesEvents responses;
    /** Log probabilities spell out the original tokens: withheld whenever text may be rewritten or blocked. */
    private final boolean withholdLogprobs;
    /** Rewrites whole texts, auditing what it finds where it finds it. */
    private final TextFields.Rewriter audited;

    /** The response must not reach the client (block mode, or the scan itself failed). */
    static final class Refused extends RuntimeException {
        final ErrorReply reply;
        final boolean blocked;

        Refused(ErrorReply reply, boolean blocked) {
            super(reply.message(), null, false, false);
            this.reply = reply;
            this.blocked = blocked;
        }
    }

    ResponsePii(PiiGuard guard, ProxyRequest request) {
        this.guard = guard;
        this.request = request;
        this.withholdLogprobs = guard.redactor.mode().rewrites() || guard.blocks();
        this.audited = (path, text, kind) -> guard.redact(text, kind, audit(path.toString()));
        this.texts = new StreamTexts(guard, this::audit);
        this.chat = new ChatChunks(texts);
        this.messages = new MessagesEvents(texts, guard, this::audit);
        this.responses = new ResponsesEvents(texts, guard);
    }

    /** The body the client gets instead of {@code json}. */
    byte[] onBody(byte[] json) {
        try {
            return rewriteBody(json);
        } catch (Refused r) {
            throw r;
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    private byte[] rewriteBody(byte[] json) {
        JsonNode root = Json.readOrNull(json);
        if (root == null) {
            String text = new String(json, StandardCharsets.UTF_8);
            String out = guard.redact(text, TextFields.Kind.TEXT, audit("body"));
            return out.equals(text) ? json : out.getBytes(StandardCharsets.UTF_8);
        }
        boolean changed = TextFields.rewriteBody(root, audited);
        if (withholdLogprobs) {
            changed |= withholdLogprobs(root);
        }
        return changed ? write(root).getBytes(StandardCharsets.UTF_8) : json;
    }

    /** Emits what the client gets for {@code e}: maybe flushed text first, then the event (rewritten or not). */
    void onEvent(SseEvent e, Consumer<SseEvent> out) {
        onEvent(e, null, out);
    }

    /** @param parsed {@code e}'s data already parsed, or null to parse it here */
    void onEvent(SseEvent e, JsonNode parsed, Consumer<SseEvent> out) {
        try {
            String data = e.data();
            if (data == null) {
                out.accept(e);
                return;
            }
            if (data.equals("[DONE]")) {
                texts.flushAll(out);
                out.accept(e);
                return;
            }
            JsonNode root = parsed != null ? parsed : Json.readOrNull(data);
            if (!(root instanceof ObjectNode o)) {
                String red = guard.redact(data, TextFields.Kind.TEXT, audit("data"));
                out.accept(red.equals(data) ? e : SseEvent.of(e.event(), red));
                return;
            }
            String type = o.path("type").asText("");
            responses.numbered(o);
            boolean changed;
            if (o.get("choices") instanceof ArrayNode choices) {
                changed = chat.chunk(o, choices, out);
            } else if (type.startsWith("response.")) {
                changed = responses.event(o, type, out);
            } else if (type.startsWith("content_block_") || type.startsWith("message_")) {
                changed = messages.event(o, type, out);
            } else if (type.equals("error") || o.has("error")) {
                changed = false;
            } else {
                changed = TextFields.rewriteBody(o, audited);
            }
            if (withholdLogprobs) {
                changed |= withholdLogprobs(o);
            }
            changed |= responses.renumber(o);
            out.accept(changed ? SseEvent.of(e.event(), write(o)) : e);
        } catch (Refused r) {
            throw r;
        } catch (RuntimeException ex) {
            throw failed(ex);
        }
    }

    /** The stream ended without its own last event: nothing held may be sent unfinished, so flush it. */
    void onStreamEnd(Consumer<SseEvent> out) {
        responses.ended();
        try {
            texts.flushAll(out);
        } catch (Refused r) {
            throw r;
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /**
     * Log probabilities spell out the tokens of the text, values included, and cannot be redacted in
     * step with it: wherever they are (chat choices, Responses parts and deltas), they are withheld,
     * a list emptied, anything else made {@code null}.
     */
    static boolean withholdLogprobs(JsonNode n) {
        boolean changed = false;
        if (n instanceof ObjectNode o) {
            JsonNode lp = o.get("logprobs");
            if (lp instanceof ArrayNode a ? !a.isEmpty() : lp != null && !lp.isNull()) {
                if (lp.isArray()) {
                    o.putArray("logprobs");
                } else {
                    o.putNull("logprobs");
                }
                changed = true;
            }
            for (JsonNode child : o) {
                changed |= child.isContainerNode() && withholdLogprobs(child);
            }
        } else if (n instanceof ArrayNode a) {
            for (JsonNode child : a) {
                changed |= child.isContainerNode() && withholdLogprobs(child);
            }
        }
        return changed;
    }

    /** The provider answered in an encoding the router cannot read: it cannot be checked, so it is not passed on. */
    Refused unreadable(String encoding) {
        guard.audit.failedResponses.increment();
        return new Refused(new ErrorReply(502, "server_error", "api_error", "pii_scan_failed", "The provider answered"
                + " with Content-Encoding '" + RequestStages.printable(encoding) + "' although the router asked for"
                + " none; a response that cannot be read cannot be checked for PII, so it was not passed on."), false);
    }

    /** Where the values found at {@code where} go: the audit, and in block mode a refusal. */
    private Consumer<Finding> audit(String where) {
        return f -> {
            guard.audit.record(request, "response", where, f);
            if (guard.blocks()) {
                guard.audit.blockedResponses.increment();
                throw new Refused(PiiGuard.blocked("The response was withheld: the model's answer contains "
                        + f.type() + " (pii='block' with pii_scope including 'response')."), true);
            }
        };
    }

    private Refused failed(Exception e) {
        guard.audit.failedResponses.increment();
        return new Refused(new ErrorReply(502, "server_error", "api_error", "pii_scan_failed",
                "The router could not check this response for PII ("
                        + (e instanceof CustomPattern.Failed ? e.getMessage() : e.getClass().getSimpleName())
                        + "), so it was stopped rather than passed on unchecked."), false);
    }

    static String write(JsonNode n) {
        try {
            return Json.MAPPER.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed event could not be written back", e);
        }
    }
}
