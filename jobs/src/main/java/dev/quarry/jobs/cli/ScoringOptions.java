package dev.quarry.jobs.cli;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.jobs.Models;
import dev.quarry.jobs.ScoringSpec;
import dev.quarry.jobs.TaskFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quarry.operators.ErrorRateBound;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Task, model and input-field flags shared by {@code bulk-score} and {@code stream}. */
public class ScoringOptions {
    @Option(names = "--task", required = true, description = "summarize, classify, extract or prompt")
    String task;

    @Option(names = {"--text-column", "--text-field"}, defaultValue = InputMapping.DEFAULT_TEXT_FIELD, description = "Input field holding the text (default: ${DEFAULT-VALUE})")
    String textColumn;

    @Option(names = {"--id-column", "--id-field"}, description = "Input field holding the record id (default: " + InputMapping.DEFAULT_ID_FIELD
            + "); records without it get a position-based id. bulk-score: when given, every input file must have this column")
    String idColumn;

    @Option(names = "--passthrough", split = ",", description = "Input fields copied to the output (default: all fields other than the text)")
    List<String> passthrough;

    @Option(names = "--labels", split = ",", description = "classify: the candidate labels, e.g. positive,negative")
    List<String> labels;

    @Option(names = "--schema", description = "extract: a JSON schema file")
    Path schema;

    @Option(names = "--template", description = "prompt: the user template, {text} and {field} placeholders")
    String template;

    @Option(names = "--max-new-tokens", defaultValue = "" + ScoringSpec.DEFAULT_MAX_NEW_TOKENS, description = "summarize, prompt: most tokens generated per record (default: ${DEFAULT-VALUE}); extract output is bounded by its schema, classify scores its labels instead")
    int maxNewTokens;

    @Option(names = "--max-sequence-length", defaultValue = "" + dev.quarry.engine.BatchingOptions.DEFAULT_MAX_SEQUENCE_LENGTH, description = "Longest prompt + generation per record in tokens; longer records fail with input_too_long (default: ${DEFAULT-VALUE})")
    int maxSequenceLength;

    @Option(names = "--model", description = "A Hugging Face Granite 4.0 checkpoint directory (config.json, *.safetensors, tokenizer.json)")
    Path model;

    @Option(names = "--preset", description = "Use a built-in random-weight checkpoint of this preset (e.g. tiny-hybrid) instead of --model")
    String preset;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the --preset weights (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--cache-dir", description = "Where --preset checkpoints are generated (default: $QUARRY_CACHE or ~/.cache/quarry)")
    Path cacheDir;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--dtype", description = "f32 or bf16 (default: f32 on CPU, bf16 on CUDA)")
    String dtype;

    @Option(names = "--capacity", defaultValue = "" + ScoringSpec.DEFAULT_CAPACITY, description = "In-flight records per operator subtask (default: ${DEFAULT-VALUE})")
    int capacity;

    @Option(names = "--timeout", defaultValue = "10m", description = "Per-record timeout, e.g. 30s, 10m (default: ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--ordered", description = "Emit results in input order per subtask (default: as they finish)")
    boolean ordered;

    @Option(names = "--max-error-rate", description = "Fail the job when more than this fraction (0 to <1) of the last --error-window results of a subtask were errors (default: errors never fail the job)")
    Double maxErrorRate;

    @Option(names = "--error-window", defaultValue = "" + ErrorRateBound.DEFAULT_WINDOW, description = "Results the --max-error-rate is taken over (default: ${DEFAULT-VALUE})")
    int errorWindow;

    @Option(names = "--max-errors", description = "Fail the job when a subtask has produced more error results than this (default: no limit)")
    Long maxErrors;

    /** The error-rate bound the flags ask for ({@link ErrorRateBound#none()} without them). */
    public ErrorRateBound errorRateBound() {
        if (maxErrorRate == null && maxErrors == null) return ErrorRateBound.none();
        ErrorRateBound.Builder b = ErrorRateBound.builder().window(errorWindow);
        if (maxErrorRate != null) b.maxErrorFraction(maxErrorRate);
        if (maxErrors != null) b.maxErrors(maxErrors);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--max-error-rate/--error-window/--max-errors: " + e.getMessage(), e);
        }
    }

    /** True when {@code --id-column} was given (bulk-score then requires the column in every input file). */
    public boolean idColumnGiven() {
        return idColumn != null;
    }

    public InputMapping mapping() {
        return InputMapping.builder().idField(idColumn != null ? idColumn : InputMapping.DEFAULT_ID_FIELD).textField(textColumn).passthroughFields(passthrough).build();
    }

    public ScoringSpec spec() {
        if (model != null && preset != null) throw new IllegalArgumentException("give either --model or --preset, not both");
        Path dir = Models.resolve(model, preset, seed, cacheDir);
        String schemaJson = null;
        if (device == null || !device.matches("cpu|cuda:\\d+")) {
            throw new IllegalArgumentException("--device must be cpu or cuda:N, got '" + device + "'");
        }
        if (dtype != null && !dtype.equals("f32") && !dtype.equals("bf16")) {
            throw new IllegalArgumentException("--dtype must be f32 or bf16, got '" + dtype + "'");
        }
        if (schema != null) schemaJson = readSchema(schema);
        ScoringSpec s = ScoringSpec.builder().task(TaskKind.parse(task)).labels(labels).schemaJson(schemaJson).template(template)
                .maxNewTokens(maxNewTokens).maxSequenceLength(maxSequenceLength).modelDir(dir).device(device).dtype(dtype).capacity(capacity)
                .timeout(duration(timeout, "--timeout")).ordered(ordered).errorRateBound(errorRateBound()).build();
        if (schema != null && s.task() == TaskKind.EXTRACT) {
            try {
                TaskFactory.build(s); // the extract task's own checks of the schema, here to name the file, before a job starts
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--schema " + schema + ": " + e.getMessage(), e);
            }
        }
        return s;
    }

    /** The --schema file's text, refused in one line naming the file when it is missing or not JSON. */
    static String readSchema(Path schema) {
        String text;
        try {
            text = Files.readString(schema);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--schema " + schema + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read --schema " + schema + ": " + e, e);
        }
        try {
            new ObjectMapper().readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String what = e.getOriginalMessage().replaceAll("\\s*\\(start marker at .*\\)", "").replaceAll("\\s+", " ");
            throw new IllegalArgumentException("--schema " + schema + " is not valid JSON: " + what
                    + (at != null ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : ""), e);
        }
        return text;
    }

    /** Parses {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}, or a plain number of milliseconds. */
    public static Duration duration(String s, String flag) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            if (v.endsWith("s")) return Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            if (v.endsWith("m")) return Duration.ofSeconds(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 60));
            if (v.endsWith("h")) return Duration.ofMinutes(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 60));
            return Duration.ofMillis(Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a duration like 500ms, 10s, 2m or 1h, got '" + s + "'");
        }
    }
}
