package io.ironruntime.state;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Which control server and token the rows belong to: a router adopts only what it can send with its own
 * token. The token is kept as a SHA-256 digest, never as text.
 */
public record ControlScope(String server, String tokenDigest) {

    public static ControlScope of(String server, String icToken) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(icToken.getBytes(StandardCharsets.UTF_8));
            return new ControlScope(server, HexFormat.of().formatHex(d));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** One column's worth: the server and the digest. */
    public String key() {
        return server + " " + tokenDigest;
    }

    @Override
    public String toString() {
        return server;
    }
}
