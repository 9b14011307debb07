package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Python agent scripts for the tests, the environment they run with, and polling with deadlines. */
final class Scripts {
    /** Generous: the test machine is a loaded two-core box. */
    static final Duration PATIENCE = Duration.ofSeconds(30);

    /**
     * The real interpreter behind "python3" on PATH: a shim (pyenv's is a shell script) would add its
     * own variables to the agent's environment before exec'ing it.
     */
    static final String PYTHON = realPython();

    private Scripts() {
    }

    private static String realPython() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)").start();
            String path = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0 || path.isEmpty()) {
                throw new IllegalStateException("python3 -c 'print(sys.executable)' failed");
            }
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Path write(Path dir, String name, String code) {
        try {
            Path file = dir.resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, code, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A minimal complete environment: PATH to find python3 and sleep, unbuffered output, a UTF-8 locale. */
    static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv("PATH"));
        env.put("PYTHONUNBUFFERED", "1");
        // A C locale would make Python add LC_CTYPE to its own environment (PEP 538).
        env.put("LANG", "C.UTF-8");
        return env;
    }

    static AgentLaunch.Builder launch(Path script) {
        return AgentLaunch.builder(script).python(PYTHON).environment(environment());
    }

    static void eventually(String what, BooleanSupplier condition) {
        eventually(what, condition, () -> "");
    }

    static void eventually(String what, BooleanSupplier condition, Supplier<String> detail) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + PATIENCE.toSeconds() + " s: " + what + " " + detail.get());
            }
            pause(20);
        }
    }

    /** Waits for a line "key value" in the agent's output and returns the value. */
    static String awaitValue(AgentProcess agent, String key) {
        String[] found = new String[1];
        eventually("output line '" + key + " ...'", () -> {
            for (String line : agent.output().tail(1000).split("\n")) {
                if (line.startsWith(key + " ")) {
                    found[0] = line.substring(key.length() + 1).trim();
                    return true;
                }
            }
            return false;
        }, () -> "in output:\n" + agent.output().tail(50));
        return found[0];
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
