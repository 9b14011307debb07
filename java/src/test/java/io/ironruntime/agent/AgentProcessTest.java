package io.ironruntime.agent;

import static io.ironruntime.agent.Scripts.PATIENCE;
import static io.ironruntime.agent.Scripts.awaitValue;
import static io.ironruntime.agent.Scripts.eventually;
import static io.ironruntime.agent.Scripts.launch;
import static io.ironruntime.agent.Scripts.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentProcessTest {
    /** Starts `sleep 300` as a grandchild, says its pid, then does {@code then}. */
    private static final String WITH_GRANDCHILD = "import subprocess, sys, time\n"
            + "child = subprocess.Popen(['sleep', '300'])\n"
            + "print('grandchild', child.pid)\n";

    @TempDir
    Path dir;

    private final List<AgentProcess> started = new ArrayList<>();

    private AgentProcess start(String name, String code) {
        AgentProcess agent = launch(write(dir, name, code)).build().start();
        started.add(agent);
        return agent;
    }

    @AfterEach
    void noAgentOutlivesItsTest() {
        for (AgentProcess agent : started) {
            agent.kill();
        }
    }

    private static void assertGone(long pid) {
        eventually("process " + pid + " gone", () -> ProcStat.gone(pid), () -> "state " + ProcStat.state(pid));
    }

    @Test
    void pauseFreezesTheWholeGroupAndResumeLetsItGoOn() {
        AgentProcess agent = start("ticker.py", WITH_GRANDCHILD
                + "i = 0\nwhile True:\n    i += 1\n    print('tick', i)\n    time.sleep(0.05)\n");
        long grandchild = Long.parseLong(awaitValue(agent, "grandchild"));
        eventually("ticking", () -> agent.output().tail(1).startsWith("tick"));

        assertTrue(agent.pause());
        eventually("agent stopped", () -> Character.valueOf('T').equals(agent.procState()));
        eventually("grandchild stopped", () -> Character.valueOf('T').equals(ProcStat.state(grandchild)));
        Scripts.pause(300); // lets the pump take what was already in the pipe
        long before = agent.output().bytesCaptured();
        Scripts.pause(1000);
        assertEquals(before, agent.output().bytesCaptured(), "a paused agent printed: " + agent.output().tail(3));

        assertTrue(agent.resume());
        eventually("agent running", () -> !Character.valueOf('T').equals(agent.procState()));
        eventually("grandchild running", () -> !Character.valueOf('T').equals(ProcStat.state(grandchild)));
        eventually("ticking again", () -> agent.output().bytesCaptured() > before);
        assertTrue(agent.alive());
    }

    @Test
    void stopReachesAGrandchildAndReturnsTheExitCode() throws Exception {
        AgentProcess agent = start("parent.py", WITH_GRANDCHILD + "time.sleep(300)\n");
        long grandchild = Long.parseLong(awaitValue(agent, "grandchild"));
        assertFalse(ProcStat.gone(grandchild));

        assertEquals(Signal.TERMINATE.exitCode(), agent.stop(PATIENCE));
        assertGone(grandchild);
        assertFalse(agent.alive());
        assertEquals(Signal.TERMINATE.exitCode(), agent.exitCode());
        assertEquals(Signal.TERMINATE.exitCode(), agent.onExit().get(1, TimeUnit.SECONDS));
        assertTrue(ProcStat.gone(agent.pid()));
    }

    @Test
    void anAgentIgnoringSigtermIsKilledAfterTheGrace() {
        AgentProcess agent = start("stubborn.py", "import signal, time\n"
                + "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', 1)\ntime.sleep(300)\n");
        awaitValue(agent, "ready");
        long t0 = System.nanoTime();
        assertEquals(Signal.KILL.exitCode(), agent.stop(Duration.ofMillis(500)));
        assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(500).toNanos(), "SIGKILL came before the grace ended");
    }

    @Test
    void aPausedAgentStillStopsOnSigterm() {
        AgentProcess agent = start("paused.py", "import time\nprint('ready', 1)\ntime.sleep(300)\n");
        awaitValue(agent, "ready");
        agent.pause();
        eventually("agent stopped", () -> Character.valueOf('T').equals(agent.procState()));
        // SIGCONT after SIGTERM: it dies of the SIGTERM, not of the SIGKILL after the grace.
        assertEquals(Signal.TERMINATE.exitCode(), agent.stop(PATIENCE));
    }

    @Test
    void stopIsIdempotentAndSafeAfterTheAgentExited() throws Exception {
        AgentProcess agent = start("sleeper.py", "import time\nprint('ready', 1)\ntime.sleep(300)\n");
        awaitValue(agent, "ready");
        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> agent.stop(PATIENCE));
        int second = agent.stop(PATIENCE);
        assertEquals(second, first.get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(second, agent.stop(PATIENCE));

        AgentProcess done = start("quick.py", "import sys\nsys.exit(3)\n");
        assertEquals(3, done.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(3, done.stop(Duration.ZERO));
        assertFalse(done.pause());
        assertFalse(done.resume());
        assertFalse(done.kill());
        assertNull(done.procState());
    }

    @Test
    void whatIsLeftInTheGroupIsKilledWhenTheAgentExits() throws Exception {
        AgentProcess agent = start("leaves.py", WITH_GRANDCHILD + "sys.exit(0)\n");
        assertEquals(0, agent.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertGone(Long.parseLong(awaitValue(agent, "grandchild")));
    }

    @Test
    void killEndsTheAgentAtOnce() throws Exception {
        AgentProcess agent = start("sleeper.py", "import time\nprint('ready', 1)\ntime.sleep(300)\n");
        awaitValue(agent, "ready");
        assertNull(agent.exitCode());
        assertTrue(agent.kill());
        assertEquals(Signal.KILL.exitCode(), agent.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
    }

    @Test
    void theExitFutureHandedOutCannotBeCompletedByACaller() throws Exception {
        AgentProcess agent = start("sleeper.py", "import time\nprint('ready', 1)\ntime.sleep(300)\n");
        agent.onExit().complete(42);
        assertNull(agent.exitCode());
        assertTrue(agent.alive());
        assertEquals(Signal.TERMINATE.exitCode(), agent.stop(PATIENCE));
    }
}
