package io.ironruntime.events;

/** Where the engine's parts record events. {@link #publish} never blocks and never waits on a consumer. */
public interface EventSink {
    void publish(EngineEvent event);
}
