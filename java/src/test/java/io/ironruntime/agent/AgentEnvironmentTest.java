package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.config.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentEnvironmentTest {
    private static final String KEY = "sk-proj-REAL-KEY-0123456789";
    private static final String ROUTER_TOKEN = "irt_router_token_abcdef";

    private static Map<String, String> build(Map<String, String> inherited, Map<String, String> extra) {
        return AgentEnvironment.build(inherited, extra, "http://127.0.0.1:8123/v1", "irt_agent_tok", "agent_1",
                List.of(KEY, ROUTER_TOKEN));
    }

    @Test
    void theSdksArePointedAtTheRouterWithTheAgentsToken() {
        Map<String, String> env = build(Map.of("PATH", "/bin", "HOME", "/root"), Map.of("EXTRA", "1"));
        assertEquals("http://127.0.0.1:8123/v1", env.get("OPENAI_BASE_URL"));
        assertEquals("http://127.0.0.1:8123/v1", env.get("OPENAI_API_BASE"));
        assertEquals("http://127.0.0.1:8123", env.get("ANTHROPIC_BASE_URL"), "the Anthropic SDK adds /v1 itself");
        assertEquals("irt_agent_tok", env.get("OPENAI_API_KEY"));
        assertEquals("irt_agent_tok", env.get("ANTHROPIC_API_KEY"));
        assertEquals("agent_1", env.get(AgentEnvironment.AGENT_ID));
        assertEquals("/bin", env.get("PATH"));
        assertEquals("1", env.get("EXTRA"));
        assertEquals("1", env.get("PYTHONUNBUFFERED"));
        assertEquals("0", build(Map.of(), Map.of("PYTHONUNBUFFERED", "0")).get("PYTHONUNBUFFERED"), "the caller's choice wins");
    }

    @Test
    void noInheritedVariableCarriesAKeyOrAWayAroundTheRouter() {
        Map<String, String> env = build(Map.of("OPENAI_API_KEY", KEY, "MY_COPY", "Bearer " + KEY,
                "ANTHROPIC_AUTH_TOKEN", "sk-ant-other", "IC_TOKEN", "ic.jwt.token", "ROUTER", ROUTER_TOKEN,
                "OPENAI_BASE_URL", "https://api.openai.com/v1", "SHORT", "abc"), Map.of());
        assertFalse(env.containsKey("MY_COPY"));
        assertFalse(env.containsKey("ANTHROPIC_AUTH_TOKEN"));
        assertFalse(env.containsKey("IC_TOKEN"));
        assertFalse(env.containsKey("ROUTER"));
        assertEquals("http://127.0.0.1:8123/v1", env.get("OPENAI_BASE_URL"));
        assertEquals("abc", env.get("SHORT"));
        assertFalse(env.containsValue(KEY));
    }

    @Test
    void theCallerCannotOverrideGovernanceOrHandOverAKey() {
        for (String name : AgentEnvironment.GOVERNED) {
            ConfigException e = assertThrows(ConfigException.class, () -> build(Map.of(), Map.of(name, "x")));
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        ConfigException e = assertThrows(ConfigException.class, () -> build(Map.of(), Map.of("K", KEY)));
        assertFalse(e.getMessage().contains(KEY), "the refusal must not echo the key");
    }

    @Test
    void errorTextHidesSecretsAndPiiAndStaysShort() {
        String scrubbed = ErrorText.scrub("Traceback: key " + KEY + " rejected for jane.doe@example.com", List.of(KEY));
        assertFalse(scrubbed.contains(KEY));
        assertFalse(scrubbed.contains("jane.doe@example.com"), scrubbed);
        assertTrue(scrubbed.contains("[secret]") && scrubbed.contains("Traceback"), scrubbed);
        assertTrue(ErrorText.scrub("x".repeat(10_000), List.of()).length() <= ErrorText.MAX_CHARS + 3);
    }
}
