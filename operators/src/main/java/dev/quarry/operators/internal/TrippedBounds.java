package dev.quarry.operators.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Error-rate bounds that tripped in this JVM, by job, task and subtask. Flink can restart a subtask whose bound
 * tripped: when a source coordinator's event to the failing task is lost at that moment, Flink fails the task
 * over as an ordinary, restartable failure, which can win over the bound's non-recoverable one (see {@code
 * ErrorRateExceededException}). A restarted attempt of the same subtask then fails in {@code open()}, before its
 * chain's source is opened and so with no source event in flight, ending the job after one restart with the
 * bound's message. (A restart on another TaskManager replays until the bound trips again.)
 */
final class TrippedBounds {
    /** At most this many entries are kept (oldest dropped): one per subtask whose bound tripped. */
    static final int MAX_ENTRIES = 1024;

    private static final Map<String, String> TRIPPED = Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_ENTRIES;
        }
    });

    private TrippedBounds() {}

    static void record(String subtask, String message) {
        TRIPPED.put(subtask, message);
    }

    /** The message of the bound that tripped in an earlier attempt of {@code subtask}, or null. */
    static String get(String subtask) {
        return TRIPPED.get(subtask);
    }
}
