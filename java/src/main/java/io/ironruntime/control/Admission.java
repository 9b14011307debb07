package io.ironruntime.control;

import io.ironruntime.provider.ErrorReply;
import java.util.concurrent.CompletableFuture;

/**
 * The control side's word on a request: go on (with the provider key, when that was the question),
 * wait for {@code pending} and ask again, or answer {@code refusal}.
 */
public record Admission(ProviderKey key, CompletableFuture<Void> pending, ErrorReply refusal) {
    static final Admission PASS = new Admission(null, null, null);

    static Admission waitFor(CompletableFuture<Void> f) {
        return new Admission(null, f, null);
    }

    static Admission refuse(ErrorReply r) {
        return new Admission(null, null, r);
    }
}
