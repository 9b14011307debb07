package io.ironruntime.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import io.ironruntime.provider.Provider;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns raw settings (JSON text with the Python keyword-argument names) into a validated
 * {@link RouterConfig}. Key-mode resolution lives here so Python, the CLI and Java callers agree.
 *
 * <p>Environment values are passed in (the {@code env} object) rather than read from
 * {@link System#getenv()}: inside an embedded JVM the process environment is a snapshot taken at
 * JVM start, while Python's {@code os.environ} is what the user last set.
 */
public final class RouterConfigReader {
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<String> KNOWN = Set.of("api_key", "server_url", "cache_ttl_seconds", "provider_key",
            "port", "host", "openai_base_url", "anthropic_base_url", "max_request_bytes", "connect_timeout",
            "read_timeout", "local_token", "env", "budget", "budget_id", "state_dir", "persist", "pricing_file",
            "custom_pricing", "unknown_model", "budget_alerts", "event_retention_days", "pii", "pii_scope", "pii_patterns", "pii_detectors",
            "pii_region", "pii_salt", "first_byte_timeout", "idle_timeout", "total_timeout", "circuit_breaker",
            "max_retries", "retry_backoff", "rate_limits", "max_in_flight", "queue_timeout", "verbose", "log_level",
            "strict", "lease_budget", "lease_refresh_threshold", "analytics_interval", "model_aliases");

    private RouterConfigReader() {
    }

    /**
     * A budget given later ({@code set_budget}): USD as decimal text, or null for no limit; returns
     * pico-dollars or {@link io.ironruntime.cost.BudgetLedger#UNLIMITED}.
     */
    public static long budgetLimit(String usd) {
        return BudgetSettings.limit(usd == null ? null : JSON.getNodeFactory().textNode(usd));
    }

    public static RouterConfig fromJson(String settingsJson) {
        JsonNode root;
        try {
            root = JSON.readTree(settingsJson == null ? "{}" : settingsJson);
        } catch (JsonProcessingException e) {
            throw new ConfigException("router settings are not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException("router settings must be a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!KNOWN.contains(name)) {
                throw new ConfigException("unknown router setting '" + name + "'");
            }
        }
        return read(new Settings(root));
    }

    private static RouterConfig read(Settings s) {
        String host = s.text("host", "127.0.0.1");
        if (host.isBlank()) {
            throw new ConfigException("host must not be empty");
        }
        int port = (int) s.integer("port", 0, 0, 65535);
        long maxRequestBytes = s.integer("max_request_bytes", RouterConfig.DEFAULT_MAX_REQUEST_BYTES, 1, Long.MAX_VALUE);

        Map<Provider, URI> origins = new EnumMap<>(Provider.class);
        origins.put(Provider.OPENAI, origin("openai_base_url", s.text("openai_base_url", Provider.OPENAI.defaultOrigin())));
        origins.put(Provider.ANTHROPIC,
                origin("anthropic_base_url", s.text("anthropic_base_url", Provider.ANTHROPIC.defaultOrigin())));

        KeyResolution keys = resolveKeys(s);
        ControlConfig control = ControlSettings.read(s, keys.mode == KeyMode.CONTROL_SERVER, keys.icToken, keys.serverUrl);
        String localToken = s.text("local_token", null);
        if (keys.mode == KeyMode.PASSTHROUGH) {
            localToken = null;
        } else if (localToken == null) {
            localToken = newLocalToken();
        } else if (localToken.length() < 16) {
            throw new ConfigException("local_token must be at least 16 characters");
        }
        int eventRetentionDays = (int) s.integer("event_retention_days", RouterConfig.DEFAULT_EVENT_RETENTION_DAYS, 1,
                RouterConfig.MAX_EVENT_RETENTION_DAYS);
        boolean verbose = s.bool("verbose", false);
        LogLevel logLevel = LogLevel.parse(s.text("log_level", LogLevel.WARNING.wireName()));
        return new RouterConfig(host, port, keys.mode, keys.providerKeys, control, origins, maxRequestBytes,
                localToken, localToken != null ? localToken : newLocalToken(),
                BudgetSettings.read(s), PiiSettings.read(s), ResilienceSettings.read(s), ModelAliases.read(s),
                eventRetentionDays, verbose, logLevel);
    }

    private record KeyResolution(KeyMode mode, Map<Provider, String> providerKeys, String icToken, URI serverUrl) {
    }

    /**
     * Direct mode first (explicit provider_key, an api_key that is a provider key, then the provider
     * variables), then control-server mode (explicit server_url or IC_TOKEN/IC_SERVER), then passthrough.
     */
    private static KeyResolution resolveKeys(Settings s) {
        String apiKey = s.text("api_key", null);
        String serverUrl = s.text("server_url", null);
        JsonNode providerKey = s.node("provider_key");
        String envIcServer = s.env("IC_SERVER");

        if (providerKey != null && serverUrl != null) {
            throw new ConfigException("give either provider_key (direct mode) or server_url (control-server mode), not both");
        }
        if (providerKey != null && apiKey != null) {
            throw new ConfigException("give either provider_key or api_key, not both: api_key is the Iron Cage token"
                    + " (with server_url) or a provider key");
        }
        if (serverUrl != null) {
            String token = apiKey != null ? apiKey : s.env("IC_TOKEN");
            if (token == null) {
                throw new ConfigException("server_url needs api_key: pass your Iron Cage token (IC_TOKEN) as api_key");
            }
            return control(token, serverUrl, "server_url");
        }
        if (providerKey != null) {
            return direct(providerKeys(providerKey));
        }
        if (apiKey != null) {
            // An IC token (a JWT) with IC_SERVER in the environment means control-server mode.
            if (envIcServer != null && !apiKey.startsWith("sk-")) {
                return control(apiKey, envIcServer, "IC_SERVER");
            }
            return direct(Map.of(Provider.ofKey(checkedKey("api_key", apiKey)), apiKey));
        }
        Map<Provider, String> fromEnv = new EnumMap<>(Provider.class);
        String openai = s.env("OPENAI_API_KEY");
        String anthropic = s.env("ANTHROPIC_API_KEY");
        if (openai != null) {
            fromEnv.put(Provider.OPENAI, checkedKey("OPENAI_API_KEY", openai));
        }
        if (anthropic != null) {
            fromEnv.put(Provider.ANTHROPIC, checkedKey("ANTHROPIC_API_KEY", anthropic));
        }
        if (!fromEnv.isEmpty()) {
            return direct(fromEnv);
        }
        String envToken = s.env("IC_TOKEN");
        if (envToken != null && envIcServer != null) {
            return control(envToken, envIcServer, "IC_SERVER");
        }
        if (envToken != null) {
            throw new ConfigException("IC_TOKEN is set but IC_SERVER is not: set IC_SERVER to your Iron Cage server URL");
        }
        if (envIcServer != null) {
            throw new ConfigException("IC_SERVER is set but there is no Iron Cage token: set IC_TOKEN or pass api_key");
        }
        return new KeyResolution(KeyMode.PASSTHROUGH, Map.of(), null, null);
    }

    private static KeyResolution direct(Map<Provider, String> keys) {
        return new KeyResolution(KeyMode.DIRECT, keys, null, null);
    }

    private static KeyResolution control(String token, String serverUrl, String source) {
        if (token.isBlank()) {
            throw new ConfigException("the Iron Cage token (api_key / IC_TOKEN) is empty");
        }
        URI url = httpUrl(source, serverUrl);
        return new KeyResolution(KeyMode.CONTROL_SERVER, Map.of(), token.strip(), url);
    }

    private static Map<Provider, String> providerKeys(JsonNode node) {
        Map<Provider, String> keys = new EnumMap<>(Provider.class);
        if (node.isTextual()) {
            String key = checkedKey("provider_key", node.asText());
            keys.put(Provider.ofKey(key), key);
            return keys;
        }
        if (!node.isObject() || node.isEmpty()) {
            throw new ConfigException("provider_key must be a key string or a mapping like"
                    + " {\"openai\": \"sk-...\", \"anthropic\": \"sk-ant-...\"}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Provider p = Provider.ofWireName(e.getKey());
            if (p == null) {
                throw new ConfigException("provider_key has an unknown provider '" + e.getKey()
                        + "': use 'openai' and/or 'anthropic'");
            }
            if (e.getValue().isNull()) {
                continue;
            }
            if (!e.getValue().isTextual()) {
                throw new ConfigException("provider_key['" + e.getKey() + "'] must be a string");
            }
            keys.put(p, checkedKey("provider_key['" + e.getKey() + "']", e.getValue().asText()));
        }
        if (keys.isEmpty()) {
            throw new ConfigException("provider_key has no key in it");
        }
        return keys;
    }

    /** Rejects keys that cannot be sent in an HTTP header; the message never echoes the key. */
    public static String checkedKey(String name, String key) {
        String k = key.strip();
        if (k.isEmpty()) {
            throw new ConfigException(name + " is empty");
        }
        for (int i = 0; i < k.length(); i++) {
            char c = k.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new ConfigException(name + " contains a character that cannot be sent in an HTTP header"
                        + " (whitespace or non-ASCII at position " + i + ")");
            }
        }
        return k;
    }

    /**
     * An upstream origin from a URL a user or a server gave (an SDK base URL's {@code /v1} is dropped:
     * the router adds it); {@code name} names the source in the error.
     */
    public static URI origin(String name, String value) {
        URI uri = httpUrl(name, value);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        // Users often paste an SDK base URL; the router adds /v1 itself, so drop it here.
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith("/v1")) {
            path = path.substring(0, path.length() - 3);
        }
        try {
            return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), path.isEmpty() ? null : path, null, null);
        } catch (URISyntaxException e) {
            throw new ConfigException(name + " is not a valid URL: " + e.getReason());
        }
    }

    private static URI httpUrl(String name, String value) {
        URI uri;
        try {
            uri = new URI(value.strip());
        } catch (URISyntaxException e) {
            throw new ConfigException(name + " is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException(name + " must be an http:// or https:// URL, got '" + redactUserInfo(value) + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ConfigException(name + " has no host: '" + redactUserInfo(value) + "'");
        }
        if (uri.getRawUserInfo() != null) {
            throw new ConfigException(name + " must not contain credentials (user:password@)");
        }
        return uri;
    }

    private static String redactUserInfo(String url) {
        return url.replaceAll("//[^/@]*@", "//***@");
    }

    static String newLocalToken() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return "iron_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Typed access to the raw settings with messages that name the setting. A nested object's settings
     * ({@link #nested}) are named {@code outer['inner']} in messages.
     */
    record Settings(JsonNode root, String prefix, Set<String> allowed) {
        Settings(JsonNode root) {
            this(root, "", null);
        }

        /** The settings inside the object {@code name}, each checked against {@code keys}; null when absent. */
        Settings nested(String name, Set<String> keys) {
            JsonNode n = node(name);
            if (n == null) {
                return null;
            }
            if (!n.isObject()) {
                throw new ConfigException(label(name) + " must be a mapping of " + String.join(", ", new java.util.TreeSet<>(keys)));
            }
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!keys.contains(k)) {
                    throw new ConfigException(label(name) + " has an unknown setting '" + k + "' (known: "
                            + String.join(", ", new java.util.TreeSet<>(keys)) + ")");
                }
            }
            return new Settings(n, label(name), keys);
        }

        /** How a setting is named in messages. */
        String label(String name) {
            return prefix.isEmpty() ? name : prefix + "['" + name + "']";
        }

        JsonNode node(String name) {
            JsonNode n = root.get(name);
            return n == null || n.isNull() ? null : n;
        }

        String text(String name, String fallback) {
            JsonNode n = node(name);
            if (n == null) {
                return fallback;
            }
            if (!n.isTextual()) {
                throw new ConfigException(label(name) + " must be a string");
            }
            return n.asText();
        }

        boolean bool(String name, boolean fallback) {
            JsonNode n = node(name);
            if (n == null) {
                return fallback;
            }
            if (!n.isBoolean()) {
                throw new ConfigException(label(name) + " must be true or false");
            }
            return n.booleanValue();
        }

        long integer(String name, long fallback, long min, long max) {
            JsonNode n = node(name);
            if (n == null) {
                return fallback;
            }
            if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                throw new ConfigException(label(name) + " must be a whole number");
            }
            long v = n.asLong();
            if (v < min || v > max) {
                throw new ConfigException(label(name) + " must be between " + min + " and " + max + ", got " + v);
            }
            return v;
        }

        double number(String name, double fallback, double min, double max) {
            JsonNode n = node(name);
            if (n == null) {
                return fallback;
            }
            if (!n.isNumber() || n.isBoolean()) {
                throw new ConfigException(label(name) + " must be a number");
            }
            double v = n.asDouble();
            if (!(v >= min && v <= max)) {
                throw new ConfigException(label(name) + " must be between " + min + " and " + max + ", got " + v);
            }
            return v;
        }

        Duration seconds(String name, double fallback) {
            return seconds(name, fallback, false);
        }

        /** A positive duration (or zero when {@code zeroAllowed}) of at most a week. */
        Duration seconds(String name, double fallback, boolean zeroAllowed) {
            JsonNode n = node(name);
            double v = fallback;
            if (n != null) {
                if (!n.isNumber()) {
                    throw new ConfigException(label(name) + " must be a number of seconds");
                }
                v = n.asDouble();
            }
            if (!(v > 0 || (zeroAllowed && v == 0)) || v > 86_400 * 7) {
                throw new ConfigException(label(name) + " must be a " + (zeroAllowed ? "non-negative" : "positive")
                        + " number of seconds (at most a week), got " + v);
            }
            return Duration.ofNanos((long) (v * 1e9));
        }

        String env(String name) {
            JsonNode env = root.get("env");
            if (env == null || !env.isObject()) {
                return null;
            }
            JsonNode v = env.get(name);
            return v == null || !v.isTextual() || v.asText().isBlank() ? null : v.asText();
        }
    }
}
