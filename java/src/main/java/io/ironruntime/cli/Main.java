package io.ironruntime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Version;
import io.ironruntime.config.ConfigException;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.router.LlmRouter;
import io.ironruntime.router.RouterStartException;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code java -jar iron-runtime.jar router [flags]}: the same proxy as the Python package, for agents
 * in any language; {@code run agent.py [flags] [-- args]}: one agent under governance (see
 * {@link RunCommand}). Provider keys come from the environment, never from flags (flags show up in ps).
 */
public final class Main {
    private static final ObjectMapper JSON = Json.MAPPER;

    private Main() {
    }

    public static void main(String[] args) {
        int code = args.length > 0 && args[0].equals("run")
                ? RunCommand.run(args, System.getenv(), System.out, System.err, RunCommand.Terminal.detect(System.getenv()),
                        StopSignals.install())
                : run(args, System.getenv(), System.out, System.err, StopSignals.install());
        if (code != 0) {
            System.exit(code);
        }
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        return run(args, env, out, err, StopSignals.none());
    }

    /**
     * @param signals SIGINT/SIGTERM caught: the router then closes before the JVM begins to shut down, so
     *                its last log lines are written (the JVM resets java.util.logging in its own shutdown hook)
     */
    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, StopSignals signals) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            out.println(usage());
            out.println(RunOptions.usage());
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            out.println("iron-runtime " + Version.VERSION);
            return 0;
        }
        if (args[0].equals("run")) {
            return RunCommand.run(args, env, out, err, new RunCommand.Terminal(false, 0), StopSignals.none());
        }
        if (!args[0].equals("router")) {
            err.println("iron-runtime: error: unknown command '" + args[0] + "' (try: router, run)");
            return 2;
        }
        LlmRouter router;
        try {
            RouterConfig config = RouterConfigReader.fromJson(settings(args, env).toString());
            router = new LlmRouter(config);
            try {
                router.start();
            } catch (RouterStartException e) {
                router.close();
                throw e;
            }
        } catch (ConfigException e) {
            err.println("iron-runtime: error: " + e.getMessage());
            return 2;
        } catch (RouterStartException e) {
            err.println("iron-runtime: error: " + e.getMessage());
            return 1;
        }
        printBanner(router, out);
        // The backstop when the JVM ends some other way (no signal handlers, System.exit elsewhere).
        Thread hook = new Thread(router::close, "iron-runtime-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            while (signals.received() == null) {
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        router.close(); // flushes the ledger
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already: the hook finds the router closed
        }
        return 0;
    }

    static ObjectNode settings(String[] args, Map<String, String> env) {
        if (CommandArgs.wantsHelp(args, 1)) {
            throw new ConfigException(usage());
        }
        ObjectNode s = JSON.createObjectNode();
        CommandArgs.walk(args, 1, RouterFlags.SWITCHES, new CommandArgs.Visitor() {
            @Override
            public void flag(String flag, String value) {
                switch (flag) {
                    case "--port" -> s.put("port", RouterFlags.integer(flag, value));
                    case "--host" -> s.put("host", value);
                    case "--budget" -> s.put("budget", value);
                    default -> {
                        if (!RouterFlags.apply(flag, value, s)) {
                            throw new ConfigException("unknown flag " + flag + " (see iron-runtime router --help)");
                        }
                    }
                }
            }

            @Override
            public void word(String word) {
                throw new ConfigException("unexpected argument '" + word + "' (see iron-runtime router --help)");
            }

            @Override
            public void rest(List<String> words) {
                throw new ConfigException("unexpected '--' (see iron-runtime router --help)");
            }
        });
        RouterFlags.environment(env, s);
        return s;
    }

    private static void printBanner(LlmRouter router, PrintStream out) {
        RouterConfig c = router.config();
        String base = router.baseUrl();
        out.println("iron-runtime router listening on " + base);
        out.println("mode: " + c.keyMode().wireName());
        BudgetLedger.Snapshot b = router.budget();
        out.println("budget: " + (b.unlimited() ? "unlimited" : "$" + Money.picosToDollars(b.limit()))
                + ", spent $" + Money.picosToDollars(b.spent())
                + (c.budget().budgetId() == null ? "" : " (budget_id " + c.budget().budgetId() + ")")
                + ", ledger: " + (c.budget().database() == null ? "off" : c.budget().database()));
        out.println("pii: " + c.pii().mode().wireName() + (c.pii().mode() == io.ironruntime.pii.PiiMode.OFF ? ""
                : " (" + c.pii().scope().name().toLowerCase(java.util.Locale.ROOT) + ")"));
        out.println("resilience: " + c.resilience());
        out.println("live feed: " + router.eventsUrl() + " (WebSocket), " + base.substring(0, base.length() - 3)
                + "/iron/events (SSE)");
        out.println("dashboard: " + router.dashboardUrl());
        if (c.localToken() != null) {
            out.println("client token: " + c.localToken());
            out.println("export OPENAI_BASE_URL=" + base + " OPENAI_API_KEY=" + c.localToken());
            out.println("export ANTHROPIC_BASE_URL=" + base.substring(0, base.length() - 3) + " ANTHROPIC_API_KEY="
                    + c.localToken());
        } else {
            out.println("passthrough: clients send their own provider key");
            out.println("admin token (metrics, REST API, live feed): " + c.adminToken());
            out.println("export OPENAI_BASE_URL=" + base);
            out.println("export ANTHROPIC_BASE_URL=" + base.substring(0, base.length() - 3));
        }
        out.flush();
    }

    static String usage() {
        return String.join("\n",
                "usage: iron-runtime router [--port N] [--host ADDR] [--openai-base-url URL] [--anthropic-base-url URL]",
                "                           [--server-url URL] [--cache-ttl S] [--lease-budget USD] [--strict]",
                "                           [--model-alias NAME=MODEL ...]",
                "                           [--max-request-bytes N] [--connect-timeout S] [--read-timeout S]",
                "                           [--budget USD] [--budget-id NAME] [--state-dir DIR] [--pricing-file FILE]",
                "                           [--unknown-model block|allow] [--pii redact|mask|hash|block|detect|off]",
                "                           [--pii-scope request|response|both] [--pii-region CC]",
                "                           [--first-byte-timeout S] [--idle-timeout S] [--total-timeout S]",
                "                           [--max-retries N] [--circuit-breaker on|off] [--rpm N] [--tpm N]",
                "                           [--max-in-flight N] [--queue-timeout S] [--event-retention-days N]",
                "                           [--verbose] [--log-level debug|info|warning|error|off]",
                "keys come from the environment: OPENAI_API_KEY, ANTHROPIC_API_KEY, or IC_TOKEN with IC_SERVER;",
                "IRON_RUNTIME_TOKEN fixes the token clients present (default: a new random one each start)");
    }
}
