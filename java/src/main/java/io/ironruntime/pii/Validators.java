package io.ironruntime.pii;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Pure static validators for PII scanner candidates.
 *
 * <p>Every validator takes the whole text plus the {@code [start, end)} offsets of a candidate and
 * inspects the characters in place: no regex, no substring copies, no BigInteger. Offsets outside
 * the text throw {@link IndexOutOfBoundsException}; everything else just returns {@code false}.
 * Validators check the candidate span exactly; deciding word boundaries/context is the scanner's job.
 */
public final class Validators {

    /** A span validator usable from user-defined patterns (see {@link #byName(String)}). */
    @FunctionalInterface
    public interface Validator {
        boolean valid(CharSequence s, int start, int end);
    }

    private Validators() {}

    // ------------------------------------------------------------------ digits with separators

    /**
     * Counts the digits of a span made of digit groups separated by single spaces or by single
     * dashes (one separator kind per span; no leading/trailing/doubled separator).
     * Returns -1 if the span has any other shape.
     */
    private static int groupedDigitCount(CharSequence s, int start, int end) {
        int digits = 0;
        char sep = 0;
        boolean prevDigit = false;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                digits++;
                prevDigit = true;
            } else if ((c == ' ' || c == '-') && prevDigit && (sep == 0 || sep == c)) {
                sep = c;
                prevDigit = false;
            } else {
                return -1;
            }
        }
        return prevDigit ? digits : -1;
    }

    /** Integer value of the first {@code n} digits of the span, skipping separators. */
    private static int leadingDigits(CharSequence s, int start, int end, int n) {
        int v = 0;
        for (int i = start; i < end && n > 0; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                v = v * 10 + (c - '0');
                n--;
            }
        }
        return v;
    }

    // ------------------------------------------------------------------ Luhn / payment cards

    /**
     * Luhn (mod 10) checksum, ISO/IEC 7812-1 Annex B: from the rightmost digit, double every second
     * digit, subtract 9 from results above 9, the sum must be divisible by 10. Accepts 12-19 digits
     * (ISO/IEC 7812 PAN lengths), optionally grouped by single spaces or single dashes.
     */
    public static boolean luhn(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int n = groupedDigitCount(s, start, end);
        if (n < 12 || n > 19) {
            return false;
        }
        return luhnSum(s, start, end) % 10 == 0;
    }

    private static int luhnSum(CharSequence s, int start, int end) {
        int sum = 0;
        boolean dbl = false;
        for (int i = end - 1; i >= start; i--) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                continue;
            }
            int d = c - '0';
            if (dbl) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            dbl = !dbl;
        }
        return sum;
    }

    /**
     * Card brand of the span's issuer identification number (leading digits, separators skipped),
     * or {@code null}. IIN ranges as published by the networks (Visa/Mastercard/Amex/Discover/JCB/
     * Diners/UnionPay/Maestro issuer guides, summarised in ISO/IEC 7812 IIN registry listings).
     * More specific ranges win: Discover 622126-622925 over UnionPay 62, Discover 65/644-649 and
     * UnionPay 62 over Maestro 56-69. Length and checksum are not checked here.
     */
    public static String cardBrand(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int n = groupedDigitCount(s, start, end);
        if (n < 2) {
            return null;
        }
        int p1 = leadingDigits(s, start, end, 1);
        int p2 = leadingDigits(s, start, end, 2);
        int p3 = n >= 3 ? leadingDigits(s, start, end, 3) : -1;
        int p4 = n >= 4 ? leadingDigits(s, start, end, 4) : -1;
        int p6 = n >= 6 ? leadingDigits(s, start, end, 6) : -1;
        if (p1 == 4) {
            return "visa";
        }
        if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) {
            return "mastercard";
        }
        if (p2 == 34 || p2 == 37) {
            return "amex";
        }
        if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925)) {
            return "discover";
        }
        if (p4 >= 3528 && p4 <= 3589) {
            return "jcb";
        }
        if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) {
            return "diners";
        }
        if (p2 == 62) {
            return "unionpay";
        }
        if (p2 == 50 || (p2 >= 56 && p2 <= 69)) {
            return "maestro";
        }
        return null;
    }

    /** True when the span starts with a major brand's IIN (see {@link #cardBrand}). */
    public static boolean isCardPrefix(CharSequence s, int start, int end) {
        return cardBrand(s, start, end) != null;
    }

    /**
     * Payment card number: known brand prefix + a PAN length that brand issues + Luhn.
     * Lengths per brand: Visa 13/16/19, Mastercard 16, Amex 15, Discover/JCB/UnionPay 16-19,
     * Diners 14-19, Maestro 12-19.
     */
    public static boolean card(CharSequence s, int start, int end) {
        String brand = cardBrand(s, start, end);
        if (brand == null) {
            return false;
        }
        int n = groupedDigitCount(s, start, end);
        boolean lengthOk;
        switch (brand) {
            case "visa": lengthOk = n == 13 || n == 16 || n == 19; break;
            case "mastercard": lengthOk = n == 16; break;
            case "amex": lengthOk = n == 15; break;
            case "diners": lengthOk = n >= 14 && n <= 19; break;
            case "maestro": lengthOk = n >= 12 && n <= 19; break;
            default: lengthOk = n >= 16 && n <= 19; break; // discover, jcb, unionpay
        }
        return lengthOk && luhn(s, start, end);
    }

    // ------------------------------------------------------------------ US SSN

    /**
     * US Social Security Number: {@code AAA-GG-SSSS}, {@code AAA GG SSSS} or 9 contiguous digits.
     * Per SSA rules (ssa.gov, "SSN randomization", POMS RM 10201.035): area 000, 666 and 900-999
     * are never issued, group 00 and serial 0000 are never issued. Also rejects the publicized
     * advertising numbers 078-05-1120 (Woolworth wallet card) and 219-09-9999 (SSA pamphlet).
     */
    public static boolean usSsn(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int len = end - start;
        if (len == 11) {
            char sep = s.charAt(start + 3);
            if ((sep != '-' && sep != ' ') || s.charAt(start + 6) != sep) {
                return false;
            }
            if (!allDigits(s, start, start + 3) || !allDigits(s, start + 4, start + 6)
                    || !allDigits(s, start + 7, end)) {
                return false;
            }
        } else if (len != 9 || !allDigits(s, start, end)) {
            return false;
        }
        int area = leadingDigits(s, start, end, 3);
        int all = leadingDigits(s, start, end, 9);
        int group = (all / 10000) % 100;
        int serial = all % 10000;
        if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) {
            return false;
        }
        return all != 78051120 && all != 219099999;
    }

    private static boolean allDigits(CharSequence s, int start, int end) {
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ IBAN / mod 97

    /**
     * IBAN lengths per country, ISO 13616 IBAN registry (SWIFT registration authority,
     * release 98, 2024-2025). Includes only countries in the registry proper.
     */
    public static final Map<String, Integer> IBAN_LENGTHS = Map.ofEntries(
            Map.entry("AD", 24), Map.entry("AE", 23), Map.entry("AL", 28), Map.entry("AT", 20),
            Map.entry("AZ", 28), Map.entry("BA", 20), Map.entry("BE", 16), Map.entry("BG", 22),
            Map.entry("BH", 22), Map.entry("BI", 27), Map.entry("BR", 29), Map.entry("BY", 28),
            Map.entry("CH", 21), Map.entry("CR", 22), Map.entry("CY", 28), Map.entry("CZ", 24),
            Map.entry("DE", 22), Map.entry("DJ", 27), Map.entry("DK", 18), Map.entry("DO", 28),
            Map.entry("EE", 20), Map.entry("EG", 29), Map.entry("ES", 24), Map.entry("FI", 18),
            Map.entry("FK", 18), Map.entry("FO", 18), Map.entry("FR", 27), Map.entry("GB", 22),
            Map.entry("GE", 22), Map.entry("GI", 23), Map.entry("GL", 18), Map.entry("GR", 27),
            Map.entry("GT", 28), Map.entry("HN", 28), Map.entry("HR", 21), Map.entry("HU", 28),
            Map.entry("IE", 22), Map.entry("IL", 23), Map.entry("IQ", 23), Map.entry("IS", 26),
            Map.entry("IT", 27), Map.entry("JO", 30), Map.entry("KW", 30), Map.entry("KZ", 20),
            Map.entry("LB", 28), Map.entry("LC", 32), Map.entry("LI", 21), Map.entry("LT", 20),
            Map.entry("LU", 20), Map.entry("LV", 21), Map.entry("LY", 25), Map.entry("MC", 27),
            Map.entry("MD", 24), Map.entry("ME", 22), Map.entry("MK", 19), Map.entry("MN", 20),
            Map.entry("MR", 27), Map.entry("MT", 31), Map.entry("MU", 30), Map.entry("NI", 28),
            Map.entry("NL", 18), Map.entry("NO", 15), Map.entry("OM", 23), Map.entry("PK", 24),
            Map.entry("PL", 28), Map.entry("PS", 29), Map.entry("PT", 25), Map.entry("QA", 29),
            Map.entry("RO", 24), Map.entry("RS", 22), Map.entry("RU", 33), Map.entry("SA", 24),
            Map.entry("SC", 31), Map.entry("SD", 18), Map.entry("SE", 24), Map.entry("SI", 19),
            Map.entry("SK", 24), Map.entry("SM", 27), Map.entry("SO", 23), Map.entry("ST", 25),
            Map.entry("SV", 28), Map.entry("TL", 23), Map.entry("TN", 24), Map.entry("TR", 26),
            Map.entry("UA", 29), Map.entry("VA", 22), Map.entry("VG", 24), Map.entry("XK", 20),
            Map.entry("YE", 30));

    /**
     * IBAN, ISO 13616-1: two-letter country code, two check digits, alphanumeric BBAN; total length
     * must equal the registry length for the country. Electronic form (no spaces) or print form
     * (single space after every 4 characters). Letters are case-insensitive. Check: move the first
     * four characters to the end, map A-Z to 10-35, the number mod 97 must be 1 (ISO 7064 MOD 97-10).
     */
    public static boolean iban(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int n = 0; // characters excluding spaces
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            int pos = i - start;
            if (pos % 5 == 4 && c == ' ') {
                if (i == end - 1) {
                    return false; // trailing space
                }
                continue;
            }
            if (alnumValue(c) < 0) {
                return false;
            }
            n++;
        }
        boolean hasSpace = n != end - start;
        if (hasSpace) {
            // print form: every 5th position must be a space (except the final partial group)
            for (int i = start + 4; i < end; i += 5) {
                if (s.charAt(i) != ' ') {
                    return false;
                }
            }
        }
        if (n < 5) {
            return false;
        }
        char c0 = Character.toUpperCase(s.charAt(start));
        char c1 = Character.toUpperCase(s.charAt(start + 1));
        if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z'
                || !isDigit(s.charAt(start + 2)) || !isDigit(s.charAt(start + 3))) {
            return false;
        }
        Integer expected = IBAN_LENGTHS.get(new String(new char[] {c0, c1}));
        if (expected == null || expected != n) {
            return false;
        }
        int bbanStart = hasSpace ? start + 5 : start + 4;
        int rem = mod97Remainder(s, bbanStart, end, 0);
        rem = mod97Remainder(s, start, start + 4, rem);
        return rem == 1;
    }

    /**
     * Generic ISO/IEC 7064 MOD 97-10 check for user-defined patterns: the span's letters and digits
     * (A-Z/a-z = 10..35; spaces and dashes ignored, anything else rejects) read as one number must
     * leave remainder 1 mod 97. The caller's pattern is responsible for any rearrangement.
     */
    public static boolean mod97(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        boolean any = false;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '-') {
                continue;
            }
            if (alnumValue(c) < 0) {
                return false;
            }
            any = true;
        }
        return any && mod97Remainder(s, start, end, 0) == 1;
    }

    /** Streaming remainder: folds each alphanumeric char into {@code rem}, skipping others. */
    private static int mod97Remainder(CharSequence s, int start, int end, int rem) {
        for (int i = start; i < end; i++) {
            int v = alnumValue(s.charAt(i));
            if (v < 0) {
                continue;
            }
            rem = (v < 10 ? rem * 10 + v : rem * 100 + v) % 97;
        }
        return rem;
    }

    private static int alnumValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'Z') {
            return c - 'A' + 10;
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 10;
        }
        return -1;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    // ------------------------------------------------------------------ IP addresses

    /**
     * IPv4 dotted-quad (RFC 791 / inet_pton strict form): exactly four decimal octets 0-255,
     * no leading zeros except the single digit "0" (rejects octal-looking "01").
     */
    public static boolean ipv4(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int octets = 0;
        int i = start;
        while (true) {
            int j = i;
            int v = 0;
            while (j < end && isDigit(s.charAt(j)) && j - i < 4) {
                v = v * 10 + (s.charAt(j) - '0');
                j++;
            }
            int len = j - i;
            if (len == 0 || len > 3 || v > 255 || (len > 1 && s.charAt(i) == '0')) {
                return false;
            }
            octets++;
            if (j == end) {
                return octets == 4;
            }
            if (s.charAt(j) != '.' || octets == 4) {
                return false;
            }
            i = j + 1;
        }
    }

    /**
     * IPv6 text form, RFC 4291 section 2.2: eight groups of 1-4 hex digits; "::" at most once and
     * standing for one or more zero groups; optional dotted IPv4 in the last 32 bits (counts as two
     * groups). Zone ids (RFC 6874 "%eth0") and brackets are not accepted.
     */
    public static boolean ipv6(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int i = start;
        int groups = 0;
        boolean compressed = false;
        if (end - start >= 2 && s.charAt(i) == ':' && s.charAt(i + 1) == ':') {
            compressed = true;
            i += 2;
            if (i == end) {
                return true; // "::"
            }
        }
        while (true) {
            int g = i;
            while (i < end && Character.digit(s.charAt(i), 16) >= 0 && i - g < 5) {
                i++;
            }
            if (i < end && s.charAt(i) == '.') {
                // embedded IPv4 must be the final 32 bits
                if (!ipv4(s, g, end)) {
                    return false;
                }
                groups += 2;
                break;
            }
            int len = i - g;
            if (len == 0 || len > 4) {
                return false;
            }
            groups++;
            if (i == end) {
                break;
            }
            if (s.charAt(i) != ':') {
                return false;
            }
            i++;
            if (i < end && s.charAt(i) == ':') {
                if (compressed) {
                    return false;
                }
                compressed = true;
                i++;
                if (i == end) {
                    break; // trailing "::"
                }
            } else if (i == end) {
                return false; // trailing single ':'
            }
            if (groups > 8) {
                return false;
            }
        }
        return compressed ? groups <= 7 : groups == 8;
    }

    // ------------------------------------------------------------------ email

    /**
     * Email address, practical subset of RFC 5322 section 3.4.1 addr-spec: local part is a
     * dot-atom (atext characters, no leading/trailing/consecutive dots), at most 64 chars
     * (RFC 5321 4.5.3.1.1); domain is >= 2 labels of letters/digits/hyphens, each 1-63 chars,
     * no leading/trailing hyphen (RFC 1035/1123), last label >= 2 letters; whole address at most
     * 254 chars (RFC 3696 errata). Quoted local parts, comments and IP literals are not accepted.
     */
    public static boolean email(CharSequence s, int start, int end) {
        Objects.checkFromToIndex(start, end, s.length());
        int len = end - start;
        if (len > 254 || len < 6) {
            return false; // shortest: a@b.cd
        }
        int at = -1;
        for (int i = start; i < end; i++) {
            if (s.charAt(i) == '@') {
                if (at >= 0) {
                    return false;
                }
                at = i;
            }
        }
        if (at <= start || at - start > 64 || at == end - 1) {
            return false;
        }
        // local part: dot-atom
        char prev = '.';
        for (int i = start; i < at; i++) {
            char c = s.charAt(i);
            if (c == '.') {
                if (prev == '.') {
                    return false; // leading or consecutive dot
                }
            } else if (!isAtext(c)) {
                return false;
            }
            prev = c;
        }
        if (prev == '.') {
            return false; // trailing dot
        }
        // domain labels
        int labels = 0;
        int labelStart = at + 1;
        for (int i = at + 1; i <= end; i++) {
            if (i < end && s.charAt(i) != '.') {
                char c = s.charAt(i);
                if (!(isAsciiLetter(c) || isDigit(c) || c == '-' || intlLetter(c))) {
                    return false;
                }
                continue;
            }
            int ll = i - labelStart;
            if (ll == 0 || ll > 63 || s.charAt(labelStart) == '-' || s.charAt(i - 1) == '-') {
                return false;
            }
            labels++;
            if (i == end) {
                if (ll < 2) {
                    return false;
                }
                for (int k = labelStart; k < end; k++) {
                    if (!isAsciiLetter(s.charAt(k)) && !intlLetter(s.charAt(k))) {
                        return false; // TLD must be letters only
                    }
                }
            }
            labelStart = i + 1;
        }
        return labels >= 2;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /** RFC 5322 atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~", and RFC 6531's non-ASCII letters and digits. */
    private static boolean isAtext(char c) {
        return isAsciiLetter(c) || isDigit(c) || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0 || intlLetter(c);
    }

    /** A letter or digit beyond ASCII: internationalised addresses (RFC 6531) and domains (IDNA) use them. */
    static boolean intlLetter(char c) {
        return c >= 0x80 && Character.isLetterOrDigit(c);
    }

    // ------------------------------------------------------------------ lookup

    /**
     * Validator for a user-defined pattern's {@code validate:} name, case-insensitive:
     * luhn, mod97, iban, ssn, ipv4, ipv6, email, card. Returns null for unknown or null names.
     */
    public static Validator byName(String name) {
        if (name == null) {
            return null;
        }
        switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "luhn": return Validators::luhn;
            case "mod97": return Validators::mod97;
            case "iban": return Validators::iban;
            case "ssn": return Validators::usSsn;
            case "ipv4": return Validators::ipv4;
            case "ipv6": return Validators::ipv6;
            case "email": return Validators::email;
            case "card": return Validators::card;
            default: return null;
        }
    }
}
