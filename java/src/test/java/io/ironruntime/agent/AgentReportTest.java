package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import org.junit.jupiter.api.Test;

class AgentReportTest {
    private static ObjectNode metrics() {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("name", "agent.py").put("status", "running").put("exit_code", (Integer) null).put("restarts", 1)
                .put("budget_spent", 0.000123).put("budget_limit", 5.0).put("requests", 1234)
                .put("refused_requests", 2).put("input_tokens", 1000).put("output_tokens", 204)
                .put("pii_detections", 3).put("last_error", (String) null);
        return m;
    }

    @Test
    void statusLineFitsTheTerminal() {
        String line = AgentReport.statusLine(metrics(), 0);
        assertEquals("iron-runtime | agent.py running (1 restart) | $0.000123 of $5.00 | 1,234 requests (2 refused)"
                + " | 1,204 tokens | 3 PII", line);
        assertEquals(39, AgentReport.statusLine(metrics(), 40).length());
    }

    @Test
    void summaryTellsTheOutcome() {
        ObjectNode m = metrics().put("status", "failed").put("exit_code", 1)
                .put("last_error", "exited with code 1: a\nb\nc\nd\ne\nf\ng\nh\ni\nj; restart limit reached");
        String s = AgentReport.summary(m, 0.000123, null, "SIGINT");
        assertTrue(s.startsWith("iron-runtime: agent.py failed, exit code 1 (stopped on SIGINT)\n"), s);
        assertTrue(s.contains("\n  spend       $0.000123 of $5.00\n"), s);
        assertTrue(s.contains("\n  requests    1234 (2 refused: budget spent)\n"), s);
        assertTrue(s.contains("\n  tokens      1,000 in, 204 out\n"), s);
        assertTrue(s.contains("\n  last error  ...\n              c\n"), s);
        assertTrue(s.endsWith("j; restart limit reached\n"), s);
        assertTrue(!s.contains("total"), "the total is the agent's spend and unlimited: not repeated");
        assertTrue(AgentReport.summary(m, 1.5, 10.0, null).contains("\n  total       $1.50 of $10.00 total budget\n"));
    }

    @Test
    void dollars() {
        assertEquals("$0.00", AgentReport.dollars(0));
        assertEquals("$5.00", AgentReport.dollars(5));
        assertEquals("$0.000001", AgentReport.dollars(0.0000012));
        assertEquals("$1.234568", AgentReport.dollars(1.23456789));
    }
}
