package io.ironruntime.router;

import java.util.Locale;
import java.util.Set;

/** Which headers cross the proxy in each direction. Pure. */
final class HeaderPolicy {
    /** RFC 9110 hop-by-hop headers plus the ones HttpCore computes itself from the entity. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "content-length", "host", "expect", "http2-settings");

    private HeaderPolicy() {
    }

    /**
     * Request headers that are not passed upstream. Credentials are replaced by the router's own key
     * (unless the client's key is passed through); Accept-Encoding is dropped so the router reads
     * plain bodies (compression buys nothing on loopback and would blind the usage and PII readers).
     * The trace context is set by {@link RequestTrace}: the client's when valid, else a new one.
     */
    static boolean dropFromRequest(String name, boolean passthroughCredentials) {
        String n = name.toLowerCase(Locale.ROOT);
        if (HOP_BY_HOP.contains(n) || n.equals("accept-encoding") || n.equals(RequestTrace.TRACEPARENT)
                || n.equals(RequestTrace.TRACESTATE)) {
            return true;
        }
        return !passthroughCredentials && (n.equals("authorization") || n.equals("x-api-key"));
    }

    /**
     * True for a header that belongs to the other provider's API ({@code anthropic-version},
     * {@code anthropic-beta}, {@code openai-organization}, ...): a translated request leaves it behind.
     */
    static boolean otherProvider(String name, io.ironruntime.provider.Provider upstream) {
        String n = name.toLowerCase(Locale.ROOT);
        return upstream == io.ironruntime.provider.Provider.OPENAI ? n.startsWith("anthropic-") : n.startsWith("openai-");
    }

    /** Response headers that are not passed back; the router frames the body itself. */
    static boolean dropFromResponse(String name) {
        return HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT));
    }
}
