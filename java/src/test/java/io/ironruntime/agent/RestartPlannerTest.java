package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.agent.RestartPlanner.Decision;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RestartPlannerTest {
    private static RestartSettings settings(RestartPolicy policy, int max) {
        return new RestartSettings(policy, max, Duration.ofSeconds(60), Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    private static RestartPlanner started(RestartSettings s, long now) {
        RestartPlanner p = new RestartPlanner(s);
        p.started(now);
        return p;
    }

    /** Every policy, exit code and requested stop, on the first exit (no limit reached). */
    @ParameterizedTest(name = "{0} exit {1} requestedStop {2} -> restart {3}, {4}")
    @CsvSource({
        "NEVER,      0, false, false, COMPLETED",
        "NEVER,      1, false, false, FAILED",
        "NEVER,    137, false, false, FAILED",
        "NEVER,      0, true,  false, STOPPED",
        "NEVER,      1, true,  false, STOPPED",
        "ON_FAILURE, 0, false, false, COMPLETED",
        "ON_FAILURE, 1, false, true,  RESTARTING",
        "ON_FAILURE, -1, false, true, RESTARTING",
        "ON_FAILURE, 0, true,  false, STOPPED",
        "ON_FAILURE, 1, true,  false, STOPPED",
        "ALWAYS,     0, false, true,  RESTARTING",
        "ALWAYS,     1, false, true,  RESTARTING",
        "ALWAYS,     0, true,  false, STOPPED",
        "ALWAYS,     1, true,  false, STOPPED",
    })
    void eachPolicyExitCodeAndRequestedStop(RestartPolicy policy, int exit, boolean requestedStop, boolean restart,
            AgentStatus status) {
        RestartPlanner p = started(settings(policy, 3), 1_000);
        Decision d = p.onExit(exit, requestedStop, 2_000);
        assertEquals(restart, d.restart());
        assertEquals(status, d.finalStatus());
        assertEquals(restart ? 500 : 0, d.delayMillis());
        assertEquals(restart ? 1 : 0, p.restarts());
        assertTrue(d.reason().contains(requestedStop ? "stopped on request" : "exited with code " + exit), d.reason());
    }

    @Test
    void aCrashLoopEndsFailedAfterMaxRestartsWithTheCountInTheReason() {
        RestartPlanner p = started(settings(RestartPolicy.ON_FAILURE, 3), 0);
        long now = 0;
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            now += 100;
            Decision d = p.onExit(1, false, now);
            assertTrue(d.restart());
            delays.add(d.delayMillis());
            now += d.delayMillis();
            p.started(now);
        }
        assertEquals(List.of(500L, 1_000L, 2_000L), delays);
        Decision last = p.onExit(2, false, now + 100);
        assertFalse(last.restart());
        assertEquals(AgentStatus.FAILED, last.finalStatus());
        assertEquals("exited with code 2; restarted 3 times within 60 s (max_restarts=3)", last.reason());
        assertEquals(3, p.restarts());
    }

    @Test
    void alwaysEndsCompletedWhenTheLimitIsHitByACleanExit() {
        RestartPlanner p = started(settings(RestartPolicy.ALWAYS, 1), 0);
        assertTrue(p.onExit(0, false, 10).restart());
        p.started(600);
        Decision d = p.onExit(0, false, 700);
        assertFalse(d.restart());
        assertEquals(AgentStatus.COMPLETED, d.finalStatus());
        assertTrue(d.reason().contains("restarted 1 times within 60 s"), d.reason());
    }

    @Test
    void maxRestartsZeroNeverRestarts() {
        RestartPlanner p = started(settings(RestartPolicy.ALWAYS, 0), 0);
        Decision d = p.onExit(1, false, 10);
        assertFalse(d.restart());
        assertEquals(AgentStatus.FAILED, d.finalStatus());
        assertEquals(0, p.restarts());
    }

    @Test
    void aRequestedStopWinsEvenAfterTheLimit() {
        RestartPlanner p = started(settings(RestartPolicy.ALWAYS, 0), 0);
        assertEquals(AgentStatus.STOPPED, p.onExit(1, true, 10).finalStatus());
    }

    @Test
    void theWindowSlides() {
        // Three quick restarts, then the fourth exit comes just after the first restart left the window.
        RestartPlanner p = started(settings(RestartPolicy.ON_FAILURE, 3), 0);
        assertTrue(p.onExit(1, false, 1_000).restart()); // counted at 1 000
        p.started(1_500);
        assertTrue(p.onExit(1, false, 2_000).restart()); // 2 000
        p.started(3_000);
        assertTrue(p.onExit(1, false, 40_000).restart()); // 40 000
        p.started(44_000);
        assertFalse(p.onExit(1, false, 60_999).restart(), "1 000, 2 000 and 40 000 are within (999, 60 999]");
        RestartPlanner q = started(settings(RestartPolicy.ON_FAILURE, 3), 0);
        q.onExit(1, false, 1_000);
        q.started(1_500);
        q.onExit(1, false, 2_000);
        q.started(3_000);
        q.onExit(1, false, 40_000);
        q.started(44_000);
        Decision d = q.onExit(1, false, 61_000); // the restart at 1 000 is exactly one window old: out
        assertTrue(d.restart());
        assertEquals(4, q.restarts());
        assertEquals(4_000, d.delayMillis(), "still a series: the last run was short");
        q.started(65_001);
        Decision next = q.onExit(1, false, 65_002); // 2 000 has left too: 40 000 and 61 000 remain
        assertTrue(next.restart());
        assertEquals(8_000, next.delayMillis());
        q.started(73_002);
        Decision end = q.onExit(1, false, 73_003); // 40 000, 61 000 and 65 002 are within the window
        assertFalse(end.restart());
        assertEquals(AgentStatus.FAILED, end.finalStatus());
        assertEquals(5, q.restarts());
    }

    @Test
    void aStableRunResetsTheBackoff() {
        RestartPlanner p = started(settings(RestartPolicy.ALWAYS, 3), 0);
        assertEquals(500, p.onExit(1, false, 100).delayMillis());
        p.started(600);
        assertEquals(1_000, p.onExit(1, false, 700).delayMillis());
        p.started(1_700);
        // This run lasted more than the window: stable, so the next crash starts a new series.
        Decision d = p.onExit(1, false, 1_700 + 60_001);
        assertTrue(d.restart());
        assertEquals(500, d.delayMillis());
        assertEquals(3, p.restarts());
    }

    @Test
    void aRunOfExactlyTheWindowIsNotYetStable() {
        RestartPlanner p = started(settings(RestartPolicy.ALWAYS, 5), 0);
        p.onExit(1, false, 100);
        p.started(600);
        assertEquals(1_000, p.onExit(1, false, 600 + 60_000).delayMillis());
    }

    @Test
    void withoutStartedTheRunCountsAsUnstable() {
        RestartPlanner p = new RestartPlanner(settings(RestartPolicy.ALWAYS, 5));
        assertEquals(500, p.onExit(1, false, 1_000_000).delayMillis());
        assertEquals(1_000, p.onExit(1, false, 2_000_000).delayMillis());
    }

    @Test
    void theDelayDoublesUpToTheCapWithoutOverflow() {
        RestartPlanner p = new RestartPlanner(new RestartSettings(RestartPolicy.ALWAYS, 1_000, Duration.ofSeconds(60),
                Duration.ofMillis(500), Duration.ofSeconds(30)));
        assertEquals(500, p.delayMillis(1));
        assertEquals(1_000, p.delayMillis(2));
        assertEquals(16_000, p.delayMillis(6));
        assertEquals(30_000, p.delayMillis(7));
        assertEquals(30_000, p.delayMillis(64));
        assertEquals(30_000, p.delayMillis(1_000));
        RestartPlanner zero = new RestartPlanner(new RestartSettings(RestartPolicy.ALWAYS, 3, Duration.ofSeconds(60),
                Duration.ZERO, Duration.ZERO));
        assertEquals(0, zero.delayMillis(1_000));
        RestartPlanner day = new RestartPlanner(new RestartSettings(RestartPolicy.ALWAYS, 3, Duration.ofSeconds(60),
                Duration.ofDays(1), Duration.ofDays(1)));
        assertEquals(Duration.ofDays(1).toMillis(), day.delayMillis(1_000));
    }

    @Test
    void theRestartReasonSaysWhichRestartAndHowLong() {
        RestartPlanner p = started(settings(RestartPolicy.ON_FAILURE, 3), 0);
        assertEquals("exited with code 3; restart 1 in 0.5 s", p.onExit(3, false, 10).reason());
        p.started(600);
        assertEquals("exited with code 3; restart 2 in 1 s", p.onExit(3, false, 700).reason());
    }
}
