package dev.quarry.operators;

import dev.quarry.engine.task.TaskInput;
import java.io.Serializable;

/**
 * Turns an input record into the engine's {@link TaskInput} (id, text, template fields, seed).
 * An exception (or a {@code null} return) does not fail the job: that record becomes a result with
 * error kind {@code invalid_record} whose message names the record. Throw {@link InvalidRecordException} for a
 * record a source already marked invalid: its message and id are kept as they are.
 */
@FunctionalInterface
public interface InputMapper<IN> extends Serializable {
    TaskInput map(IN record) throws Exception;
}
