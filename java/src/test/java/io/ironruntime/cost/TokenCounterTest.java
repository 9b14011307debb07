package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenCounterTest {
    @Test
    void openAiCountsUseTheModelsEncoding() {
        // Reference counts from OpenAI's tiktoken for "Hello, world!": 4 tokens in both encodings.
        assertEquals(4, TokenCounter.count("gpt-4o-mini", "Hello, world!"));
        assertEquals(4, TokenCounter.count("gpt-3.5-turbo", "Hello, world!"));
        assertEquals("o200k_base", TokenCounter.encodingFor("gpt-4.1").getName());
        assertEquals("o200k_base", TokenCounter.encodingFor("o3-mini").getName());
        assertEquals("cl100k_base", TokenCounter.encodingFor("gpt-4-turbo").getName());
        assertEquals("cl100k_base", TokenCounter.encodingFor("gpt-4").getName());
        assertEquals(0, TokenCounter.count("gpt-4o", ""));
        assertTrue(TokenCounter.isExact("gpt-4o"));
    }

    @Test
    void claudeIsAnEstimateThatErrsHigh() {
        String text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
        long cl100k = TokenCounter.count("gpt-4", text);
        long claude = TokenCounter.count("claude-sonnet-4", text);
        assertEquals((cl100k * 5 + 3) / 4, claude);
        assertTrue(claude > cl100k);
        assertFalse(TokenCounter.isExact("claude-3-5-haiku"));
        assertEquals(2, TokenCounter.count("claude-3-haiku", "Hi"), "one cl100k token rounds up to two");
    }
}
