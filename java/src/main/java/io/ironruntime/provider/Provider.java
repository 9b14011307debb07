package io.ironruntime.provider;

import java.util.Locale;

/** The LLM providers the router speaks to, with the facts that differ between them. */
public enum Provider {
    OPENAI("openai", "https://api.openai.com"),
    ANTHROPIC("anthropic", "https://api.anthropic.com");

    /** Sent upstream to Anthropic when the client did not choose a version. */
    public static final String DEFAULT_ANTHROPIC_VERSION = "2023-06-01";

    private final String wireName;
    private final String defaultOrigin;

    Provider(String wireName, String defaultOrigin) {
        this.wireName = wireName;
        this.defaultOrigin = defaultOrigin;
    }

    public String wireName() {
        return wireName;
    }

    public String defaultOrigin() {
        return defaultOrigin;
    }

    /** Anthropic keys start with {@code sk-ant-}; every other key is taken for OpenAI. */
    public static Provider ofKey(String key) {
        return key.startsWith("sk-ant-") ? ANTHROPIC : OPENAI;
    }

    /** The provider a model name belongs to, or null when the name does not say. */
    public static Provider ofModel(String model) {
        if (model == null || model.isEmpty()) {
            return null;
        }
        String m = model.toLowerCase(Locale.ROOT);
        if (m.startsWith("claude")) {
            return ANTHROPIC;
        }
        if (m.startsWith("gpt") || m.startsWith("chatgpt") || m.startsWith("o1") || m.startsWith("o3")
                || m.startsWith("o4")) {
            return OPENAI;
        }
        return null;
    }

    public static Provider ofWireName(String name) {
        for (Provider p : values()) {
            if (p.wireName.equals(name)) {
                return p;
            }
        }
        return null;
    }
}
