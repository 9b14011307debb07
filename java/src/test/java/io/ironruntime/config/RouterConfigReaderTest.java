package io.ironruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.provider.Provider;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RouterConfigReaderTest {
    private static final String OPENAI_KEY = "sk-proj-REALSECRET0001";
    private static final String ANTHROPIC_KEY = "sk-ant-api03-REALSECRET0002";

    @Test
    void defaults() {
        RouterConfig c = RouterConfigReader.fromJson("{}");
        assertEquals("127.0.0.1", c.host());
        assertEquals(0, c.port());
        assertEquals(KeyMode.PASSTHROUGH, c.keyMode());
        assertNull(c.localToken());
        assertEquals("https://api.openai.com", c.origin(Provider.OPENAI).toString());
        assertEquals("https://api.anthropic.com", c.origin(Provider.ANTHROPIC).toString());
        assertEquals(32L * 1024 * 1024, c.maxRequestBytes());
        assertEquals(io.ironruntime.config.ResilienceConfig.DEFAULTS, c.resilience());
        assertFalse(c.verbose());
        assertEquals(LogLevel.WARNING, c.logLevel());
    }

    @Test
    void verboseAndLogLevelAreCheckedOnce() {
        RouterConfig c = RouterConfigReader.fromJson("{\"verbose\":true,\"log_level\":\"INFO\"}");
        assertTrue(c.verbose());
        assertEquals(LogLevel.INFO, c.logLevel(), "any case");
        assertEquals(LogLevel.WARNING, RouterConfigReader.fromJson("{\"log_level\":\"warn\"}").logLevel());
        assertEquals(LogLevel.OFF, RouterConfigReader.fromJson("{\"log_level\":\"off\"}").logLevel());
        assertMessage("verbose must be true or false", "{\"verbose\":\"yes\"}");
        assertMessage("log_level must be 'debug', 'info', 'warning', 'error' or 'off', got 'loud'", "{\"log_level\":\"loud\"}");
        assertMessage("log_level must be a string", "{\"log_level\":20}");
    }

    @Test
    void directModeFromProviderKeyStringDictApiKeyAndEnv() {
        RouterConfig s = RouterConfigReader.fromJson("{\"provider_key\":\"" + ANTHROPIC_KEY + "\"}");
        assertEquals(KeyMode.DIRECT, s.keyMode());
        assertEquals(Provider.ANTHROPIC, s.primaryProvider());
        assertNotNull(s.localToken());
        assertNotEquals(ANTHROPIC_KEY, s.localToken());

        RouterConfig d = RouterConfigReader.fromJson("{\"provider_key\":{\"openai\":\"" + OPENAI_KEY
                + "\",\"anthropic\":\"" + ANTHROPIC_KEY + "\"}}");
        assertEquals(OPENAI_KEY, d.providerKeys().get(Provider.OPENAI));
        assertEquals(ANTHROPIC_KEY, d.providerKeys().get(Provider.ANTHROPIC));
        assertEquals(Provider.OPENAI, d.primaryProvider());

        RouterConfig a = RouterConfigReader.fromJson("{\"api_key\":\"" + OPENAI_KEY + "\"}");
        assertEquals(KeyMode.DIRECT, a.keyMode());
        assertEquals(Provider.OPENAI, a.primaryProvider());

        RouterConfig e = RouterConfigReader.fromJson("{\"env\":{\"ANTHROPIC_API_KEY\":\"" + ANTHROPIC_KEY
                + "\",\"IC_TOKEN\":\"tok\",\"IC_SERVER\":\"http://ic\"}}");
        assertEquals(KeyMode.DIRECT, e.keyMode(), "provider keys in the environment come before IC_*");
        assertEquals(ANTHROPIC_KEY, e.providerKeys().get(Provider.ANTHROPIC));
    }

    @Test
    void controlServerModeAndItsValidation() {
        RouterConfig c = RouterConfigReader.fromJson("{\"api_key\":\"eyJhbGciOi.jwt.token\",\"server_url\":\"https://ic.example.com\"}");
        assertEquals(KeyMode.CONTROL_SERVER, c.keyMode());
        assertEquals("eyJhbGciOi.jwt.token", c.icToken());
        assertEquals("https://ic.example.com", c.serverUrl().toString());
        assertNotNull(c.localToken());

        RouterConfig env = RouterConfigReader.fromJson("{\"env\":{\"IC_TOKEN\":\"tok\",\"IC_SERVER\":\"http://127.0.0.1:3000\"}}");
        assertEquals(KeyMode.CONTROL_SERVER, env.keyMode());

        RouterConfig tokenWithEnvServer = RouterConfigReader.fromJson("{\"api_key\":\"eyJ.tok\",\"env\":{\"IC_SERVER\":\"http://ic:3000\"}}");
        assertEquals(KeyMode.CONTROL_SERVER, tokenWithEnvServer.keyMode());

        assertMessage("server_url needs api_key", "{\"server_url\":\"https://ic.example.com\"}");
        assertMessage("must be an http:// or https:// URL", "{\"api_key\":\"t\",\"server_url\":\"ftp://x\"}");
        assertMessage("has no host", "{\"api_key\":\"t\",\"server_url\":\"http:///x\"}");
        assertMessage("not a valid URL", "{\"api_key\":\"t\",\"server_url\":\"http://\"}");
        assertMessage("IC_SERVER is not", "{\"env\":{\"IC_TOKEN\":\"tok\"}}");
        assertMessage("no Iron Cage token", "{\"env\":{\"IC_SERVER\":\"http://ic\"}}");
        assertMessage("not both", "{\"provider_key\":\"sk-x\",\"server_url\":\"https://ic\"}");
    }

    @Test
    void badValuesNameTheSettingAndNeverEchoTheKey() {
        assertMessage("port must be between 0 and 65535", "{\"port\":70000}");
        assertMessage("port must be a whole number", "{\"port\":\"80\"}");
        assertMessage("max_request_bytes", "{\"max_request_bytes\":0}");
        assertMessage("read_timeout must be a positive number", "{\"read_timeout\":-1}");
        assertMessage("unknown router setting 'prot'", "{\"prot\":1}");
        assertMessage("provider_key has an unknown provider 'gemini'", "{\"provider_key\":{\"gemini\":\"k\"}}");
        assertMessage("openai_base_url must be an http", "{\"openai_base_url\":\"api.openai.com\"}");
        ConfigException e = assertThrows(ConfigException.class,
                () -> RouterConfigReader.fromJson("{\"provider_key\":\"sk-SECRET with space\"}"));
        assertTrue(e.getMessage().contains("cannot be sent in an HTTP header"));
        assertFalse(e.getMessage().contains("SECRET"));
        assertMessage("not valid JSON", "{");
    }

    @Test
    void modelAliasesResolveOnceAndAreChecked() {
        ModelAliases a = RouterConfigReader.fromJson("{\"model_aliases\":{\"fast\":\"claude-haiku-4-5\",\"smart\":\"gpt-4o\"}}")
                .modelAliases();
        assertEquals("claude-haiku-4-5", a.resolve("fast"));
        assertEquals("gpt-4o", a.resolve("smart"));
        assertEquals("gpt-4o-mini", a.resolve("gpt-4o-mini"));
        assertEquals(null, a.resolve(null));
        assertTrue(RouterConfigReader.fromJson("{}").modelAliases().isEmpty());
        assertMessage("model_aliases must be a mapping", "{\"model_aliases\":[\"fast\"]}");
        assertMessage("model_aliases['fast'] must be a model name", "{\"model_aliases\":{\"fast\":7}}");
        assertMessage("model_aliases['fast'] must be a model name", "{\"model_aliases\":{\"fast\":\" \"}}");
        assertMessage("an alias must be a non-empty name", "{\"model_aliases\":{\"\":\"gpt-4o\"}}");
        assertMessage("names itself", "{\"model_aliases\":{\"gpt-4o\":\"gpt-4o\"}}");
        assertMessage("model_aliases['a'] is 'b', which is itself an alias",
                "{\"model_aliases\":{\"a\":\"b\",\"b\":\"claude-haiku-4-5\"}}");
    }

    @Test
    void originsDropATrailingV1AndKeepAPathPrefix() {
        RouterConfig c = RouterConfigReader.fromJson("{\"openai_base_url\":\"http://127.0.0.1:9/v1/\","
                + "\"anthropic_base_url\":\"https://gw.example.com/anthropic\"}");
        assertEquals("http://127.0.0.1:9", c.origin(Provider.OPENAI).toString());
        assertEquals("https://gw.example.com/anthropic", c.origin(Provider.ANTHROPIC).toString());
    }

    @Test
    void toStringNeverContainsSecrets() {
        RouterConfig c = RouterConfigReader.fromJson("{\"provider_key\":{\"openai\":\"" + OPENAI_KEY
                + "\",\"anthropic\":\"" + ANTHROPIC_KEY + "\"}}");
        String s = c.toString();
        assertFalse(s.contains(OPENAI_KEY));
        assertFalse(s.contains(ANTHROPIC_KEY));
        assertFalse(s.contains(c.localToken()));
        RouterConfig ic = RouterConfigReader.fromJson("{\"api_key\":\"eyJ.SECRET.TOKEN\",\"server_url\":\"https://ic\"}");
        assertFalse(ic.toString().contains("SECRET"));
    }

    @Test
    void controlSettingsAreReadInControlModeAndRefusedOutsideIt() {
        String control = "\"api_key\":\"eyJ.t.k\",\"server_url\":\"http://ic\"";
        ControlConfig d = RouterConfigReader.fromJson("{" + control + "}").control();
        assertEquals(300, d.keyTtl().toSeconds());
        assertEquals(ControlConfig.DEFAULT_LEASE_MICROS, d.leaseMicros());
        assertEquals(200_000, d.refreshBelowPpm());
        assertEquals(5_000, d.analyticsInterval().toMillis());
        assertEquals(java.util.Set.of(), d.explicitOrigins());
        ControlConfig c = RouterConfigReader.fromJson("{" + control + ",\"cache_ttl_seconds\":60,\"strict\":true,"
                + "\"lease_budget\":\"2.5000009\",\"lease_refresh_threshold\":0.5,\"analytics_interval\":0.5,"
                + "\"openai_base_url\":\"http://mirror\"}").control();
        assertEquals(60, c.keyTtl().toSeconds());
        assertEquals(true, c.strict());
        assertEquals(2_500_000, c.leaseMicros(), "whole micro-dollars, rounded down");
        assertEquals(500_000, c.refreshBelowPpm());
        assertEquals(java.util.Set.of(Provider.OPENAI), c.explicitOrigins());
        assertEquals(null, RouterConfigReader.fromJson("{\"provider_key\":\"" + OPENAI_KEY + "\"}").control());
        assertFalse(c.toString().contains("eyJ.t.k"));

        assertMessage("lease_budget applies to control-server mode only", "{\"provider_key\":\"" + OPENAI_KEY
                + "\",\"lease_budget\":1}");
        assertMessage("strict applies to control-server mode only", "{\"strict\":false}");
        assertMessage("lease_budget must be between 0.000001 and 100 USD", "{" + control + ",\"lease_budget\":101}");
        assertMessage("lease_budget must be between", "{" + control + ",\"lease_budget\":0}");
        assertMessage("cache_ttl_seconds must be between 1 and 86400", "{" + control + ",\"cache_ttl_seconds\":0}");
        assertMessage("lease_refresh_threshold must be between 0.0 and 0.9", "{" + control
                + ",\"lease_refresh_threshold\":1}");
        assertMessage("analytics_interval must be at least 0.1", "{" + control + ",\"analytics_interval\":0.01}");
    }

    private static void assertMessage(String expected, String json) {
        ConfigException e = assertThrows(ConfigException.class, () -> RouterConfigReader.fromJson(json));
        assertTrue(e.getMessage().contains(expected), "message was: " + e.getMessage());
    }
}
