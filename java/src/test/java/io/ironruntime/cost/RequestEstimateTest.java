package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import org.junit.jupiter.api.Test;

class RequestEstimateTest {
    private static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    @Test
    void openAiChatCountsTextPlusMessageOverheadAndReadsTheBound() throws Exception {
        RequestEstimate e = RequestEstimate.of("gpt-4o-mini", json("{\"model\":\"gpt-4o-mini\",\"max_completion_tokens\":50,"
                + "\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello, world!\"}]}]}"));
        long text = TokenCounter.count("gpt-4o-mini", "You are terse.\n") + TokenCounter.count("gpt-4o-mini", "Hello, world!\n");
        assertEquals(text + 2 * RequestEstimate.TOKENS_PER_MESSAGE + 3, e.inputTokens());
        assertEquals(50, e.outputBound());
        assertTrue(e.hasOutputBound());
    }

    @Test
    void anthropicSystemToolsImagesAndToolResultsAllCount() throws Exception {
        String plain = "{\"model\":\"claude-sonnet-4\",\"max_tokens\":1024,\"system\":\"Be brief.\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"What is in the image?\"}]}";
        String rich = "{\"model\":\"claude-sonnet-4\",\"max_tokens\":1024,\"system\":\"Be brief.\","
                + "\"tools\":[{\"name\":\"lookup\",\"description\":\"Find a thing\",\"input_schema\":{\"type\":\"object\"}}],"
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is in the image?\"},"
                + "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]},"
                + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"lookup\",\"input\":{\"q\":\"cat\"}}]},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"a cat\"}]}]}";
        RequestEstimate a = RequestEstimate.of("claude-sonnet-4", json(plain));
        RequestEstimate b = RequestEstimate.of("claude-sonnet-4", json(rich));
        assertEquals(1024, a.outputBound());
        assertTrue(b.inputTokens() >= a.inputTokens() + RequestEstimate.TOKENS_PER_IMAGE + 2 * RequestEstimate.TOKENS_PER_MESSAGE + 5,
                a.inputTokens() + " vs " + b.inputTokens());
        assertTrue(b.inputTokens() < a.inputTokens() + RequestEstimate.TOKENS_PER_IMAGE + 200, "base64 data is not counted as text");
    }

    @Test
    void responsesInputStringOrItems() throws Exception {
        RequestEstimate s = RequestEstimate.of("gpt-4.1", json("{\"input\":\"Write a haiku.\",\"instructions\":\"Rhyme.\","
                + "\"max_output_tokens\":200}"));
        assertEquals(200, s.outputBound());
        assertTrue(s.inputTokens() >= TokenCounter.count("gpt-4.1", "Write a haiku."));
        RequestEstimate items = RequestEstimate.of("gpt-4.1", json("{\"input\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"input_text\",\"text\":\"Write a haiku.\"}]}]}"));
        assertFalse(items.hasOutputBound());
        assertTrue(items.inputTokens() > RequestEstimate.TOKENS_PER_MESSAGE);
    }

    @Test
    void badBoundsAreClientErrors() throws Exception {
        assertThrows(RequestEstimate.InvalidRequest.class, () -> RequestEstimate.of("gpt-4o", json("{\"max_tokens\":\"many\"}")));
        assertThrows(RequestEstimate.InvalidRequest.class, () -> RequestEstimate.of("gpt-4o", json("{\"max_tokens\":1.5}")));
        assertThrows(RequestEstimate.InvalidRequest.class, () -> RequestEstimate.of("gpt-4o", json("{\"max_tokens\":0}")));
        RequestEstimate.InvalidRequest huge = assertThrows(RequestEstimate.InvalidRequest.class,
                () -> RequestEstimate.of("gpt-4o", json("{\"max_completion_tokens\":99999999999}")));
        assertTrue(huge.getMessage().contains("max_completion_tokens must be between 1 and 10000000"));
        RequestEstimate none = RequestEstimate.of("gpt-4o", json("[]"));
        assertEquals(0, none.inputTokens());
        assertFalse(none.hasOutputBound());
    }
}
