package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GuardsTest {
    @Test
    void hostGuardAcceptsOnlyOwnLoopbackNamesAndPort() {
        HostGuard g = new HostGuard("127.0.0.1", () -> 8000);
        assertTrue(g.allows("127.0.0.1:8000"));
        assertTrue(g.allows("localhost:8000"));
        assertTrue(g.allows("LOCALHOST"));
        assertTrue(g.allows("[::1]:8000"));
        assertTrue(g.allows(null));
        assertFalse(g.allows("127.0.0.1:8001"));
        assertFalse(g.allows("evil.example.com"));
        assertFalse(g.allows("evil.example.com:8000"));
        assertFalse(g.allows("127.0.0.1.evil.com:8000"));
        assertFalse(g.allows("[::2]:8000"));
    }

    @Test
    void wildcardBindAcceptsAnyHostAndNamedBindAcceptsItsName() {
        assertTrue(new HostGuard("0.0.0.0", () -> 80).allows("my-laptop.lan:80"));
        HostGuard named = new HostGuard("10.1.2.3", () -> 80);
        assertTrue(named.allows("10.1.2.3:80"));
        assertFalse(named.allows("10.1.2.4:80"));
    }

    @Test
    void originsMustBeOurPagesOnThisPort() {
        HostGuard g = new HostGuard("127.0.0.1", () -> 8000);
        assertTrue(g.allowsOrigin("http://127.0.0.1:8000"));
        assertTrue(g.allowsOrigin("http://localhost:8000"));
        assertTrue(g.allowsOrigin("http://[::1]:8000"));
        assertFalse(g.allowsOrigin("http://127.0.0.1:8001"), "another local server's page");
        assertFalse(g.allowsOrigin("http://127.0.0.1"), "port 80");
        assertTrue(new HostGuard("127.0.0.1", () -> 80).allowsOrigin("http://localhost"));
        assertFalse(new HostGuard("127.0.0.1", () -> 443).allowsOrigin("http://localhost"));
        assertTrue(new HostGuard("127.0.0.1", () -> 443).allowsOrigin("https://localhost"));
        assertFalse(g.allowsOrigin("http://evil.example:8000"));
        assertFalse(g.allowsOrigin("null"), "sandboxed and file pages");
        assertFalse(g.allowsOrigin(null));
        assertFalse(g.allowsOrigin("chrome-extension://abc"));
        assertFalse(g.allowsOrigin("http://user@127.0.0.1:8000"));
        assertFalse(g.allowsOrigin("http://127.0.0.1:8000/path"));
    }

    @Test
    void clientAuthTakesBearerOrApiKey() {
        ClientAuth auth = new ClientAuth("iron_secret_token_123");
        assertTrue(auth.accepts("Bearer iron_secret_token_123", null));
        assertTrue(auth.accepts("bearer iron_secret_token_123", null));
        assertTrue(auth.accepts(null, "iron_secret_token_123"));
        assertTrue(auth.accepts("Bearer wrong", "iron_secret_token_123"));
        assertFalse(auth.accepts("Bearer iron_secret_token_12", null));
        assertFalse(auth.accepts("iron_secret_token_123", null));
        assertFalse(auth.accepts(null, null));
        assertFalse(auth.accepts("Basic aXJvbg==", "nope"));
    }
}
