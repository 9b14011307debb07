package io.ironruntime.agent;

import io.ironruntime.config.ConfigException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The environment an agent starts with. Pure. The official SDKs and LangChain read their base URL and
 * key from these variables, so an unmodified agent talks to the router with its own token; the real
 * provider keys never reach it, under any variable name.
 */
public final class AgentEnvironment {
    public static final String AGENT_ID = "IRON_RUNTIME_AGENT_ID";
    /** Set by the runtime; the caller's {@code env} may not set them. */
    public static final List<String> GOVERNED = List.of(
            "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", AGENT_ID);
    /** Credentials an inherited environment may hold that would let an agent go around the router. */
    static final Set<String> DROPPED = Set.of("ANTHROPIC_AUTH_TOKEN", "IC_TOKEN", "OPENAI_ADMIN_KEY",
            "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT");

    private AgentEnvironment() {
    }

    /**
     * @param inherited   where the agent starts from (the caller's environment)
     * @param extra       the caller's additions
     * @param routerUrl   the router's OpenAI-style base URL ({@code http://127.0.0.1:PORT/v1})
     * @param token       the agent's own router token
     * @param secrets     values no variable may carry: the provider keys, the router's own token
     */
    public static Map<String, String> build(Map<String, String> inherited, Map<String, String> extra, String routerUrl,
            String token, String agentId, Collection<String> secrets) {
        for (Map.Entry<String, String> e : extra.entrySet()) {
            if (GOVERNED.contains(e.getKey())) {
                throw new ConfigException("env may not set " + e.getKey() + ": the runtime points the agent's SDKs"
                        + " at the router with the agent's own token");
            }
            if (e.getValue() == null) {
                throw new ConfigException("env['" + e.getKey() + "'] must be a string, not None");
            }
            if (carriesSecret(e.getValue(), secrets)) {
                throw new ConfigException("env['" + e.getKey() + "'] holds a key the router keeps for itself:"
                        + " agents never get real provider keys");
            }
        }
        Map<String, String> env = new HashMap<>();
        inherited.forEach((name, value) -> {
            if (!GOVERNED.contains(name) && !DROPPED.contains(name) && !carriesSecret(value, secrets)) {
                env.put(name, value);
            }
        });
        env.putAll(extra);
        env.putIfAbsent("PYTHONUNBUFFERED", "1"); // the agent's output reaches logs() as it is written
        String origin = routerUrl.endsWith("/v1") ? routerUrl.substring(0, routerUrl.length() - 3) : routerUrl;
        env.put("OPENAI_BASE_URL", routerUrl);
        env.put("OPENAI_API_BASE", routerUrl); // the older name, still read by LiteLLM (CrewAI) and old LangChain
        env.put("OPENAI_API_KEY", token);
        env.put("ANTHROPIC_BASE_URL", origin);
        env.put("ANTHROPIC_API_KEY", token);
        env.put(AGENT_ID, agentId);
        return env;
    }

    private static boolean carriesSecret(String value, Collection<String> secrets) {
        if (value == null || value.isEmpty()) {
            return false;
        }
        for (String secret : secrets) {
            if (secret != null && secret.length() >= 8 && value.contains(secret)) {
                return true;
            }
        }
        return false;
    }
}
