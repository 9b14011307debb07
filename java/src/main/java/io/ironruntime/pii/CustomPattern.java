package io.ironruntime.pii;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A user's own detector ({@code pii_patterns=[{"name": "EMPLOYEE_ID", "regex": "EMP-\\d{6}", "validator": None}]}):
 * a regular expression, optionally confirmed by a built-in validator ({@code "luhn"}, {@code "mod97"}, ...).
 * Unlike the built-in detectors it costs a regex pass over the text, so each one slows scanning.
 *
 * @param validator null when every match counts
 */
public record CustomPattern(String name, Pattern regex, Validators.Validator validator) {

    /**
     * Matches in {@code [from, to)}; text outside is visible to look-arounds and {@code \b}.
     *
     * @throws Failed when the expression cannot be run on this text (Java's matcher recurses on
     *         alternations inside repetitions and can run out of stack on long input)
     */
    void find(CharSequence s, int from, int to, java.util.List<Detection> out) {
        try {
            Matcher m = matcher(s, from, to);
            while (m.find()) {
                if (m.end() > m.start() && (validator == null || validator.valid(s, m.start(), m.end()))) {
                    out.add(new Detection(name, m.start(), m.end()));
                }
            }
        } catch (StackOverflowError e) {
            throw new Failed(name, to - from);
        }
    }

    /** A user's pattern could not be run: the text must not pass unchecked. */
    public static final class Failed extends RuntimeException {
        public Failed(String name, int length) {
            super("the pii_patterns expression " + name + " ran out of stack on " + length + " characters;"
                    + " simplify it (for example [ab]+ instead of (a|b)+)", null, false, false);
        }
    }

    /**
     * The first position in {@code [from, limit)} where a match could begin that more text after
     * {@code end} might still complete or extend (the matcher ran into the end), or {@code limit}.
     */
    int openMatchStart(CharSequence s, int from, int limit, int end) {
        Matcher m = matcher(s, from, end);
        try {
            for (int p = from; p < limit; p++) {
                m.region(p, end);
                m.lookingAt();
                if (m.hitEnd()) {
                    return p;
                }
            }
        } catch (StackOverflowError e) {
            throw new Failed(name, end - from);
        }
        return limit;
    }

    private Matcher matcher(CharSequence s, int from, int to) {
        return regex.matcher(s).region(from, to).useTransparentBounds(true).useAnchoringBounds(false);
    }
}
