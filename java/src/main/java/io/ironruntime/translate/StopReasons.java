package io.ironruntime.translate;

/**
 * Why a model stopped, in each provider's words. OpenAI does not say which stop sequence matched, so
 * its {@code stop} becomes {@code end_turn}; Anthropic's {@code stop_sequence} becomes {@code stop}.
 */
public final class StopReasons {
    private StopReasons() {
    }

    /** An Anthropic {@code stop_reason} as an OpenAI {@code finish_reason}; null stays null. */
    public static String toOpenAi(String stopReason) {
        if (stopReason == null) {
            return null;
        }
        return switch (stopReason) {
            case "max_tokens", "model_context_window_exceeded" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop"; // end_turn, stop_sequence, pause_turn
        };
    }

    /** An OpenAI {@code finish_reason} as an Anthropic {@code stop_reason}; null stays null. */
    public static String toAnthropic(String finishReason) {
        if (finishReason == null) {
            return null;
        }
        return switch (finishReason) {
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> "end_turn";
        };
    }
}
