package io.ironruntime.pii;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Finds PII and secrets in text in one pass. Each character is looked at once by a cheap dispatch
 * on its class: a word is skipped whole unless its first characters are a known secret prefix or an
 * IBAN country code; a run of digits and separators is measured once and handed to the validators
 * its shape allows (card, SSN, IPv4, phone); an {@code @} looks around for an email address. Only
 * candidates reach a validator, so clean text costs little more than reading it. Thread-safe and
 * stateless apart from its settings.
 */
public final class Scanner {
    private static final byte OTHER = 0;
    private static final byte DIGIT = 1;
    private static final byte LETTER = 2;
    private static final byte AT = 3;
    private static final byte DASH = 4;
    private static final byte PLUS = 5;
    private static final byte PAREN = 6;
    private static final byte COLON = 7;
    private static final byte[] CLASS = new byte[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            CLASS[c] = DIGIT;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            CLASS[c] = LETTER;
            CLASS[Character.toUpperCase(c)] = LETTER;
        }
        CLASS['_'] = LETTER;
        CLASS['@'] = AT;
        CLASS['-'] = DASH;
        CLASS['+'] = PLUS;
        CLASS['('] = PAREN;
        CLASS[':'] = COLON;
    }

    /** Secret bodies shorter than this are placeholders ({@code sk-...}, {@code sk-xxx}), not keys. */
    static final int MIN_KEY_BODY = 20;

    private final Set<EntityType> enabled;
    private final String phoneRegion;
    private final List<CustomPattern> custom;

    /**
     * @param enabled     the detectors that run
     * @param phoneRegion where numbers without a {@code +} country code are from (ISO 3166 code, e.g. "US")
     */
    public Scanner(Set<EntityType> enabled, String phoneRegion) {
        this(enabled, phoneRegion, List.of());
    }

    /** @param custom the user's own patterns, run after the built-in pass */
    public Scanner(Set<EntityType> enabled, String phoneRegion, List<CustomPattern> custom) {
        this.enabled = enabled.isEmpty() ? EnumSet.noneOf(EntityType.class) : EnumSet.copyOf(enabled);
        this.phoneRegion = phoneRegion;
        this.custom = List.copyOf(custom);
    }

    public static Scanner all() {
        return new Scanner(EnumSet.allOf(EntityType.class), "US");
    }

    public List<Detection> scan(CharSequence s) {
        return scan(s, 0, s.length());
    }

    /** Detections in {@code [from, to)}, ordered by start, none overlapping (the longer of two wins). */
    public List<Detection> scan(CharSequence s, int from, int to) {
        List<Detection> out = new ArrayList<>(2);
        int i = from;
        while (i < to) {
            char c = s.charAt(i);
            byte k = c < 128 ? CLASS[c] : OTHER;
            switch (k) {
                case LETTER -> i = word(s, i, from, to, out);
                case DIGIT -> i = digits(s, i, i, from, to, out);
                case AT -> i = email(s, i, from, to, out);
                case PLUS, PAREN -> i = i + 1 < to && isDigit(s.charAt(i + 1)) && !wordBefore(s, i, from)
                        ? digits(s, i + 1, i, from, to, out) : i + 1;
                case DASH -> i = privateKey(s, i, to, out);
                case COLON -> i = i + 1 < to && s.charAt(i + 1) == ':' && !hexOrColonBefore(s, i, from)
                        ? ipv6(s, i, to, out, i + 1) : i + 1;
                default -> i++;
            }
        }
        for (CustomPattern p : custom) {
            p.find(s, from, to, out);
        }
        return resolveOverlaps(out);
    }

    /**
     * For streams: the first position in {@code [from, limit)} from which one of the user's patterns
     * could still match once more text arrives after {@code end}, or {@code limit}. (The built-in
     * detectors' open tails are known by shape; see {@link StreamRedactor}.)
     */
    int openCustomMatch(CharSequence s, int from, int limit, int end) {
        int open = limit;
        for (CustomPattern p : custom) {
            open = p.openMatchStart(s, from, open, end);
        }
        return open;
    }


    // ---- words: secrets and IBANs ---------------------------------------------------------------

    private int word(CharSequence s, int i, int from, int to, List<Detection> out) {
        int j = i + 1;
        while (j < to && isWordChar(s.charAt(j))) {
            j++;
        }
        if (wordBefore(s, i, from)) {
            return j; // the middle of something longer (a dash-joined word): not a token start
        }
        int len = j - i;
        char c = s.charAt(i);
        switch (c) {
            case 's' -> {
                if (startsWith(s, i, j, "sk-ant-")) {
                    add(out, EntityType.ANTHROPIC_KEY, i, j, len - 7 >= MIN_KEY_BODY && tokenBody(s, i + 7, j));
                } else if (startsWith(s, i, j, "sk-")) {
                    add(out, EntityType.OPENAI_KEY, i, j, len - 3 >= MIN_KEY_BODY && tokenBody(s, i + 3, j));
                }
            }
            case 'A' -> {
                if (len == 20 && (startsWith(s, i, j, "AKIA") || startsWith(s, i, j, "ASIA"))
                        && upperAlnum(s, i + 4, j) && !startsWith(s, i + 13, j, "EXAMPLE")) {
                    add(out, EntityType.AWS_ACCESS_KEY, i, j, true);
                }
            }
            case 'g' -> {
                if (startsWith(s, i, j, "github_pat_")) {
                    add(out, EntityType.GITHUB_TOKEN, i, j, len >= 11 + 22 && tokenBody(s, i + 11, j));
                } else if (len >= 40 && s.charAt(i + 1) == 'h' && s.charAt(i + 3) == '_'
                        && "pousr".indexOf(s.charAt(i + 2)) >= 0) {
                    add(out, EntityType.GITHUB_TOKEN, i, j, alnum(s, i + 4, j) && tokenBody(s, i + 4, j));
                }
            }
            case 'x' -> {
                // Slack: xoxb- (bot), xoxp- (user), xoxe- (refresh), xoxa-/xoxr-/xoxs-, xapp- (app-level) and
                // the rotating "xoxe.xoxp-1-..."; the body starts with a digit (ids, or the "1-" version),
                // which placeholders such as "xoxb-your-token" do not.
                if (len >= 15 && (startsWith(s, i, j, "xox") && "abeprs".indexOf(s.charAt(i + 3)) >= 0
                        || startsWith(s, i, j, "xapp")) && s.charAt(i + 4) == '-') {
                    add(out, EntityType.SLACK_TOKEN, i, j, isDigit(s.charAt(i + 5)) && tokenBody(s, i + 5, j));
                } else if (len == 4 && startsWith(s, i, j, "xoxe") && j + 1 < to && s.charAt(j) == '.') {
                    int k = j + 1;
                    while (k < to && isWordChar(s.charAt(k))) {
                        k++;
                    }
                    if (k - j - 1 >= 15 && startsWith(s, j + 1, k, "xox") && "abeprs".indexOf(s.charAt(j + 4)) >= 0
                            && s.charAt(j + 5) == '-' && isDigit(s.charAt(j + 6)) && tokenBody(s, j + 6, k)
                            && enabled.contains(EntityType.SLACK_TOKEN)) {
                        out.add(new Detection(EntityType.SLACK_TOKEN, i, k));
                        return k;
                    }
                }
            }
            case 'e' -> {
                if (startsWith(s, i, j, "eyJ")) {
                    return jwt(s, i, j, to, out);
                }
            }
            default -> { }
        }
        if (j < to && s.charAt(j) == ':' && hex(s, i, j)) {
            return ipv6(s, i, to, out, j);
        }
        if (len == 4 && upper(c) && upper(s.charAt(i + 1)) && isDigit(s.charAt(i + 2)) && isDigit(s.charAt(i + 3))
                || len > 4 && len <= 34 && upper(c) && upper(s.charAt(i + 1)) && isDigit(s.charAt(i + 2))
                && isDigit(s.charAt(i + 3)) && upperAlnum(s, i + 4, j)) {
            return iban(s, i, to, out, j);
        }
        return j;
    }

    /** An IBAN: the country's length in letters and digits, optionally in groups of four. */
    private int iban(CharSequence s, int i, int to, List<Detection> out, int wordEnd) {
        Integer want = Validators.IBAN_LENGTHS.get(s.subSequence(i, i + 2).toString());
        if (want == null || !enabled.contains(EntityType.IBAN)) {
            return wordEnd;
        }
        int n = 0;
        int k = i;
        while (k < to && n < want) {
            char c = s.charAt(k);
            if (isDigit(c) || upper(c)) {
                n++;
                k++;
            } else if (c == ' ' && k + 1 < to && n % 4 == 0 && n > 0 && (isDigit(s.charAt(k + 1)) || upper(s.charAt(k + 1)))) {
                k++;
            } else {
                break;
            }
        }
        if (n == want && (k == to || !isWordChar(s.charAt(k))) && Validators.iban(s, i, k)) {
            out.add(new Detection(EntityType.IBAN, i, k));
            return k;
        }
        return wordEnd;
    }

    /** A JWT: three base64url segments, the header decoding to a JSON object that names its algorithm. */
    private int jwt(CharSequence s, int i, int headerEnd, int to, List<Detection> out) {
        int end = headerEnd;
        int segments = 1;
        while (segments < 3 && end + 1 < to && s.charAt(end) == '.' && isBase64Url(s.charAt(end + 1))) {
            int k = end + 1;
            while (k < to && isBase64Url(s.charAt(k))) {
                k++;
            }
            end = k;
            segments++;
        }
        if (segments == 3 && enabled.contains(EntityType.JWT) && headerEnd - i >= 10 && jwtHeader(s, i, headerEnd)) {
            out.add(new Detection(EntityType.JWT, i, end));
            return end;
        }
        return headerEnd;
    }

    private static boolean jwtHeader(CharSequence s, int start, int end) {
        try {
            String header = new String(Base64.getUrlDecoder().decode(s.subSequence(start, end).toString()),
                    java.nio.charset.StandardCharsets.UTF_8);
            return header.startsWith("{") && header.contains("\"alg\"");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    // ---- digits: cards, SSNs, IPv4, phones ----------------------------------------------------

    /**
     * A run of digits with single separators (space, dash, dot, parentheses) starting at {@code i};
     * {@code start} is where the candidate begins (a '+' or '(' before the digits).
     */
    private int digits(CharSequence s, int i, int start, int from, int to, List<Detection> out) {
        if (start == i && wordBefore(s, i, from)) {
            return skipWord(s, i, to);
        }
        int j = i;
        int count = 0;
        int dots = 0;
        int others = 0;
        int firstGroup = -1;
        boolean closingParen = false;
        boolean startParen = start != i && s.charAt(start) == '(';
        int parenDepth = startParen ? 1 : 0;
        boolean innerParen = false;
        boolean parensOk = true;
        while (j < to) {
            char c = s.charAt(j);
            if (isDigit(c)) {
                count++;
                j++;
                continue;
            }
            int step = separator(s, j, to);
            if (step == 0 || c == ' ' && colonGroupAt(s, j + 1, to)) {
                break; // "ping -c 3 2001:db8::1", "call 415 555 2671 10:30": an address or a time starts after the space
            }
            if (firstGroup < 0) {
                firstGroup = count;
            }
            if (c == '.') {
                dots++;
            } else {
                others++;
            }
            closingParen |= c == ')';
            for (int p = j; p < j + step; p++) { // "(415) 555" is fine, "403-420(1970" and "1 2) 3" are not
                char q = s.charAt(p);
                if (q == '(') {
                    innerParen = true;
                    parensOk &= parenDepth == 0;
                    parenDepth++;
                } else if (q == ')') {
                    parensOk &= parenDepth == 1;
                    parenDepth--;
                }
            }
            j += step;
            if (count > 19) {
                break;
            }
        }
        boolean ipStart = start == i || s.charAt(start) == '('; // "(2606:4700::1)" as well as "2606:4700::1"
        if (j < to && (isLetter(s.charAt(j)) || s.charAt(j) == '_')) {
            int hexEnd = j;
            while (hexEnd < to && isHex(s.charAt(hexEnd))) {
                hexEnd++;
            }
            if (ipStart && others == 0 && dots == 0 && hexEnd < to && s.charAt(hexEnd) == ':') {
                return ipv6(s, i, to, out, skipWord(s, j, to)); // 2a00:1450::8d6 starts with a digit
            }
            return skipWord(s, j, to); // digits glued to letters: an id, not a number
        }
        if (j < to && s.charAt(j) == ':' && ipStart && others == 0 && dots == 0) {
            return ipv6(s, i, to, out, j);
        }
        if (dots == 3 && others == 0 && count <= 12 && Validators.ipv4(s, i, j)) {
            add(out, EntityType.IP_ADDRESS, i, j, !versionBefore(s, i, from));
            return j;
        }
        // A '(' or '+' before the digits belongs to a phone number only; cards and SSNs start at a digit
        // and never follow a '+' ("+493018170" is a phone in Berlin, not an SSN).
        boolean plus = start != i && s.charAt(start) == '+';
        if (!plus && dots == 0 && count >= 12 && (others == 0 || firstGroup == 4) && enabled.contains(EntityType.CREDIT_CARD)
                && Validators.card(s, i, j)) {
            out.add(new Detection(EntityType.CREDIT_CARD, i, j));
            return j;
        }
        if (!plus && dots == 0 && count == 9 && enabled.contains(EntityType.US_SSN) && Validators.usSsn(s, i, j)
                && (j - i > 9 || ssnNamedBefore(s, i, from))) {
            out.add(new Detection(EntityType.US_SSN, i, j));
            return j;
        }
        int phoneStart = plus || closingParen ? start : i;
        // Parentheses pair up (an unclosed leading one is left out of the number); one dot and no
        // other separator is a decimal number (31.01875, +35236450.6), not a phone.
        boolean parens = parensOk && (parenDepth == 0 || parenDepth == 1 && startParen && !innerParen);
        if (count >= 7 && count <= 15 && (others > 0 || dots > 0 || plus) && parens && !(dots == 1 && others == 0)
                && enabled.contains(EntityType.PHONE) && (plus || !date(s, i, j))
                && (plus ? PhoneValidator.valid(s, phoneStart, j, phoneRegion)
                        : PhoneValidator.validNational(s, phoneStart, j, phoneRegion))) {
            out.add(new Detection(EntityType.PHONE, phoneStart, j));
        }
        return j;
    }

    /**
     * Whether the number at {@code [i, j)} starts with a date, {@code 2024-05-01} or {@code 01.05.2024}
     * (one separator, a plausible month and day, a year 1900-2099): a log line's timestamp, never a
     * phone. Saves a libphonenumber call per log line.
     */
    static boolean date(CharSequence s, int i, int j) {
        if (j - i < 10) {
            return false;
        }
        char sep = s.charAt(i + 4);
        if ((sep == '-' || sep == '.' || sep == ' ') && s.charAt(i + 7) == sep && digitsAt(s, i, 4) && digitsAt(s, i + 5, 2)
                && digitsAt(s, i + 8, 2) && (j - i == 10 || !isDigit(s.charAt(i + 10)))) {
            return year(s, i) && month(s, i + 5) && day(s, i + 8); // 2024-05-01
        }
        sep = s.charAt(i + 2);
        return (sep == '-' || sep == '.') && s.charAt(i + 5) == sep && digitsAt(s, i, 2) && digitsAt(s, i + 3, 2)
                && digitsAt(s, i + 6, 4) && (j - i == 10 || !isDigit(s.charAt(i + 10))) && year(s, i + 6)
                && (day(s, i) && month(s, i + 3) || month(s, i) && day(s, i + 3)); // 01.05.2024, 05-01-2024
    }

    private static boolean digitsAt(CharSequence s, int k, int n) {
        for (int p = k; p < k + n; p++) {
            if (!isDigit(s.charAt(p))) {
                return false;
            }
        }
        return true;
    }

    private static boolean year(CharSequence s, int k) {
        return s.charAt(k) == '1' && s.charAt(k + 1) == '9' || s.charAt(k) == '2' && s.charAt(k + 1) == '0';
    }

    private static boolean month(CharSequence s, int k) {
        int m = (s.charAt(k) - '0') * 10 + s.charAt(k + 1) - '0';
        return m >= 1 && m <= 12;
    }

    private static boolean day(CharSequence s, int k) {
        int d = (s.charAt(k) - '0') * 10 + s.charAt(k + 1) - '0';
        return d >= 1 && d <= 31;
    }

    /** Whether 1-4 hex digits and a ':' followed by a hex digit or ':' start at {@code k}: an IPv6 address or a time. */
    private static boolean colonGroupAt(CharSequence s, int k, int to) {
        int e = k;
        while (e < to && e - k < 5 && isHex(s.charAt(e))) {
            e++;
        }
        return e > k && e - k <= 4 && e + 1 < to && s.charAt(e) == ':' && (isHex(s.charAt(e + 1)) || s.charAt(e + 1) == ':');
    }

    /**
     * How many characters a separator inside a number takes at {@code j} (0: not a separator): one of
     * space, dash, dot, parentheses before a digit; ") " and " (" before a digit.
     */
    private static int separator(CharSequence s, int j, int to) {
        char c = s.charAt(j);
        if (c != ' ' && c != '-' && c != '.' && c != ')' && c != '(') {
            return 0;
        }
        if (j + 1 < to && isDigit(s.charAt(j + 1))) {
            return 1;
        }
        boolean pair = c == ')' && j + 2 < to && s.charAt(j + 1) == ' '
                || c == ' ' && j + 2 < to && s.charAt(j + 1) == '(';
        return pair && isDigit(s.charAt(j + 2)) ? 2 : 0;
    }

    // ---- email, IPv6, PEM ------------------------------------------------------------------------

    private int email(CharSequence s, int at, int from, int to, List<Detection> out) {
        if (!enabled.contains(EntityType.EMAIL)) {
            return at + 1;
        }
        int l = at;
        while (l > from && at - l < 64 && isLocalChar(s.charAt(l - 1))) {
            l--;
        }
        int r = at + 1;
        while (r < to && r - at < 254 && (isLetterOrDigit(s.charAt(r)) || s.charAt(r) == '.' || s.charAt(r) == '-'
                || Validators.intlLetter(s.charAt(r)))) {
            r++;
        }
        while (r > at + 1 && (s.charAt(r - 1) == '.' || s.charAt(r - 1) == '-')) {
            r--; // the end of a sentence, not of the domain
        }
        while (l < at && s.charAt(l) == '.') {
            l++;
        }
        boolean scpRemote = r < to && s.charAt(r) == ':'; // git@github.com:org/repo.git is an SSH remote
        if (l < at && !scpRemote && Validators.email(s, l, r)) {
            out.add(new Detection(EntityType.EMAIL, l, r));
            return r;
        }
        return at + 1;
    }

    private int ipv6(CharSequence s, int i, int to, List<Detection> out, int fallback) {
        int k = i;
        int colons = 0;
        while (k < to && (isHex(s.charAt(k)) || s.charAt(k) == ':' || s.charAt(k) == '.')) {
            colons += s.charAt(k) == ':' ? 1 : 0;
            k++;
        }
        while (k > i && (s.charAt(k - 1) == '.' || s.charAt(k - 1) == ':' && (k - 2 < i || s.charAt(k - 2) != ':'))) {
            k--; // trailing punctuation of the sentence
        }
        if (colons >= 2 && enabled.contains(EntityType.IP_ADDRESS) && (k == to || !isWordChar(s.charAt(k)))
                && Validators.ipv6(s, i, k) && addressLike(s, i, k)) {
            out.add(new Detection(EntityType.IP_ADDRESS, i, k));
            return k;
        }
        return Math.max(fallback, i + 1);
    }

    /**
     * Valid IPv6 text that is an address rather than punctuation or code: it has a decimal digit
     * (not reST's or a grammar's {@code ::}, {@code a:b::c}) and, when compressed, at least five hex
     * digits or an embedded IPv4 address ({@code ::1}, the loopback, excepted), so Python slices such
     * as {@code a[::2]} and {@code a[1::2]} are not addresses.
     */
    private static boolean addressLike(CharSequence s, int i, int k) {
        int hexDigits = 0;
        boolean decimal = false;
        boolean compressed = false;
        boolean dotted = false;
        for (int p = i; p < k; p++) {
            char c = s.charAt(p);
            if (c == ':') {
                compressed |= p + 1 < k && s.charAt(p + 1) == ':';
            } else if (c == '.') {
                dotted = true;
            } else {
                hexDigits++;
                decimal |= isDigit(c);
            }
        }
        return decimal && (!compressed || dotted || hexDigits >= 5 || k - i == 3 && s.charAt(i + 2) == '1');
    }

    private int privateKey(CharSequence s, int i, int to, List<Detection> out) {
        if (!startsWith(s, i, to, "-----BEGIN ") || !enabled.contains(EntityType.PRIVATE_KEY)) {
            return i + 1;
        }
        int labelEnd = indexOf(s, "-----", i + 11, Math.min(to, i + 80));
        if (labelEnd < 0 || indexOf(s, "PRIVATE KEY", i + 11, labelEnd) < 0) {
            return i + 1;
        }
        int endMarker = indexOf(s, "-----END ", labelEnd + 5, to);
        if (endMarker >= 0 && !keyMaterial(s, labelEnd + 5, endMarker)) {
            return i + 1; // both markers named in prose or code ("between -----BEGIN ... and -----END ..."), no key
        }
        // No end in sight: everything after the header is key material (fail closed).
        int close = endMarker < 0 ? -1 : indexOf(s, "-----", endMarker + 9, to);
        int end = close < 0 ? to : close + 5;
        out.add(new Detection(EntityType.PRIVATE_KEY, i, end));
        return end;
    }

    /**
     * Whether {@code [from, to)} holds base64 key material: a run of at least 12 base64 characters
     * with a digit, '+', '/' or an inner capital ({@code MIIEvQIBADANBg...}), which prose and code
     * between two marker mentions do not have.
     */
    private static boolean keyMaterial(CharSequence s, int from, int to) {
        int run = 0;
        boolean mixed = false;
        for (int p = from; p < to; p++) {
            char c = s.charAt(p);
            if (isLetterOrDigit(c) || c == '+' || c == '/' || c == '=') {
                mixed |= run > 0 && (upper(c) || isDigit(c) || c == '+' || c == '/');
                if (++run >= 12 && mixed) {
                    return true;
                }
            } else {
                run = 0;
                mixed = false;
            }
        }
        return false;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private void add(List<Detection> out, EntityType type, int start, int end, boolean valid) {
        if (valid && enabled.contains(type)) {
            out.add(new Detection(type, start, end));
        }
    }

    private static List<Detection> resolveOverlaps(List<Detection> found) {
        if (found.size() < 2) {
            return found;
        }
        found.sort(Comparator.comparingInt(Detection::start).thenComparing(Comparator.comparingInt(Detection::length).reversed()));
        List<Detection> kept = new ArrayList<>(found.size());
        for (Detection d : found) {
            Detection last = kept.isEmpty() ? null : kept.get(kept.size() - 1);
            if (last == null || d.start() >= last.end()) {
                kept.add(d);
            } else if (d.length() > last.length()) {
                kept.set(kept.size() - 1, d);
            }
        }
        return kept;
    }

    /** Words that name an SSN; nine bare digits are an SSN only after one of them, on the same line. */
    private static final String[] SSN_WORDS = {"ssn", "social security", "social_security", "socialsecurity", "soc sec",
        "ss#", "ss no", "taxpayer"};
    static final int SSN_LABEL_WINDOW = 32;

    /**
     * True when an SSN is named shortly before {@code i}. Written 123-45-6789 an SSN is recognisable
     * by its shape; nine bare digits are also order numbers, ticket ids and amounts in cents, so they
     * count only where the text says what they are ({@code SSN 123456789}, {@code "ssn": "123456789"}).
     */
    static boolean ssnNamedBefore(CharSequence s, int i, int from) {
        int k = i;
        int limit = Math.max(from, i - SSN_LABEL_WINDOW);
        while (k > limit && s.charAt(k - 1) != '\n') {
            k--;
        }
        String before = s.subSequence(k, i).toString().toLowerCase(java.util.Locale.ROOT);
        for (String w : SSN_WORDS) {
            if (before.contains(w)) {
                return true;
            }
        }
        return false;
    }

    private static final Set<String> VERSION_WORDS = Set.of("version", "release", "ver", "v", "build", "rev",
            "revision", "tag", "firmware", "package", "pkg", "sdk", "section", "sections");

    /**
     * True when the name right before a dotted quad names a version or a section: {@code version 1.2.3.4},
     * {@code "version": "..."}, {@code <version>2.0.6.1</version>}, {@code __version__ = "0.5.1.2"},
     * {@code <plugin.version>4.8.3.1}, {@code section 8.2.4.44}. In a dotted or underscored name the
     * last part counts ({@code version.android.sdk}).
     */
    static boolean versionBefore(CharSequence s, int i, int from) {
        int k = i;
        int limit = Math.max(from, i - 6);
        while (k > limit && " \t\"':=>".indexOf(s.charAt(k - 1)) >= 0) {
            k--;
        }
        while (k > from && s.charAt(k - 1) == '_') {
            k--;
        }
        int end = k;
        while (k > from && end - k < 16 && isLetter(s.charAt(k - 1))) {
            k--;
        }
        return end > k && VERSION_WORDS.contains(s.subSequence(k, end).toString().toLowerCase(java.util.Locale.ROOT));
    }

    private static int skipWord(CharSequence s, int i, int to) {
        while (i < to && isWordChar(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean wordBefore(CharSequence s, int i, int from) {
        if (i <= from) {
            return false;
        }
        char p = s.charAt(i - 1);
        return isWordChar(p) || p == '.' && i - 1 > from && isLetterOrDigit(s.charAt(i - 2));
    }

    private static boolean hexOrColonBefore(CharSequence s, int i, int from) {
        return i > from && (isHex(s.charAt(i - 1)) || s.charAt(i - 1) == ':');
    }

    static boolean startsWith(CharSequence s, int i, int end, String prefix) {
        if (end - i < prefix.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (s.charAt(i + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(CharSequence s, String needle, int from, int to) {
        outer:
        for (int i = from; i + needle.length() <= to; i++) {
            for (int k = 0; k < needle.length(); k++) {
                if (s.charAt(i + k) != needle.charAt(k)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** A token body: letters, digits, '-' and '_', not one character repeated (sk-xxxxxxxx... is a placeholder). */
    private static boolean tokenBody(CharSequence s, int i, int j) {
        if (j <= i) {
            return false;
        }
        boolean varied = false;
        for (int k = i; k < j; k++) {
            char c = s.charAt(k);
            if (!isWordChar(c)) {
                return false;
            }
            varied |= c != s.charAt(i);
        }
        return varied;
    }

    private static boolean upperAlnum(CharSequence s, int i, int j) {
        for (int k = i; k < j; k++) {
            char c = s.charAt(k);
            if (!upper(c) && !isDigit(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean alnum(CharSequence s, int i, int j) {
        for (int k = i; k < j; k++) {
            if (!isLetterOrDigit(s.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    private static boolean hex(CharSequence s, int i, int j) {
        for (int k = i; k < j; k++) {
            if (!isHex(s.charAt(k))) {
                return false;
            }
        }
        return j - i <= 4;
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    static boolean upper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    static boolean isLetter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    static boolean isLetterOrDigit(char c) {
        return isLetter(c) || isDigit(c);
    }

    /** Word characters for token boundaries: letters, digits, '_' and '-'. */
    static boolean isWordChar(char c) {
        return isLetterOrDigit(c) || c == '_' || c == '-';
    }

    static boolean isHex(char c) {
        return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    static boolean isBase64Url(char c) {
        return isLetterOrDigit(c) || c == '-' || c == '_';
    }

    /**
     * Local-part characters the scanner looks back over: the practical subset (letters, digits,
     * {@code . _ % + -}). The rarer RFC 5322 ones ({@code = ' ` / ...}) are far more often the text
     * in front of an address ({@code email=}, quotes) than part of it.
     */
    static boolean isLocalChar(char c) {
        return isLetterOrDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || Validators.intlLetter(c);
    }
}
