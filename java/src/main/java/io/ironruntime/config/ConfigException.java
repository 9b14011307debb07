package io.ironruntime.config;

/**
 * A configuration value is missing, malformed or contradicts another one.
 * The message is written for the user (it names the setting and what to do) and never contains a secret.
 */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
