package dev.quarry.engine.task;

import dev.quarry.engine.SamplingParams;

/** Lineage strings for {@link Task#describeDecoding()}: stable, human-readable, key=value. */
final class TaskDescriptions {
    private TaskDescriptions() {}

    static String generation(SamplingParams s) {
        StringBuilder sb = new StringBuilder();
        if (s.isGreedy()) {
            sb.append("greedy");
        } else {
            sb.append("sample temperature=").append(s.temperature()).append(" top_p=").append(s.topP())
                    .append(" top_k=").append(s.topK()).append(" seed=per-record");
        }
        sb.append(" max_new_tokens=").append(s.maxNewTokens());
        if (s.ignoreEos()) sb.append(" ignore_eos");
        if (!s.stopStrings().isEmpty()) sb.append(" stop=").append(s.stopStrings());
        return sb.toString();
    }
}
