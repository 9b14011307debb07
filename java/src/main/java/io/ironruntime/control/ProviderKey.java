package io.ironruntime.control;

import io.ironruntime.provider.Provider;
import java.net.URI;

/**
 * A provider key the Iron Cage server handed out.
 *
 * @param origin the upstream the server named ({@code base_url}, without its {@code /v1}), or null for the default
 */
public record ProviderKey(String key, Provider provider, URI origin) {
    /** Never the key. */
    @Override
    public String toString() {
        return "ProviderKey[" + provider.wireName() + (origin == null ? "" : " at " + origin) + "]";
    }
}
