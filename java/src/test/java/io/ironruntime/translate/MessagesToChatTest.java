package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden pairs (test resources {@code translate/messages-to-chat/*.json}: an Anthropic Messages request,
 * the OpenAI Chat request it becomes, the fields dropped) and the requests that cannot be translated.
 */
class MessagesToChatTest {
    private static final String DIR = "/translate/messages-to-chat/";
    private static final List<String> CASES = List.of("basic", "text-blocks", "system-string", "system-blocks",
            "images-base64-and-url", "two-step-tool-conversation", "tool-results-blocks-and-errors",
            "tool-choice-auto-no-parallel", "tool-choice-any", "tool-choice-named-no-parallel", "tool-choice-none",
            "tool-choice-without-tools", "stop-temperature-top-p-top-k-user-stream", "thinking-dropped",
            "unknown-fields-dropped");

    @TestFactory
    Stream<DynamicTest> goldenPairs() {
        return GoldenFiles.pairs(DIR, CASES, "messages", "chat", MessagesToChat::translate);
    }

    @TestFactory
    Stream<DynamicTest> untranslatableRequestsGiveAClearError() throws IOException {
        return GoldenFiles.errors(DIR, "messages", MessagesToChat::translate);
    }

    /** Tool ids and inputs go out in one format and come back in the other on the next request. */
    @Test
    void aToolConversationComesBackUnchangedThroughChatToMessages() throws Exception {
        JsonNode messages = GoldenFiles.read(DIR, "two-step-tool-conversation").get("messages");
        Translated chat = MessagesToChat.translate(messages);
        Translated back = ChatToMessages.translate(chat.body(), 4096);
        assertEquals(messages.get("messages"), back.body().get("messages"));
        assertEquals(messages, back.body());
        assertEquals(List.of(), chat.dropped());
        assertEquals(List.of(), back.dropped());
    }

    @Test
    void theClientsRequestIsNotChanged() throws Exception {
        for (String name : List.of("two-step-tool-conversation", "thinking-dropped", "tool-choice-named-no-parallel")) {
            JsonNode messages = GoldenFiles.read(DIR, name).get("messages");
            String before = messages.toString();
            MessagesToChat.translate(messages);
            assertEquals(before, messages.toString(), name);
        }
    }
}
