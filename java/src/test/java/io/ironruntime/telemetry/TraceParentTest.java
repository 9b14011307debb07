package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The W3C Trace Context rules for traceparent, including the cases of the W3C test suite's data. */
class TraceParentTest {
    private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void aValidHeaderIsKeptExactlyWithItsParts() {
        TraceParent t = TraceParent.parse(VALID);
        assertNotNull(t);
        assertEquals(VALID, t.header());
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", t.traceId());
        assertEquals("00f067aa0ba902b7", t.parentId());
        assertTrue(t.sampled());
        assertFalse(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").sampled());
        assertTrue(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09").sampled(),
                "unknown flag bits are carried; bit 0 is sampled");
    }

    @Test
    void malformedHeadersAreInvalid() {
        List<String> invalid = List.of(
                "",
                "00",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",           // no flags
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase trace id
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",        // uppercase parent id
                "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // uppercase version
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G",        // not hex
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // all-zero trace id
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // all-zero parent id
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff is forbidden
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has four fields only
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",       // nor trailing text
                "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",        // wrong separators
                "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",        // fields shifted
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x");       // a later version needs a dash after 55
        for (String h : invalid) {
            assertNull(TraceParent.parse(h), h);
        }
        assertNull(TraceParent.parse(null));
    }

    @Test
    void aLaterVersionIsReadByItsFirstFourFieldsAndKeptWhole() {
        String later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds";
        TraceParent t = TraceParent.parse(later);
        assertNotNull(t);
        assertEquals(later, t.header(), "passed on unchanged");
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", t.traceId());
        assertNotNull(TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    }

    @Test
    void aNewTraceIsVersionZeroRandomAndSampled() {
        Random random = new Random(7);
        Set<String> traces = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            TraceParent t = TraceParent.generate(random);
            assertEquals(TraceParent.LENGTH, t.header().length());
            assertTrue(t.header().startsWith("00-"), t.header());
            assertTrue(t.header().endsWith("-01"), t.header());
            assertNotNull(TraceParent.parse(t.header()), "a generated header is valid: " + t.header());
            assertTrue(traces.add(t.traceId()), "trace ids do not repeat");
            assertNotEquals(t.traceId().substring(0, 16), t.traceId().substring(16), "both halves are drawn");
        }
    }

    @Test
    void allZeroDrawsAreDrawnAgain() {
        // A zero trace id (two zero longs), then a zero parent id: each is drawn again.
        long[] draws = {0, 0, 5, 6, 0, 7};
        Random zeros = new Random() {
            private int next;

            @Override
            public long nextLong() {
                return draws[next++];
            }
        };
        TraceParent t = TraceParent.generate(zeros);
        assertEquals("00-00000000000000050000000000000006-0000000000000007-01", t.header());
    }

    @Test
    void theTraceIdOfARecordedHeader() {
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", TraceParent.traceIdOf(VALID));
        assertNull(TraceParent.traceIdOf(null));
    }
}
