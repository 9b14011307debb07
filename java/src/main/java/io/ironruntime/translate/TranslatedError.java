package io.ironruntime.translate;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An upstream error in the client's format.
 *
 * @param status the HTTP status to answer with
 * @param body   the client's provider's error JSON
 */
public record TranslatedError(int status, ObjectNode body) {
}
