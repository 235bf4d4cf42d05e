package dev.quarry.connectors.kafka;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.connectors.Json;
import dev.quarry.connectors.ResultRecord;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The JSON form of a {@link ResultRecord} on Kafka:
 * <pre>{"id":..., "task":..., "text"|"label"+"probabilities"|"json"+"fields":..., "error":{"kind","message"}|null,
 *  "prompt_tokens":n, "generated_tokens":n, "latency_ms":n,
 *  "lineage":{"model","model_hash","decoding"}, "passthrough":{...}, "source":"topic-p@offset"}</pre>
 * Passthrough and extract field values are embedded as JSON values, not strings.
 */
public final class ResultJson {
    private ResultJson() {}

    public static byte[] toBytes(ResultRecord r) {
        return toJson(r).toString().getBytes(StandardCharsets.UTF_8);
    }

    public static ObjectNode toJson(ResultRecord r) {
        ObjectNode o = Json.object();
        o.put("id", r.id);
        o.put("task", r.task);
        if (r.text != null) o.put("text", r.text);
        if (r.label != null) o.put("label", r.label);
        if (r.probabilities != null) {
            ObjectNode p = o.putObject("probabilities");
            r.probabilities.forEach(p::put);
        }
        if (r.json != null) o.set("json", Json.parseLenient(r.json));
        if (r.fields != null) {
            ObjectNode f = o.putObject("fields");
            r.fields.forEach((k, v) -> f.set(k, Json.parseLenient(v)));
        }
        if (r.errorKind != null) {
            ObjectNode e = o.putObject("error");
            e.put("kind", r.errorKind);
            e.put("message", r.errorMessage);
        } else {
            o.putNull("error");
        }
        o.put("prompt_tokens", r.promptTokens);
        o.put("generated_tokens", r.generatedTokens);
        o.put("latency_ms", r.latencyMs);
        ObjectNode l = o.putObject("lineage");
        l.put("model", r.model);
        l.put("model_hash", r.modelHash);
        l.put("decoding", r.decoding);
        ObjectNode pt = o.putObject("passthrough");
        if (r.passthrough != null) for (Map.Entry<String, String> e : r.passthrough.entrySet()) pt.set(e.getKey(), Json.parseLenient(e.getValue()));
        if (r.source != null) o.put("source", r.source);
        return o;
    }
}
