package io.ironruntime.pii;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Redaction of one stream of text that arrives in pieces (one choice's content, one content block,
 * one tool call's arguments). Each {@link #push} returns at once everything no later text can turn
 * into (part of) a match, redacted; it holds back only the tail that could still grow into one:
 * <ul>
 * <li>the last token of characters a value can contain (letters, digits, {@code . _ % + - @ : ( )}):
 *     any word may still become an email's local part, any digits a card;</li>
 * <li>before it, groups of digits or capitals separated by single spaces (a card, phone or IBAN
 *     written in groups), up to {@link #MAX_GROUPED} characters;</li>
 * <li>an unterminated private-key block, from its header on.</li>
 * </ul>
 * {@link #finish} flushes the rest. The text already emitted is kept as context (up to
 * {@link #CONTEXT} characters) so that word boundaries are judged as in the whole text. Not thread-safe.
 */
public final class StreamRedactor implements TextStream {
    /** Emitted text kept to judge the boundaries of what follows. */
    static final int CONTEXT = 64;
    /** A card, phone or IBAN in groups is never longer than this. */
    static final int MAX_GROUPED = 48;
    /** Past this, a held tail is released (scanned as complete): no single value is this long. */
    static final int MAX_HOLD = 16 * 1024;

    private final Scanner scanner;
    private final Redactor redactor;
    private final Consumer<Finding> onFinding;
    /** Context (already emitted, original text) followed by the pending text. */
    private final StringBuilder buf = new StringBuilder();
    private int contextLength;
    /** Characters of the stream emitted before the pending text: findings are reported from the stream's start. */
    private long emitted;

    /** @param onFinding sees every detection (offsets from the start of the stream), for audit */
    public StreamRedactor(Scanner scanner, Redactor redactor, Consumer<Finding> onFinding) {
        this.scanner = scanner;
        this.redactor = redactor;
        this.onFinding = onFinding;
    }

    @Override
    public String push(CharSequence delta) {
        buf.append(delta);
        List<Detection> found = scanner.scan(buf, 0, buf.length()); // one scan serves the cut and the redaction
        return emit(safeEnd(found), found);
    }

    @Override
    public String finish() {
        return emit(buf.length(), scanner.scan(buf, 0, buf.length()));
    }

    @Override
    public int held() {
        return buf.length() - contextLength;
    }

    /** Emits {@code [contextLength, end)}; {@code found} are the detections of the whole buffer. */
    private String emit(int end, List<Detection> found) {
        if (end <= contextLength) {
            return "";
        }
        List<Detection> mine = new ArrayList<>(found.size());
        for (Detection d : found) {
            if (d.end() <= contextLength) {
                continue; // in text emitted (and redacted) before
            }
            if (d.start() >= end) {
                break; // held back for now
            }
            if (d.start() < contextLength) {
                // A value reaching back into emitted text would mean the hold-back was wrong: fail closed.
                throw new IllegalStateException("a detection straddles text already emitted");
            }
            mine.add(new Detection(d.type(), d.start() - contextLength, d.end() - contextLength));
        }
        String out = redactor.apply(buf.subSequence(contextLength, end), mine, emitted, onFinding);
        emitted += end - contextLength;
        int keepFrom = Math.max(0, end - CONTEXT);
        buf.delete(0, keepFrom);
        contextLength = end - keepFrom;
        return out;
    }

    /** Where the text that could still grow into a match begins. */
    private int safeEnd(List<Detection> found) {
        int n = buf.length();
        int begin = lastIndexOf("-----BEGIN ", contextLength, n);
        int endLine = begin < 0 ? -1 : buf.indexOf("-----END ", begin);
        if (begin >= 0 && (endLine < 0 || buf.indexOf("-----", endLine + 9) < 0)) { // open until "-----END ...-----"
            return n - begin > MAX_HOLD ? n : begin;
        }
        int t = n;
        while (t > contextLength && valueChar(buf.charAt(t - 1))) {
            t--;
        }
        int token = t;
        // Grouped numbers and IBANs: "4111 1111 " or "GB82 WEST 12" may go on.
        while (t - 2 >= contextLength && buf.charAt(t - 1) == ' ' && groupChar(buf.charAt(t - 2))) {
            int g = t - 1;
            while (g > contextLength && groupChar(buf.charAt(g - 1))) {
                g--;
            }
            if (t - 1 - g > 8 || token - g > MAX_GROUPED) {
                break;
            }
            t = g;
        }
        t = scanner.openCustomMatch(buf, contextLength, t, n);
        if (t > contextLength && Character.isHighSurrogate(buf.charAt(t - 1))) {
            t--; // never split a surrogate pair: half a character cannot be encoded
        }
        if (n - t > MAX_HOLD) {
            return n;
        }
        // Never cut through a value found in what is already here (a key block's end line, ...).
        for (Detection d : found) {
            if (d.start() < t && d.end() > t) {
                return d.start();
            }
        }
        return t;
    }

    private int lastIndexOf(String needle, int from, int to) {
        int i = buf.lastIndexOf(needle, to - needle.length());
        return i >= from ? i : -1;
    }

    /** Characters a detectable value can contain (spaces of grouped numbers are handled apart). */
    static boolean valueChar(char c) {
        return Scanner.isLetterOrDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '@'
                || c == ':' || c == '(' || c == ')' || c >= 0x80 && alphabeticWord(c);
    }

    /**
     * Letters of the scripts that write words between spaces (Latin, Greek, Cyrillic, ...): a word of
     * them may still become an email's local part ({@code jürgen.müller@…}). Scripts written without
     * spaces (Chinese, Japanese, Thai) are not held: a whole sentence would wait for its end.
     */
    private static boolean alphabeticWord(char c) {
        if (!Character.isLetterOrDigit(c)) {
            return false;
        }
        Character.UnicodeScript script = Character.UnicodeScript.of(c);
        return script == Character.UnicodeScript.LATIN || script == Character.UnicodeScript.GREEK
                || script == Character.UnicodeScript.CYRILLIC || script == Character.UnicodeScript.ARMENIAN
                || script == Character.UnicodeScript.GEORGIAN || script == Character.UnicodeScript.COMMON;
    }

    private static boolean groupChar(char c) {
        return Scanner.isDigit(c) || Scanner.upper(c) || c == '(' || c == ')' || c == '+' || c == '-';
    }
}
