package io.ironruntime.admin;

/** What feeds a streamed admin response (a live feed). */
public interface StreamSource {
    /** The response head went out; write to {@code sink} from any thread from now on. */
    void open(StreamSink sink);

    /** The client left, the stream was ended, or the router stopped: stop writing and free what is held. */
    void close();
}
