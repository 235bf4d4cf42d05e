package dev.quarry.jobs.cli;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.jobs.BulkScoreJob;
import dev.quarry.jobs.BulkScoreRunner;
import dev.quarry.jobs.EngineFactory;
import dev.quarry.jobs.Models;
import dev.quarry.jobs.ScoringSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code quarry demo}: bulk-scores the bundled sample reviews (classify + summarize) on an embedded
 * MiniCluster and prints a preview. Without {@code --model} it uses a built-in tiny checkpoint with
 * random weights, generated on first use.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Bulk-scores the bundled sample dataset (300 short product reviews) with classify and summarize,",
                "then prints a preview. Without --model it uses a built-in tiny checkpoint with RANDOM weights."})
public class DemoCommand implements Callable<Integer> {
    public static final String SAMPLE_RESOURCE = "/sample/reviews.parquet";
    public static final String PRESET = "tiny-hybrid";
    public static final List<String> LABELS = List.of("positive", "negative", "neutral");
    static final String MARKER = ".quarry-demo";

    @Option(names = "--output", defaultValue = "quarry-demo-output", description = "Where results go (default: ./${DEFAULT-VALUE}; recreated on each run)")
    Path output;

    @Option(names = "--model", description = "A real Granite 4.0 checkpoint directory from Hugging Face (default: built-in random-weight " + PRESET + ")")
    Path model;

    @Option(names = "--cache-dir", description = "Where the built-in checkpoint is generated (default: $QUARRY_CACHE or ~/.cache/quarry)")
    Path cacheDir;

    @Option(names = "--max-new-tokens", defaultValue = "12", description = "Summary length in tokens (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--parallelism", defaultValue = "1", description = "Flink parallelism (default: ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--preview", defaultValue = "5", description = "Rows shown per task (default: ${DEFAULT-VALUE})")
    int preview;

    @Option(names = "--no-progress", description = "Do not draw progress bars")
    boolean noProgress;

    /** The engine factory (tests substitute a fake). */
    EngineFactory engines = EngineFactory.real();
    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        boolean builtIn = model == null;
        Path modelDir;
        if (builtIn) {
            out.println("quarry demo: using the built-in " + PRESET + " checkpoint (RANDOM weights, generated on first use)");
            modelDir = Models.preset(PRESET, Models.DEFAULT_SEED, cacheDir == null ? Models.defaultCache() : cacheDir);
            out.println("  checkpoint: " + modelDir);
        } else {
            modelDir = Models.resolve(model, null, 0, null);
            out.println("quarry demo: using the checkpoint in " + modelDir);
        }
        Path input = prepare(output);
        out.println("  input:      " + input + " (" + ParquetFiles.countRows(new org.apache.flink.core.fs.Path(input.toUri())) + " rows)");

        Map<String, String> texts = new HashMap<>();
        for (GenericRecord g : ParquetFiles.readLocal(input)) texts.put(g.get("id").toString(), g.get("text").toString());

        for (TaskKind task : List.of(TaskKind.CLASSIFY, TaskKind.SUMMARIZE)) {
            ScoringSpec spec = ScoringSpec.builder().task(task).labels(task == TaskKind.CLASSIFY ? LABELS : null)
                    .maxNewTokens(maxNewTokens).modelDir(modelDir).build();
            Path dir = output.resolve(task.wireName());
            BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(input.toString()).output(dir.toString())
                    .mapping(InputMapping.builder().idField("id").textField("text").build()).spec(spec)
                    .parallelism(parallelism).checkpointInterval(Duration.ofSeconds(5)).build();
            out.println();
            out.println("== " + task.wireName() + (task == TaskKind.CLASSIFY ? " " + LABELS : " (max " + maxNewTokens + " new tokens)"));
            BulkScoreRunner.Summary s = BulkScoreRunner.run(o, engines, System.err, !noProgress);
            out.print(s.render());
            printPreview(task, new org.apache.flink.core.fs.Path(dir.toUri()), texts);
        }
        out.println();
        if (builtIn) {
            out.println("NOTE: the built-in checkpoint has RANDOM weights, so the labels and summaries above are meaningless;");
            out.println("the demo shows the pipeline (Parquet -> Flink -> Granite engine -> Parquet), not model quality.");
            out.println("To run a real model, download a Granite 4.0 checkpoint from Hugging Face and point the demo at it, e.g.:");
            out.println("  huggingface-cli download ibm-granite/granite-4.0-h-350m --local-dir ~/models/granite-4.0-h-350m");
            out.println("  ./quarry demo --model ~/models/granite-4.0-h-350m");
            out.println("or score your own data: ./quarry bulk-score --input IN.parquet --output OUT --task classify --labels a,b \\");
            out.println("  --text-column text --model ~/models/granite-4.0-h-350m");
        }
        return 0;
    }

    private void printPreview(TaskKind task, org.apache.flink.core.fs.Path dir, Map<String, String> texts) {
        List<Map<String, Object>> rows = ResultFiles.read(dir, preview);
        out.println("preview:");
        for (Map<String, Object> r : rows) {
            String id = String.valueOf(r.get("id"));
            String result = task == TaskKind.CLASSIFY
                    ? r.get("label") + " " + formatProbabilities(r.get("probabilities"))
                    : '"' + oneLine(String.valueOf(r.get("text"))) + "\" (" + r.get("generated_tokens") + " tokens generated)";
            out.printf("  %-12s %-58s -> %s%n", id, abbreviate(texts.getOrDefault(id, ""), 58), result);
        }
    }

    private static String formatProbabilities(Object p) {
        if (!(p instanceof Map<?, ?> m)) return "";
        StringBuilder b = new StringBuilder("(");
        m.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(k).append(String.format("=%.2f", ((Number) v).doubleValue())));
        return b.append(')').toString();
    }

    private static String oneLine(String s) {
        return abbreviate(s.replaceAll("\\s+", " ").trim(), 70);
    }

    private static String abbreviate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 3) + "...";
    }

    /** Recreates the demo's output directory (only one it created itself) and copies the sample dataset in. */
    static Path prepare(Path output) throws IOException {
        if (Files.exists(output)) {
            boolean ours = Files.exists(output.resolve(MARKER));
            boolean empty;
            try (Stream<Path> s = Files.list(output)) {
                empty = s.findAny().isEmpty();
            }
            if (!ours && !empty) {
                throw new IllegalArgumentException("--output " + output + " exists and was not created by quarry demo; choose another path");
            }
            try (Stream<Path> walk = Files.walk(output)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        Files.createDirectories(output);
        Files.writeString(output.resolve(MARKER), "created by quarry demo; deleted and recreated on each run\n");
        Path input = output.resolve("input");
        Files.createDirectories(input);
        Path file = input.resolve("reviews.parquet");
        try (InputStream in = DemoCommand.class.getResourceAsStream(SAMPLE_RESOURCE)) {
            if (in == null) throw new IllegalStateException("the sample dataset " + SAMPLE_RESOURCE + " is missing from the jar");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }
}
