package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.provider.Provider;
import org.junit.jupiter.api.Test;

class RouteResolverTest {
    @Test
    void pathsPickProviderAndKeepQuery() {
        Route chat = RouteResolver.resolve("/v1/chat/completions");
        assertEquals(Route.Kind.PROXY, chat.kind());
        assertEquals(Provider.OPENAI, chat.provider());
        assertFalse(chat.explicit());
        assertEquals(Provider.ANTHROPIC, RouteResolver.resolve("/v1/messages").provider());
        assertEquals(Provider.ANTHROPIC, RouteResolver.resolve("/v1/messages/count_tokens").provider());
        assertEquals(Provider.OPENAI, RouteResolver.resolve("/v1/messagesX").provider());
        assertEquals("/v1/models?limit=2", RouteResolver.resolve("/v1/models?limit=2").upstreamPath());
        assertEquals(Provider.OPENAI, RouteResolver.resolve("/v1/files/abc/content").provider());
    }

    @Test
    void providerSegmentIsExactAndStripped() {
        Route a = RouteResolver.resolve("/anthropic/v1/messages?beta=true");
        assertEquals(Provider.ANTHROPIC, a.provider());
        assertTrue(a.explicit());
        assertEquals("/v1/messages?beta=true", a.upstreamPath());
        Route o = RouteResolver.resolve("/openai/v1/messages");
        assertEquals(Provider.OPENAI, o.provider());
        assertEquals(Route.Kind.NOT_FOUND, RouteResolver.resolve("/anthropicX/v1/messages").kind());
        assertEquals(Route.Kind.NOT_FOUND, RouteResolver.resolve("/openai").kind());
        assertEquals(Route.Kind.NOT_FOUND, RouteResolver.resolve("/openai/iron/health").kind());
    }

    @Test
    void healthAndUnknownPaths() {
        assertEquals(Route.Kind.HEALTH, RouteResolver.resolve("/").kind());
        assertEquals(Route.Kind.HEALTH, RouteResolver.resolve("/iron/health").kind());
        assertEquals(Route.Kind.NOT_FOUND, RouteResolver.resolve("/admin").kind());
        assertEquals(Route.Kind.NOT_FOUND, RouteResolver.resolve("/v2/chat").kind());
        assertEquals(Route.Kind.NOT_FOUND, RouteResolver.resolve("/v1x").kind());
    }

    @Test
    void modelMovesOnlyUnprefixedRequests() {
        Route chat = RouteResolver.resolve("/v1/chat/completions");
        assertEquals(Provider.ANTHROPIC, chat.withModelProvider(Provider.ANTHROPIC).provider());
        assertEquals(Provider.OPENAI, chat.withModelProvider(null).provider());
        Route pinned = RouteResolver.resolve("/openai/v1/chat/completions");
        assertEquals(Provider.OPENAI, pinned.withModelProvider(Provider.ANTHROPIC).provider());
        Route messages = RouteResolver.resolve("/v1/messages");
        assertEquals(Provider.ANTHROPIC, messages.withModelProvider(Provider.OPENAI).provider());
    }
}
