package io.ironruntime.telemetry;

import io.ironruntime.admin.AdminReply;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The dashboard: one self-contained HTML page in the jar ({@code dashboard.html}, inline CSS and
 * JavaScript, no external URL), served to anyone who can reach the router because it holds no data;
 * the data comes from the token-protected API. Its Content-Security-Policy allows the page's one
 * style element and one script element by their SHA-256 hashes and lets it talk only to its own
 * origin, so nothing injected into the page (a model name, an agent name) could run or phone out.
 */
public final class DashboardPage {
    public static final String PATH = "/iron/dashboard";
    static final String RESOURCE = "dashboard.html";

    private final byte[] html;
    private final String contentSecurityPolicy;

    DashboardPage(String html) {
        this.html = html.getBytes(StandardCharsets.UTF_8);
        this.contentSecurityPolicy = "default-src 'none'; script-src " + hashOf(html, "script") + "; style-src "
                + hashOf(html, "style") + "; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                + "form-action 'none'; frame-ancestors 'none'";
    }

    /** The page, read from the jar on first use (routers that nobody opens a dashboard for never read it). */
    public static DashboardPage get() {
        return Loaded.PAGE;
    }

    private static final class Loaded {
        static final DashboardPage PAGE = new DashboardPage(read());
    }

    private static String read() {
        try (InputStream in = DashboardPage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the jar has no " + RESOURCE + " next to " + DashboardPage.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + " from the jar", e);
        }
    }

    public String html() {
        return new String(html, StandardCharsets.UTF_8);
    }

    public String contentSecurityPolicy() {
        return contentSecurityPolicy;
    }

    /** The page with its security headers; the same bytes every time. */
    public AdminReply reply() {
        return AdminReply.bytes(200, "text/html; charset=utf-8", html)
                .withHeader("Content-Security-Policy", contentSecurityPolicy)
                .withHeader("X-Frame-Options", "DENY")
                .withHeader("Referrer-Policy", "no-referrer")
                .withHeader("Cross-Origin-Opener-Policy", "same-origin");
    }

    /**
     * The link that opens the dashboard of the router at {@code origin} ({@code http://127.0.0.1:8000})
     * already signed in: the token goes in the fragment, which browsers never send to a server (nor in
     * a Referer); the page moves it into the tab's sessionStorage and out of the address bar.
     */
    public static String url(String origin, String token) {
        return origin + PATH + "#token=" + percentEncode(token);
    }

    /** Every byte outside RFC 3986's unreserved set percent-encoded (a user's local_token may hold anything). */
    static String percentEncode(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /** The CSP source of the page's only {@code <tag>} element: its text's SHA-256, as browsers hash it. */
    static String hashOf(String html, String tag) {
        String open = "<" + tag + ">";
        String close = "</" + tag + ">";
        int start = html.indexOf(open);
        int end = start < 0 ? -1 : html.indexOf(close, start);
        if (start < 0 || end < 0 || html.indexOf(open, end) >= 0) {
            throw new IllegalStateException(RESOURCE + " must hold exactly one plain " + open + " element");
        }
        String body = html.substring(start + open.length(), end);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8));
            return "'sha256-" + Base64.getEncoder().encodeToString(digest) + "'";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
