package io.ironruntime.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.config.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The flags that configure the router, shared by the {@code router} and {@code run} commands: each
 * sets one key of the settings {@link io.ironruntime.config.RouterConfigReader} reads, which
 * validates them. Where the router listens and its budget are each command's own flags.
 */
final class RouterFlags {
    /** Read from the environment, never from flags (flags show up in ps). */
    private static final List<String> ENV_NAMES = List.of("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN",
            "IC_SERVER", "IRON_RUNTIME_HOME");

    /** Router flags that take no value. */
    static final Set<String> SWITCHES = Set.of("--verbose", "--strict");

    private RouterFlags() {
    }

    /** Applies one router flag to {@code s}; false when {@code flag} is not a router flag. */
    static boolean apply(String flag, String value, ObjectNode s) {
        switch (flag) {
            case "--openai-base-url" -> s.put("openai_base_url", value);
            case "--anthropic-base-url" -> s.put("anthropic_base_url", value);
            case "--server-url" -> s.put("server_url", value);
            case "--cache-ttl" -> s.put("cache_ttl_seconds", integer(flag, value));
            case "--lease-budget" -> s.put("lease_budget", value); // decimal text: the reader keeps it exact
            case "--strict" -> s.put("strict", true);
            case "--model-alias" -> alias(flag, value, s);
            case "--max-request-bytes" -> s.put("max_request_bytes", integer(flag, value));
            case "--connect-timeout" -> s.put("connect_timeout", seconds(flag, value));
            case "--read-timeout" -> s.put("read_timeout", seconds(flag, value));
            case "--first-byte-timeout" -> s.put("first_byte_timeout", seconds(flag, value));
            case "--idle-timeout" -> s.put("idle_timeout", seconds(flag, value));
            case "--total-timeout" -> s.put("total_timeout", seconds(flag, value));
            case "--max-retries" -> s.put("max_retries", integer(flag, value));
            case "--circuit-breaker" -> s.put("circuit_breaker", onOff(flag, value));
            case "--rpm" -> s.withObjectProperty("rate_limits").put("rpm", integer(flag, value));
            case "--tpm" -> s.withObjectProperty("rate_limits").put("tpm", integer(flag, value));
            case "--max-in-flight" -> s.put("max_in_flight", integer(flag, value));
            case "--queue-timeout" -> s.put("queue_timeout", seconds(flag, value));
            case "--budget-id" -> s.put("budget_id", value);
            case "--state-dir" -> s.put("state_dir", value);
            case "--pricing-file" -> s.put("pricing_file", value);
            case "--unknown-model" -> s.put("unknown_model", value);
            case "--pii" -> s.put("pii", value);
            case "--pii-scope" -> s.put("pii_scope", value);
            case "--pii-region" -> s.put("pii_region", value);
            case "--event-retention-days" -> s.put("event_retention_days", integer(flag, value));
            case "--verbose" -> s.put("verbose", true);
            case "--log-level" -> s.put("log_level", value);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The keys and settings the router takes from the environment. */
    static void environment(Map<String, String> env, ObjectNode s) {
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
    }

    static long integer(String flag, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(flag + " must be a whole number, got '" + value + "'");
        }
    }

    static double seconds(String flag, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(flag + " must be a number of seconds, got '" + value + "'");
        }
    }

    /** {@code NAME=MODEL}; repeatable. */
    private static void alias(String flag, String value, ObjectNode s) {
        int eq = value.indexOf('=');
        if (eq <= 0 || eq == value.length() - 1) {
            throw new ConfigException(flag + " must be NAME=MODEL (e.g. fast=claude-haiku-4-5), got '" + value + "'");
        }
        s.withObjectProperty("model_aliases").put(value.substring(0, eq), value.substring(eq + 1));
    }

    private static boolean onOff(String flag, String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new ConfigException(flag + " must be 'on' or 'off', got '" + value + "'");
        };
    }
}
