package dev.quarry.engine.bench;

import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.MklCpuDispatch;
import dev.quarry.engine.model.GraniteConfig;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The throughput harness behind {@code quarry bench} (a benchmark, not a test): generation (N prompts
 * x P tokens -> G new tokens, ignore-eos), classification (short records behind a long instruction, 4
 * labels; shared-prefix state vs. a distinct prefix per record) and extraction, each batch-1
 * sequential and continuously batched, plus the matmul roofline of the model's shapes measured in the
 * same run.
 */
public final class BenchRunner {
    private static final String[] WORDS = ("the customer reports that the invoice was charged twice after the update and "
            + "asks for a refund while the login page keeps failing on mobile devices since yesterday").split(" ");

    private final BenchConfig cfg;
    private final Consumer<String> log;

    public BenchRunner(BenchConfig cfg, Consumer<String> log) {
        this.cfg = cfg;
        this.log = log;
    }

    public BenchReport run() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        BenchReport report = new BenchReport();
        GraniteConfig gc = GraniteConfig.load(cfg.modelDir().resolve("config.json"));
        BatchingOptions batching = BatchingOptions.builder()
                .maxActiveSequences(Math.max(BatchingOptions.DEFAULT_MAX_ACTIVE_SEQUENCES, cfg.prompts() * cfg.labels().size()))
                .maxSequenceLength(Math.max(BatchingOptions.DEFAULT_MAX_SEQUENCE_LENGTH,
                        cfg.promptTokens() + cfg.newTokens() + cfg.instructionTokens() + 4 * cfg.recordTokens() + 256))
                .build();
        EngineOptions eo = EngineOptions.builder().modelDir(cfg.modelDir()).device(cfg.device()).dtype(cfg.dtype())
                .batching(batching).build();
        long t0 = System.nanoTime();
        try (Engine engine = Engine.open(eo)) {
            double load = (System.nanoTime() - t0) / 1e9;
            report.fact("model", cfg.modelDir().toString());
            report.fact("device", eo.device());
            report.fact("dtype", eo.dtype());
            report.fact("load_seconds", round(load));
            report.fact("cpus", Runtime.getRuntime().availableProcessors());
            report.fact("mkl", mklPath());
            report.fact("workload", "N=" + cfg.prompts() + " P=" + cfg.promptTokens() + " G=" + cfg.newTokens());
            Roofline roof = cfg.workloads().contains("roofline")
                    ? new Roofline(gc, dev.quarry.engine.Devices.toDjl(cfg.device()),
                            eo.dtype().equals("bf16") ? DataType.BFLOAT16 : DataType.FLOAT32)
                    : null;
            Random rnd = new Random(cfg.seed());
            if (cfg.workloads().contains("generation")) generation(engine, report, roof, rnd);
            if (cfg.workloads().contains("classification")) classification(engine, report, rnd);
            if (cfg.workloads().contains("extraction")) extraction(engine, report, rnd);
            if (roof != null) {
                report.fact("matmul_gflops_rows_1", round(roof.gflops(1)));
                report.fact("matmul_gflops_rows_N", round(roof.gflops(cfg.prompts())));
                report.fact("matmul_gflops_rows_NxP", round(roof.gflops(cfg.prompts() * cfg.promptTokens())));
            }
        }
        report.fact("peak_rss_mb", peakRssMb());
        return report;
    }

    private void generation(Engine engine, BenchReport report, Roofline roof, Random rnd) throws Exception {
        int n = cfg.prompts(), p = cfg.promptTokens(), g = cfg.newTokens();
        int vocab = engine.codec().decodableVocabSize();
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[p];
            for (int j = 0; j < p; j++) {
                int id;
                do { id = rnd.nextInt(vocab); } while (id == engine.codec().eosTokenId());
                ids[j] = id;
            }
            prompts.add(ids);
        }
        log.accept("generation: warm-up");
        runGen(engine, prompts.subList(0, 1), 2, false);
        double rl = roof == null ? Double.NaN : roof.workloadSeconds(n, p, g);
        for (boolean sequential : cfg.sequential() ? new boolean[] {true, false} : new boolean[] {false}) {
            String mode = sequential ? "batch-1 sequential" : "continuous batching";
            log.accept("generation: " + mode + " prefill pass");
            Run pre = runGen(engine, prompts, 1, sequential);
            log.accept("generation: " + mode + " full pass");
            Run full = runGen(engine, prompts, g, sequential);
            double rlMode = sequential && roof != null
                    ? n * (roof.layerSeconds(p) + roof.headSeconds(1) + (g - 1) * (roof.layerSeconds(1) + roof.headSeconds(1)))
                    : rl;
            report.add(new BenchReport.Row("generation", mode, n, (long) n * p, full.generated, full.seconds,
                    n * (double) p / pre.seconds, full.generated / full.seconds,
                    full.decodeNanos > 0 ? full.decodeRows / (full.decodeNanos / 1e9) : Double.NaN, n / full.seconds,
                    full.occupancy, full.peakState, rlMode));
        }
    }

    private Run runGen(Engine engine, List<int[]> prompts, int g, boolean sequential) throws Exception {
        SamplingParams sp = SamplingParams.builder().maxNewTokens(g).ignoreEos(true).build();
        return measure(engine, () -> {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            long gen = 0;
            for (int i = 0; i < prompts.size(); i++) {
                CompletableFuture<GenerationResult> f = engine.generate(new GenerationRequest("b" + i, prompts.get(i), sp, false));
                if (sequential) gen += check(f.get());
                else fs.add(f);
            }
            for (var f : fs) gen += check(f.get());
            return gen;
        });
    }

    private static long check(GenerationResult r) {
        if (r.error() != null) throw new IllegalStateException("bench request failed: " + r.error());
        return r.ids().length;
    }

    private void classification(Engine engine, BenchReport report, Random rnd) throws Exception {
        StringBuilder instr = new StringBuilder("Route the support message to one team. ");
        while (engine.codec().encode(instr.toString()).length < cfg.instructionTokens()) {
            instr.append(WORDS[rnd.nextInt(WORDS.length)]).append(' ');
        }
        ClassifyTask shared = ClassifyTask.builder().labels(cfg.labels()).instruction(instr.toString()).build();
        List<TaskInput> records = records(engine, rnd);
        log.accept("classification: warm-up");
        runTasks(engine, i -> shared, records.subList(0, 1), false);
        for (boolean sequential : cfg.sequential() ? new boolean[] {true, false} : new boolean[] {false}) {
            String m = sequential ? "batch-1" : "batched";
            log.accept("classification: shared prefix, " + m);
            Run a = runTasks(engine, i -> shared, records, sequential);
            report.add(taskRow("classification", "shared-prefix " + m, records.size(), a));
            // a distinct instruction per record: its prefix is prefilled for every record (no sharing)
            List<ClassifyTask> distinct = new ArrayList<>();
            for (int i = 0; i < records.size(); i++) {
                distinct.add(ClassifyTask.builder().labels(cfg.labels()).instruction(instr + " Ticket batch " + i + ".").build());
            }
            log.accept("classification: no shared prefix, " + m);
            Run b = runTasks(engine, distinct::get, records, sequential);
            report.add(taskRow("classification", "no-sharing " + m, records.size(), b));
        }
    }

    private void extraction(Engine engine, BenchReport report, Random rnd) throws Exception {
        ExtractTask ex = ExtractTask.builder().schema("{\"type\":\"object\",\"properties\":{"
                + "\"team\":{\"enum\":[\"billing\",\"technical\",\"account\"]},\"amount\":{\"type\":[\"number\",\"null\"]},"
                + "\"urgent\":{\"type\":\"boolean\"},\"summary\":{\"type\":\"string\",\"maxLength\":24}},"
                + "\"required\":[\"team\",\"urgent\"]}").build();
        List<TaskInput> records = records(engine, rnd);
        runTasks(engine, i -> ex, records.subList(0, 1), false);
        for (boolean sequential : cfg.sequential() ? new boolean[] {true, false} : new boolean[] {false}) {
            String m = sequential ? "batch-1" : "batched";
            log.accept("extraction: " + m);
            Run a = runTasks(engine, i -> ex, records, sequential);
            report.add(taskRow("extraction", m, records.size(), a));
        }
    }

    private List<TaskInput> records(Engine engine, Random rnd) {
        List<TaskInput> out = new ArrayList<>();
        for (int i = 0; i < cfg.prompts(); i++) {
            StringBuilder sb = new StringBuilder();
            while (engine.codec().encode(sb.toString()).length < cfg.recordTokens()) sb.append(WORDS[rnd.nextInt(WORDS.length)]).append(' ');
            out.add(TaskInput.of("rec" + i, sb.toString().strip()));
        }
        return out;
    }

    private static BenchReport.Row taskRow(String w, String mode, int n, Run r) {
        return new BenchReport.Row(w, mode, n, r.prompt, r.generated, r.seconds, r.prompt / r.seconds,
                r.generated / r.seconds, Double.NaN, n / r.seconds, r.occupancy, r.peakState, Double.NaN);
    }

    private Run runTasks(Engine engine, java.util.function.IntFunction<Task> task, List<TaskInput> records, boolean sequential)
            throws Exception {
        AtomicLong prompt = new AtomicLong();
        Run r = measure(engine, () -> {
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            long gen = 0;
            for (int i = 0; i < records.size(); i++) {
                CompletableFuture<TaskResult> f = engine.submit(task.apply(i), records.get(i));
                if (sequential) { TaskResult t = f.get(); gen += checkTask(t); prompt.addAndGet(t.promptTokens()); }
                else fs.add(f);
            }
            for (var f : fs) { TaskResult t = f.get(); gen += checkTask(t); prompt.addAndGet(t.promptTokens()); }
            return gen;
        });
        r.prompt = prompt.get();
        return r;
    }

    private static long checkTask(TaskResult t) {
        if (t.error() != null) throw new IllegalStateException("bench record failed: " + t.error());
        return t.generatedTokens();
    }

    interface Body { long run() throws Exception; }

    static final class Run {
        double seconds;
        long generated;
        long prompt;
        double occupancy;
        long peakState;
        /** Rows advanced by decode steps, and the steps' wall time (EngineStats). */
        long decodeRows;
        long decodeNanos;
    }

    private static Run measure(Engine engine, Body body) throws Exception {
        EngineStats before = engine.stats();
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(engine.stats().stateBytes(), Math::max);
                try { Thread.sleep(5); } catch (InterruptedException e) { return; }
            }
        }, "bench-state-sampler");
        sampler.setDaemon(true);
        sampler.start();
        long t0 = System.nanoTime();
        long gen = body.run();
        Run r = new Run();
        r.seconds = (System.nanoTime() - t0) / 1e9;
        sampler.interrupt();
        sampler.join();
        EngineStats after = engine.stats();
        r.generated = gen;
        long steps = after.stepCount() - before.stepCount();
        r.occupancy = steps == 0 ? Double.NaN : (after.generatedTokens() - before.generatedTokens()) / (double) steps;
        r.peakState = peak.get();
        r.decodeRows = after.decodeRows() - before.decodeRows();
        r.decodeNanos = after.decodeNanos() - before.decodeNanos();
        return r;
    }

    static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static double round(double d) { return Math.round(d * 100) / 100.0; }

    /**
     * Engine-only entry point (no jobs jar needed): {@code BenchRunner MODEL_DIR [f32|bf16]
     * [workloads=generation,classification,extraction,roofline] [N P G] [--no-sequential] [--labels=A,B,..]}. Prints the table.
     */
    public static void main(String[] args) throws Exception {
        BenchConfig.Builder b = BenchConfig.builder().modelDir(Path.of(args[0]))
                .dtype(args.length > 1 ? args[1] : "f32");
        if (args.length > 2) b.workloads(List.of(args[2].split(",")));
        if (args.length > 5) {
            b.prompts(Integer.parseInt(args[3])).promptTokens(Integer.parseInt(args[4])).newTokens(Integer.parseInt(args[5]));
        }
        b.sequential(!List.of(args).contains("--no-sequential"));
        for (String a : args) if (a.startsWith("--labels=")) b.labels(List.of(a.substring("--labels=".length()).split(",")));
        BenchReport r = new BenchRunner(b.build(), msg -> System.err.println("[bench] " + msg)).run();
        System.out.print(r.toTable());
    }

    /** MKL's code path for the report: the dispatch outcome and MKL's cpu type (0 = generic kernels). */
    static String mklPath() {
        return MklCpuDispatch.enable() + ", cpu type " + MklCpuDispatch.mklCpuType().map(String::valueOf).orElse("n/a");
    }
}
