package dev.quarry.jobs.cli;

import dev.quarry.jobs.BulkScoreJob;
import dev.quarry.jobs.BulkScoreRunner;
import dev.quarry.jobs.EngineFactory;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quarry bulk-score}: Parquet or Arrow files through Granite into Parquet or Arrow results. */
@Command(name = "bulk-score", mixinStandardHelpOptions = true,
        description = {"Scores Parquet or Arrow files with a Granite model on an embedded Flink MiniCluster.",
                "Successful rows go to --output, failed rows (with error_kind, error_message) to --errors.",
                "Output files commit on checkpoints; every input row ends up in exactly one of the two."})
public class BulkScoreCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "Input file or directory (local path or any Flink file system URI)")
    String input;

    @Option(names = "--output", required = true, description = "Results directory (must be empty or absent)")
    String output;

    @Option(names = "--errors", description = "Errors directory (default: OUTPUT" + BulkScoreJob.ERRORS_SUFFIX + ")")
    String errors;

    @Option(names = "--format", defaultValue = "parquet", description = "Output format: parquet or arrow (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--input-format", description = "parquet or arrow (default: guessed from file names)")
    String inputFormat;

    @Option(names = "--parallelism", defaultValue = "1", description = "Flink parallelism (default: ${DEFAULT-VALUE}); subtasks share one engine per JVM")
    int parallelism;

    @Option(names = "--checkpoint-interval", defaultValue = "10s", description = "Checkpoint (and file commit) interval (default: ${DEFAULT-VALUE})")
    String checkpointInterval;

    @Option(names = "--restart-attempts", defaultValue = "" + BulkScoreJob.DEFAULT_RESTART_ATTEMPTS, description = "Restarts after a failure before giving up (default: ${DEFAULT-VALUE})")
    int restartAttempts;

    @Option(names = "--no-progress", description = "Do not draw a progress bar")
    boolean noProgress;

    @Mixin
    ScoringOptions scoring = new ScoringOptions();

    public BulkScoreJob.Options options() {
        return BulkScoreJob.Options.builder().input(input).output(output).errors(errors)
                .outputFormat(BulkScoreJob.Format.parse(format))
                .inputFormat(inputFormat == null ? null : BulkScoreJob.Format.parse(inputFormat))
                .mapping(scoring.mapping()).requireIdColumn(scoring.idColumnGiven()).spec(scoring.spec()).parallelism(parallelism)
                .checkpointInterval(ScoringOptions.duration(checkpointInterval, "--checkpoint-interval"))
                .restartAttempts(restartAttempts).build();
    }

    @Override
    public Integer call() throws Exception {
        BulkScoreJob.Options o = options();
        System.err.println("quarry bulk-score: " + o.spec + ", input " + o.input + " (" + o.inputFormat.name().toLowerCase() + ")");
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, EngineFactory.real(), System.err, !noProgress);
        System.out.print(s.render());
        return 0;
    }
}
