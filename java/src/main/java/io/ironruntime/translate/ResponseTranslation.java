package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.provider.Provider;
import java.nio.charset.StandardCharsets;

/**
 * Brings one translated request's response back into the client's format: its status, a whole JSON
 * body (an answer or an error), or a stream. Pure; one per request.
 */
public final class ResponseTranslation {
    private final Direction direction;
    private final boolean includeUsage;
    private final long created;

    ResponseTranslation(Direction direction, boolean includeUsage, long created) {
        this.direction = direction;
        this.includeUsage = includeUsage;
        this.created = created;
    }

    public Direction direction() {
        return direction;
    }

    /** The status the client gets: Anthropic's 529 (overloaded) is a 503 to OpenAI clients, which know no 529. */
    public int status(int upstreamStatus) {
        return direction.client == Provider.OPENAI ? ErrorTranslation.openAiStatus(upstreamStatus) : upstreamStatus;
    }

    /** A whole body: an answer when {@code upstreamStatus} is below 400, else an error; a 2xx that is not JSON goes as it is. */
    public byte[] body(int upstreamStatus, byte[] upstreamBody) {
        JsonNode root = Json.readOrNull(upstreamBody);
        JsonNode out;
        if (upstreamStatus >= 400) {
            out = direction.client == Provider.OPENAI ? ErrorTranslation.toOpenAi(upstreamStatus, root).body()
                    : ErrorTranslation.toAnthropic(upstreamStatus, root).body();
        } else if (root == null || !root.isObject()) {
            return upstreamBody;
        } else {
            out = direction.client == Provider.OPENAI ? MessageToCompletion.translate(root, created)
                    : CompletionToMessage.translate(root);
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A new translator for the streamed answer. */
    public StreamTranslator stream() {
        return direction.client == Provider.OPENAI ? new MessagesStreamToChat(includeUsage, created)
                : new ChatStreamToMessages();
    }
}
