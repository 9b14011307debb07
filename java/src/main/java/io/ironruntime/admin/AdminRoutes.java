package io.ironruntime.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The router's own endpoints by method and path pattern ({@code /iron/api/agents/{id}/pause}).
 * Every route needs the admin token unless registered as public (the dashboard's static page, which
 * holds no data). Thread-safe: routes may be added while serving (a runtime attaching its controls).
 */
public final class AdminRoutes {
    private final CopyOnWriteArrayList<Entry> entries = new CopyOnWriteArrayList<>();

    private record Entry(String method, String pattern, String[] segments, boolean isPublic, AdminHandler handler) {
    }

    /** A registered route as written: {@code GET /iron/api/agents/{agent_id}}. */
    public record Route(String method, String pattern, boolean isPublic) {
    }

    /** What a request resolves to: a handler, or why there is none. */
    public record Match(AdminHandler handler, boolean isPublic, Map<String, String> pathParams, int status,
            String allowed) {
        public boolean found() {
            return handler != null;
        }
    }

    public void add(String method, String pattern, AdminHandler handler) {
        register(method, pattern, false, handler);
    }

    /** A route anyone on this machine may read: never one that returns data or changes anything. */
    public void addPublic(String method, String pattern, AdminHandler handler) {
        register(method, pattern, true, handler);
    }

    private void register(String method, String pattern, boolean isPublic, AdminHandler handler) {
        if (!pattern.startsWith("/")) {
            throw new IllegalArgumentException("a route pattern starts with '/': " + pattern);
        }
        entries.add(new Entry(method, pattern, split(pattern), isPublic, handler));
    }

    /** Every route so far, in the order added (for checks that must cover each one, like the token's). */
    public List<Route> routes() {
        List<Route> out = new ArrayList<>();
        for (Entry e : entries) {
            out.add(new Route(e.method, e.pattern, e.isPublic));
        }
        return out;
    }

    /** True when some route has this path, whatever its method: such paths are answered here, not proxied. */
    public boolean serves(String path) {
        String[] parts = split(path);
        for (Entry e : entries) {
            if (bind(e.segments, parts) != null) {
                return true;
            }
        }
        return false;
    }

    public Match find(String method, String path) {
        String[] parts = split(path);
        TreeSet<String> methods = new TreeSet<>();
        for (Entry e : entries) {
            Map<String, String> params = bind(e.segments, parts);
            if (params == null) {
                continue;
            }
            if (e.method.equals(method) || (method.equals("HEAD") && e.method.equals("GET"))) {
                return new Match(e.handler, e.isPublic, params, 200, null);
            }
            methods.add(e.method);
        }
        if (methods.isEmpty()) {
            return new Match(null, false, Map.of(), 404, null);
        }
        return new Match(null, false, Map.of(), 405, String.join(", ", methods));
    }

    /** The path's parameters when it fits the pattern, else null. */
    private static Map<String, String> bind(String[] pattern, String[] parts) {
        if (pattern.length != parts.length) {
            return null;
        }
        Map<String, String> params = null;
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.startsWith("{") && p.endsWith("}")) {
                if (parts[i].isEmpty()) {
                    return null;
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put(p.substring(1, p.length() - 1), parts[i]);
            } else if (!p.equals(parts[i])) {
                return null;
            }
        }
        return params == null ? Map.of() : params;
    }

    /** Segments of a path; a trailing slash is ignored, so {@code /iron/api/status/} is the same route. */
    private static String[] split(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out.toArray(new String[0]);
    }
}
