package io.ironruntime.agent;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One running agent: an OS process that leads its own process group (its pid is the group id), so
 * every signal here reaches the agent and everything it started, unless something moved itself into
 * another group or session.
 *
 * <p>Exit codes follow Java's convention: the process's own exit status, or 128 + N when signal N
 * killed it (137 for SIGKILL, 143 for SIGTERM on Linux).
 *
 * <p>When the agent process exits, for any reason, whatever is still running in its process group is
 * SIGKILLed: the agent's children must not keep running with its credentials once nobody supervises
 * them. {@link #onExit()} completes after that, and after the output streams ended (waited for at most
 * {@value #OUTPUT_END_WAIT_SECONDS} s, in case a descendant outside the group still holds them).
 *
 * <p>After the exit no signal is sent any more, so a recycled pid is never hit. Thread-safe.
 */
public final class AgentProcess {
    static final long OUTPUT_END_WAIT_SECONDS = 2;
    /** SIGKILL cannot be refused; a process still there after this is stuck in the kernel. */
    static final Duration KILL_WAIT = Duration.ofSeconds(10);

    private final Process process;
    private final long pid;
    private final AgentOutput output;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    AgentProcess(Process process, AgentOutput output) {
        this.process = process;
        this.pid = process.pid();
        this.output = output;
        Thread watcher = new Thread(this::watch, "iron-agent-" + pid + "-exit");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** The agent's pid, which is also its process group id. */
    public long pid() {
        return pid;
    }

    public AgentOutput output() {
        return output;
    }

    /** Whether the agent has not finished yet (false from the moment {@link #exitCode()} is set). */
    public boolean alive() {
        return !exit.isDone();
    }

    /** The exit code (see the class comment), or null while the agent runs. */
    public Integer exitCode() {
        return exit.getNow(null);
    }

    /** Completes with the exit code once the agent and its group are gone and its output is captured. */
    public CompletableFuture<Integer> onExit() {
        return exit.copy();
    }

    /**
     * Freezes the agent's whole group (SIGSTOP). Returns false when the agent has already exited.
     * A frozen agent makes no requests and prints nothing; {@link #resume()} lets it go on.
     */
    public boolean pause() {
        return alive() && Posix.stopGroup(pid);
    }

    /** Lets a paused group run again (SIGCONT). Returns false when the agent has already exited. */
    public boolean resume() {
        return alive() && Posix.continueGroup(pid);
    }

    /** SIGKILLs the whole group now, without waiting. Returns false when the agent has already exited. */
    public boolean kill() {
        return alive() && Posix.killGroup(pid);
    }

    /**
     * Stops the agent and returns its exit code: SIGTERM to the group, then SIGCONT so that a paused
     * group can act on it, then SIGKILL to the group if the agent has not exited within {@code grace}.
     * Safe to call any number of times, also concurrently and after the agent exited on its own.
     * An interrupt does not cut the wait short (the agent must be gone when this returns); it is kept
     * for the caller.
     *
     * @throws IllegalStateException if the agent survives SIGKILL for {@link #KILL_WAIT}
     */
    public int stop(Duration grace) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative, got " + grace);
        }
        if (alive()) {
            Posix.terminateGroup(pid);
            Posix.continueGroup(pid);
        }
        Integer code = awaitExit(grace);
        if (code == null) {
            kill();
            code = awaitExit(KILL_WAIT);
            if (code == null) {
                throw new IllegalStateException("agent process " + pid + " is still there "
                        + KILL_WAIT.toSeconds() + " s after SIGKILL (state " + procState() + ")");
            }
        }
        return code;
    }

    /**
     * The agent's state letter from /proc (Linux): 'T' while paused, 'S' or 'R' while running,
     * null once it has exited or on other systems.
     */
    public Character procState() {
        return alive() ? ProcStat.state(pid) : null;
    }

    @Override
    public String toString() {
        Integer code = exitCode();
        return "AgentProcess[pid " + pid + (code == null ? ", running]" : ", exited " + code + "]");
    }

    /** Waits for the exit up to {@code timeout}, through interrupts (kept for the caller); null if still running. */
    private Integer awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return exit.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (TimeoutException e) {
                    return null;
                } catch (ExecutionException e) {
                    throw new IllegalStateException("watching agent process " + pid + " failed", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void watch() {
        try {
            int code = waitForLeader();
            try {
                // Before exit completes: until then nobody else relies on the group being gone.
                Posix.killGroup(pid);
            } catch (RuntimeException e) {
                // EPERM: a member changed its credentials (setuid). Nothing more can be done from here.
            }
            try {
                if (!output.awaitEnd(Duration.ofSeconds(OUTPUT_END_WAIT_SECONDS))) {
                    output.flush();
                }
            } catch (InterruptedException e) {
                output.flush();
            }
            exit.complete(code);
        } catch (Throwable t) {
            exit.completeExceptionally(t);
        }
    }

    private int waitForLeader() {
        while (true) {
            try {
                return process.waitFor();
            } catch (InterruptedException e) {
                // Nobody interrupts this thread on purpose: keep watching.
            }
        }
    }
}
