package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import org.junit.jupiter.api.Test;

class MeteredEndpointTest {
    private static final JsonNode WITH_MODEL = json("{\"model\":\"gpt-4o-mini\"}");
    private static final JsonNode NO_MODEL = json("{\"input\":\"x\"}");

    private static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void eachEndpointPath() {
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("POST", "/v1/chat/completions", WITH_MODEL));
        assertEquals(MeteredEndpoint.COMPLETIONS, MeteredEndpoint.of("POST", "/v1/completions", WITH_MODEL));
        assertEquals(MeteredEndpoint.RESPONSES, MeteredEndpoint.of("POST", "/v1/responses", WITH_MODEL));
        assertEquals(MeteredEndpoint.MESSAGES, MeteredEndpoint.of("POST", "/v1/messages", WITH_MODEL));
        assertEquals(MeteredEndpoint.EMBEDDINGS, MeteredEndpoint.of("POST", "/v1/embeddings", WITH_MODEL));
    }

    @Test
    void knownEndpointsAreMeteredEvenWithoutAModel() {
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("POST", "/v1/chat/completions", NO_MODEL));
        assertEquals(MeteredEndpoint.MESSAGES, MeteredEndpoint.of("POST", "/v1/messages", json("{}")));
        assertTrue(MeteredEndpoint.CHAT.needsModel());
        assertTrue(MeteredEndpoint.EMBEDDINGS.needsModel());
        assertFalse(MeteredEndpoint.OTHER.needsModel());
    }

    @Test
    void queryStringsAndTrailingSlashesAreIgnored() {
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("POST", "/v1/chat/completions?api-version=2024", WITH_MODEL));
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("POST", "/v1/chat/completions/", WITH_MODEL));
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("POST", "/v1/chat/completions//", WITH_MODEL));
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("POST", "/v1/chat/completions/?a=b/c", WITH_MODEL));
        assertEquals(MeteredEndpoint.MESSAGES, MeteredEndpoint.of("POST", "/v1/messages?beta=true", WITH_MODEL));
        assertEquals(MeteredEndpoint.RESPONSES, MeteredEndpoint.of("POST", "/v1/responses/", NO_MODEL));
        assertEquals(MeteredEndpoint.EMBEDDINGS, MeteredEndpoint.of("POST", "/v1/embeddings?x=1", WITH_MODEL));
        assertEquals(MeteredEndpoint.COMPLETIONS, MeteredEndpoint.of("POST", "/v1/completions/", NO_MODEL));
    }

    @Test
    void methodIsCaseInsensitiveAndOnlyPostIsMetered() {
        assertEquals(MeteredEndpoint.CHAT, MeteredEndpoint.of("post", "/v1/chat/completions", WITH_MODEL));
        assertNull(MeteredEndpoint.of("GET", "/v1/chat/completions", WITH_MODEL));
        assertNull(MeteredEndpoint.of("GET", "/v1/models", WITH_MODEL));
        assertNull(MeteredEndpoint.of("GET", "/v1/responses/resp_123", WITH_MODEL));
        assertNull(MeteredEndpoint.of("PUT", "/v1/messages", WITH_MODEL));
        assertNull(MeteredEndpoint.of("DELETE", "/v1/responses/resp_1", WITH_MODEL));
    }

    @Test
    void nonObjectBodiesAreNotMetered() {
        assertNull(MeteredEndpoint.of("POST", "/v1/chat/completions", null));
        assertNull(MeteredEndpoint.of("POST", "/v1/chat/completions", json("[{\"model\":\"gpt-4o\"}]")));
        assertNull(MeteredEndpoint.of("POST", "/v1/chat/completions", json("\"gpt-4o\"")));
        assertNull(MeteredEndpoint.of("POST", "/v1/messages", json("42")));
        assertNull(MeteredEndpoint.of("POST", "/v1/images/generations", json("null")));
    }

    @Test
    void tokenCountingIsFreeEvenWithAModel() {
        assertNull(MeteredEndpoint.of("POST", "/v1/messages/count_tokens", WITH_MODEL));
        assertNull(MeteredEndpoint.of("POST", "/v1/messages/count_tokens?beta=true", WITH_MODEL));
        assertNull(MeteredEndpoint.of("POST", "/v1/messages/count_tokens/", WITH_MODEL));
        assertNull(MeteredEndpoint.of("POST", "/v1/responses/input_tokens", WITH_MODEL));
        assertNull(MeteredEndpoint.of("POST", "/v1/responses/input_tokens/", WITH_MODEL));
    }

    @Test
    void unknownPostPathsAreOtherOnlyWithAModel() {
        assertEquals(MeteredEndpoint.OTHER, MeteredEndpoint.of("POST", "/v1/images/generations", WITH_MODEL));
        assertEquals(MeteredEndpoint.OTHER, MeteredEndpoint.of("POST", "/v1/audio/speech", WITH_MODEL));
        assertEquals(MeteredEndpoint.OTHER, MeteredEndpoint.of("POST", "/v1/chat/completions/extra", WITH_MODEL));
        assertNull(MeteredEndpoint.of("POST", "/v1/images/generations", NO_MODEL));
        assertNull(MeteredEndpoint.of("POST", "/v1/files", json("{\"purpose\":\"batch\"}")));
        assertNull(MeteredEndpoint.of("POST", "/v1/images/generations", json("{\"model\":null}")));
    }

    @Test
    void boundFieldsPerEndpoint() {
        assertEquals("max_completion_tokens", MeteredEndpoint.CHAT.boundField);
        assertEquals("max_tokens", MeteredEndpoint.COMPLETIONS.boundField);
        assertEquals("max_output_tokens", MeteredEndpoint.RESPONSES.boundField);
        assertEquals("max_tokens", MeteredEndpoint.MESSAGES.boundField);
        assertNull(MeteredEndpoint.EMBEDDINGS.boundField);
        assertNull(MeteredEndpoint.OTHER.boundField);
    }

    @Test
    void producesOutputPerEndpoint() {
        assertTrue(MeteredEndpoint.CHAT.producesOutput());
        assertTrue(MeteredEndpoint.COMPLETIONS.producesOutput());
        assertTrue(MeteredEndpoint.RESPONSES.producesOutput());
        assertTrue(MeteredEndpoint.MESSAGES.producesOutput());
        assertFalse(MeteredEndpoint.EMBEDDINGS.producesOutput());
        assertFalse(MeteredEndpoint.OTHER.producesOutput());
    }

    @Test
    void hasChoicesPerEndpoint() {
        assertTrue(MeteredEndpoint.CHAT.hasChoices());
        assertTrue(MeteredEndpoint.COMPLETIONS.hasChoices());
        assertFalse(MeteredEndpoint.RESPONSES.hasChoices());
        assertFalse(MeteredEndpoint.MESSAGES.hasChoices());
        assertFalse(MeteredEndpoint.EMBEDDINGS.hasChoices());
        assertFalse(MeteredEndpoint.OTHER.hasChoices());
    }

    @Test
    void usageOnRequestPerEndpoint() {
        assertTrue(MeteredEndpoint.CHAT.usageOnRequest);
        assertTrue(MeteredEndpoint.COMPLETIONS.usageOnRequest);
        assertFalse(MeteredEndpoint.RESPONSES.usageOnRequest);
        assertFalse(MeteredEndpoint.MESSAGES.usageOnRequest);
        assertFalse(MeteredEndpoint.EMBEDDINGS.usageOnRequest);
        assertFalse(MeteredEndpoint.OTHER.usageOnRequest);
    }
}
