package io.ironruntime.agent;

import io.ironruntime.config.ConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What to run as one agent, as the caller asked for it. Checked for shape here; whether the script,
 * the interpreter and the directory exist is checked when the agent is launched.
 *
 * @param script        the Python script
 * @param args          its arguments
 * @param env           variables the caller adds to the agent's environment (never the governance ones)
 * @param inheritedEnv  the environment the agent starts from (the caller's own); null for this JVM's
 * @param budgetPicos   the agent's own budget in pico-dollars, or null for none beyond the runtime's
 * @param name          a label for people; defaults to the script's file name
 * @param cwd           the working directory, or null for the caller's
 * @param python        the interpreter, or null for the runtime's default
 */
public record AgentSpec(Path script, List<String> args, Map<String, String> env, Map<String, String> inheritedEnv,
        Long budgetPicos, String name, Path cwd, String python, RestartSettings restart) {
    public AgentSpec {
        if (script == null) {
            throw new ConfigException("start_agent needs the path of a Python script");
        }
        args = args == null ? List.of() : List.copyOf(args);
        env = env == null ? Map.of() : Map.copyOf(checked(env));
        inheritedEnv = inheritedEnv == null ? null : Map.copyOf(inheritedEnv);
        if (budgetPicos != null && budgetPicos < 0) {
            throw new ConfigException("budget must not be negative");
        }
        if (name == null || name.isBlank()) {
            Path file = script.getFileName();
            name = file == null ? script.toString() : file.toString();
        }
        restart = restart == null ? RestartSettings.NEVER : restart;
    }

    private static Map<String, String> checked(Map<String, String> env) {
        env.forEach((name, value) -> {
            if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || value == null) {
                throw new ConfigException("env must map variable names (non-empty, without '=') to strings;"
                        + " got " + (value == null ? "None for '" + name + "'" : "the name '" + name + "'"));
            }
        });
        return env;
    }

    /** A spec with defaults for everything but the script and its arguments. */
    public static AgentSpec of(Path script, String... args) {
        return new AgentSpec(script, List.of(args), null, null, null, null, null, null, null);
    }
}
