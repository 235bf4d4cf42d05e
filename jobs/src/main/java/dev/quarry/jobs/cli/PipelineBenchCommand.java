package dev.quarry.jobs.cli;

import dev.quarry.jobs.EngineFactory;
import dev.quarry.jobs.PipelineBench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quarry pipeline-bench}: records/s and tokens/s through the Flink pipeline vs the engine alone. */
@Command(name = "pipeline-bench", mixinStandardHelpOptions = true,
        description = {"Runs the same synthetic records through the engine alone and through the bulk-score pipeline",
                "(Parquet -> Flink MiniCluster -> engine -> Parquet) and prints both throughputs. Run it on a quiet machine."})
public class PipelineBenchCommand implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "256", description = "Records per run (default: ${DEFAULT-VALUE})")
    int records;

    @Option(names = "--words", defaultValue = "40", description = "Words per record (default: ${DEFAULT-VALUE})")
    int words;

    @Option(names = "--parallelism", defaultValue = "1", description = "Flink parallelism (default: ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--repeats", defaultValue = "2", description = "Measured (engine alone, pipeline) pairs after the warm-up (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--work-dir", description = "Scratch directory (default: a new temporary directory)")
    Path workDir;

    @Mixin
    ScoringOptions scoring = new ScoringOptions();

    @Override
    public Integer call() throws Exception {
        Path work = workDir != null ? workDir : Files.createTempDirectory("quarry-pipeline-bench");
        PipelineBench.Report r = PipelineBench.run(scoring.spec(), EngineFactory.real(), PipelineBench.texts(records, words), parallelism, work, repeats, System.err);
        System.out.print(r.render());
        return 0;
    }
}
