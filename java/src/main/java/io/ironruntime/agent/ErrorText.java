package io.ironruntime.agent;

import io.ironruntime.pii.PiiMode;
import io.ironruntime.pii.Redactor;
import io.ironruntime.pii.Scanner;
import java.util.Collection;

/**
 * What an agent printed, made fit for {@code last_error}, events and the database: secrets replaced
 * and PII redacted to typed placeholders, bounded in length. Pure apart from a lazily built scanner.
 */
final class ErrorText {
    static final int MAX_CHARS = 2_000;

    private ErrorText() {
    }

    private static final class Detectors {
        static final Scanner SCANNER = Scanner.all();
        static final Redactor REDACTOR = new Redactor(PiiMode.REDACT, new byte[0]);
    }

    static String scrub(String text, Collection<String> secrets) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String t = text.length() > MAX_CHARS ? "..." + text.substring(text.length() - MAX_CHARS) : text;
        for (String secret : secrets) {
            if (secret != null && secret.length() >= 8) {
                t = t.replace(secret, "[secret]");
            }
        }
        return Detectors.REDACTOR.apply(t, Detectors.SCANNER.scan(t));
    }
}
