package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.util.List;
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

    @TestFactory
    Stream<DynamicTest> goldenPairs() {
        return GoldenFiles.pairs(DIR, CASES, "chat", "messages", chat -> ChatToMessages.translate(chat, 4096));
    }

    @TestFactory
    Stream<DynamicTest> untranslatableRequestsGiveAClearError() throws IOException {
        return GoldenFiles.errors(DIR, "chat", chat -> ChatToMessages.translate(chat, 4096));
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
        JsonNode chat = GoldenFiles.read(DIR, "two-step-tool-conversation").get("chat");
        String before = chat.toString();
        ChatToMessages.translate(chat, 4096);
        assertEquals(before, chat.toString());
    }
}
