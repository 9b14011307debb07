package io.ironruntime.router;

import io.ironruntime.provider.Provider;

/** Maps a request path to a {@link Route}. Pure. */
public final class RouteResolver {
    private RouteResolver() {
    }

    public static Route resolve(String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? "" : pathAndQuery.substring(q);

        Provider explicit = null;
        if (isSegmentPrefix(path, "/openai")) {
            explicit = Provider.OPENAI;
            path = path.substring("/openai".length());
        } else if (isSegmentPrefix(path, "/anthropic")) {
            explicit = Provider.ANTHROPIC;
            path = path.substring("/anthropic".length());
        }

        if (explicit == null && (path.equals("/") || path.isEmpty() || path.equals("/iron/health"))) {
            return new Route(Route.Kind.HEALTH, Provider.OPENAI, false, path);
        }
        boolean v1 = path.equals("/v1") || path.startsWith("/v1/");
        Provider byPath = isSegmentPrefix(path, "/v1/messages") ? Provider.ANTHROPIC : Provider.OPENAI;
        Provider provider = explicit != null ? explicit : byPath;
        if (!v1) {
            return new Route(Route.Kind.NOT_FOUND, provider, explicit != null, path + query);
        }
        return new Route(Route.Kind.PROXY, provider, explicit != null, path + query);
    }

    /** The path of a request target, without its query. */
    public static String pathOf(String pathAndQuery) {
        int q = pathAndQuery == null ? -1 : pathAndQuery.indexOf('?');
        return q < 0 ? String.valueOf(pathAndQuery) : pathAndQuery.substring(0, q);
    }

    /** True when {@code path} is {@code prefix} or starts with {@code prefix + "/"}: whole segments only. */
    static boolean isSegmentPrefix(String path, String prefix) {
        return path.startsWith(prefix) && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/');
    }
}
