package io.ironruntime.router;

import io.ironruntime.provider.ErrorReply;

/**
 * One step of the request side. It either passes the request on (returns null) or answers it with an
 * error in the provider's shape. Stages know nothing of each other; {@link RequestStages} orders them.
 */
interface RequestStage {
    ErrorReply apply(ProxyRequest request);
}
