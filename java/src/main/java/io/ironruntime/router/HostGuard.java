package io.ironruntime.router;

import java.util.Locale;
import java.util.HashSet;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * DNS-rebinding protection for a server on loopback: a browser tricked into calling us sends the
 * attacker's host name in {@code Host}, so only our own names are accepted. A router bound to a
 * wildcard address was exposed on purpose and accepts any host. Pure.
 */
public final class HostGuard {
    private static final Set<String> LOOPBACK_NAMES = Set.of("127.0.0.1", "localhost", "::1", "[::1]");
    private final Set<String> allowed;
    private final boolean anyHost;
    private final IntSupplier port;

    public HostGuard(String bindHost, IntSupplier port) {
        String h = bindHost.toLowerCase(Locale.ROOT);
        this.anyHost = h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]");
        HashSet<String> names = new HashSet<>(LOOPBACK_NAMES);
        names.add(h);
        names.add(h.startsWith("[") ? h : "[" + h + "]");
        this.allowed = Set.copyOf(names);
        this.port = port;
    }

    /** @param hostHeader the request's Host header, or null when it had none */
    public boolean allows(String hostHeader) {
        if (hostHeader == null || anyHost) {
            return true;
        }
        String value = hostHeader.strip().toLowerCase(Locale.ROOT);
        String name = value;
        int colon = value.lastIndexOf(':');
        boolean bracketed = value.startsWith("[");
        if (colon > 0 && (!bracketed || colon > value.indexOf(']'))) {
            name = value.substring(0, colon);
            String portText = value.substring(colon + 1);
            if (!portText.equals(Integer.toString(port.getAsInt()))) {
                return false;
            }
        }
        return allowed.contains(name);
    }

    /**
     * A browser's {@code Origin} ({@code http://127.0.0.1:8787}) names one of our hosts and this port:
     * a page served by us, not a page elsewhere reaching for a loopback socket. {@code null} (the
     * literal a sandboxed or file page sends) and anything unparsable are refused.
     */
    public boolean allowsOrigin(String origin) {
        int sep = origin == null ? -1 : origin.indexOf("://");
        if (sep < 0) {
            return false;
        }
        String scheme = origin.substring(0, sep).toLowerCase(Locale.ROOT);
        String authority = origin.substring(sep + 3);
        if (!Set.of("http", "https", "ws", "wss").contains(scheme) || authority.isEmpty() || authority.contains("/")
                || authority.contains("@")) {
            return false;
        }
        int colon = authority.lastIndexOf(':');
        boolean hasPort = colon > 0 && colon > authority.indexOf(']');
        // Without a port the page is on the scheme's default one, which must then be ours.
        return allows(hasPort ? authority
                : authority + ":" + (scheme.equals("https") || scheme.equals("wss") ? 443 : 80));
    }
}
