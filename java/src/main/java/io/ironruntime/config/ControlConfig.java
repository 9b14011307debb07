package io.ironruntime.config;

import io.ironruntime.provider.Provider;
import java.net.URI;
import java.time.Duration;
import java.util.Set;

/**
 * Control-server mode: where the provider key and the budget come from.
 *
 * @param serverUrl          the Iron Cage server, e.g. {@code https://ic.example.com}
 * @param icToken            the Iron Cage token (a JWT the router treats as opaque); never printed
 * @param keyTtl             how long a fetched provider key is used before it is fetched again
 * @param strict             a router that cannot get its key and lease at start fails to start; otherwise it
 *                           starts, reports the problem and keeps trying
 * @param leaseMicros        the lease size asked for at the handshake and at each refresh, micro-dollars
 * @param refreshBelowPpm    refresh when the unreserved part of the lease falls below this share of it
 * @param analyticsInterval  how often finished requests are posted to the server's analytics
 * @param explicitOrigins    providers whose upstream origin the user set: a server's base_url does not replace those
 */
public record ControlConfig(URI serverUrl, String icToken, Duration keyTtl, boolean strict, long leaseMicros,
        int refreshBelowPpm, Duration analyticsInterval, Set<Provider> explicitOrigins) {

    /** The server's own default lease ($10). */
    public static final long DEFAULT_LEASE_MICROS = 10_000_000;
    /** The most the server grants in one lease ($100). */
    public static final long MAX_LEASE_MICROS = 100_000_000;
    public static final int DEFAULT_REFRESH_BELOW_PPM = 200_000;
    public static final Duration DEFAULT_ANALYTICS_INTERVAL = Duration.ofSeconds(5);

    public ControlConfig {
        explicitOrigins = Set.copyOf(explicitOrigins);
    }

    /** Safe to log. */
    @Override
    public String toString() {
        return "control[server=" + serverUrl + ", keyTtl=" + keyTtl.toSeconds() + "s, strict=" + strict
                + ", leaseMicros=" + leaseMicros + ", refreshBelowPpm=" + refreshBelowPpm + ", analyticsInterval="
                + analyticsInterval.toMillis() + "ms]";
    }
}
