package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidatorsTest {

    private static boolean whole(Validators.Validator v, String s) {
        return v.valid(s, 0, s.length());
    }

    /** Embeds the candidate in surrounding text and validates only its span. */
    private static boolean embedded(Validators.Validator v, String s) {
        String text = "x9@:. " + s + " .:@9x";
        return v.valid(text, 6, 6 + s.length());
    }

    // ---------------------------------------------------------------- Luhn / cards

    @ParameterizedTest
    @ValueSource(strings = {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
        "1234567812345670", "500000000009"})
    void luhnValid(String s) {
        assertTrue(whole(Validators::luhn, s));
        assertTrue(embedded(Validators::luhn, s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"4111 1111 1111 1112", "4111111111111112", "40000000009" /* 11 digits */,
        "41111111111111111118" /* 20 digits */, "4111  1111 1111 1111", "4111-1111 1111 1111",
        " 4111111111111111", "4111111111111111-", "4111x111111111111", ""})
    void luhnInvalid(String s) {
        assertFalse(whole(Validators::luhn, s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"4111 1111 1111 1111", "2221000000000009", "6011000000000004",
        "340000000000009", "30569309025904", "62212600000000001", "62000000000000000",
        "500000000009"})
    void cardValid(String s) {
        assertTrue(whole(Validators::card, s), s);
        assertTrue(embedded(Validators::card, s), s);
    }

    @Test
    void cardHardNegatives() {
        // Luhn-valid but prefix 1 is no card network
        assertTrue(whole(Validators::luhn, "1234567812345670"));
        assertFalse(whole(Validators::card, "1234567812345670"));
        // Luhn-invalid Visa
        assertFalse(whole(Validators::card, "4111 1111 1111 1112"));
        // Mastercard 2-series needs 16 digits; Amex needs 15
        assertFalse(whole(Validators::card, "22210000000000000008"));
        assertFalse(whole(Validators::card, "3400000000000009"));
        // 2220 / 2721 are just outside the Mastercard 2-series
        assertNull(Validators.cardBrand("2220000000000000", 0, 16));
        assertNull(Validators.cardBrand("2721000000000000", 0, 16));
    }

    @Test
    void imeiIsNotACardByLength() {
        // Decision: IMEIs (15 digits, Luhn-valid) are rejected when their prefix is not a card IIN
        // (3520 is outside JCB 3528-3589) and also when it is (3530 JCB / 49 Visa) because no
        // such brand issues 15-digit PANs. Only 15-digit Amex/Diners/Maestro prefixes can collide.
        assertTrue(whole(Validators::luhn, "352099001761481"));
        assertNull(Validators.cardBrand("352099001761481", 0, 15));
        assertFalse(whole(Validators::card, "352099001761481"));
        assertTrue(whole(Validators::luhn, "353000000000003"));
        assertEquals("jcb", Validators.cardBrand("353000000000003", 0, 15));
        assertFalse(whole(Validators::card, "353000000000003"));
        assertTrue(whole(Validators::luhn, "490154203237518"));
        assertFalse(whole(Validators::card, "490154203237518"));
    }

    @Test
    void cardBrands() {
        String[][] cases = {
            {"4", "visa"}, {"51", "mastercard"}, {"55", "mastercard"}, {"2221", "mastercard"},
            {"2720", "mastercard"}, {"34", "amex"}, {"37", "amex"}, {"6011", "discover"},
            {"644", "discover"}, {"649", "discover"}, {"65", "discover"}, {"622126", "discover"},
            {"622925", "discover"}, {"622125", "unionpay"}, {"622926", "unionpay"},
            {"3528", "jcb"}, {"3589", "jcb"}, {"300", "diners"}, {"305", "diners"}, {"36", "diners"},
            {"38", "diners"}, {"39", "diners"}, {"62", "unionpay"}, {"50", "maestro"},
            {"56", "maestro"}, {"58", "maestro"}, {"6012", "maestro"}, {"643", "maestro"},
            {"69", "maestro"}, {"306", null}, {"3527", null}, {"35", null}, {"1", null},
            {"7", null}, {"8", null}, {"9", null}, {"0", null},
        };
        for (String[] c : cases) {
            String n = (c[0] + "00000000000000000").substring(0, 16);
            assertEquals(c[1], Validators.cardBrand(n, 0, n.length()), c[0]);
            assertEquals(c[1] != null, Validators.isCardPrefix(n, 0, n.length()), c[0]);
        }
        assertEquals("visa", Validators.cardBrand("4111 1111 1111 1111", 0, 19));
    }

    // ---------------------------------------------------------------- SSN

    @ParameterizedTest
    @ValueSource(strings = {"123-45-6789", "123456789", "123 45 6789", "665-01-0001", "899-99-9999"})
    void ssnValid(String s) {
        assertTrue(whole(Validators::usSsn, s));
        assertTrue(embedded(Validators::usSsn, s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"000-45-6789", "666-45-6789", "900-45-6789", "999-45-6789",
        "123-00-6789", "123-45-0000", "078-05-1120", "219-09-9999", "078051120", "123-45 6789",
        "123-456-789", "12-345-6789", "1234567890", "12345678", "123-4a-6789", "123_45_6789"})
    void ssnInvalid(String s) {
        assertFalse(whole(Validators::usSsn, s));
    }

    // ---------------------------------------------------------------- IBAN / mod97

    @ParameterizedTest
    @ValueSource(strings = {"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "NO93 8601 1117 947",
        "BE68 5390 0754 7034", "FR14 2004 1010 0505 0001 3M02 606", "gb82 west 1234 5698 7654 32"})
    void ibanValid(String s) {
        assertTrue(whole(Validators::iban, s), s);
        assertTrue(embedded(Validators::iban, s), s);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GB82 WEST 1234 5698 7654 33", // changed digit
        "DE89 3704 0044 0532 0130 01", // changed digit
        "GB28 WEST 1234 5698 7654 32", // swapped check digits
        "DE5137040044053201300", // checksum ok but 21 chars, DE is 22
        "DE543704004405320130001", // checksum ok but 23 chars
        "XX831234567890123456", // checksum ok, unknown country
        "GB82 WEST 1234 5698 7654 32 ", "GB82  WEST12345698765432", "GB82 WES T1234 5698 7654 32",
        "GB82WEST 1234 5698 7654 32", "GBX2 WEST 1234 5698 7654 32", "GB82-WEST-1234-5698-7654-32",
        "GB8", ""})
    void ibanInvalid(String s) {
        assertFalse(whole(Validators::iban, s), s);
    }

    @Test
    void ibanRegistryTable() {
        assertEquals(22, Validators.IBAN_LENGTHS.get("GB"));
        assertEquals(15, Validators.IBAN_LENGTHS.get("NO"));
        assertEquals(33, Validators.IBAN_LENGTHS.get("RU"));
        assertTrue(Validators.IBAN_LENGTHS.size() >= 89);
        Validators.IBAN_LENGTHS.forEach((cc, len) -> {
            assertTrue(cc.matches("[A-Z]{2}"), cc);
            assertTrue(len >= 15 && len <= 34, cc);
        });
    }

    @Test
    void mod97Generic() {
        assertTrue(whole(Validators::mod97, "WEST12345698765432GB82"));
        assertTrue(whole(Validators::mod97, "3214282912345698765432161182"));
        assertTrue(embedded(Validators::mod97, "3214 2829 1234-5698 7654 3216 1182"));
        assertFalse(whole(Validators::mod97, "3214282912345698765432161183"));
        assertFalse(whole(Validators::mod97, "GB82WEST12345698765432")); // not rearranged
        assertFalse(whole(Validators::mod97, "1.0"));
        assertFalse(whole(Validators::mod97, ""));
    }

    // ---------------------------------------------------------------- IP

    @ParameterizedTest
    @ValueSource(strings = {"192.168.0.1", "1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.100.9"})
    void ipv4Valid(String s) {
        assertTrue(whole(Validators::ipv4, s));
        assertTrue(embedded(Validators::ipv4, s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..2.3",
        ".1.2.3", "1.2.3.4.", "1.2.3.1000", "1.2.3.-1", "a.b.c.d", "1.2.3.4 ", ""})
    void ipv4Invalid(String s) {
        assertFalse(whole(Validators::ipv4, s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"::1", "::", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.128",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::", "1::", "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "64:ff9b::192.0.2.33", "ABCD:EF01::"})
    void ipv6Valid(String s) {
        assertTrue(whole(Validators::ipv6, s), s);
        assertTrue(embedded(Validators::ipv6, s), s);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1::2::3", "12345::", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:",
        "1::2:", "fe80::1%eth0", "::ffff:256.0.2.128", "::ffff:192.0.2", "1.2.3.4",
        "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "g::1", "[::1]", ":", ""})
    void ipv6Invalid(String s) {
        assertFalse(whole(Validators::ipv6, s), s);
    }

    // ---------------------------------------------------------------- email

    @ParameterizedTest
    @ValueSource(strings = {"a.b+c@example.co.uk", "user@example.com", "x@y.io",
        "o'neil!#$%&*/=?^_`{|}~-@mail-1.example.org", "A@EXAMPLE.COM"})
    void emailValid(String s) {
        assertTrue(whole(Validators::email, s), s);
        assertTrue(embedded(Validators::email, s), s);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a..b@x.com", "a@b", "@x.com", ".a@x.com", "a.@x.com", "a@x.c",
        "a@x.c0m", "a@-x.com", "a@x-.com", "a@x..com", "a@.x.com", "a@x.com.", "a@@x.com",
        "a@b@x.com", "a b@x.com", "a\"b@x.com", "a@x_y.com", "a@", "a@x.123", ""})
    void emailInvalid(String s) {
        assertFalse(whole(Validators::email, s), s);
    }

    @Test
    void emailLengthLimits() {
        String local64 = "a".repeat(64);
        assertTrue(whole(Validators::email, local64 + "@x.com"));
        assertFalse(whole(Validators::email, local64 + "a@x.com"));
        String label63 = "b".repeat(63);
        assertTrue(whole(Validators::email, "a@" + label63 + ".com"));
        assertFalse(whole(Validators::email, "a@" + label63 + "b.com"));
        // 254 total is the cap
        String domain = label63 + "." + label63 + "." + label63 + "." + "c".repeat(57) + ".io";
        String ok = "a@" + domain;
        assertEquals(254, ok.length());
        assertTrue(whole(Validators::email, ok));
        assertFalse(whole(Validators::email, "aa@" + domain));
    }

    // ---------------------------------------------------------------- offsets & lookup

    @Test
    void offsetsHonouredInsideLongerText() {
        String text = "card 4111111111111111, ssn 123-45-6789; ip 10.1.2.3 mail bob@x.org";
        int c = text.indexOf("4111");
        assertTrue(Validators.card(text, c, c + 16));
        assertFalse(Validators.card(text, c, c + 17)); // includes the comma
        assertFalse(Validators.card(text, c + 1, c + 16));
        int s = text.indexOf("123-");
        assertTrue(Validators.usSsn(text, s, s + 11));
        int ip = text.indexOf("10.1");
        assertTrue(Validators.ipv4(text, ip, ip + 8));
        assertFalse(Validators.ipv4(text, ip, ip + 9));
        int m = text.indexOf("bob@");
        assertTrue(Validators.email(text, m, text.length()));
        assertFalse(Validators.email(text, m - 1, text.length()));
        // StringBuilder is a CharSequence too
        assertTrue(Validators.iban(new StringBuilder("IBAN: DE89370400440532013000."), 6, 28));
    }

    @Test
    void badOffsetsThrow() {
        assertThrows(IndexOutOfBoundsException.class, () -> Validators.luhn("123", 2, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> Validators.email("a@b.cd", 0, 7));
        assertThrows(IndexOutOfBoundsException.class, () -> Validators.ipv6("::1", -1, 2));
    }

    @Test
    void byName() {
        assertTrue(Validators.byName("luhn").valid("x4111111111111111", 1, 17));
        assertTrue(Validators.byName("mod97").valid("WEST12345698765432GB82", 0, 22));
        assertTrue(Validators.byName("iban").valid("GB82WEST12345698765432", 0, 22));
        assertTrue(Validators.byName("ssn").valid("123-45-6789", 0, 11));
        assertTrue(Validators.byName("ipv4").valid("1.2.3.4", 0, 7));
        assertTrue(Validators.byName("ipv6").valid("::1", 0, 3));
        assertTrue(Validators.byName("email").valid("a@b.cd", 0, 6));
        assertTrue(Validators.byName("card").valid("2221000000000009", 0, 16));
        assertNotNull(Validators.byName(" LUHN "));
        assertNull(Validators.byName("phone-ish"));
        assertNull(Validators.byName(""));
        assertNull(Validators.byName(null));
    }
}
