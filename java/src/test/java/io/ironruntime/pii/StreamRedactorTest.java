package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class StreamRedactorTest {
    private static final byte[] SALT = "stream-salt".getBytes(StandardCharsets.UTF_8);
    private static final Scanner SCANNER = Scanner.all();
    private static final Redactor REDACT = new Redactor(PiiMode.REDACT, SALT);

    private static StreamRedactor redactor(List<Finding> seen) {
        return new StreamRedactor(SCANNER, REDACT, seen::add);
    }

    private static String whole(String text) {
        return REDACT.apply(text, SCANNER.scan(text));
    }

    @Test
    void emitsAtOnceWhatCannotGrowAndHoldsOnlyTheOpenTail() {
        StreamRedactor r = redactor(new ArrayList<>());
        assertEquals("Hello ", r.push("Hello wor"));
        assertEquals(3, r.held());
        assertEquals("world, mail ", r.push("ld, mail jane"));
        assertEquals("", r.push(".doe@exa"));
        assertEquals("[EMAIL_REDACTED] now", r.push("mple.com now") + r.finish());
    }

    @Test
    void groupedNumbersAreHeldUntilTheyCannotGoOn() {
        StreamRedactor r = redactor(new ArrayList<>());
        assertEquals("card ", r.push("card 4111 1111 "));
        assertEquals("", r.push("1111 1111"));
        assertEquals("[CREDIT_CARD_REDACTED] thanks", r.push(" thanks") + r.finish());
    }

    @Test
    void anOpenPrivateKeyBlockIsHeldAndAnUnfinishedOneRedactedToTheEnd() {
        StreamRedactor r = redactor(new ArrayList<>());
        assertEquals("key:\n", r.push("key:\n-----BEGIN PRIVATE KEY-----\nMIIEv"));
        assertEquals("", r.push("QIBADANBgkqhkiG9w0BAQEFAASC\n"));
        assertEquals("[PRIVATE_KEY_REDACTED]", r.finish());
    }

    @Test
    @Timeout(60)
    void splitAnywhereTheOutputEqualsTheWholeTextRedactedAndNothingLeaks() {
        LabelledCorpus corpus = new LabelledCorpus(7L);
        List<LabelledCorpus.Doc> docs = new ArrayList<>(corpus.positives(60));
        docs.addAll(corpus.negatives(200));
        int splits = 0;
        for (LabelledCorpus.Doc doc : docs) {
            if (!doc.region().equals("US")) {
                continue; // the redactor under test scans with the US phone region
            }
            String text = doc.text();
            String expected = whole(text);
            for (int k = 0; k <= text.length(); k++) {
                for (int m = k; m <= text.length(); m += Math.max(1, (text.length() - k) / 3)) {
                    StreamRedactor r = redactor(new ArrayList<>());
                    String out = r.push(text.substring(0, k)) + r.push(text.substring(k, m)) + r.push(text.substring(m))
                            + r.finish();
                    splits++;
                    if (!out.equals(expected)) {
                        assertEquals(expected, out, "split at " + k + " and " + m + " of: " + text);
                    }
                    for (Detection d : doc.expected()) {
                        String value = text.substring(d.start(), d.end());
                        assertFalse(out.contains(value), "leaked " + d.type() + " at split " + k + "/" + m);
                    }
                }
            }
        }
        assertTrue(splits > 100_000, "splits: " + splits);
    }

    @Test
    void everyDetectionIsReportedOnceWithOffsetsFromTheStreamStartAndAFingerprint() {
        List<Finding> seen = new ArrayList<>();
        StreamRedactor r = redactor(seen);
        String text = "a@example.com and 123-45-6789 ok";
        String out = r.push("a@example.com and ") + r.push("123-45-") + r.push("6789 ok") + r.finish();
        assertEquals("[EMAIL_REDACTED] and [US_SSN_REDACTED] ok", out);
        assertEquals(List.of("EMAIL", "US_SSN"), seen.stream().map(Finding::type).toList());
        assertEquals(text.indexOf("123"), seen.get(1).start());
        assertEquals(text.indexOf(" ok"), seen.get(1).end());
        Detection ssn = new Detection(EntityType.US_SSN, text.indexOf("123"), text.indexOf(" ok"));
        assertEquals(REDACT.fingerprint(text, ssn), seen.get(1).fingerprint());
        assertFalse(seen.get(1).fingerprint().contains("6789"));
    }

    @Test
    void internationalAddressesSplitAnywhereAreCaughtWholeAndUnspacedScriptsAreNotHeld() {
        String text = "Schreib an jürgen.müller@example.de oder josé.garcía@empresa.es, gracias. Пишите иван@почта.рф";
        String expected = "Schreib an [EMAIL_REDACTED] oder [EMAIL_REDACTED], gracias. Пишите [EMAIL_REDACTED]";
        assertEquals(expected, whole(text));
        for (int k = 0; k <= text.length(); k++) {
            for (int m = k; m <= text.length(); m++) {
                StreamRedactor r = redactor(new ArrayList<>());
                String out = r.push(text.substring(0, k)) + r.push(text.substring(k, m)) + r.push(text.substring(m)) + r.finish();
                assertEquals(expected, out, "split at " + k + "/" + m);
            }
        }
        StreamRedactor cjk = redactor(new ArrayList<>());
        assertEquals("你好，请把报告发给我", cjk.push("你好，请把报告发给我"), "Chinese text is emitted at once");
    }

    @Test
    void aCustomPatternSplitAnywhereIsHeldUntilItCanNoLongerGrow() {
        CustomPattern emp = new CustomPattern("EMPLOYEE_ID", java.util.regex.Pattern.compile("EMP-\\d{6}\\b"), null);
        CustomPattern project = new CustomPattern("PROJECT", java.util.regex.Pattern.compile("Project (Falcon|Osprey)"), null);
        Scanner scanner = new Scanner(java.util.EnumSet.allOf(EntityType.class), "US", List.of(emp, project));
        String text = "Ask EMP-123456 about Project Falcon, not EMP-1234567 or Project Fal.";
        String expected = "Ask [EMPLOYEE_ID_REDACTED] about [PROJECT_REDACTED], not EMP-1234567 or Project Fal.";
        assertEquals(expected, REDACT.apply(text, scanner.scan(text)));
        for (int k = 0; k <= text.length(); k++) {
            for (int m = k; m <= text.length(); m++) {
                StreamRedactor r = new StreamRedactor(scanner, REDACT, f -> { });
                String out = r.push(text.substring(0, k)) + r.push(text.substring(k, m)) + r.push(text.substring(m)) + r.finish();
                assertEquals(expected, out, "split at " + k + "/" + m);
            }
        }
    }
}
