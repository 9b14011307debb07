package io.ironruntime.pii;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;

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
}
