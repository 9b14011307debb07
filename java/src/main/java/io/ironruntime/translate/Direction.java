package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.provider.Provider;

/** Which way a request crosses between the two wire formats: the client's and the provider's. */
public enum Direction {
    /** An OpenAI Chat Completions client calling a Claude model. */
    CHAT_TO_MESSAGES(Provider.OPENAI, Provider.ANTHROPIC, "/v1/messages"),
    /** An Anthropic Messages client calling an OpenAI model. */
    MESSAGES_TO_CHAT(Provider.ANTHROPIC, Provider.OPENAI, "/v1/chat/completions");

    /** The provider whose wire format the client speaks (its errors are shaped so). */
    public final Provider client;
    /** The provider the request goes to. */
    public final Provider upstream;
    /** The upstream endpoint's path. */
    public final String upstreamPath;

    Direction(Provider client, Provider upstream, String upstreamPath) {
        this.client = client;
        this.upstream = upstream;
        this.upstreamPath = upstreamPath;
    }

    /** The request in the upstream's format; {@code defaultMaxTokens} where Anthropic needs a bound the client did not give. */
    public Translated request(JsonNode body, int defaultMaxTokens) throws TranslationException {
        return this == CHAT_TO_MESSAGES ? ChatToMessages.translate(body, defaultMaxTokens) : MessagesToChat.translate(body);
    }

    /**
     * How the response to {@code clientRequest} (the body as the client sent it) comes back.
     *
     * @param createdEpochSeconds the {@code created} time of OpenAI objects made from a Claude answer
     */
    public ResponseTranslation response(JsonNode clientRequest, long createdEpochSeconds) {
        boolean includeUsage = clientRequest.path("stream_options").path("include_usage").asBoolean(false);
        return new ResponseTranslation(this, includeUsage, createdEpochSeconds);
    }

    /**
     * The way a request must cross, or null when it goes as it is: a Chat Completions request for a Claude
     * model, or a Messages request for an OpenAI model.
     *
     * @param path the request path without query and without a provider segment
     */
    public static Direction of(String path, String model) {
        Provider byModel = Provider.ofModel(model);
        if (byModel == Provider.ANTHROPIC && path.equals("/v1/chat/completions")) {
            return CHAT_TO_MESSAGES;
        }
        if (byModel == Provider.OPENAI && path.equals("/v1/messages")) {
            return MESSAGES_TO_CHAT;
        }
        return null;
    }
}
