package io.ironruntime.config;

/** Where the real provider keys come from. */
public enum KeyMode {
    /** The router holds the provider key(s) itself; clients present a local token. */
    DIRECT("direct"),
    /** The provider key is fetched from an Iron Cage control server with an IC token. */
    CONTROL_SERVER("control_server"),
    /** No key at all: the client's own Authorization / x-api-key is forwarded unchanged. */
    PASSTHROUGH("passthrough");

    private final String wireName;

    KeyMode(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
