package io.ironruntime.agent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.router.AgentAccount;
import io.ironruntime.state.AgentRow;
import io.ironruntime.state.AgentStatusRow;
import io.ironruntime.telemetry.AgentMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One agent under supervision, across its restarts: its status, its current process, its restart
 * planner, and the record of it in the database. Status changes happen under this object's lock;
 * signals and waits happen outside it.
 */
final class SupervisedAgent {
    /** Runs whose output {@link #logs} shows: the current one and the one before (a crash's last words). */
    private static final int RUNS_KEPT = 2;
    private static final int STDERR_LINES_IN_ERRORS = 20;

    final String id;
    final AgentSpec spec;
    final AgentAccount account;
    private final AgentLaunch launch;
    private final AgentRuntime runtime;
    private final RestartPlanner planner;
    private final long startedAtMs = System.currentTimeMillis();
    private final CompletableFuture<Integer> ended = new CompletableFuture<>();
    private final Deque<AgentOutput> outputs = new ArrayDeque<>();

    private AgentStatus status = AgentStatus.STARTING;
    private AgentProcess process;
    private Integer exitCode;
    /** Already scrubbed (secrets and PII): shown, stored and put in events as it is. */
    private String lastError;
    private Long endedAtMs;
    private boolean stopRequested;
    private String stopReason;
    private ScheduledFuture<?> pendingRestart;

    SupervisedAgent(String id, AgentSpec spec, AgentAccount account, AgentLaunch launch, AgentRuntime runtime) {
        this.id = id;
        this.spec = spec;
        this.account = account;
        this.launch = launch;
        this.runtime = runtime;
        this.planner = new RestartPlanner(spec.restart());
    }

    // ---- lifecycle -------------------------------------------------------------------------------------

    /**
     * The first run. A launch failure is thrown to the caller and leaves no record: the agent never
     * existed (the runtime forgets it).
     */
    void start() {
        run(true);
    }

    private void run(boolean first) {
        AgentProcess p;
        try {
            planner.started(System.currentTimeMillis());
            p = launch.start();
        } catch (RuntimeException e) {
            if (!first) {
                synchronized (this) {
                    lastError = runtime.scrub("could not restart: " + e.getMessage());
                    finish(AgentStatus.FAILED, lastError);
                }
            }
            throw e;
        }
        runtime.groupStarted(p.pid());
        synchronized (this) {
            process = p;
            outputs.addLast(p.output());
            while (outputs.size() > RUNS_KEPT) {
                outputs.removeFirst();
            }
            exitCode = null;
            if (stopRequested) { // a stop came in while the process was being launched
                status = AgentStatus.STOPPING;
            } else {
                record(AgentStatus.RUNNING, "pid " + p.pid());
            }
        }
        if (first) {
            runtime.event("agent_started", this, detail(null));
        }
        // Runs on the process's own watcher thread, never on a thread a stop may be waiting on.
        p.onExit().thenAccept(code -> exited(p, code));
        if (stopRequested) {
            p.stop(runtime.config.stopTimeout());
        }
    }

    private void exited(AgentProcess p, int code) {
        runtime.groupEnded(p.pid());
        synchronized (this) {
            if (p != process) {
                return;
            }
            exitCode = code;
            if (stopRequested) {
                finish(AgentStatus.STOPPED, stopReason);
                return;
            }
            RestartPlanner.Decision d = planner.onExit(code, false, System.currentTimeMillis());
            if (code != 0) {
                String suffix = "";
                if (!d.restart() && d.finalStatus() == AgentStatus.FAILED) {
                    // The planner's reason begins with the exit describeExit already states: add only the rest.
                    String exit = "exited with code " + code;
                    suffix = d.reason().startsWith(exit) ? d.reason().substring(exit.length()) : "; " + d.reason();
                }
                lastError = describeExit(p, code, suffix);
            }
            if (d.restart()) {
                record(AgentStatus.RESTARTING, d.reason());
                runtime.event("agent_restarted", this, detail(d.reason()));
                pendingRestart = runtime.schedule(this::restart, d.delayMillis());
            } else {
                finish(d.finalStatus(), d.reason());
            }
        }
    }

    private void restart() {
        synchronized (this) {
            if (status != AgentStatus.RESTARTING || stopRequested) {
                return;
            }
            pendingRestart = null;
            record(AgentStatus.STARTING, "restart " + planner.restarts());
        }
        try {
            run(false);
        } catch (RuntimeException e) {
            // recorded as failed by run(); nobody waits on this thread for the exception
        }
    }

    void pause() {
        synchronized (this) {
            requireStatus(AgentStatus.RUNNING, "paused");
            process.pause();
            record(AgentStatus.PAUSED, null);
        }
        runtime.event("agent_paused", this, null);
    }

    void resume() {
        synchronized (this) {
            requireStatus(AgentStatus.PAUSED, "resumed");
            process.resume();
            record(AgentStatus.RUNNING, null);
        }
        runtime.event("agent_resumed", this, null);
    }

    /**
     * SIGTERM to the agent's process group, SIGKILL after {@code grace}; waits until it is over.
     *
     * @param reason why, for the record (null for a stop the user asked for)
     * @return the exit code
     */
    int stop(Duration grace, String reason) {
        AgentProcess p = beginStop(reason);
        if (p != null) {
            p.stop(grace);
        }
        return awaitEnd(grace.plusSeconds(15));
    }

    /**
     * Marks the stop (the status is {@code stopping}, or {@code stopped} between runs); returns the
     * process to signal, or null when there is none (yet).
     *
     * @param reason why, for the record (null for a stop the user asked for)
     * @throws AgentStateException when it is stopping or has ended already
     */
    AgentProcess beginStop(String reason) {
        AgentProcess p;
        synchronized (this) {
            if (status.ended() || stopRequested) {
                throw new AgentStateException("agent " + id + " is already " + (stopRequested && !status.ended()
                        ? "stopping" : status.wireName() + (exitCode == null ? "" : " (exit code " + exitCode + ")")));
            }
            stopRequested = true;
            stopReason = reason == null ? "stopped by request" : reason;
            if (reason != null) {
                lastError = reason;
            }
            if (status == AgentStatus.RESTARTING) { // between runs: nothing to signal
                if (pendingRestart != null) {
                    pendingRestart.cancel(false);
                }
                finish(AgentStatus.STOPPED, stopReason);
                return null;
            }
            // While starting, run() sees the request once the process exists and signals it itself.
            p = status == AgentStatus.STARTING ? null : process;
            record(AgentStatus.STOPPING, stopReason);
        }
        return p;
    }

    /** The final exit code, waiting up to {@code timeout} (null: for ever); null when it is still going. */
    Integer await(Duration timeout) throws InterruptedException {
        try {
            return timeout == null ? ended.get() : ended.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private int awaitEnd(Duration timeout) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    Integer code = await(timeout);
                    if (code == null) {
                        throw new AgentStateException("agent " + id + " did not end within " + timeout.toSeconds() + " s");
                    }
                    return code;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** JVM shutdown: SIGKILL to the group at once, no record (the database may be closing too). */
    void killNow() {
        AgentProcess p;
        synchronized (this) {
            p = process;
        }
        if (p != null && p.alive()) {
            p.kill();
        }
    }

    synchronized boolean ended() {
        return status.ended();
    }

    // ---- state -------------------------------------------------------------------------------------------

    /** The status changes, is stored with a history row, and logged. Call with the lock held. */
    private void record(AgentStatus next, String detail) {
        status = next;
        runtime.store(row(), new AgentStatusRow(id, System.currentTimeMillis(), next.wireName(), pid(), exitCode,
                detail == null ? null : runtime.scrub(detail)));
        runtime.log(this, next, detail);
    }

    /** The agent's last status: its token stops working, waiters are released. Call with the lock held. */
    private void finish(AgentStatus last, String detail) {
        endedAtMs = System.currentTimeMillis();
        record(last, detail);
        runtime.ended(this);
        String event = last == AgentStatus.FAILED ? "agent_failed" : last == AgentStatus.STOPPED ? "agent_stopped"
                : "agent_completed";
        runtime.event(event, this, detail(detail));
        ended.complete(exitCode == null ? -1 : exitCode);
    }

    private void requireStatus(AgentStatus wanted, String verb) {
        if (status != wanted) {
            throw new AgentStateException("agent " + id + " is " + status.wireName() + ": only a "
                    + wanted.wireName() + " agent can be " + verb);
        }
    }

    /** "exited with code 3{suffix}: {the tail of its stderr}" (the stderr part only when it wrote some). */
    private String describeExit(AgentProcess p, int code, String suffix) {
        String stderr = p.output().stderrTail(STDERR_LINES_IN_ERRORS).strip();
        String what = (code > 128 ? "killed by signal " + (code - 128) + " (exit code " + code + ")"
                : "exited with code " + code) + suffix;
        return runtime.scrub(stderr.isEmpty() ? what : what + ": " + stderr);
    }

    private Long pid() {
        return process == null ? null : process.pid();
    }

    private AgentRow row() {
        Long budget = spec.budgetPicos();
        return new AgentRow(id, runtime.id, spec.name(), spec.script().toString(), argsJson(), budget,
                spec.restart().policy().wireName(), spec.restart().maxRestarts(), status.wireName(), pid(), exitCode,
                planner.restarts(), startedAtMs, endedAtMs, lastError);
    }

    private String argsJson() {
        ArrayNode a = Json.MAPPER.createArrayNode();
        spec.args().forEach(a::add);
        return a.toString();
    }

    private ObjectNode detail(String reason) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("name", spec.name());
        p.put("reason", reason == null ? null : runtime.scrub(reason));
        p.put("exit_code", exitCode);
        p.put("restarts", planner.restarts());
        return p;
    }

    // ---- views ---------------------------------------------------------------------------------------

    synchronized AgentStatus status() {
        return status;
    }

    synchronized Long currentPid() {
        return pid();
    }

    /** The figures {@code get_metrics} shows: status and process, and the account's money and tokens. */
    synchronized ObjectNode metrics() {
        BudgetLedger.Snapshot b = account.budget();
        ArrayNode args = Json.MAPPER.createArrayNode();
        spec.args().forEach(args::add);
        ObjectNode o = new AgentMetrics(id, spec.name(), status.wireName(), pid(), exitCode, planner.restarts(),
                b.spent(), b.reserved(), spec.budgetPicos(), account.requests(), account.inputTokens(),
                account.outputTokens(), account.piiDetections(), startedAtMs, endedAtMs,
                lastError, spec.script().toString(), args,
                spec.restart().policy().wireName(), spec.restart().maxRestarts()).toJson();
        o.put("refused_requests", account.refusedRequests());
        Character state = process == null ? null : process.procState();
        o.put("process_state", state == null ? null : state.toString());
        Path log = process == null ? null : process.output().logFile();
        o.put("log_file", log == null ? null : log.toString());
        return o;
    }

    /** The last {@code lines} lines of what the agent printed (stdout and stderr), across its last two runs. */
    synchronized String logs(int lines) {
        java.util.List<String> all = new java.util.ArrayList<>();
        for (AgentOutput out : outputs) {
            String text = out.tail(lines);
            if (!text.isEmpty()) {
                all.addAll(java.util.Arrays.asList(text.split("\n", -1)));
                if (all.get(all.size() - 1).isEmpty()) {
                    all.remove(all.size() - 1); // the text ended with a newline
                }
            }
        }
        java.util.List<String> tail = all.subList(Math.max(0, all.size() - lines), all.size());
        return tail.isEmpty() ? "" : String.join("\n", tail) + "\n";
    }
}
