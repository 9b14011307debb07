package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RedactorTest {
    private static final byte[] SALT = "router-salt-0123456789".getBytes(StandardCharsets.UTF_8);
    private static final String TEXT = "mail jane@example.com, card 4111 1111 1111 1111, again jane@example.com";

    private static String apply(PiiMode mode, byte[] salt) {
        return new Redactor(mode, salt).apply(TEXT, Scanner.all().scan(TEXT));
    }

    @Test
    void redactReplacesEachValueWithItsTypePlaceholder() {
        assertEquals("mail [EMAIL_REDACTED], card [CREDIT_CARD_REDACTED], again [EMAIL_REDACTED]",
                apply(PiiMode.REDACT, SALT));
    }

    @Test
    void maskKeepsAShortTailButNeverOfKeysOrTokens() {
        assertEquals("mail ****.com, card ****1111, again ****.com", apply(PiiMode.MASK, SALT));
        String pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----";
        assertEquals("k: ****", new Redactor(PiiMode.MASK, SALT).apply("k: " + pem, Scanner.all().scan("k: " + pem)));
    }

    @Test
    void hashIsStableWithinARouterAndDiffersAcrossSalts() {
        String once = apply(PiiMode.HASH, SALT);
        assertEquals(once, apply(PiiMode.HASH, SALT));
        String[] parts = once.split(", ");
        String first = parts[0].substring("mail ".length());
        String last = parts[2].substring("again ".length());
        assertEquals(first, last, "the same value maps to the same token");
        assertTrue(first.matches("\\[EMAIL_[0-9a-f]{8}]"), first);
        assertNotEquals(once, apply(PiiMode.HASH, "another-router".getBytes(StandardCharsets.UTF_8)));
        assertFalse(once.contains("jane") || once.contains("4111"));
    }

    @Test
    void detectBlockAndOffLeaveTheTextAlone() {
        for (PiiMode m : new PiiMode[] {PiiMode.DETECT, PiiMode.BLOCK, PiiMode.OFF}) {
            assertEquals(TEXT, apply(m, SALT), m.name());
        }
        assertEquals(PiiMode.HASH, PiiMode.ofWireName("hash"));
        assertEquals(null, PiiMode.ofWireName("HASH"));
    }

    @Test
    void fingerprintsAreSaltedAndNeverTheValue() {
        Redactor r = new Redactor(PiiMode.DETECT, SALT);
        Detection d = Scanner.all().scan(TEXT).get(0);
        String fp = r.fingerprint(TEXT, d);
        assertTrue(fp.matches("[0-9a-f]{16}"), fp);
        assertEquals(fp, r.fingerprint(TEXT, d));
        assertNotEquals(fp, new Redactor(PiiMode.DETECT, new byte[] {1, 2, 3}).fingerprint(TEXT, d));
    }
}
