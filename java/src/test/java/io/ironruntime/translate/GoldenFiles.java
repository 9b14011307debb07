package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * The golden files of the request translation tests, one folder per direction under test resources
 * {@code translate/}: a file per feature holding a request in the client's format, the request it
 * becomes and the fields dropped, and an {@code errors.json} of requests that cannot be translated.
 */
final class GoldenFiles {
    /** A translation under test. */
    @FunctionalInterface
    interface Translation {
        Translated apply(JsonNode request) throws TranslationException;
    }

    private GoldenFiles() {
    }

    static JsonNode read(String dir, String name) throws IOException {
        try (InputStream in = GoldenFiles.class.getResourceAsStream(dir + name + ".json")) {
            if (in == null) {
                throw new IOException("missing test resource " + dir + name + ".json");
            }
            return Json.MAPPER.readTree(in);
        }
    }

    /** A test per case: the file's {@code from} request becomes its {@code to} request and drops its {@code dropped}. */
    static Stream<DynamicTest> pairs(String dir, List<String> cases, String from, String to, Translation translation) {
        return cases.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode pair = read(dir, name);
            Translated t = translation.apply(pair.get(from));
            assertEquals(pair.get(to), t.body(), name);
            List<String> dropped = new ArrayList<>();
            pair.get("dropped").forEach(d -> dropped.add(d.asText()));
            assertEquals(dropped, t.dropped(), name);
        }));
    }

    /** A test per entry of {@code errors.json}: its {@code from} request fails with a message containing {@code error}. */
    static Stream<DynamicTest> errors(String dir, String from, Translation translation) throws IOException {
        JsonNode errors = read(dir, "errors");
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = errors.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                TranslationException x = assertThrows(TranslationException.class,
                        () -> translation.apply(e.getValue().get(from)));
                String expected = e.getValue().get("error").asText();
                assertTrue(x.getMessage().contains(expected), e.getKey() + ": " + x.getMessage());
            }));
        }
        return tests.stream();
    }
}
