package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Upstream errors in the client's format: golden cases ({@code errors-to-openai.json},
 * {@code errors-to-anthropic.json}: each an {@code anthropic} and an {@code openai} side of
 * {@code {"status", "body"}}, a null body standing for one that is not JSON) and the message cap.
 */
class ErrorTranslationTest {

    @TestFactory
    Stream<DynamicTest> anthropicErrorsAsOpenAi() throws IOException {
        return cases("errors-to-openai", "anthropic", "openai", ErrorTranslation::toOpenAi);
    }

    @TestFactory
    Stream<DynamicTest> openAiErrorsAsAnthropic() throws IOException {
        return cases("errors-to-anthropic", "openai", "anthropic", ErrorTranslation::toAnthropic);
    }

    private static Stream<DynamicTest> cases(String file, String from, String to,
            BiFunction<Integer, JsonNode, TranslatedError> translate) throws IOException {
        JsonNode all = ResponsePairs.read(file);
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                JsonNode in = e.getValue().get(from);
                JsonNode body = in.get("body").isNull() ? null : in.get("body");
                TranslatedError out = translate.apply(in.get("status").asInt(), body);
                assertEquals(e.getValue().at("/" + to + "/status").asInt(), out.status(), e.getKey());
                ResponsePairs.assertSameJson(e.getValue().at("/" + to + "/body"), out.body(), e.getKey());
            }));
        }
        return tests.stream();
    }

    @Test
    void longMessagesAreCappedBothWays() throws Exception {
        String huge = "x".repeat(50_000);
        JsonNode anthropic = Json.MAPPER.createObjectNode().put("type", "error").set("error",
                Json.MAPPER.createObjectNode().put("type", "api_error").put("message", huge));
        String toOpenAi = ErrorTranslation.toOpenAi(500, anthropic).body().at("/error/message").asText();
        JsonNode openAi = Json.MAPPER.createObjectNode().set("error",
                Json.MAPPER.createObjectNode().put("message", huge).put("code", "c".repeat(5_000)));
        String toAnthropic = ErrorTranslation.toAnthropic(500, openAi).body().at("/error/message").asText();
        for (String m : List.of(toOpenAi, toAnthropic)) {
            assertTrue(m.length() < 1200, "capped: " + m.length());
            assertTrue(m.startsWith("x".repeat(ErrorTranslation.MAX_MESSAGE) + "… (truncated)"), m.substring(0, 20));
        }
    }

    @Test
    void theCapNeverSplitsACharacter() {
        String s = "a".repeat(9) + "\uD83D\uDE00" + "b";
        assertEquals("a".repeat(9) + "… (truncated)", ErrorTranslation.cap(s, 10));
        assertEquals("abc", ErrorTranslation.cap("abc", 10));
    }
}
