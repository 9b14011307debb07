package io.ironruntime.router;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/** Unique, cheap request ids: a random per-router prefix and a counter ({@code req_3f9a1c2e_0000000000000001}). */
final class RequestIds {
    private final String prefix;
    private final AtomicLong counter = new AtomicLong();

    RequestIds() {
        this.prefix = "req_" + String.format("%08x", new SecureRandom().nextInt()) + "_";
    }

    String next() {
        String n = Long.toHexString(counter.incrementAndGet());
        return prefix + "0".repeat(16 - n.length()) + n;
    }
}
