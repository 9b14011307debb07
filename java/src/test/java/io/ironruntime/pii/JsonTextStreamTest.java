package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTextStreamTest {
    private static final Scanner SCANNER = Scanner.all();
    private static final Redactor REDACT = new Redactor(PiiMode.REDACT, "json-salt".getBytes(StandardCharsets.UTF_8));

    /** Tool-call arguments as a model writes them: escapes inside strings, a card as a bare number. */
    private static final String ARGS = "{\"to\":\"jane.doe\\u0040example.com\",\"note\":\"Call me\\n+1 415 555 2671\\t\\\"today\\\"\","
            + "\"card\":4111111111111111,\"qty\":3,\"ok\":true,\"nested\":{\"ssn\":[\"123-45-6789\"]},\"pi\":3.25e2}";

    private static String whole(String json, List<Finding> seen) {
        return JsonTextStream.whole(SCANNER, REDACT, seen::add, json);
    }

    @Test
    void valuesInsideStringsAreSeenDecodedAndTheDocumentStaysValidJson() {
        List<Finding> seen = new ArrayList<>();
        String out = whole(ARGS, seen);
        JsonNode n = Json.readOrNull(out);
        assertTrue(n != null && n.isObject(), out);
        assertEquals("[EMAIL_REDACTED]", n.get("to").asText());
        assertEquals("Call me\n[PHONE_REDACTED]\t\"today\"", n.get("note").asText());
        assertEquals("[CREDIT_CARD_REDACTED]", n.get("card").asText());
        assertEquals("[US_SSN_REDACTED]", n.at("/nested/ssn/0").asText());
        assertEquals(3, n.get("qty").asInt());
        assertTrue(n.get("ok").asBoolean());
        assertEquals(325.0, n.get("pi").asDouble());
        assertEquals(List.of("EMAIL", "PHONE", "CREDIT_CARD", "US_SSN"), seen.stream().map(Finding::type).toList());
    }

    @Test
    void splitAtEveryPairOfPositionsTheOutputIsTheSameAndNothingLeaks() {
        String expected = whole(ARGS, new ArrayList<>());
        for (int k = 0; k <= ARGS.length(); k++) {
            for (int m = k; m <= ARGS.length(); m++) {
                JsonTextStream s = new JsonTextStream(SCANNER, REDACT, f -> { });
                String out = s.push(ARGS.substring(0, k)) + s.push(ARGS.substring(k, m)) + s.push(ARGS.substring(m)) + s.finish();
                assertEquals(expected, out, "split at " + k + "/" + m);
            }
        }
        for (String leak : List.of("example.com", "555 2671", "4111111111111111", "123-45-6789")) {
            assertFalse(expected.contains(leak), leak);
        }
    }

    @Test
    void findingsPointIntoTheJsonSourceEvenPastEscapes() {
        List<Finding> seen = new ArrayList<>();
        String args = "{\"a\":\"tab\\there\",\"to\":\"x\\u0041 jane.doe@example.com\",\"card\":4111111111111111}";
        whole(args, seen);
        assertEquals(List.of("EMAIL", "CREDIT_CARD"), seen.stream().map(Finding::type).toList());
        assertEquals("jane.doe@example.com", args.substring((int) seen.get(0).start(), (int) seen.get(0).end()));
        assertEquals("4111111111111111", args.substring((int) seen.get(1).start(), (int) seen.get(1).end()));
        // and the same when the document streams in pieces
        for (int k = 0; k <= args.length(); k++) {
            List<Finding> split = new ArrayList<>();
            JsonTextStream s = new JsonTextStream(SCANNER, REDACT, split::add);
            s.push(args.substring(0, k));
            s.push(args.substring(k));
            s.finish();
            assertEquals(seen, split, "split at " + k);
        }
    }

    @Test
    void aSurrogatePairEscapedInTwoPiecesStaysOneCharacter() {
        String args = "{\"note\":\"call \\ud83d\\udcde +1 415 555 2671\"}";
        String expected = "{\"note\":\"call \ud83d\udcde [PHONE_REDACTED]\"}";
        assertEquals(expected, whole(args, new ArrayList<>()));
        for (int k = 0; k <= args.length(); k++) {
            JsonTextStream s = new JsonTextStream(SCANNER, REDACT, f -> { });
            String a = s.push(args.substring(0, k));
            assertFalse(!a.isEmpty() && Character.isHighSurrogate(a.charAt(a.length() - 1)), "half a pair emitted at " + k);
            assertEquals(expected, a + s.push(args.substring(k)) + s.finish(), "split at " + k);
        }
    }

    @Test
    void aDocumentBrokenOffInsideAStringIsRedactedToItsEnd() {
        JsonTextStream s = new JsonTextStream(SCANNER, REDACT, f -> { });
        String out = s.push("{\"to\":\"jane@exam") + s.push("ple.com") + s.finish();
        assertEquals("{\"to\":\"[EMAIL_REDACTED]", out);
    }

    @Test
    void withoutASinkNothingIsReported() {
        assertEquals("{\"to\":\"[EMAIL_REDACTED]\"}", JsonTextStream.whole(SCANNER, REDACT, null, "{\"to\":\"a@example.com\"}"));
    }

    @Test
    void detectModeLeavesTheDocumentByteForByte() {
        Redactor detect = new Redactor(PiiMode.DETECT, "x".getBytes(StandardCharsets.UTF_8));
        List<Finding> seen = new ArrayList<>();
        String plain = "{\"card\":4111111111111111,\"to\":\"jane@example.com\"}";
        assertEquals(plain, JsonTextStream.whole(SCANNER, detect, seen::add, plain));
        assertEquals(2, seen.size());
    }
}
