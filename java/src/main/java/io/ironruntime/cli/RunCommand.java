package io.ironruntime.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.agent.AgentLaunchException;
import io.ironruntime.agent.AgentOutputFeed;
import io.ironruntime.agent.AgentReport;
import io.ironruntime.agent.AgentRuntime;
import io.ironruntime.agent.AgentStateException;
import io.ironruntime.config.ConfigException;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.router.RouterStartException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code iron-runtime run agent.py [flags] [-- args]}: runs one agent under governance in the
 * foreground. Its output reaches stdout and stderr as it is printed; on a terminal one status line
 * (status, spend of budget, requests, tokens, PII) is redrawn about twice a second; at the end a
 * summary goes to stderr and the command exits with the agent's exit code, or 130/143 when SIGINT or
 * SIGTERM stopped it (the agent gets SIGTERM, SIGKILL after --stop-timeout).
 */
final class RunCommand {
    static final Duration POLL = Duration.ofMillis(100);
    static final long STATUS_EVERY_NANOS = 500_000_000L;
    /** How long the summary waits for the agent's last calls to be settled (their spend counted). */
    static final long SETTLE_WAIT_NANOS = 2_000_000_000L;

    /** Where the status line goes, if anywhere. */
    record Terminal(boolean statusLine, int width) {
        /** A status line when the JVM has a console (stdin and stdout are a terminal), cut to $COLUMNS or 80. */
        static Terminal detect(Map<String, String> env) {
            int width = 80;
            try {
                width = Integer.parseInt(env.getOrDefault("COLUMNS", "80").strip());
            } catch (NumberFormatException e) {
                // keep 80
            }
            return new Terminal(System.console() != null, width);
        }
    }

    private RunCommand() {
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, Terminal terminal,
            StopSignals signals) {
        if (CommandArgs.wantsHelp(args, 1)) {
            out.println(RunOptions.usage());
            return 0;
        }
        RunOptions options;
        AgentRuntime runtime;
        try {
            options = RunOptions.parse(args, env, Path.of(System.getProperty("user.dir")));
            runtime = new AgentRuntime(options.runtime());
        } catch (ConfigException e) {
            return fail(err, e.getMessage(), 2);
        } catch (RouterStartException e) {
            return fail(err, e.getMessage(), 1);
        }
        try {
            return supervise(runtime, options, out, err, terminal, signals);
        } finally {
            runtime.shutdown();
        }
    }

    private static int supervise(AgentRuntime runtime, RunOptions options, PrintStream out, PrintStream err,
            Terminal terminal, StopSignals signals) {
        AgentOutputFeed feed = new AgentOutputFeed();
        String id;
        try {
            id = runtime.startAgent(options.agent(), feed).agentId();
        } catch (ConfigException | AgentLaunchException e) {
            return fail(err, e.getMessage(), 2);
        }
        AgentConsole console = new AgentConsole(out, err, terminal.statusLine());
        long nextStatus = System.nanoTime();
        String stoppedOn = null;
        try {
            while (runtime.waitAgent(id, Duration.ZERO) == null) {
                console.write(feed.take(POLL));
                if (stoppedOn == null && signals.received() != null) {
                    stoppedOn = signals.received();
                    stop(runtime, id, options.runtime().stopTimeout());
                }
                if (System.nanoTime() - nextStatus >= 0) {
                    console.status(AgentReport.statusLine(runtime.metrics(id), terminal.width()));
                    nextStatus = System.nanoTime() + STATUS_EVERY_NANOS;
                }
            }
            // The agent's last run is over and its output pumped: what is left is in the feed.
            for (List<AgentOutputFeed.Chunk> rest = feed.take(Duration.ZERO); !rest.isEmpty();
                    rest = feed.take(Duration.ZERO)) {
                console.write(rest);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            feed.close();
        }
        console.clearStatus();
        ObjectNode m = settled(runtime, id);
        BudgetLedger.Snapshot total = runtime.router().budget();
        err.print(AgentReport.summary(m, Money.picosToDollars(total.spent()),
                total.unlimited() ? null : Money.picosToDollars(total.limit()), stoppedOn));
        err.flush();
        if (stoppedOn != null) {
            return StopSignals.exitStatus(stoppedOn);
        }
        int code = m.path("exit_code").asInt(1);
        return code < 0 || code > 255 ? 1 : code;
    }

    private static void stop(AgentRuntime runtime, String id, Duration grace) {
        try {
            runtime.stopAgent(id, grace);
        } catch (AgentStateException e) {
            // it ended meanwhile
        }
    }

    /** The final metrics, once no call of the agent is still being settled (bounded wait). */
    private static ObjectNode settled(AgentRuntime runtime, String id) throws IllegalStateException {
        long deadline = System.nanoTime() + SETTLE_WAIT_NANOS;
        ObjectNode m = runtime.metrics(id);
        while (m.path("budget_reserved").asDouble(0) > 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            m = runtime.metrics(id);
        }
        return m;
    }

    private static int fail(PrintStream err, String message, int code) {
        err.println("iron-runtime: error: " + message);
        err.flush();
        return code;
    }
}
