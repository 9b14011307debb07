package io.ironruntime.pii;

/**
 * A detection as audit sees it: the type, where it was in the text that was scanned (for a stream,
 * from the start of the stream) and a salted fingerprint of the value. Never the value.
 */
public record Finding(String type, long start, long end, String fingerprint) {
}
