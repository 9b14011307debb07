package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden pairs (test resources {@code translate/chat-to-messages/*.json}: an OpenAI Chat request, the
 * Anthropic Messages request it becomes, the fields dropped) and the requests that cannot be translated.
 */
class ChatToMessagesTest {
    private static final String DIR = "/translate/chat-to-messages/";
    private static final List<String> CASES = List.of("basic", "system-and-developer-joined", "consecutive-roles-merged",
            "images-data-and-http", "two-step-tool-conversation", "tool-choice-named", "stop-temperature-user-stream",
            "stop-array-and-json-mode", "json-schema", "unknown-fields-dropped");

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = ChatToMessagesTest.class.getResourceAsStream(DIR + name + ".json")) {
            if (in == null) {
                throw new IOException("missing test resource " + DIR + name + ".json");
            }
            return Json.MAPPER.readTree(in);
        }
    }

    @TestFactory
    Stream<DynamicTest> goldenPairs() {
        return CASES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode pair = resource(name);
            Translated t = ChatToMessages.translate(pair.get("chat"), 4096);
            assertEquals(pair.get("messages"), t.body(), name);
            List<String> dropped = new ArrayList<>();
            pair.get("dropped").forEach(d -> dropped.add(d.asText()));
            assertEquals(dropped, t.dropped(), name);
        }));
    }

    @TestFactory
    Stream<DynamicTest> untranslatableRequestsGiveAClearError() throws IOException {
        JsonNode errors = resource("errors");
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = errors.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                TranslationException x = assertThrows(TranslationException.class,
                        () -> ChatToMessages.translate(e.getValue().get("chat"), 4096));
                String expected = e.getValue().get("error").asText();
                assertTrue(x.getMessage().contains(expected), e.getKey() + ": " + x.getMessage());
            }));
        }
        return tests.stream();
    }

    @Test
    void parallelToolCallsOffWithoutAChoiceMeansAutoWithoutParallelUse() throws Exception {
        JsonNode chat = Json.MAPPER.readTree("{\"model\":\"claude-haiku-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"parallel_tool_calls\":false}");
        assertEquals(Json.MAPPER.readTree("{\"type\":\"auto\",\"disable_parallel_tool_use\":true}"),
                ChatToMessages.translate(chat, 100).body().get("tool_choice"));
        JsonNode none = Json.MAPPER.readTree("{\"model\":\"claude-haiku-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"none\",\"parallel_tool_calls\":false}");
        assertEquals(Json.MAPPER.readTree("{\"type\":\"none\"}"), ChatToMessages.translate(none, 100).body().get("tool_choice"));
    }

    @Test
    void theClientsRequestIsNotChanged() throws Exception {
        JsonNode chat = resource("two-step-tool-conversation").get("chat");
        String before = chat.toString();
        ChatToMessages.translate(chat, 4096);
        assertEquals(before, chat.toString());
    }
}
