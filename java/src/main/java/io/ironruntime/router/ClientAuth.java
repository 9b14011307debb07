package io.ironruntime.router;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Checks the local token a client presents in {@code Authorization: Bearer} or {@code x-api-key}. Pure. */
public final class ClientAuth {
    private final byte[] token;

    public ClientAuth(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    public boolean accepts(String authorization, String apiKey) {
        String bearer = bearer(authorization);
        boolean ok = bearer != null && matches(bearer);
        // Evaluate both so the time taken does not say which header was tried.
        boolean okKey = apiKey != null && matches(apiKey.strip());
        return ok | okKey;
    }

    /** The token in an {@code Authorization: Bearer} header, or null. */
    static String bearer(String authorization) {
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return authorization.substring(7).strip();
        }
        return null;
    }

    private boolean matches(String presented) {
        return MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }
}
