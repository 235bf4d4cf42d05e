package dev.quarry.jobs;

import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.Json;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.task.TaskResult;
import dev.quarry.operators.InvalidRecordException;
import dev.quarry.operators.Lineage;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns the engine's {@link TaskResult} into the connectors' {@link ResultRecord}. */
public final class Results {
    private Results() {}

    /**
     * The engine-side input for a record: id, text, passthrough values (as plain strings) and a per-record seed.
     *
     * @throws InvalidRecordException for a record its source found invalid (it becomes an {@code invalid_record}
     *     result with the source's reason, inside the inference operator, so it counts toward the error-rate bound)
     */
    public static dev.quarry.engine.task.TaskInput taskInput(InputRecord in) throws InvalidRecordException {
        if (!in.isValid()) throw new InvalidRecordException(in.id, in.invalidReason);
        Map<String, String> fields = new LinkedHashMap<>();
        if (in.passthrough != null) {
            in.passthrough.forEach((k, v) -> {
                var n = Json.parseLenient(v);
                fields.put(k, n == null || n.isNull() ? "" : n.isValueNode() ? n.asText() : n.toString());
            });
        }
        return new dev.quarry.engine.task.TaskInput(in.id, in.text, fields, seed(in.id));
    }

    /** A stable per-record seed (sampling is seeded per record, so a replayed record samples the same). */
    public static long seed(String id) {
        long h = 1125899906842597L;
        for (int i = 0; i < id.length(); i++) h = 31 * h + id.charAt(i);
        return h;
    }

    /** The result row of a record, with the operator's lineage (model name, weights hash, decoding). */
    public static ResultRecord from(InputRecord in, TaskResult tr, Lineage lineage) {
        ResultRecord r = in.isValid() ? from(in, tr, null, lineage.decoding()) : ResultRecord.invalid(in, tr.task());
        r.model = lineage.modelName();
        r.modelHash = lineage.weightsHash();
        return r;
    }

    public static ResultRecord from(InputRecord in, TaskResult tr, ModelInfo model, String decoding) {
        ResultRecord r = ResultRecord.carry(in, tr.task());
        if (tr.error() != null) {
            r.errorKind = tr.error().kind().wireName();
            r.errorMessage = tr.error().message();
        } else {
            r.text = tr.text();
            r.label = tr.label();
            r.probabilities = tr.probabilities() == null ? null : new LinkedHashMap<>(tr.probabilities());
            r.json = tr.json();
            if (tr.fields() != null) {
                r.fields = new LinkedHashMap<>();
                tr.fields().forEach((k, v) -> r.fields.put(k, Json.encode(v)));
            }
        }
        r.promptTokens = tr.promptTokens();
        r.generatedTokens = tr.generatedTokens();
        r.latencyMs = tr.latencyNanos() / 1_000_000L;
        if (model != null) {
            r.model = model.name();
            r.modelHash = model.weightsHash();
        }
        r.decoding = decoding;
        return r;
    }
}
