package io.ironruntime.agent;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What the {@code run} command shows about its agent, from the agent's metrics: the one-line live
 * status and the summary at the end. Kept here so that the Java and the Python command print the
 * same text.
 */
public final class AgentReport {
    /** Lines of a long last error the summary keeps (its end says most: the exception, the reason). */
    static final int LAST_ERROR_LINES = 8;
    private static final String INDENT = "              ";

    private AgentReport() {
    }

    /**
     * {@code iron-runtime | agent.py running | $0.0012 of $5.00 | 3 requests | 1,204 tokens | 0 PII},
     * cut to {@code width - 1} characters (so that it never wraps and '\r' can redraw it); no cut for
     * a width of 0 or less.
     */
    public static String statusLine(JsonNode m, int width) {
        StringBuilder b = new StringBuilder("iron-runtime | ").append(m.path("name").asText("agent")).append(' ')
                .append(m.path("status").asText("?"));
        int restarts = m.path("restarts").asInt(0);
        if (restarts > 0) {
            b.append(" (").append(restarts).append(restarts == 1 ? " restart)" : " restarts)");
        }
        b.append(" | ").append(spend(m));
        b.append(" | ").append(count(m.path("requests").asLong(0), "request"));
        long refused = m.path("refused_requests").asLong(0);
        if (refused > 0) {
            b.append(" (").append(refused).append(" refused)");
        }
        long tokens = m.path("input_tokens").asLong(0) + m.path("output_tokens").asLong(0);
        b.append(" | ").append(count(tokens, "token"));
        b.append(" | ").append(m.path("pii_detections").asLong(0)).append(" PII");
        String line = b.toString();
        return width > 0 && line.length() > width - 1 ? line.substring(0, Math.max(0, width - 1)) : line;
    }

    /**
     * The summary, one fact a line, ending with a newline.
     *
     * @param m           the agent's final metrics
     * @param totalSpent  the runtime's total spend in dollars (all its agents, and earlier runs under the same budget id)
     * @param totalLimit  the runtime's total budget in dollars, or null when unlimited
     * @param stoppedOn   the signal the command was stopped with ("SIGINT"), or null
     */
    public static String summary(JsonNode m, double totalSpent, Double totalLimit, String stoppedOn) {
        List<String> lines = new ArrayList<>();
        String exit = m.path("exit_code").isNumber() ? "exit code " + m.get("exit_code").asInt() : "no exit code";
        lines.add("iron-runtime: " + m.path("name").asText("agent") + " " + m.path("status").asText("?") + ", " + exit
                + (stoppedOn == null ? "" : " (stopped on " + stoppedOn + ")"));
        lines.add(fact("spend", spend(m)));
        JsonNode limit = m.path("budget_limit");
        boolean sameAsAgent = limit.isNumber() && totalLimit != null && limit.asDouble() == totalLimit
                && m.path("budget_spent").asDouble() == totalSpent;
        if (!sameAsAgent && (totalLimit != null || totalSpent != m.path("budget_spent").asDouble())) {
            lines.add(fact("total", dollars(totalSpent) + (totalLimit == null ? " (no total budget)"
                    : " of " + dollars(totalLimit) + " total budget")));
        }
        long refused = m.path("refused_requests").asLong(0);
        lines.add(fact("requests", m.path("requests").asLong(0)
                + (refused > 0 ? " (" + refused + " refused: budget spent)" : "")));
        lines.add(fact("tokens", String.format(Locale.ROOT, "%,d in, %,d out", m.path("input_tokens").asLong(0),
                m.path("output_tokens").asLong(0))));
        lines.add(fact("PII", count(m.path("pii_detections").asLong(0), "detection")));
        lines.add(fact("restarts", Integer.toString(m.path("restarts").asInt(0))));
        String error = m.path("last_error").asText(null);
        if (error != null && !error.isBlank()) {
            List<String> errorLines = new ArrayList<>(Arrays.asList(error.strip().split("\n")));
            if (errorLines.size() > LAST_ERROR_LINES) {
                errorLines = new ArrayList<>(errorLines.subList(errorLines.size() - LAST_ERROR_LINES, errorLines.size()));
                errorLines.add(0, "...");
            }
            lines.add(fact("last error", String.join("\n" + INDENT, errorLines)));
        }
        return String.join("\n", lines) + "\n";
    }

    /** Dollars with at most six decimals and at least two: $0.00, $0.000123, $5.00. */
    public static String dollars(double value) {
        BigDecimal v = BigDecimal.valueOf(value).setScale(6, RoundingMode.HALF_UP).stripTrailingZeros();
        return "$" + (v.scale() < 2 ? v.setScale(2, RoundingMode.UNNECESSARY) : v).toPlainString();
    }

    private static String spend(JsonNode m) {
        String spent = dollars(m.path("budget_spent").asDouble(0));
        JsonNode limit = m.path("budget_limit");
        return limit.isNumber() ? spent + " of " + dollars(limit.asDouble()) : spent + " spent";
    }

    private static String count(long n, String noun) {
        return String.format(Locale.ROOT, "%,d %s%s", n, noun, n == 1 ? "" : "s");
    }

    private static String fact(String name, String value) {
        return "  " + name + " ".repeat(Math.max(1, INDENT.length() - 2 - name.length())) + value;
    }
}
