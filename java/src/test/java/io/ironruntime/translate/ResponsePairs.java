package io.ironruntime.translate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.Comparator;

/**
 * The golden response pairs in test resources {@code translate/responses/*.json}: each holds an
 * {@code anthropic} and an {@code openai} side; the test classes name which direction each pair is for.
 */
final class ResponsePairs {
    private static final String DIR = "/translate/responses/";
    /** Numbers by value: parsed files hold ints where the translators write longs. */
    private static final Comparator<JsonNode> SAME = (a, b) -> a.isNumber() && b.isNumber()
            ? a.decimalValue().compareTo(b.decimalValue()) : a.equals(b) ? 0 : 1;

    private ResponsePairs() {
    }

    static JsonNode read(String name) throws IOException {
        try (InputStream in = ResponsePairs.class.getResourceAsStream(DIR + name + ".json")) {
            if (in == null) {
                throw new IOException("missing test resource " + DIR + name + ".json");
            }
            return Json.MAPPER.readTree(in);
        }
    }

    static void assertSameJson(JsonNode expected, JsonNode actual, String name) {
        assertTrue(expected != null && expected.equals(SAME, actual), name + "\nexpected: " + expected + "\nactual:   " + actual);
    }
}
