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

/** OpenAI chat completions as Anthropic Messages responses: golden pairs and odd input. */
class CompletionToMessageTest {
    /** Pairs whose {@code openai} side becomes exactly their {@code anthropic} side. */
    private static final List<String> CASES = List.of("text", "tool-call-one", "tool-calls-two", "tool-call-without-text",
            "max-tokens", "usage-cache-to-anthropic", "refusal-from-openai", "content-filter", "broken-tool-arguments");

    @TestFactory
    Stream<DynamicTest> goldenPairs() {
        return CASES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode pair = ResponsePairs.read(name);
            ResponsePairs.assertSameJson(pair.get("anthropic"), CompletionToMessage.translate(pair.get("openai")), name);
        }));
    }

    @Test
    void argumentsAlreadyAnObjectAreTakenAsTheyAre() throws Exception {
        JsonNode completion = Json.MAPPER.readTree("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"call_1\","
                + "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},\"finish_reason\":\"tool_calls\"}]}");
        ObjectNode message = CompletionToMessage.translate(completion);
        assertEquals(Json.MAPPER.readTree("{\"a\":1}"), message.at("/content/0/input"));
        assertEquals("tool_use", message.get("stop_reason").asText());
    }

    @Test
    void arrayContentKeepsItsTextParts() throws Exception {
        JsonNode completion = Json.MAPPER.readTree("{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                + "{\"type\":\"image_url\"},{\"type\":\"text\",\"text\":\"b\"}]},\"finish_reason\":\"stop\"}]}");
        assertEquals("ab", CompletionToMessage.translate(completion).at("/content/0/text").asText());
    }

    @Test
    void oddBodiesGiveAWellFormedMessageInsteadOfACrash() throws Exception {
        for (String odd : new String[] {"null", "[]", "\"x\"", "{}", "{\"choices\":[]}", "{\"choices\":{\"a\":1},\"usage\":\"x\"}",
                "{\"choices\":[{\"message\":{\"content\":5,\"tool_calls\":[null,{\"function\":7}]},\"finish_reason\":1}]}"}) {
            ObjectNode m = CompletionToMessage.translate(Json.MAPPER.readTree(odd));
            assertEquals("message", m.get("type").asText(), odd);
            assertTrue(m.get("content").isArray(), odd);
            for (JsonNode block : m.get("content")) {
                assertTrue(block.path("type").asText().equals("tool_use") ? block.get("input").isObject() : true, odd);
            }
            assertEquals(0, m.at("/usage/output_tokens").asInt(), odd);
        }
        assertEquals("message", CompletionToMessage.translate(null).get("type").asText());
    }

    @Test
    void theUpstreamsCompletionIsNotChanged() throws Exception {
        JsonNode completion = ResponsePairs.read("broken-tool-arguments").get("openai");
        String before = completion.toString();
        ObjectNode message = CompletionToMessage.translate(completion);
        ((ObjectNode) message.at("/content/0/input")).put("changed", true);
        assertEquals(before, completion.toString());
    }
}
