package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.provider.SseEvent;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A recorded stream (test resources {@code translate/streams/*.json}): the upstream's events, the client
 * events they must become, and the translator's parameters. Each event is {@code {"event": name or null,
 * "data": "<JSON text or [DONE]>"}}.
 */
final class GoldenStream {
    private static final String DIR = "/translate/streams/";

    final JsonNode file;
    final List<SseEvent> upstream;
    final List<SseEvent> client;

    private GoldenStream(JsonNode file) {
        this.file = file;
        this.upstream = events(file.get("upstream"));
        this.client = events(file.get("client"));
    }

    static GoldenStream load(String name) throws IOException {
        try (InputStream in = GoldenStream.class.getResourceAsStream(DIR + name + ".json")) {
            if (in == null) {
                throw new IOException("missing test resource " + DIR + name + ".json");
            }
            return new GoldenStream(Json.MAPPER.readTree(in));
        }
    }

    /** Feeds every upstream event, then ends the stream; returns all that the translator emitted. */
    static List<SseEvent> run(StreamTranslator translator, List<SseEvent> upstream) {
        List<SseEvent> out = new ArrayList<>();
        for (SseEvent e : upstream) {
            translator.onEvent(e, out::add);
        }
        translator.onEnd(out::add);
        return out;
    }

    /** Same event names and same data (compared as JSON trees, so member order does not matter). */
    static void assertSameEvents(List<SseEvent> expected, List<SseEvent> actual, String name) {
        assertEquals(render(expected), render(actual), name);
    }

    /** Each event as [name, data], the data as plain maps and lists so that equality ignores member order. */
    private static List<List<Object>> render(List<SseEvent> events) {
        List<List<Object>> rendered = new ArrayList<>();
        for (SseEvent e : events) {
            JsonNode tree = Json.readOrNull(e.data());
            Object data = tree == null ? e.data() : Json.MAPPER.convertValue(tree, Object.class);
            rendered.add(Arrays.asList(e.event(), data));
        }
        return rendered;
    }

    private static List<SseEvent> events(JsonNode array) {
        List<SseEvent> events = new ArrayList<>();
        for (JsonNode e : array) {
            String event = e.path("event").isTextual() ? e.get("event").asText() : null;
            events.add(SseEvent.of(event, e.get("data").asText()));
        }
        return events;
    }
}
