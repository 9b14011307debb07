package io.ironruntime.translate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A request body in the other provider's format.
 *
 * @param dropped the client's fields that have no counterpart and were left out (for a logged note)
 */
public record Translated(ObjectNode body, List<String> dropped) {
    public Translated {
        dropped = List.copyOf(dropped);
    }
}
