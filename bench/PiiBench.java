/*
 * iron-runtime PII scanner throughput (issue 4, "Performance": at least 150 MB/s of chat-like text,
 * single thread, all detectors on).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/PiiBench.java [--quick]
 *
 * Builds about 4 MB of chat-like text (prose, markdown, JSON, logs and code, with a PII value in
 * roughly one line of fifty), scans it whole again and again on one thread, and prints the median
 * throughput of the rounds and the detections per round (the same every round).
 */

import io.ironruntime.pii.Scanner;
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
    }
}
