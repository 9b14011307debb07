package io.ironruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.pii.EntityType;
import io.ironruntime.pii.PiiMode;
import java.util.List;
import org.junit.jupiter.api.Test;

class PiiSettingsTest {
    private static PiiConfig read(String json) {
        return RouterConfigReader.fromJson(json).pii();
    }

    private static String error(String json) {
        return assertThrows(ConfigException.class, () -> read(json)).getMessage();
    }

    @Test
    void defaultsRedactBothDirectionsWithEveryDetectorAndARandomSalt() {
        PiiConfig c = read("{}");
        assertEquals(PiiMode.REDACT, c.mode());
        assertEquals(PiiConfig.Scope.BOTH, c.scope());
        assertEquals(EntityType.values().length, c.detectors().size());
        assertTrue(c.scansRequests() && c.scansResponses());
        assertFalse(java.util.Arrays.equals(c.salt(), read("{}").salt()), "each router has its own salt");
        assertFalse(c.toString().contains("salt"), "the salt is never printed");
    }

    @Test
    void modesScopesSwitchesPatternsAndRegion() {
        assertEquals(PiiMode.OFF, read("{\"pii\":false}").mode());
        assertEquals(PiiMode.MASK, read("{\"pii\":\"MASK\"}").mode());
        PiiConfig req = read("{\"pii_scope\":\"request\"}");
        assertTrue(req.scansRequests());
        assertFalse(req.scansResponses());
        assertFalse(read("{\"pii\":\"off\"}").scansRequests());
        PiiConfig c = read("{\"pii_detectors\":{\"IP_ADDRESS\":false,\"phone\":false,\"EMAIL\":true},"
                + "\"pii_patterns\":[{\"name\":\"employee_id\",\"regex\":\"EMP-\\\\d{6}\",\"validator\":null},"
                + "{\"name\":\"CARD_REF\",\"regex\":\"\\\\d{16}\",\"validator\":\"luhn\"}],\"pii_region\":\"de\"}");
        assertFalse(c.detectors().contains(EntityType.IP_ADDRESS));
        assertFalse(c.detectors().contains(EntityType.PHONE));
        assertTrue(c.detectors().contains(EntityType.EMAIL));
        assertEquals(List.of("EMPLOYEE_ID", "CARD_REF"), c.patterns().stream().map(p -> p.name()).toList());
        assertEquals("DE", c.region());
        assertEquals(List.of("EMPLOYEE_ID"), c.scanner().scan("id EMP-123456 ok").stream().map(d -> d.type()).toList());
        assertTrue(c.scanner().scan("ref 4111111111111112").isEmpty(), "the luhn validator rejects it");
        assertEquals(1, c.scanner().scan("ref 4111111111111111").size(), "a card, found once (by the built-in or the pattern)");
    }

    @Test
    void badSettingsAreRefusedWithMessagesThatSayWhatToDo() {
        assertTrue(error("{\"pii\":\"scrub\"}").contains("'redact', 'mask', 'hash', 'block', 'detect', 'off'"));
        assertTrue(error("{\"pii_scope\":\"all\"}").contains("pii_scope must be 'request', 'response' or 'both'"));
        assertTrue(error("{\"pii_detectors\":{\"SSN\":false}}").contains("unknown detector 'SSN'"));
        assertTrue(error("{\"pii_detectors\":{\"EMAIL\":0}}").contains("True or False"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"X\",\"regex\":\"(\"}]}").contains("not a valid regular expression"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"X\",\"regex\":\"a*\"}]}").contains("matches the empty text"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"X\",\"regex\":\"a\",\"validator\":\"crc\"}]}").contains("luhn"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"email\",\"regex\":\"a\"}]}").contains("built-in detector"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"X\",\"regex\":\"a\"},{\"name\":\"x\",\"regex\":\"b\"}]}").contains("used twice"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"1X\",\"regex\":\"a\"}]}").contains(".name must be a word"));
        assertTrue(error("{\"pii_patterns\":[{\"name\":\"X\",\"regex\":\"a\",\"flags\":1}]}").contains("unknown key 'flags'"));
        assertTrue(error("{\"pii_region\":\"XX\"}").contains("two-letter country code"));
        assertTrue(error("{\"pii_salt\":\"short\"}").contains("at least 16"));
    }
}
