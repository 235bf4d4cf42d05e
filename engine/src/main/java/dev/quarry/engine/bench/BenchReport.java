package dev.quarry.engine.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Rows of results plus run facts; printed as a table or JSON. */
public final class BenchReport {
    /**
     * One measured run. Missing numbers are NaN. {@code promptTokPerS}: prompt tokens over a prefill-only pass (one
     * new token per request); {@code decodeTokPerS}: rows advanced by decode steps over the time spent in them
     * ({@link dev.quarry.engine.EngineStats#decodeNanos}), the decode throughput at the batch sizes that ran.
     */
    public record Row(String workload, String mode, int requests, long promptTokens, long generatedTokens,
                      double seconds, double promptTokPerS, double genTokPerS, double decodeTokPerS,
                      double requestsPerS, double occupancy, long peakStateBytes, double rooflineSeconds) {
        public double efficiency() { return rooflineSeconds > 0 ? rooflineSeconds / seconds : Double.NaN; }
    }

    private final Map<String, Object> facts = new LinkedHashMap<>();
    private final List<Row> rows = new ArrayList<>();

    public void fact(String k, Object v) { facts.put(k, v); }

    public void add(Row r) { rows.add(r); }

    public List<Row> rows() { return rows; }

    public Map<String, Object> facts() { return facts; }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("facts", facts);
        List<Map<String, Object>> rs = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("workload", r.workload()); x.put("mode", r.mode()); x.put("requests", r.requests());
            x.put("prompt_tokens", r.promptTokens()); x.put("generated_tokens", r.generatedTokens());
            x.put("seconds", num(r.seconds())); x.put("prompt_tok_per_s", num(r.promptTokPerS()));
            x.put("generated_tok_per_s", num(r.genTokPerS())); x.put("decode_tok_per_s", num(r.decodeTokPerS()));
            x.put("requests_per_s", num(r.requestsPerS())); x.put("occupancy", num(r.occupancy()));
            x.put("peak_state_bytes", r.peakStateBytes()); x.put("roofline_seconds", num(r.rooflineSeconds()));
            x.put("efficiency", num(r.efficiency()));
            rs.add(x);
        }
        m.put("rows", rs);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object num(double d) { return Double.isFinite(d) ? d : null; }

    public String toTable() {
        StringBuilder sb = new StringBuilder();
        facts.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        sb.append(String.format(Locale.ROOT, "%-15s %-22s %5s %8s %8s %8s %10s %10s %10s %8s %6s %10s %6s%n",
                "workload", "mode", "reqs", "prompt", "gen", "sec", "prompt/s", "gen/s", "decode/s", "req/s", "occ",
                "stateMB", "eff"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-15s %-22s %5d %8d %8d %8.2f %10s %10s %10s %8s %6s %10.1f %6s%n",
                    r.workload(), r.mode(), r.requests(), r.promptTokens(), r.generatedTokens(), r.seconds(),
                    f(r.promptTokPerS()), f(r.genTokPerS()), f(r.decodeTokPerS()), f(r.requestsPerS()), f(r.occupancy()),
                    r.peakStateBytes() / 1e6, r.rooflineSeconds() > 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * r.efficiency()) : "-"));
        }
        return sb.toString();
    }

    private static String f(double d) { return Double.isFinite(d) ? String.format(Locale.ROOT, "%.1f", d) : "-"; }
}
