package io.ironruntime.router;

import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import io.ironruntime.resilience.RateLimiter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The 429 for a request over the router's {@code rate_limits}, with the headers the provider itself
 * sends, so the SDKs' own backoff reads them unchanged: {@code retry-after} (whole seconds) and
 * {@code retry-after-ms}, then OpenAI's {@code x-ratelimit-*} (resets as durations like {@code 1.5s} or
 * {@code 6m0s}) or Anthropic's {@code anthropic-ratelimit-*} (resets as RFC 3339 times).
 */
final class RateLimitReply {
    private RateLimitReply() {
    }

    static ErrorReply of(Provider provider, RateLimiter.Decision d, long requestedTokens, long nowEpochMillis) {
        RateLimiter.LimitState refused = d.refusedBy() == RateLimiter.Limit.REQUESTS ? d.requests() : d.tokensState();
        String what = d.refusedBy() == RateLimiter.Limit.REQUESTS ? "requests per minute (RPM)" : "tokens per minute (TPM)";
        String message = "Rate limit reached on " + what + ": limit " + refused.limit() + ", remaining " + refused.remaining()
                + (d.refusedBy() == RateLimiter.Limit.TOKENS ? ", requested " + Math.min(requestedTokens, refused.limit()) : "")
                + ". Please try again in " + duration(d.waitNanos()) + ". (This limit is the router's own rate_limits setting.)";
        return ErrorReply.rateLimited("rate_limit_exceeded", message).withHeaders(headers(provider, d, nowEpochMillis));
    }

    static Map<String, String> headers(Provider provider, RateLimiter.Decision d, long nowEpochMillis) {
        Map<String, String> h = retryAfter(d.waitNanos());
        if (provider == Provider.ANTHROPIC) {
            anthropic(h, "requests", d.requests(), nowEpochMillis);
            anthropic(h, "tokens", d.tokensState(), nowEpochMillis);
        } else {
            openai(h, "requests", d.requests());
            openai(h, "tokens", d.tokensState());
        }
        return h;
    }

    /** {@code retry-after} in whole seconds (at least 1, as the header allows no fraction) and exact {@code retry-after-ms}. */
    static Map<String, String> retryAfter(long waitNanos) {
        Map<String, String> h = new LinkedHashMap<>();
        long ms = Math.max(1, (waitNanos + 999_999) / 1_000_000);
        h.put("retry-after", Long.toString(Math.max(1, (ms + 999) / 1000)));
        h.put("retry-after-ms", Long.toString(ms));
        return h;
    }

    private static void openai(Map<String, String> h, String kind, RateLimiter.LimitState s) {
        if (s != null) {
            h.put("x-ratelimit-limit-" + kind, Long.toString(s.limit()));
            h.put("x-ratelimit-remaining-" + kind, Long.toString(s.remaining()));
            h.put("x-ratelimit-reset-" + kind, duration(s.resetNanos()));
        }
    }

    private static void anthropic(Map<String, String> h, String kind, RateLimiter.LimitState s, long nowEpochMillis) {
        if (s != null) {
            h.put("anthropic-ratelimit-" + kind + "-limit", Long.toString(s.limit()));
            h.put("anthropic-ratelimit-" + kind + "-remaining", Long.toString(s.remaining()));
            Instant reset = Instant.ofEpochMilli(nowEpochMillis + (s.resetNanos() + 999_999_999) / 1_000_000_000 * 1000);
            h.put("anthropic-ratelimit-" + kind + "-reset", reset.truncatedTo(ChronoUnit.SECONDS).toString());
        }
    }

    /** OpenAI's reset format: {@code 20ms}, {@code 1.5s}, {@code 6m0s}, {@code 1h2m3s}. */
    static String duration(long nanos) {
        long ms = Math.max(0, (nanos + 999_999) / 1_000_000);
        if (ms < 1000) {
            return ms + "ms";
        }
        long h = ms / 3_600_000;
        long m = ms / 60_000 % 60;
        long sMillis = ms % 60_000;
        String s = sMillis % 1000 == 0 ? Long.toString(sMillis / 1000)
                : java.math.BigDecimal.valueOf(sMillis, 3).stripTrailingZeros().toPlainString();
        if (h > 0) {
            return h + "h" + m + "m" + s + "s";
        }
        return m > 0 ? m + "m" + s + "s" : s + "s";
    }
}
