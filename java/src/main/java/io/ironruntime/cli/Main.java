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
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar iron-runtime.jar router [flags]}: the same proxy as the Python package, for agents
 * in any language. Provider keys come from the environment, never from flags (flags show up in ps).
 */
public final class Main {
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final List<String> ENV_NAMES = List.of("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER",
            "IRON_RUNTIME_HOME");

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args, System.getenv(), System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            out.println(usage());
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            out.println("iron-runtime " + Version.VERSION);
            return 0;
        }
        if (!args[0].equals("router")) {
            err.println("iron-runtime: error: unknown command '" + args[0] + "' (try: router)");
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
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            router.close(); // flushes the ledger
            stopped.countDown();
        }, "iron-runtime-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    static ObjectNode settings(String[] args, Map<String, String> env) {
        ObjectNode s = JSON.createObjectNode();
        for (int i = 1; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("-h") || flag.equals("--help")) {
                throw new ConfigException(usage());
            }
            String value;
            int eq = flag.indexOf('=');
            if (eq > 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new ConfigException(flag + " needs a value");
                }
                value = args[++i];
            }
            switch (flag) {
                case "--port" -> s.put("port", integer(flag, value));
                case "--host" -> s.put("host", value);
                case "--openai-base-url" -> s.put("openai_base_url", value);
                case "--anthropic-base-url" -> s.put("anthropic_base_url", value);
                case "--server-url" -> s.put("server_url", value);
                case "--max-request-bytes" -> s.put("max_request_bytes", integer(flag, value));
                case "--connect-timeout" -> s.put("connect_timeout", number(flag, value));
                case "--read-timeout" -> s.put("read_timeout", number(flag, value));
                case "--first-byte-timeout" -> s.put("first_byte_timeout", number(flag, value));
                case "--idle-timeout" -> s.put("idle_timeout", number(flag, value));
                case "--total-timeout" -> s.put("total_timeout", number(flag, value));
                case "--max-retries" -> s.put("max_retries", integer(flag, value));
                case "--circuit-breaker" -> s.put("circuit_breaker", onOff(flag, value));
                case "--rpm" -> s.withObjectProperty("rate_limits").put("rpm", integer(flag, value));
                case "--tpm" -> s.withObjectProperty("rate_limits").put("tpm", integer(flag, value));
                case "--max-in-flight" -> s.put("max_in_flight", integer(flag, value));
                case "--queue-timeout" -> s.put("queue_timeout", number(flag, value));
                case "--budget" -> s.put("budget", value);
                case "--budget-id" -> s.put("budget_id", value);
                case "--state-dir" -> s.put("state_dir", value);
                case "--pricing-file" -> s.put("pricing_file", value);
                case "--unknown-model" -> s.put("unknown_model", value);
                case "--pii" -> s.put("pii", value);
                case "--pii-scope" -> s.put("pii_scope", value);
                case "--pii-region" -> s.put("pii_region", value);
                default -> throw new ConfigException("unknown flag " + flag + "\n" + usage());
            }
        }
        String token = env.get("IRON_RUNTIME_TOKEN");
        if (token != null && !token.isBlank()) {
            s.put("local_token", token);
        }
        ObjectNode e = s.putObject("env");
        for (String name : ENV_NAMES) {
            if (env.get(name) != null) {
                e.put(name, env.get(name));
            }
        }
        return s;
    }

    private static long integer(String flag, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(flag + " must be a whole number, got '" + value + "'");
        }
    }

    private static boolean onOff(String flag, String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new ConfigException(flag + " must be 'on' or 'off', got '" + value + "'");
        };
    }

    private static double number(String flag, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(flag + " must be a number of seconds, got '" + value + "'");
        }
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
        if (c.localToken() != null) {
            out.println("client token: " + c.localToken());
            out.println("export OPENAI_BASE_URL=" + base + " OPENAI_API_KEY=" + c.localToken());
            out.println("export ANTHROPIC_BASE_URL=" + base.substring(0, base.length() - 3) + " ANTHROPIC_API_KEY="
                    + c.localToken());
        } else {
            out.println("passthrough: clients send their own provider key");
            out.println("export OPENAI_BASE_URL=" + base);
            out.println("export ANTHROPIC_BASE_URL=" + base.substring(0, base.length() - 3));
        }
        out.flush();
    }

    static String usage() {
        return String.join("\n",
                "usage: iron-runtime router [--port N] [--host ADDR] [--openai-base-url URL] [--anthropic-base-url URL]",
                "                           [--server-url URL] [--max-request-bytes N] [--connect-timeout S] [--read-timeout S]",
                "                           [--budget USD] [--budget-id NAME] [--state-dir DIR] [--pricing-file FILE]",
                "                           [--unknown-model block|allow] [--pii redact|mask|hash|block|detect|off]",
                "                           [--pii-scope request|response|both] [--pii-region CC]",
                "                           [--first-byte-timeout S] [--idle-timeout S] [--total-timeout S]",
                "                           [--max-retries N] [--circuit-breaker on|off] [--rpm N] [--tpm N]",
                "                           [--max-in-flight N] [--queue-timeout S]",
                "keys come from the environment: OPENAI_API_KEY, ANTHROPIC_API_KEY, or IC_TOKEN with IC_SERVER;",
                "IRON_RUNTIME_TOKEN fixes the token clients present (default: a new random one each start)");
    }
}
