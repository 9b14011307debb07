package io.ironruntime.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.agent.AgentSpec;
import io.ironruntime.agent.BudgetExhaustedPolicy;
import io.ironruntime.agent.RestartPolicy;
import io.ironruntime.agent.RestartSettings;
import io.ironruntime.agent.RuntimeConfig;
import io.ironruntime.config.ConfigException;
import io.ironruntime.config.RouterConfigReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code run agent.py [flags] [-- args]} was asked for, validated once: the runtime's settings
 * (with its router's) and the agent's. {@code --budget} is the agent's own budget only; the router's
 * total is {@code --total-budget} (unlimited without it). An equal total would not add a limit but
 * would take the agent's place: the router's budget is checked first, so its 402 would answer for
 * the agent's and neither the agent's refusal count nor {@code --on-budget-exhausted stop} would act.
 *
 * @param runtime the runtime to create, router settings included
 * @param agent   the one agent to run
 */
record RunOptions(RuntimeConfig runtime, AgentSpec agent) {
    /**
     * @param args the command line, {@code args[0]} being "run"
     * @param env  the environment (provider keys, and the agent's inherited environment)
     * @param here the working directory the script and {@code --cwd} are relative to
     */
    static RunOptions parse(String[] args, Map<String, String> env, Path here) {
        Parsed p = new Parsed();
        CommandArgs.walk(args, 1, RouterFlags.SWITCHES, p);
        if (p.script == null) {
            throw new ConfigException("run needs the agent's script: iron-runtime run agent.py [flags] [-- args]");
        }
        ObjectNode router = p.router;
        if (p.totalBudget != null) {
            router.put("budget", p.totalBudget);
        }
        RouterFlags.environment(env, router);
        router.remove("local_token"); // agents get tokens of their own; nobody else uses the router
        Path cwd = p.cwd == null ? here : here.resolve(p.cwd).normalize();
        if (!Files.isDirectory(cwd)) {
            throw new ConfigException("--cwd is not a directory: " + cwd);
        }
        Path script = cwd.resolve(p.script).normalize();
        if (!Files.isRegularFile(script)) {
            throw new ConfigException("agent script not found: " + script);
        }
        RuntimeConfig runtime = new RuntimeConfig(RouterConfigReader.fromJson(router.toString()),
                BudgetExhaustedPolicy.parse(p.onBudgetExhausted), p.stopTimeout, p.python,
                router.path("verbose").asBoolean(false)); // --verbose: agents' lifecycle and the request log
        RestartSettings restart = RestartSettings.of(RestartPolicy.parse(p.restart), p.maxRestarts);
        Long budget = p.budget == null ? null : RouterConfigReader.budgetLimit(p.budget);
        AgentSpec agent = new AgentSpec(script, p.agentArgs, null, env, budget, p.name, cwd, null, restart);
        return new RunOptions(runtime, agent);
    }

    /** The flags of {@code run} beyond the router's, and its words. */
    private static final class Parsed implements CommandArgs.Visitor {
        final ObjectNode router = Json.MAPPER.createObjectNode();
        final List<String> agentArgs = new ArrayList<>();
        String script;
        String budget;
        String totalBudget;
        String restart = "never";
        int maxRestarts = RestartSettings.DEFAULT_MAX_RESTARTS;
        String name;
        String cwd;
        String python;
        String onBudgetExhausted = "block";
        Duration stopTimeout;

        @Override
        public void flag(String flag, String value) {
            switch (flag) {
                case "--budget" -> budget = value;
                case "--total-budget" -> totalBudget = value;
                case "--restart" -> restart = value;
                case "--max-restarts" -> maxRestarts = (int) Math.max(-1, Math.min(Integer.MAX_VALUE,
                        RouterFlags.integer(flag, value)));
                case "--name" -> name = value;
                case "--cwd" -> cwd = value;
                case "--python" -> python = value;
                case "--on-budget-exhausted" -> onBudgetExhausted = value;
                case "--stop-timeout" -> {
                    double s = RouterFlags.seconds(flag, value);
                    if (!(s >= 0) || s > 3600) {
                        throw new ConfigException("--stop-timeout must be between 0 and 3600 seconds, got " + value);
                    }
                    stopTimeout = Duration.ofMillis(Math.round(s * 1000));
                }
                default -> {
                    if (!RouterFlags.apply(flag, value, router)) {
                        throw new ConfigException("unknown flag " + flag + " (the agent's own flags go after --;"
                                + " see iron-runtime run --help)");
                    }
                }
            }
        }

        @Override
        public void word(String word) {
            if (script == null) {
                script = word;
            } else {
                agentArgs.add(word);
            }
        }

        @Override
        public void rest(List<String> words) {
            if (script == null && !words.isEmpty()) {
                script = words.get(0);
                agentArgs.addAll(words.subList(1, words.size()));
            } else {
                agentArgs.addAll(words);
            }
        }
    }

    static String usage() {
        return String.join("\n",
                "usage: iron-runtime run SCRIPT [--budget USD] [--total-budget USD] [--restart never|on-failure|always]",
                "                        [--max-restarts N] [--name NAME] [--cwd DIR] [--python PATH]",
                "                        [--on-budget-exhausted block|stop] [--stop-timeout S] [router flags] [-- ARGS...]",
                "runs SCRIPT as a governed agent through a router on a free loopback port; router flags are those of",
                "`iron-runtime router` but --port, --host and --budget; --budget is the agent's own budget,",
                "--total-budget the router's (with --budget-id: across runs); the exit status is the agent's",
                "(130/143 after SIGINT/SIGTERM)");
    }
}
