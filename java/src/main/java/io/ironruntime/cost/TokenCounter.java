package io.ironruntime.cost;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.Locale;

/**
 * Counts tokens of text for a model: exactly for OpenAI models (jtokkit, {@code o200k_base} for the
 * 4o / 4.1 / o-series / 5 families, {@code cl100k_base} for older ones), by a documented estimate for
 * Claude, which has no offline tokenizer: the {@code cl100k_base} count times 1.25, rounded up. Claude's
 * tokenizers yield somewhat more tokens than cl100k on the same text, so the estimate errs high: a
 * reservation built on it is an upper bound more often than not. Encodings load on first use.
 */
public final class TokenCounter {
    /** Claude tokens per cl100k token, as a ratio of integers: 5/4. */
    private static final int CLAUDE_NUMERATOR = 5;
    private static final int CLAUDE_DENOMINATOR = 4;
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

    private TokenCounter() {
    }

    public static long count(String model, String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        String m = model == null ? "" : model.toLowerCase(Locale.ROOT);
        if (m.startsWith("claude")) {
            long cl100k = REGISTRY.getEncoding(EncodingType.CL100K_BASE).countTokensOrdinary(text);
            return (cl100k * CLAUDE_NUMERATOR + CLAUDE_DENOMINATOR - 1) / CLAUDE_DENOMINATOR;
        }
        return encodingFor(m).countTokensOrdinary(text);
    }

    /** True when {@link #count} is the provider's own count, not an estimate. */
    public static boolean isExact(String model) {
        return model == null || !model.toLowerCase(Locale.ROOT).startsWith("claude");
    }

    static Encoding encodingFor(String model) {
        boolean older = model.startsWith("gpt-4-") || model.equals("gpt-4") || model.startsWith("gpt-3.5")
                || model.startsWith("text-embedding");
        return REGISTRY.getEncoding(older ? EncodingType.CL100K_BASE : EncodingType.O200K_BASE);
    }
}
