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
}
