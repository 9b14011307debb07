package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.config.PiiConfig;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.events.EventQueue;
import io.ironruntime.pii.JsonTextStream;
import io.ironruntime.provider.SseEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The response rewriter on the three streaming formats, with the text split at every position:
 * what the client assembles equals the whole text redacted, every event stays valid JSON, and no
 * value leaks. (The same through the real SDKs is in tests/test_pii.py.)
 */
class ResponsePiiTest {
    static final String TEXT = "Reach jane.doe@example.com or +1 415 555 2671; card 4111 1111 1111 1111, SSN 123-45-6789,"
            + " IBAN GB82 WEST 1234 5698 7654 32, key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12 done.";
    static final String ARGS = "{\"to\":\"jane.doe@example.com\",\"note\":\"call\\n+1 415 555 2671\",\"card\":4111111111111111}";
    static final List<String> VALUES = List.of("jane.doe@example.com", "415 555 2671", "4111 1111 1111 1111", "123-45-6789",
            "GB82 WEST", "sk-proj-AbCdEfGh", "4111111111111111");

    static PiiGuard guard(String settings) {
        PiiConfig pii = RouterConfigReader.fromJson(settings).pii();
        return new PiiGuard(pii, new EventQueue(100_000), null);
    }

    static final PiiGuard REDACT = guard("{}");

    /** A request whose response is being checked; its detection count is what the ledger row gets. */
    static ProxyRequest request(String id) {
        return new ProxyRequest(id, new org.apache.hc.core5.http.message.BasicHttpRequest("POST", "/v1/chat/completions"), 0);
    }

    static String redactedText() {
        return REDACT.redact(TEXT, TextFields.Kind.TEXT, null);
    }

    static String redactedArgs() {
        return JsonTextStream.whole(REDACT.scanner, REDACT.redactor, null, ARGS);
    }

    static List<SseEvent> run(PiiGuard g, List<SseEvent> in) {
        ResponsePii r = new ResponsePii(g, request("req_test"));
        List<SseEvent> out = new ArrayList<>();
        for (SseEvent e : in) {
            r.onEvent(e, out::add);
        }
        r.onStreamEnd(out::add);
        return out;
    }

    static JsonNode json(SseEvent e) {
        JsonNode n = Json.readOrNull(e.data());
        assertNotNull(n, "not JSON: " + e.data());
        return n;
    }

    static void assertNoLeak(List<SseEvent> out, String where) {
        StringBuilder all = new StringBuilder();
        out.forEach(e -> all.append(new String(e.raw(), java.nio.charset.StandardCharsets.UTF_8)));
        for (String v : VALUES) {
            assertFalse(all.toString().contains(v), v + " leaked " + where);
        }
    }

    /** Every two-piece split of {@code s}, and one-character pieces. */
    static List<List<String>> splits(String s) {
        List<List<String>> all = new ArrayList<>();
        for (int k = 0; k <= s.length(); k++) {
            all.add(List.of(s.substring(0, k), s.substring(k)));
        }
        List<String> chars = new ArrayList<>();
        s.chars().forEach(c -> chars.add(String.valueOf((char) c)));
        all.add(chars);
        return all;
    }

    // ---- OpenAI chat ------------------------------------------------------------------------------

    static SseEvent chat(String deltaJson, String finish) {
        return SseEvent.of(null, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
                + "\"choices\":[{\"index\":0,\"delta\":" + deltaJson + ",\"logprobs\":null,\"finish_reason\":"
                + (finish == null ? "null" : "\"" + finish + "\"") + "}]}");
    }

    static String str(String s) {
        return Json.MAPPER.getNodeFactory().textNode(s).toString();
    }

    @Test
    void chatContentSplitAnywhereAssemblesToTheWholeTextRedacted() {
        String expected = redactedText();
        for (List<String> pieces : splits(TEXT)) {
            List<SseEvent> in = new ArrayList<>();
            in.add(chat("{\"role\":\"assistant\",\"content\":\"\"}", null));
            pieces.forEach(p -> in.add(chat("{\"content\":" + str(p) + "}", null)));
            in.add(chat("{}", "stop"));
            in.add(SseEvent.of(null, "[DONE]"));
            List<SseEvent> out = run(REDACT, in);
            StringBuilder got = new StringBuilder();
            for (SseEvent e : out) {
                if (!e.data().equals("[DONE]")) {
                    got.append(json(e).at("/choices/0/delta/content").asText(""));
                }
            }
            assertEquals(expected, got.toString(), "pieces " + pieces.size() + " first " + pieces.get(0).length());
            assertEquals("[DONE]", out.get(out.size() - 1).data());
            assertNoLeak(out, "in chat");
        }
    }

    @Test
    void chatToolCallArgumentsSplitAnywhereAssembleToTheArgumentsRedacted() {
        String expected = redactedArgs();
        assertTrue(Json.readOrNull(expected).isObject());
        for (List<String> pieces : splits(ARGS)) {
            List<SseEvent> in = new ArrayList<>();
            in.add(chat("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
                    + "\"function\":{\"name\":\"send\",\"arguments\":\"\"}}]}", null));
            pieces.forEach(p -> in.add(chat("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":" + str(p) + "}}]}", null)));
            in.add(chat("{}", "tool_calls"));
            List<SseEvent> out = run(REDACT, in);
            StringBuilder got = new StringBuilder();
            for (SseEvent e : out) {
                for (JsonNode call : json(e).at("/choices/0/delta/tool_calls")) {
                    assertEquals(0, call.path("index").asInt(-1));
                    got.append(call.at("/function/arguments").asText(""));
                }
            }
            assertEquals(expected, got.toString());
            assertNoLeak(out, "in tool arguments");
        }
    }

    // ---- Anthropic ---------------------------------------------------------------------------------

    static SseEvent ant(String type, String json) {
        return SseEvent.of(type, json);
    }

    @Test
    void anthropicTextAndToolBlocksSplitAnywhereAssembleRedacted() {
        String text = redactedText();
        String args = redactedArgs();
        List<List<String>> textSplits = splits(TEXT);
        List<List<String>> argSplits = splits(ARGS);
        int n = Math.max(textSplits.size(), argSplits.size());
        for (int s = 0; s < n; s++) {
            List<SseEvent> in = new ArrayList<>();
            in.add(ant("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
                    + "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\"}}"));
            in.add(ant("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
            in.add(ant("ping", "{\"type\":\"ping\"}"));
            for (String p : textSplits.get(Math.min(s, textSplits.size() - 1))) {
                in.add(ant("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
                        + str(p) + "}}"));
            }
            in.add(ant("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
            in.add(ant("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
                    + "\"id\":\"toolu_1\",\"name\":\"send\",\"input\":{}}}"));
            for (String p : argSplits.get(Math.min(s, argSplits.size() - 1))) {
                in.add(ant("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
                        + "\"partial_json\":" + str(p) + "}}"));
            }
            in.add(ant("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"));
            in.add(ant("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}"));
            in.add(ant("message_stop", "{\"type\":\"message_stop\"}"));
            List<SseEvent> out = run(REDACT, in);
            Map<Integer, StringBuilder> blocks = new LinkedHashMap<>();
            boolean stopped0 = false;
            for (SseEvent e : out) {
                JsonNode j = json(e);
                assertEquals(j.path("type").asText(), e.event(), "the event name matches its type");
                if (j.path("type").asText().equals("content_block_stop") && j.path("index").asInt() == 0) {
                    stopped0 = true;
                }
                if (j.path("type").asText().equals("content_block_delta")) {
                    int i = j.path("index").asInt();
                    assertFalse(i == 0 && stopped0, "no text after its block stopped");
                    JsonNode d = j.get("delta");
                    blocks.computeIfAbsent(i, k -> new StringBuilder())
                            .append(d.has("text") ? d.get("text").asText() : d.get("partial_json").asText());
                }
            }
            assertEquals(text, blocks.get(0).toString());
            assertEquals(args, blocks.get(1).toString());
            assertNoLeak(out, "in Anthropic events");
        }
    }

    // ---- OpenAI Responses --------------------------------------------------------------------------

    static int seq;

    static SseEvent resp(String type, String rest) {
        return SseEvent.of(type, "{\"type\":\"" + type + "\",\"sequence_number\":" + seq++ + "," + rest + "}");
    }

    @Test
    void responsesTextAndArgumentsSplitAnywhereAssembleRedactedAndTheDoneEventsAgree() {
        String text = redactedText();
        String args = redactedArgs();
        for (List<String> pieces : splits(TEXT)) {
            seq = 0;
            List<SseEvent> in = new ArrayList<>();
            in.add(resp("response.created", "\"response\":{\"id\":\"resp_1\",\"output\":[]}"));
            in.add(resp("response.content_part.added", "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,"
                    + "\"part\":{\"type\":\"output_text\",\"text\":\"\"}"));
            for (String p : pieces) {
                in.add(resp("response.output_text.delta", "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":"
                        + str(p) + ",\"logprobs\":[]"));
            }
            in.add(resp("response.output_text.done", "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"text\":" + str(TEXT)));
            in.add(resp("response.function_call_arguments.delta", "\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":"
                    + str(ARGS.substring(0, Math.min(pieces.get(0).length(), ARGS.length())))));
            in.add(resp("response.function_call_arguments.delta", "\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":"
                    + str(ARGS.substring(Math.min(pieces.get(0).length(), ARGS.length())))));
            in.add(resp("response.function_call_arguments.done", "\"item_id\":\"fc_1\",\"output_index\":1,\"arguments\":" + str(ARGS)));
            in.add(resp("response.completed", "\"response\":{\"id\":\"resp_1\",\"output\":[{\"type\":\"message\",\"id\":\"msg_1\","
                    + "\"content\":[{\"type\":\"output_text\",\"text\":" + str(TEXT) + "}]},{\"type\":\"function_call\",\"id\":\"fc_1\","
                    + "\"name\":\"send\",\"arguments\":" + str(ARGS) + "}]}"));
            List<SseEvent> out = run(REDACT, in);
            StringBuilder deltas = new StringBuilder();
            StringBuilder argDeltas = new StringBuilder();
            long expectSeq = 0;
            for (SseEvent e : out) {
                JsonNode j = json(e);
                assertEquals(expectSeq++, j.get("sequence_number").asLong(), "events stay numbered 0, 1, 2, ...");
                switch (j.path("type").asText()) {
                    case "response.output_text.delta" -> deltas.append(j.get("delta").asText());
                    case "response.function_call_arguments.delta" -> argDeltas.append(j.get("delta").asText());
                    case "response.output_text.done" -> {
                        assertEquals(text, deltas.toString(), "all text streamed before its done event");
                        assertEquals(text, j.get("text").asText());
                    }
                    case "response.function_call_arguments.done" -> assertEquals(args, j.get("arguments").asText());
                    case "response.completed" -> {
                        assertEquals(text, j.at("/response/output/0/content/0/text").asText());
                        assertEquals(args, j.at("/response/output/1/arguments").asText());
                    }
                    default -> { }
                }
            }
            assertEquals(args, argDeltas.toString());
            assertNoLeak(out, "in Responses events");
        }
    }

    // ---- modes and failures ------------------------------------------------------------------------

    @Test
    void blockModeStopsAtTheFirstValueWithNothingOfItEmitted() {
        PiiGuard block = guard("{\"pii\":\"block\"}");
        ProxyRequest req = request("req_b");
        ResponsePii r = new ResponsePii(block, req);
        List<SseEvent> out = new ArrayList<>();
        r.onEvent(chat("{\"content\":\"Write to jane.doe@exa\"}", null), out::add);
        ResponsePii.Refused refused = assertThrows(ResponsePii.Refused.class,
                () -> r.onEvent(chat("{\"content\":\"mple.com today\"}", null), out::add));
        assertTrue(refused.blocked);
        assertEquals("pii_blocked", refused.reply.code());
        assertTrue(refused.reply.message().contains("EMAIL"));
        assertFalse(refused.reply.message().contains("jane"));
        assertNoLeak(out, "before the block");
        assertEquals(1, block.audit.blockedResponses.sum());
        assertEquals(1, req.piiDetections.get(), "counted for the request's ledger row and event");
    }

    @Test
    void detectModeForwardsEveryEventUnchangedButCountsTheValues() {
        PiiGuard detect = guard("{\"pii\":\"detect\"}");
        List<SseEvent> in = List.of(chat("{\"content\":" + str(TEXT) + "}", null), chat("{}", "stop"));
        List<SseEvent> out = run(detect, in);
        StringBuilder got = new StringBuilder();
        out.forEach(e -> got.append(json(e).at("/choices/0/delta/content").asText("")));
        assertEquals(TEXT, got.toString());
        assertEquals(6, detect.audit.total(), "email, phone, card, SSN, IBAN and key in the text");
    }

    @Test
    void aDataLineThatIsNotJsonIsScannedAsTextRatherThanPassedOn() {
        List<SseEvent> out = run(REDACT, List.of(SseEvent.of(null, "raw jane.doe@example.com {")));
        assertEquals("raw [EMAIL_REDACTED] {", out.get(0).data());
    }

    @Test
    void nonStreamBodiesAreRewrittenInTheirTextFieldsOnly() {
        String body = "{\"id\":\"chatcmpl-jane.doe@example.com\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":" + str(TEXT) + ",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"send\","
                + "\"arguments\":" + str(ARGS) + "}}]},\"logprobs\":{\"content\":[{\"token\":\"jane\"}]},\"finish_reason\":\"stop\"}]}";
        ResponsePii r = new ResponsePii(REDACT, request("req_body"));
        JsonNode out = Json.readOrNull(r.onBody(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals("chatcmpl-jane.doe@example.com", out.get("id").asText(), "ids are not text");
        assertEquals(redactedText(), out.at("/choices/0/message/content").asText());
        assertEquals(redactedArgs(), out.at("/choices/0/message/tool_calls/0/function/arguments").asText());
        assertTrue(out.at("/choices/0/logprobs").isNull(), "log probabilities spell the tokens out");
    }

    @Test
    void hashTokensAreStableWithinARouterAndDifferAcrossSalts() {
        PiiGuard a = guard("{\"pii\":\"hash\"}");
        PiiGuard b = guard("{\"pii\":\"hash\"}");
        PiiGuard c = guard("{\"pii\":\"hash\",\"pii_salt\":\"0123456789abcdef-x\"}");
        PiiGuard d = guard("{\"pii\":\"hash\",\"pii_salt\":\"0123456789abcdef-x\"}");
        BiFunction<PiiGuard, String, String> h = (g, t) -> g.redact(t, TextFields.Kind.TEXT, null);
        String one = h.apply(a, "mail jane.doe@example.com");
        assertTrue(one.matches("mail \\[EMAIL_[0-9a-f]{8}]"), one);
        assertEquals(one, h.apply(a, "mail jane.doe@example.com"));
        assertFalse(one.equals(h.apply(b, "mail jane.doe@example.com")));
        assertEquals(h.apply(c, "mail jane.doe@example.com"), h.apply(d, "mail jane.doe@example.com"));
    }

    @Test
    void requestBodiesKeepModelIdsImagesAndToolDefinitions() {
        String body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"I am jane.doe@example.com\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,4111111111111111\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_123-45-6789\",\"content\":\"SSN 123-45-6789\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"mail admin@example.com\"}}],\"user\":\"u@example.com\"}";
        ProxyRequest r = postRequest("/v1/chat/completions", body);
        assertEquals(null, REDACT.admit(r));
        JsonNode sent = Json.readOrNull(r.body);
        assertEquals("I am [EMAIL_REDACTED]", sent.at("/messages/0/content/0/text").asText());
        assertEquals("data:image/png;base64,4111111111111111", sent.at("/messages/0/content/1/image_url/url").asText());
        assertEquals("call_123-45-6789", sent.at("/messages/1/tool_call_id").asText());
        assertEquals("SSN [US_SSN_REDACTED]", sent.at("/messages/1/content").asText());
        assertEquals("mail admin@example.com", sent.at("/tools/0/function/description").asText());
        assertEquals("u@example.com", sent.get("user").asText());
    }

    @Test
    void aBlockedRequestNamesTheTypesNeverTheValues() {
        PiiGuard block = guard("{\"pii\":\"block\"}");
        ProxyRequest r = postRequest("/v1/messages", "{\"model\":\"claude-sonnet-4-5\",\"system\":\"key sk-ant-api03-"
                + "abcdefghijklmnopqrstuvwxyz0123\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                + "\"tool_use_id\":\"t1\",\"content\":\"card 4111 1111 1111 1111\"}]}]}");
        var reply = block.admit(r);
        assertNotNull(reply);
        assertEquals(400, reply.status());
        assertEquals("pii_blocked", reply.code());
        assertTrue(reply.message().contains("ANTHROPIC_KEY, CREDIT_CARD"), reply.message());
        assertFalse(reply.message().contains("4111"));
        assertEquals(1, block.audit.blockedRequests.sum());
    }

    @Test
    void aPatternThatCannotRunFailsClosedOnBothSides() {
        PiiGuard g = guard("{\"pii_patterns\":[{\"name\":\"AB\",\"regex\":\"(a|b)+c\"}]}");
        String longText = "ab".repeat(100_000);
        ProxyRequest r = postRequest("/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + longText + "\"}]}");
        var reply = g.admit(r);
        assertNotNull(reply, "a request that could not be checked is not sent");
        assertEquals("pii_scan_failed", reply.code());
        assertTrue(reply.message().contains("AB") && reply.message().contains("simplify"), reply.message());
        ResponsePii resp = new ResponsePii(g, request("req_f"));
        List<SseEvent> out = new ArrayList<>();
        ResponsePii.Refused refused = assertThrows(ResponsePii.Refused.class,
                () -> resp.onEvent(chat("{\"content\":\"" + longText + "\"}", null), out::add));
        assertFalse(refused.blocked);
        assertEquals("pii_scan_failed", refused.reply.code());
        assertTrue(out.isEmpty(), "nothing of the unchecked text was emitted");
        assertThrows(ResponsePii.Refused.class, () -> new ResponsePii(g, request("req_g")).onBody(
                ("{\"choices\":[{\"message\":{\"content\":\"" + longText + "\"}}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    static ProxyRequest postRequest(String path, String body) {
        ProxyRequest r = new ProxyRequest("req_in", new org.apache.hc.core5.http.message.BasicHttpRequest("POST", path), body.length());
        r.body = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        r.json = Json.readOrNull(r.body);
        return r;
    }
}
