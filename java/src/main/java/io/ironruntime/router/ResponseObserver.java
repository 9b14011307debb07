package io.ironruntime.router;

import io.ironruntime.provider.SseEvent;

/** Sees each parsed response event (or the whole JSON body) on the side while it is forwarded. */
public interface ResponseObserver {
    ResponseObserver NONE = new ResponseObserver() { };

    default void onEvent(SseEvent event) {
    }

    default void onBody(byte[] json) {
    }
}
