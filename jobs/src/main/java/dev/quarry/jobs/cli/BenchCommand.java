package dev.quarry.jobs.cli;

import dev.quarry.engine.bench.BenchConfig;
import dev.quarry.engine.bench.BenchReport;
import dev.quarry.engine.bench.BenchRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code quarry bench}: the engine throughput harness (generation, classification, extraction; batch-1
 * vs continuous batching; matmul roofline of the same shapes measured in the same run). A benchmark,
 * not a test: run it on a quiet machine.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures engine throughput: generation (N prompts x P tokens -> G new tokens, ignore-eos),",
                "classification (long shared instruction, 4 labels) and extraction, batch-1 vs continuous batching,",
                "plus the matmul roofline of the model's shapes measured in the same run."})
public class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint directory (e.g. from make-checkpoint --preset granite-4.0-h-350m)")
    Path model;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--dtype", description = "f32 or bf16 (default: f32 on cpu, bf16 on cuda)")
    String dtype;

    @Option(names = {"-n", "--prompts"}, defaultValue = "" + BenchConfig.DEFAULT_PROMPTS, description = "N prompts/records (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = {"-p", "--prompt-tokens"}, defaultValue = "" + BenchConfig.DEFAULT_PROMPT_TOKENS, description = "P prompt tokens (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = {"-g", "--new-tokens"}, defaultValue = "" + BenchConfig.DEFAULT_NEW_TOKENS, description = "G new tokens (default: ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--instruction-tokens", defaultValue = "" + BenchConfig.DEFAULT_INSTRUCTION_TOKENS, description = "Classification instruction length (default: ${DEFAULT-VALUE})")
    int instructionTokens;

    @Option(names = "--record-tokens", defaultValue = "" + BenchConfig.DEFAULT_RECORD_TOKENS, description = "Classification/extraction record length (default: ${DEFAULT-VALUE})")
    int recordTokens;

    @Option(names = "--workloads", split = ",", defaultValue = "generation,classification,extraction,roofline",
            description = "Comma-separated subset of generation,classification,extraction,roofline (default: all)")
    List<String> workloads;

    @Option(names = "--labels", split = ",", description = "Classification labels (default: billing,technical,account,other)")
    List<String> labels;

    @Option(names = "--no-sequential", description = "Skip the batch-1 sequential runs")
    boolean noSequential;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random prompts (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "Print JSON instead of a table")
    boolean json;

    @Override
    public Integer call() throws Exception {
        BenchConfig cfg = BenchConfig.builder().modelDir(model).device(device).dtype(dtype).prompts(prompts)
                .promptTokens(promptTokens).newTokens(newTokens).instructionTokens(instructionTokens)
                .recordTokens(recordTokens).workloads(workloads).sequential(!noSequential).seed(seed)
                .labels(labels == null ? BenchConfig.DEFAULT_LABELS : labels).build();
        dev.quarry.jobs.Models.requireCheckpoint(model, "--model");
        BenchReport r = new BenchRunner(cfg, msg -> System.err.println("[bench] " + msg)).run();
        System.out.print(json ? r.toJson() + "\n" : r.toTable());
        return 0;
    }
}
