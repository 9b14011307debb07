package io.ironruntime.pii;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Redaction of JSON source text that arrives in pieces: tool-call arguments, which the providers
 * stream as fragments of a JSON document. The values inside string literals are decoded (escapes
 * included, even split between pieces), redacted as text by their own {@link StreamRedactor} and
 * encoded again, so a value written as {@code "Call\\n+1 415..."} is seen as the text it is. A
 * number that is a value (a card written as a JSON number) becomes a string holding its replacement.
 * Everything else passes as it comes. The output is valid JSON whenever the input is. Findings are
 * reported with offsets into the JSON source (the whole document so far). Not thread-safe.
 */
public final class JsonTextStream implements TextStream {
    private final Scanner scanner;
    private final Redactor redactor;
    private final Consumer<Finding> onFinding;
    private StreamRedactor string;
    /** Decoded characters of the current string not yet pushed. */
    private final StringBuilder text = new StringBuilder();
    /** An escape sequence not yet complete ({@code \}, {@code \}{@code u00}...). */
    private final StringBuilder escape = new StringBuilder();
    /** A bare token (number, literal) not yet complete. */
    private final StringBuilder token = new StringBuilder();
    private boolean inString;
    /** Source characters read so far. */
    private long read;
    /** Where the current string's or token's first character is in the source. */
    private long startInSource;
    /**
     * The current string's escapes, as pairs (decoded index, source characters beyond one): a decoded
     * offset maps back to the source by adding the extra characters of the escapes before it.
     */
    private final List<long[]> escapes = new ArrayList<>();
    private long decoded;

    public JsonTextStream(Scanner scanner, Redactor redactor, Consumer<Finding> onFinding) {
        this.scanner = scanner;
        this.redactor = redactor;
        this.onFinding = onFinding;
    }

    private StreamRedactor newString() {
        escapes.clear();
        decoded = 0;
        startInSource = read;
        return new StreamRedactor(scanner, redactor, onFinding == null ? null : f -> onFinding.accept(
                new Finding(f.type(), toSource(f.start()), toSource(f.end()), f.fingerprint())));
    }

    private long toSource(long decodedOffset) {
        long extra = 0;
        for (long[] e : escapes) {
            if (e[0] < decodedOffset) {
                extra += e[1];
            }
        }
        return startInSource + decodedOffset + extra;
    }

    /** Redacts a complete JSON document (or any text) the same way a stream of it is redacted. */
    public static String whole(Scanner scanner, Redactor redactor, Consumer<Finding> onFinding, String json) {
        JsonTextStream s = new JsonTextStream(scanner, redactor, onFinding);
        return s.push(json) + s.finish();
    }

    @Override
    public String push(CharSequence delta) {
        StringBuilder out = new StringBuilder(delta.length() + 16);
        for (int i = 0; i < delta.length(); i++) {
            char c = delta.charAt(i);
            read++;
            if (inString) {
                inString(c, out);
            } else if (c == '"') {
                endToken(out);
                out.append('"');
                inString = true;
                string = newString();
            } else if (tokenChar(c)) {
                if (token.isEmpty()) {
                    startInSource = read - 1;
                }
                token.append(c);
            } else {
                endToken(out);
                out.append(c);
            }
        }
        if (inString) {
            pushText(out, false);
        }
        return out.toString();
    }

    private void inString(char c, StringBuilder out) {
        if (!escape.isEmpty()) {
            escape.append(c);
            decodeEscape();
        } else if (c == '\\') {
            escape.append(c);
        } else if (c == '"') {
            pushText(out, true);
            encode(string.finish(), out);
            out.append('"');
            inString = false;
            string = null;
        } else {
            text.append(c);
            decoded++;
        }
    }

    /**
     * Hands the decoded characters to the string's redactor; a high surrogate at the end waits for
     * its pair ({@code \\ud83d} and {@code \\udcde} may come in different pieces): alone it cannot be encoded.
     */
    private void pushText(StringBuilder out, boolean all) {
        int n = text.length();
        if (!all && n > 0 && Character.isHighSurrogate(text.charAt(n - 1))) {
            n--;
        }
        if (n > 0) {
            encode(string.push(text.subSequence(0, n)), out);
            text.delete(0, n);
        }
    }

    private void decodeEscape() {
        char kind = escape.charAt(1);
        if (kind == 'u') {
            if (escape.length() < 6) {
                return;
            }
            try {
                text.append((char) Integer.parseInt(escape, 2, 6, 16));
                escapes.add(new long[] {decoded, 5});
                decoded++;
            } catch (NumberFormatException e) {
                text.append(escape); // not JSON: keep the characters as they came
                decoded += escape.length();
            }
        } else {
            escapes.add(new long[] {decoded, 1});
            decoded++;
            text.append(switch (kind) {
                case 'n' -> '\n';
                case 't' -> '\t';
                case 'r' -> '\r';
                case 'b' -> '\b';
                case 'f' -> '\f';
                default -> kind; // \" \\ \/
            });
        }
        escape.setLength(0);
    }

    /** A bare token ended: a number that is a detected value is replaced by a string. */
    private void endToken(StringBuilder out) {
        if (token.isEmpty()) {
            return;
        }
        String t = token.toString();
        token.setLength(0);
        var found = scanner.scan(t);
        if (found.isEmpty()) {
            out.append(t);
            return;
        }
        String redacted = redactor.apply(t, found, startInSource, onFinding);
        if (redacted.equals(t)) {
            out.append(t); // audit only: the document passes unchanged
        } else {
            out.append('"');
            encode(redacted, out);
            out.append('"');
        }
    }

    @Override
    public String finish() {
        StringBuilder out = new StringBuilder();
        if (inString) { // the document broke off inside a string: redact what there is, leave it open
            text.append(escape);
            escape.setLength(0);
            pushText(out, true);
            encode(string.finish(), out);
            inString = false;
        }
        endToken(out);
        return out.toString();
    }

    @Override
    public int held() {
        return text.length() + escape.length() + token.length() + (string == null ? 0 : string.held());
    }

    private static boolean tokenChar(char c) {
        return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    }

    /** JSON string-literal encoding of redacted text (without the quotes). */
    static void encode(CharSequence s, StringBuilder out) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }
}
