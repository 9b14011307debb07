package io.ironruntime.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.provider.Provider;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Reads and validates control-server mode's settings into a {@link ControlConfig}. */
final class ControlSettings {
    /** Settings that only mean something with a control server. */
    private static final List<String> CONTROL_ONLY = List.of("strict", "lease_budget", "lease_refresh_threshold",
            "analytics_interval");
    static final int DEFAULT_KEY_TTL_SECONDS = 300;
    /** A day: a key kept longer would outlive most rotations. */
    static final int MAX_KEY_TTL_SECONDS = 86_400;

    private ControlSettings() {
    }

    /** The control settings, or null outside control-server mode (where giving any of them is an error). */
    static ControlConfig read(RouterConfigReader.Settings s, boolean controlMode, String icToken, URI serverUrl) {
        if (!controlMode) {
            for (String name : CONTROL_ONLY) {
                if (s.node(name) != null) {
                    throw new ConfigException(name + " applies to control-server mode only: pass api_key=<Iron Cage token>"
                            + " with server_url=..., or leave " + name + " out");
                }
            }
            return null;
        }
        int ttl = (int) s.integer("cache_ttl_seconds", DEFAULT_KEY_TTL_SECONDS, 1, MAX_KEY_TTL_SECONDS);
        boolean strict = s.bool("strict", false);
        long lease = leaseMicros(s.node("lease_budget"));
        double threshold = s.number("lease_refresh_threshold", ControlConfig.DEFAULT_REFRESH_BELOW_PPM / 1e6, 0, 0.9);
        Duration analytics = s.seconds("analytics_interval", ControlConfig.DEFAULT_ANALYTICS_INTERVAL.toMillis() / 1000.0);
        if (analytics.toMillis() < 100) {
            throw new ConfigException("analytics_interval must be at least 0.1 seconds");
        }
        Set<Provider> explicit = EnumSet.noneOf(Provider.class);
        if (s.node("openai_base_url") != null) {
            explicit.add(Provider.OPENAI);
        }
        if (s.node("anthropic_base_url") != null) {
            explicit.add(Provider.ANTHROPIC);
        }
        return new ControlConfig(serverUrl, icToken, Duration.ofSeconds(ttl), strict, lease,
                (int) Math.round(threshold * 1_000_000), analytics, explicit);
    }

    /** USD to whole micro-dollars (rounded down), between one micro-dollar and the server's maximum lease. */
    private static long leaseMicros(JsonNode n) {
        if (n == null) {
            return ControlConfig.DEFAULT_LEASE_MICROS;
        }
        BigDecimal usd = BudgetSettings.decimal(n, "lease_budget");
        long micros = usd.movePointRight(6).setScale(0, RoundingMode.FLOOR).max(BigDecimal.ZERO)
                .min(BigDecimal.valueOf(Long.MAX_VALUE)).longValue();
        if (micros < 1 || micros > ControlConfig.MAX_LEASE_MICROS) {
            throw new ConfigException("lease_budget must be between 0.000001 and "
                    + ControlConfig.MAX_LEASE_MICROS / 1_000_000 + " USD (the most an Iron Cage server grants at once), got "
                    + usd.toPlainString());
        }
        return micros;
    }
}
