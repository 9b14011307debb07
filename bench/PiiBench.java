/*
 * iron-runtime PII scanner throughput (issue 4, "Performance": at least 150 MB/s of chat-like text,
 * single thread, all detectors on).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/PiiBench.java [--quick]
 *
 * Builds about 4 MB of chat-like text (prose, markdown, JSON, logs and code, with a PII value in
 * roughly one line of fifty), scans it whole again and again on one thread, and prints the median
 * throughput of the rounds and the detections per round (the same every round).
 *
 * Then streams the same text through the stream redactor in model-sized deltas (a word or two, as
 * providers send them) and reports the time each delta takes (the PII part of the per-event delay;
 * the router's whole per-event delay with PII on is RouterBench --pii) and how many characters are
 * held back after each delta: the intentional hold-back.
 */

import io.ironruntime.pii.PiiMode;
import io.ironruntime.pii.Redactor;
import io.ironruntime.pii.Scanner;
import io.ironruntime.pii.StreamRedactor;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

public final class PiiBench {
    static final String[] LINES = {
        "Sure! Here is a summary of the quarterly report you asked for, with the main risks listed below.",
        "1. Revenue grew 12% year over year, driven mostly by the enterprise segment and renewals.",
        "```python\nfor i, row in enumerate(rows):\n    total += row.amount * rate  # apply the rate\n```",
        "{\"id\": \"chatcmpl-8x7\", \"model\": \"gpt-4o-mini\", \"created\": 1700000000, \"version\": \"1.2.3\"}",
        "2026-11-21T08:15:02Z INFO request handled in 12.5 ms status=200 path=/v1/chat/completions",
        "The meeting is at 10:30 in room 4B; bring the draft, the budget sheet and your laptop charger.",
        "| name | value |\n|------|-------|\n| retries | 3 |\n| timeout | 30 s |",
        "Let me know if you want me to rewrite the introduction in a more formal tone or shorten it.",
    };
    static final String[] PII = {
        "Contact jane.doe@example.com for details.", "Call +1 415 555 2671 after lunch.",
        "Card on file: 4111 1111 1111 1111.", "SSN 123-45-6789 was redacted?",
        "Server 10.20.30.40 timed out.", "export OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    };

    public static void main(String[] args) {
        boolean quick = Arrays.asList(args).contains("--quick");
        Random random = new Random(42);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 4_000_000) {
            sb.append(random.nextInt(50) == 0 ? PII[random.nextInt(PII.length)] : LINES[random.nextInt(LINES.length)])
                    .append('\n');
        }
        String text = sb.toString();
        Scanner scanner = Scanner.all();
        int rounds = quick ? 15 : 50;
        long warmEnd = System.nanoTime() + (quick ? 2_000_000_000L : 5_000_000_000L);
        int detections = 0;
        while (System.nanoTime() < warmEnd) {
            detections = scanner.scan(text).size();
        }
        double[] mbs = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            int n = scanner.scan(text).size();
            mbs[r] = text.length() / ((System.nanoTime() - t0) / 1e9) / 1e6;
            if (n != detections) {
                throw new IllegalStateException("detections changed between rounds");
            }
        }
        Arrays.sort(mbs);
        double median = mbs[rounds / 2];
        System.out.printf(Locale.ROOT, "PII scan, all detectors, 1 thread: %.1f MB of text, %d detections per round%n",
                text.length() / 1e6, detections);
        System.out.printf(Locale.ROOT, "median %.0f MB/s (min %.0f, max %.0f over %d rounds); target >= 150 MB/s: %s%n",
                median, mbs[0], mbs[rounds - 1], rounds, median >= 150 ? "ok" : "MISS");
        streams(text, quick);
    }

    /** Per-delta cost and hold-back of the stream redactor over word-sized deltas. */
    static void streams(String text, boolean quick) {
        java.util.List<String> deltas = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\S+\\s*|\\s+").matcher(text);
        while (m.find()) {
            deltas.add(m.group());
        }
        Redactor redactor = new Redactor(PiiMode.REDACT, "bench-salt".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Scanner scanner = Scanner.all();
        int passes = quick ? 2 : 4;
        long[] nanos = new long[deltas.size()];
        int[] held = new int[deltas.size()];
        for (int pass = 0; pass < passes; pass++) { // the earlier passes warm the JIT up
            StreamRedactor r = new StreamRedactor(scanner, redactor, f -> { });
            for (int i = 0; i < deltas.size(); i++) {
                long t0 = System.nanoTime();
                r.push(deltas.get(i));
                nanos[i] = System.nanoTime() - t0;
                held[i] = r.held();
            }
            r.finish();
        }
        Arrays.sort(nanos);
        Arrays.sort(held);
        int n = nanos.length;
        System.out.printf(Locale.ROOT, "stream redaction, %d word-sized deltas: per delta p50 %.2f us, p99 %.2f us,"
                        + " max %.0f us; target p99 <= 200 us: %s%n", n, nanos[n / 2] / 1e3, nanos[n * 99 / 100] / 1e3,
                nanos[n - 1] / 1e3, nanos[n * 99 / 100] <= 200_000 ? "ok" : "MISS");
        System.out.printf(Locale.ROOT, "hold-back after each delta, characters: p50 %d, p99 %d, max %d%n",
                held[n / 2], held[n * 99 / 100], held[n - 1]);
    }
}
