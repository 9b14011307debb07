package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Anthropic Messages responses as OpenAI chat completions: golden pairs and odd input. */
class MessageToCompletionTest {
    private static final long CREATED = 1700000000L;
    /** Pairs whose {@code anthropic} side becomes exactly their {@code openai} side. */
    private static final List<String> CASES = List.of("text", "text-blocks-joined", "tool-call-one", "tool-calls-two",
            "tool-call-without-text", "max-tokens", "stop-sequence", "pause-turn", "context-window-exceeded",
            "refusal-from-claude", "thinking-left-out", "usage-cache-to-openai");

    @TestFactory
    Stream<DynamicTest> goldenPairs() {
        return CASES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode pair = ResponsePairs.read(name);
            ResponsePairs.assertSameJson(pair.get("openai"), MessageToCompletion.translate(pair.get("anthropic"), CREATED), name);
        }));
    }

    @Test
    void toolArgumentsAreTheInputAsJsonThatParsesBack() throws Exception {
        JsonNode message = ResponsePairs.read("tool-calls-two").get("anthropic");
        JsonNode calls = MessageToCompletion.translate(message, CREATED).at("/choices/0/message/tool_calls");
        assertEquals(2, calls.size());
        for (int i = 0; i < 2; i++) {
            String arguments = calls.get(i).at("/function/arguments").asText();
            assertEquals(message.at("/content/" + (i + 1) + "/input"), Json.MAPPER.readTree(arguments));
        }
    }

    @Test
    void aToolUseWithoutAnObjectInputHasEmptyArguments() throws Exception {
        JsonNode message = Json.MAPPER.readTree("{\"id\":\"msg_1\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\","
                + "\"name\":\"f\"}],\"stop_reason\":\"tool_use\"}");
        ObjectNode completion = MessageToCompletion.translate(message, CREATED);
        assertEquals("{}", completion.at("/choices/0/message/tool_calls/0/function/arguments").asText());
        assertEquals("tool_calls", completion.at("/choices/0/finish_reason").asText());
    }

    @Test
    void oddBodiesGiveAWellFormedCompletionInsteadOfACrash() throws Exception {
        for (String odd : new String[] {"null", "[]", "\"x\"", "{}", "{\"content\":\"text\",\"usage\":7,\"stop_reason\":3}",
                "{\"content\":[null,1,{\"type\":\"text\",\"text\":5}]}"}) {
            ObjectNode c = MessageToCompletion.translate(Json.MAPPER.readTree(odd), CREATED);
            assertEquals("chat.completion", c.get("object").asText(), odd);
            assertTrue(c.at("/choices/0/message/role").isTextual(), odd);
            assertTrue(c.at("/choices/0/finish_reason").isNull(), odd);
            assertEquals(0, c.at("/usage/total_tokens").asInt(), odd);
        }
        assertEquals("chat.completion", MessageToCompletion.translate(null, CREATED).get("object").asText());
    }

    @Test
    void theUpstreamsMessageIsNotChanged() throws Exception {
        JsonNode message = ResponsePairs.read("tool-calls-two").get("anthropic");
        String before = message.toString();
        MessageToCompletion.translate(message, CREATED);
        assertEquals(before, message.toString());
    }
}
