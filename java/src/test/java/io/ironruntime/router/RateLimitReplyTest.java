package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import io.ironruntime.provider.ProviderErrors;
import io.ironruntime.resilience.RateLimiter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitReplyTest {
    private static final RateLimiter.Decision REFUSED = new RateLimiter.Decision(false, 0, RateLimiter.Limit.TOKENS,
            1_500_000_000L, new RateLimiter.LimitState(500, 499, 120_000_000L),
            new RateLimiter.LimitState(200_000, 1_234, 360_000_000_000L));

    @Test
    void openAiHeadersUseOpenAisNamesAndDurations() {
        ErrorReply r = RateLimitReply.of(Provider.OPENAI, REFUSED, 5_000, 0);
        assertEquals(429, r.status());
        Map<String, String> h = r.headers();
        assertEquals("2", h.get("retry-after"));
        assertEquals("1500", h.get("retry-after-ms"));
        assertEquals("500", h.get("x-ratelimit-limit-requests"));
        assertEquals("499", h.get("x-ratelimit-remaining-requests"));
        assertEquals("120ms", h.get("x-ratelimit-reset-requests"));
        assertEquals("200000", h.get("x-ratelimit-limit-tokens"));
        assertEquals("1234", h.get("x-ratelimit-remaining-tokens"));
        assertEquals("6m0s", h.get("x-ratelimit-reset-tokens"));
        String body = new String(ProviderErrors.body(Provider.OPENAI, r), StandardCharsets.UTF_8);
        assertTrue(body.contains("\"type\":\"iron_cage_rate_limited\"") && body.contains("\"code\":\"rate_limit_exceeded\""), body);
        assertTrue(r.message().contains("tokens per minute (TPM): limit 200000, remaining 1234, requested 5000"), r.message());
    }

    @Test
    void anthropicHeadersUseAnthropicsNamesAndTimes() {
        long now = java.time.Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        Map<String, String> h = RateLimitReply.of(Provider.ANTHROPIC, REFUSED, 5_000, now).headers();
        assertEquals("500", h.get("anthropic-ratelimit-requests-limit"));
        assertEquals("499", h.get("anthropic-ratelimit-requests-remaining"));
        assertEquals("2026-11-21T10:00:01Z", h.get("anthropic-ratelimit-requests-reset"));
        assertEquals("2026-11-21T10:06:00Z", h.get("anthropic-ratelimit-tokens-reset"));
        assertFalse(h.containsKey("x-ratelimit-limit-requests"));
    }

    @Test
    void durationsLookLikeOpenAis() {
        assertEquals("0ms", RateLimitReply.duration(0));
        assertEquals("20ms", RateLimitReply.duration(19_500_000));
        assertEquals("1s", RateLimitReply.duration(1_000_000_000L));
        assertEquals("1.5s", RateLimitReply.duration(1_500_000_000L));
        assertEquals("1m0.25s", RateLimitReply.duration(60_250_000_000L));
        assertEquals("1h2m3s", RateLimitReply.duration(3_723_000_000_000L));
    }

    @Test
    void retryAfterIsWholeSecondsAtLeastOne() {
        assertEquals(Map.of("retry-after", "1", "retry-after-ms", "1"), RateLimitReply.retryAfter(1));
        assertEquals("3", RateLimitReply.retryAfter(2_000_000_001L).get("retry-after"));
    }
}
