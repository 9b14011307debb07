package io.ironruntime.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ProviderTest {
    @Test
    void keysAndModelsPickTheProvider() {
        assertEquals(Provider.ANTHROPIC, Provider.ofKey("sk-ant-api03-xyz"));
        assertEquals(Provider.OPENAI, Provider.ofKey("sk-proj-abc"));
        assertEquals(Provider.OPENAI, Provider.ofKey("anything-else"));
        assertEquals(Provider.ANTHROPIC, Provider.ofModel("claude-sonnet-4-20250514"));
        for (String m : new String[] {"gpt-4o-mini", "o1-preview", "o3-mini", "o4-mini", "chatgpt-4o-latest", "GPT-4.1"}) {
            assertEquals(Provider.OPENAI, Provider.ofModel(m), m);
        }
        assertNull(Provider.ofModel("llama-3"));
        assertNull(Provider.ofModel("o2-not-a-model".substring(0, 0)));
    }

    @Test
    void errorsHaveEachProvidersShape() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ErrorReply reply = ErrorReply.unauthorized("bad token");
        JsonNode openai = json.readTree(ProviderErrors.body(Provider.OPENAI, reply));
        assertEquals("bad token", openai.at("/error/message").asText());
        assertEquals("invalid_request_error", openai.at("/error/type").asText());
        assertEquals("invalid_api_key", openai.at("/error/code").asText());
        assertEquals(true, openai.at("/error/param").isNull());

        JsonNode anthropic = json.readTree(ProviderErrors.body(Provider.ANTHROPIC, reply));
        assertEquals("error", anthropic.get("type").asText());
        assertEquals("authentication_error", anthropic.at("/error/type").asText());
        assertEquals("bad token", anthropic.at("/error/message").asText());

        SseEvent event = ProviderErrors.streamEvent(Provider.ANTHROPIC, ErrorReply.upstreamTimeout("late"));
        assertEquals("error", event.event());
        assertEquals("timeout_error", json.readTree(event.data()).at("/error/type").asText());
        SseEvent oaEvent = ProviderErrors.streamEvent(Provider.OPENAI, ErrorReply.upstreamTimeout("late"));
        assertNull(oaEvent.event());
        assertEquals("upstream_timeout", json.readTree(oaEvent.data()).at("/error/code").asText());
    }
}
