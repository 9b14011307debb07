package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PhoneValidatorTest {

    private static boolean valid(String s, String region) {
        return PhoneValidator.valid(s, 0, s.length(), region);
    }

    @ParameterizedTest
    @ValueSource(strings = {"US", "DE", "GB", "FR", "IN", "JP", "BR"})
    void libphonenumberExampleNumbersAreValidInEveryFormat(String region) {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        PhoneNumber example = util.getExampleNumber(region);
        for (PhoneNumberFormat f : PhoneNumberFormat.values()) {
            String text = util.format(example, f);
            // international forms need no region; national forms need the right one
            assertTrue(valid(text, region), region + " " + f + ": " + text);
            if (f != PhoneNumberFormat.NATIONAL) {
                assertTrue(valid(text, null), region + " " + f + " without region: " + text);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "+1 201-555-0123", "+1 (201) 555-0123", "+1.201.555.0123", "+12015550123",
        "+1 415 555 2671", "+49 30 123456", "+49-30-123456", "+44 121 234 5678",
        "+44 20 7946 0958", "+33 1 23 45 67 89", "+81 3-1234-5678", "+55 11 2345-6789"})
    void internationalNumbersNeedNoRegion(String s) {
        assertTrue(valid(s, null), s);
        assertTrue(valid(s, "US"), s);
        assertTrue(valid(s, "DE"), s);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "(201) 555-0123", "201-555-0123", "201.555.0123", "201 555 0123", "2015550123",
        "1-201-555-0123", "1 (201) 555-0123"})
    void nationalNumbersUseTheDefaultRegion(String s) {
        assertTrue(valid(s, "US"), s);
        assertFalse(valid(s, null), s);
        assertFalse(valid(s, "ZZ"), s);
    }

    @Test
    void nationalGermanNumber() {
        assertTrue(valid("030 123456", "DE"));
        assertTrue(valid("(030) 123456", "DE"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "12345", "555-0123", "1.2.3.4", "2024-01-15", "15.01.2024", "1234567890", "5555555555",
        "0123456789", "+49 301", "+1 201 555 01234", "+44 20 7946 095", "+1 201 555 012",
        "+999 123 456 789", "+", "", "   ", "---", "()", "call me", "555-CALL"})
    void rejectsNonNumbersAndWrongLengths(String s) {
        assertFalse(valid(s, "US"), s);
        assertFalse(valid(s, null), s);
    }

    @Test
    void honoursOffsets() {
        String text = "call +49 30 123456 or (201) 555-0123 today";
        int de = text.indexOf('+');
        int deEnd = de + "+49 30 123456".length();
        int us = text.indexOf('(');
        int usEnd = us + "(201) 555-0123".length();
        assertTrue(PhoneValidator.valid(text, de, deEnd, null));
        assertTrue(PhoneValidator.valid(text, us, usEnd, "US"));
        // truncated candidates are too short (German subscriber numbers vary in length, so
        // "+49 30 123" is still valid: cut down to the area code)
        assertFalse(PhoneValidator.valid(text, de, de + "+49 30".length(), null));
        assertFalse(PhoneValidator.valid(text, us, usEnd - 1, "US"));
        // a StringBuilder works as well as a String
        assertTrue(PhoneValidator.valid(new StringBuilder(text), us, usEnd, "US"));
    }

    @Test
    void neverThrows() {
        String s = "+1 201-555-0123";
        assertFalse(PhoneValidator.valid(null, 0, 0, "US"));
        assertFalse(PhoneValidator.valid(s, -1, s.length(), "US"));
        assertFalse(PhoneValidator.valid(s, 0, s.length() + 1, "US"));
        assertFalse(PhoneValidator.valid(s, 5, 2, "US"));
        assertFalse(PhoneValidator.valid(s, 3, 3, "US"));
        assertFalse(PhoneValidator.valid("201-555-0123", 0, 12, "not-a-region"));
        assertFalse(PhoneValidator.valid("201-555-0123", 0, 12, ""));
        assertTrue(PhoneValidator.valid(s, 0, s.length(), "not-a-region"));
        StringBuilder huge = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            huge.append("9");
        }
        assertFalse(PhoneValidator.valid(huge, 0, huge.length(), "US"));
    }
}
