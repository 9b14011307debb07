package io.ironruntime.agent;

import static io.ironruntime.agent.Scripts.PATIENCE;
import static io.ironruntime.agent.Scripts.eventually;
import static io.ironruntime.agent.Scripts.write;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Platform;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent does not outlive a JVM killed with SIGKILL (Linux: PR_SET_PDEATHSIG from the prelude). */
class ParentDeathTest {
    @TempDir
    Path dir;

    /** A separate JVM running {@code main} of {@code probe} on the script, output and errors merged. */
    private static Process probe(Class<?> probe, Path script) throws java.io.IOException {
        // Surefire may run tests from a manifest-only jar; its real class path is in this property.
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(java.toString(), "-cp", classPath, probe.getName(), script.toString(), Scripts.PYTHON)
                .redirectErrorStream(true)
                .start();
    }

    @Test
    void anAgentDiesWhenItsJvmIsKilledWithSigkill() throws Exception {
        assumeTrue(Platform.isLinux(), "PR_SET_PDEATHSIG is Linux only");
        Path script = write(dir, "orphan.py", "import time\ntime.sleep(300)\n");
        Process probe = probe(ParentDeathProbe.class, script);
        try {
            CompletableFuture<String> firstLine = CompletableFuture.supplyAsync(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(probe.getInputStream(), StandardCharsets.UTF_8))) {
                    StringBuilder seen = new StringBuilder();
                    for (String line; (line = r.readLine()) != null; ) {
                        if (line.startsWith("agent ")) {
                            return line;
                        }
                        seen.append(line).append('\n');
                    }
                    throw new IllegalStateException("the probe JVM ended without starting an agent:\n" + seen);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long agentPid = Long.parseLong(firstLine.get(60, TimeUnit.SECONDS).substring("agent ".length()).trim());
            assertFalse(ProcStat.gone(agentPid), "the agent runs while its JVM lives");

            assertTrue(Posix.signal(probe.pid(), Signal.KILL));
            assertTrue(probe.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            eventually("agent " + agentPid + " gone after its JVM was SIGKILLed", () -> ProcStat.gone(agentPid),
                    () -> "state " + ProcStat.state(agentPid));
        } finally {
            probe.destroyForcibly();
        }
    }

    /**
     * The runtime's watchdog reaches what the agent started too: the agent's child is re-parented when
     * the agent dies, and only the group kill of the watchdog (which sees its pipe from the JVM close)
     * ends it.
     */
    @Test
    void anAgentsOwnChildrenDieWhenTheRuntimesJvmIsKilledWithSigkill() throws Exception {
        Path script = write(dir, "parent.py", """
                import subprocess, time
                child = subprocess.Popen(["sleep", "300"])
                print("child", child.pid, flush=True)
                time.sleep(300)
                """);
        Process probe = probe(RuntimeDeathProbe.class, script);
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(probe.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<long[]> pids = CompletableFuture.supplyAsync(() -> {
                long agent = 0;
                StringBuilder seen = new StringBuilder();
                try {
                    for (String line; (line = r.readLine()) != null; ) {
                        seen.append(line).append('\n');
                        if (line.startsWith("agent ")) {
                            agent = Long.parseLong(line.substring(6).trim());
                        } else if (line.startsWith("child ") && agent != 0) {
                            return new long[] {agent, Long.parseLong(line.substring(6).trim())};
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                throw new IllegalStateException("the probe JVM ended early:\n" + seen);
            });
            long[] p = pids.get(60, TimeUnit.SECONDS);
            assertFalse(ProcStat.gone(p[1]), "the agent's child runs while the JVM lives");

            assertTrue(Posix.signal(probe.pid(), Signal.KILL));
            assertTrue(probe.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            eventually("agent " + p[0] + " gone", () -> ProcStat.gone(p[0]));
            eventually("the agent's child " + p[1] + " gone", () -> ProcStat.gone(p[1]),
                    () -> "state " + ProcStat.state(p[1]));
        } finally {
            probe.destroyForcibly();
        }
    }
}
