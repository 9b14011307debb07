package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The page in the jar: self-contained, and allowed to run by its own policy and nothing else. */
class DashboardPageTest {
    private final DashboardPage page = DashboardPage.get();

    @Test
    void thePageNamesNoOutsideAddress() {
        String html = page.html();
        assertFalse(Pattern.compile("(?i)\\b(?:https?|wss?|ftp):").matcher(html).find(), "an absolute URL in the page");
        assertFalse(html.contains("url("), "CSS that loads something");
        assertFalse(html.contains("@import"));
        Matcher attrs = Pattern.compile("(?i)\\b(src|href|action)\\s*=\\s*\"([^\"]*)\"").matcher(html);
        while (attrs.find()) {
            assertTrue(attrs.group(2).startsWith("data:"), "the page loads " + attrs.group(0));
        }
        Matcher fetches = Pattern.compile("fetch\\(([^,)]*)").matcher(html);
        int n = 0;
        while (fetches.find()) {
            n++;
            assertTrue(fetches.group(1).startsWith("path") || fetches.group(1).startsWith("'/iron/"),
                    "fetch of " + fetches.group(1));
        }
        assertEquals(2, n, "the API helper and the feed");
    }

    @Test
    void thePolicyAllowsExactlyThePagesScriptAndStyle() throws Exception {
        String html = page.html();
        String csp = page.contentSecurityPolicy();
        assertTrue(csp.startsWith("default-src 'none';"), csp);
        assertTrue(csp.contains("connect-src 'self'"), csp);
        assertFalse(csp.contains("unsafe"), csp);
        String script = html.substring(html.indexOf("<script>") + 8, html.indexOf("</script>"));
        String style = html.substring(html.indexOf("<style>") + 7, html.indexOf("</style>"));
        assertTrue(csp.contains("script-src 'sha256-" + sha256(script) + "'"), csp);
        assertTrue(csp.contains("style-src 'sha256-" + sha256(style) + "'"), csp);
        // What the hashes cannot cover must not be there: inline handlers and style attributes.
        assertFalse(Pattern.compile("(?i)\\son[a-z]+\\s*=").matcher(html).find(), "an inline event handler");
        assertFalse(Pattern.compile("(?i)<[^>]*\\sstyle\\s*=").matcher(html).find(), "a style attribute");
        assertFalse(html.contains("innerHTML"), "markup built from strings");
    }

    @Test
    void aPageWithTwoScriptsCannotBeHashedByMistake() {
        assertThrows(IllegalStateException.class,
                () -> new DashboardPage("<style></style><script>a()</script><script>b()</script>"));
        assertThrows(IllegalStateException.class, () -> new DashboardPage("<style></style>"));
    }

    @Test
    void theReplyCarriesThePolicy() {
        var reply = page.reply();
        assertEquals(200, reply.status());
        assertEquals("text/html; charset=utf-8", reply.contentType());
        assertEquals(page.contentSecurityPolicy(), reply.headers().get("Content-Security-Policy"));
        assertEquals("DENY", reply.headers().get("X-Frame-Options"));
        assertEquals("no-referrer", reply.headers().get("Referrer-Policy"));
        assertEquals(page.html(), new String(reply.body(), StandardCharsets.UTF_8));
    }

    @Test
    void theTokenIsPercentEncodedInTheFragment() {
        assertEquals("http://127.0.0.1:9/iron/dashboard#token=iron_AZaz09-_", DashboardPage.url("http://127.0.0.1:9",
                "iron_AZaz09-_"));
        assertEquals("http://h:1/iron/dashboard#token=a%20b%26c%3Dd%23%C3%A9~.", DashboardPage.url("http://h:1",
                "a b&c=d#\u00e9~."));
    }

    private static String sha256(String s) throws Exception {
        return Base64.getEncoder().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
