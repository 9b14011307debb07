package io.ironruntime.admin;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A request to one of the router's own endpoints, read whole (admin bodies are small).
 *
 * @param method     upper case
 * @param path       without the query
 * @param query      decoded query parameters (the first value of a repeated name wins)
 * @param headers    header names in lower case
 * @param pathParams the {@code {name}} segments of the matched route
 * @param requestId  the router's id of this request ({@code x-iron-request-id})
 */
public record AdminRequest(String method, String path, Map<String, String> query, Map<String, String> headers,
        byte[] body, Map<String, String> pathParams, String requestId) {

    public AdminRequest {
        query = Map.copyOf(query);
        headers = Map.copyOf(headers);
        pathParams = Map.copyOf(pathParams);
        body = body == null ? new byte[0] : body;
    }

    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String param(String name) {
        return query.get(name);
    }

    public String pathParam(String name) {
        return pathParams.get(name);
    }

    AdminRequest withPathParams(Map<String, String> params) {
        return new AdminRequest(method, path, query, headers, body, params, requestId);
    }

    /** Splits {@code /a/b?x=1&y=%20} into the path and its decoded parameters. */
    public static Map.Entry<String, Map<String, String>> splitQuery(String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        Map<String, String> params = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : pathAndQuery.substring(q + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String k = decode(eq < 0 ? pair : pair.substring(0, eq));
                String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
                params.putIfAbsent(k, v);
            }
        }
        return Map.entry(path, params);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // a broken escape stays as written; the handler's validation names the parameter
        }
    }
}
