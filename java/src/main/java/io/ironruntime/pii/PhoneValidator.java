package io.ironruntime.pii;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.Leniency;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import com.google.i18n.phonenumbers.metadata.init.ClassPathResourceMetadataLoader;
import java.util.Iterator;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Confirms phone-number candidates with libphonenumber (shaded into the engine jar as
 * {@code io.ironruntime.shaded.phonenumbers}).
 *
 * <p>This is the expensive second stage of phone detection. libphonenumber costs on the order
 * of microseconds per call (regex-heavy normalisation, per-region metadata lookups, and a
 * one-off metadata load per region on first use), versus nanoseconds for a character scan.
 * The scanner's cheap prefilter must therefore hand over only plausible candidates: runs of
 * 7-15 digits (E.164 allows at most 15), optionally with a leading {@code +} and the usual
 * separators (space, {@code -}, {@code .}, parentheses) between digits. Passing every token,
 * or whole lines, would make scanning cost scale with libphonenumber instead of the text, and
 * {@code parse} is lenient (it extracts a number from surrounding text and maps letters to
 * digits), so feeding it arbitrary text would also produce false positives.
 */
public final class PhoneValidator {

    /** Region code libphonenumber uses for "unknown": only {@code +}-prefixed numbers parse. */
    private static final String UNKNOWN_REGION = "ZZ";

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    /**
     * The grouping check looks up a country's alternate formats, and libphonenumber logs a WARNING
     * ("File .../PhoneNumberAlternateFormatsProto_1 not found") the first time a country has none,
     * as +1 has not. That is expected, not a fault, and must not reach the user's stderr. In the
     * engine jar this logger is the relocated copy's own; held here so the level is not lost.
     */
    private static final Logger METADATA_LOG = Logger.getLogger(ClassPathResourceMetadataLoader.class.getName());

    static {
        METADATA_LOG.setLevel(Level.SEVERE);
    }

    private PhoneValidator() {
    }

    /** True for a region libphonenumber has numbering metadata for (ISO 3166 alpha-2, upper case). */
    public static boolean knownRegion(String region) {
        return UTIL.getSupportedRegions().contains(region);
    }

    /**
     * True when {@code s[start, end)} parses as a phone number and libphonenumber deems it
     * valid. Numbers written with a leading {@code +} are international and need no region;
     * national numbers are interpreted in {@code defaultRegion} (ISO 3166 alpha-2, e.g.
     * {@code "US"}), and are never valid when it is null or unknown. Never throws: bad
     * offsets, null input and parse failures all yield false.
     */
    public static boolean valid(CharSequence s, int start, int end, String defaultRegion) {
        if (s == null || start < 0 || end > s.length() || start >= end) {
            return false;
        }
        String region = defaultRegion == null ? UNKNOWN_REGION : defaultRegion;
        try {
            PhoneNumber number = UTIL.parse(s.subSequence(start, end), region);
            return UTIL.isValidNumber(number);
        } catch (NumberParseException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Like {@link #valid} for a number written without a {@code +}, and also grouped the way the
     * region writes it: libphonenumber's {@code STRICT_GROUPING} leniency must accept the whole span
     * (its digit groups follow the national or international format's groups, a national prefix is
     * present where the region needs one, and it is not a publication page range or a timestamp).
     * Without a country code, digits and separators alone are weak evidence: dates with an hour
     * ({@code 2023-10-05 14}), calendar rows ({@code 27 28 29 30 31}), page ranges
     * ({@code 26966-26979}) and part numbers are valid numbers in some region but never grouped
     * like one.
     */
    static boolean validNational(CharSequence s, int start, int end, String defaultRegion) {
        if (s == null || start < 0 || end > s.length() || start >= end || defaultRegion == null) {
            return false;
        }
        try {
            String candidate = s.subSequence(start, end).toString();
            if (strictlyGrouped(candidate, defaultRegion)) {
                return true;
            }
            // DIN 5008 (Germany, Austria, Switzerland) joins the extension with a hyphen to a number in
            // groups: "030 1817-0", "089 12345-678". Checked as the number it dials, "030 18170".
            int hyphen = candidate.lastIndexOf('-');
            int tail = candidate.length() - hyphen - 1;
            return DIN_5008.contains(defaultRegion) && hyphen > 0 && tail >= 1 && tail <= 5
                    && candidate.lastIndexOf(' ', hyphen) > 0 && candidate.indexOf('-') == hyphen
                    && candidate.chars().skip(hyphen + 1).allMatch(Character::isDigit)
                    && strictlyGrouped(candidate.substring(0, hyphen) + candidate.substring(hyphen + 1), defaultRegion);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static final Set<String> DIN_5008 = Set.of("DE", "AT", "CH", "LI");

    private static boolean strictlyGrouped(String candidate, String region) {
        Iterator<PhoneNumberMatch> it = UTIL.findNumbers(candidate, region, Leniency.STRICT_GROUPING, 2).iterator();
        if (!it.hasNext()) {
            return false;
        }
        PhoneNumberMatch m = it.next();
        return m.start() == 0 && m.end() == candidate.length();
    }
}
