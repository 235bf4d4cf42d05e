package dev.quarry.engine.internal.sched;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.EngineError;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.internal.decode.json.JsonConstraint;
import dev.quarry.engine.internal.decode.json.JsonOutput;
import dev.quarry.engine.internal.decode.json.TokenTrie;
import dev.quarry.engine.internal.model.GraniteModel;
import dev.quarry.engine.internal.task.RecordException;
import dev.quarry.engine.internal.task.TaskPrompter;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching. One thread ({@code quarry-scheduler}) owns the model. Each iteration it
 * <ol>
 *   <li>drops cancelled and timed-out sequences,
 *   <li>admits waiting requests while the budgets allow (prompt tokens per step, reserved state bytes
 *       of live sequences, active sequence count),
 *   <li>prefills the arrivals together: rows that share a task prefix start from a fork of the cached
 *       prefix state and prefill only their suffix; classify rows are then scored per label on forked
 *       states and complete at once; the others sample their first token,
 *   <li>runs one decode step over every active sequence, samples, and retires finished ones.
 * </ol>
 * Every row's computation depends only on its own tokens and state, so greedy outputs are the same
 * whatever else runs in the batch. A failure while processing one row completes that request with
 * {@code engine_failure}; a failure of a whole model call fails the rows of that call; the loop goes on.
 */
public final class SchedulerCore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SchedulerCore.class);
    /** Prefix states kept (LRU keyed by prefix token ids). */
    public static final int PREFIX_CACHE_ENTRIES = 16;
    /** Task prompters kept (LRU by task identity). */
    public static final int PROMPTER_CACHE_ENTRIES = 256;
    private static final long IDLE_POLL_MS = 50;

    private final StepModel model;
    private final TextCodec codec;
    private final BatchingOptions opts;
    private final String modelName;
    private final java.nio.file.Path tokenizerJson;
    private final RowSampler sampler;
    private final ArrayBlockingQueue<Sequence> queue;
    private final Thread thread;
    private volatile boolean closed;
    /** close() was called on the scheduler thread: the loop closes the model when it ends. */
    private volatile boolean closeModelOnExit;
    private volatile Consumer<String> faultInjector;

    // scheduler-thread state
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> active = new ArrayList<>();
    /** Admitted prompts longer than maxPrefillTokens, prefilled a chunk per iteration (arrival order). */
    private final List<Sequence> chunking = new ArrayList<>();
    private BatchState activeState;
    private long reservedBytes;
    /** The model's per-sequence state: bytes independent of length (Mamba conv + SSM) and per token (K/V). */
    private final long fixedRowBytes;
    private final long perTokenBytes;
    private final LinkedHashMap<PrefixKey, BatchState> prefixCache = new LinkedHashMap<>(16, 0.75f, true);

    // shared caches
    private final Map<Task, TaskPrompter> prompters = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Task, TaskPrompter> e) { return size() > PROMPTER_CACHE_ENTRIES; }
    });
    /** Per extract task (tasks compare by identity), LRU like the prompters: a caller building a task per record must not grow them. */
    private final Map<ExtractTask, JsonConstraint> constraints = lru(PROMPTER_CACHE_ENTRIES);
    private final Map<ExtractTask, JsonOutput> outputs = lru(PROMPTER_CACHE_ENTRIES);
    private volatile TokenTrie trie;

    // stats
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong decodedRows = new AtomicLong();
    private final AtomicLong decodeNanos = new AtomicLong();
    private volatile int activeCount;
    private volatile long stateBytes;

    private static <K, V> Map<K, V> lru(int entries) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> e) { return size() > entries; }
        });
    }

    public SchedulerCore(StepModel model, TextCodec codec, BatchingOptions opts, String modelName) {
        this(model, codec, opts, modelName, null);
    }

    /** @param tokenizerJson the checkpoint's tokenizer.json (exact token bytes for constrained decoding), or null */
    public SchedulerCore(StepModel model, TextCodec codec, BatchingOptions opts, String modelName, java.nio.file.Path tokenizerJson) {
        this.tokenizerJson = tokenizerJson;
        this.model = model;
        this.codec = codec;
        this.opts = opts;
        this.modelName = modelName;
        this.sampler = new RowSampler(Math.min(codec.decodableVocabSize(), model.vocabSize()));
        this.fixedRowBytes = model.stateBytes(0);
        this.perTokenBytes = Math.max(0, model.stateBytes(1) - fixedRowBytes);
        this.queue = new ArrayBlockingQueue<>(opts.queueCapacity());
        this.thread = new Thread(this::loop, "quarry-scheduler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public void setFaultInjector(Consumer<String> hook) { this.faultInjector = hook; }

    // ------------------------------------------------------------------ submission (caller threads)

    public CompletableFuture<TaskResult> submit(Task task, TaskInput input) {
        CompletableFuture<TaskResult> f = new CompletableFuture<>();
        long now = System.nanoTime();
        if (closed) { f.completeExceptionally(closedError(input.id())); return f; }
        Sequence s;
        try {
            s = prepareTask(task, input, now, f);
        } catch (RecordException e) {
            failed.incrementAndGet();
            f.complete(TaskResult.failed(input.id(), task.name(), e.toError(), System.nanoTime() - now));
            return f;
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            f.complete(TaskResult.failed(input.id(), task.name(),
                    new EngineError(ErrorKind.ENGINE_FAILURE, "record '" + input.id() + "': " + e), System.nanoTime() - now));
            return f;
        }
        enqueue(s, f);
        return f;
    }

    public CompletableFuture<GenerationResult> generate(GenerationRequest r) {
        CompletableFuture<GenerationResult> f = new CompletableFuture<>();
        long now = System.nanoTime();
        if (closed) { f.completeExceptionally(closedError(r.id())); return f; }
        int[] ids = r.promptIds().clone();
        if (ids.length == 0) {
            f.complete(GenerationResult.failed(r.id(), new EngineError(ErrorKind.EMPTY_INPUT, "request '" + r.id() + "' has no prompt ids")));
            return f;
        }
        for (int id : ids) {
            if (id < 0 || id >= model.vocabSize()) {
                f.complete(GenerationResult.failed(r.id(), new EngineError(ErrorKind.INVALID_RECORD,
                        "request '" + r.id() + "': token id " + id + " is outside the vocabulary [0, " + model.vocabSize() + ")")));
                return f;
            }
        }
        if (ids.length > opts.maxSequenceLength() - 1) {
            if (!opts.truncateInput()) {
                f.complete(GenerationResult.failed(r.id(), new EngineError(ErrorKind.INPUT_TOO_LONG, "request '" + r.id() + "': "
                        + ids.length + " prompt tokens exceed the maximum sequence length " + opts.maxSequenceLength() + " - 1")));
                return f;
            }
            ids = Arrays.copyOfRange(ids, ids.length - (opts.maxSequenceLength() - 1), ids.length);
        }
        int maxNew = Math.min(r.sampling().maxNewTokens(), opts.maxSequenceLength() - ids.length);
        long bytes = model.stateBytes(ids.length + maxNew);
        if (bytes > opts.stateBudgetBytes()) {
            f.complete(GenerationResult.failed(r.id(), new EngineError(ErrorKind.INPUT_TOO_LONG, "request '" + r.id()
                    + "' needs " + bytes + " state bytes, above the budget " + opts.stateBudgetBytes())));
            return f;
        }
        Sequence s = new Sequence(Sequence.Kind.GENERATE, r.id(), null, null, null, new int[0], ids, r.sampling(),
                r.sampling().seed(), maxNew, r.returnLogits(), now, deadline(now), bytes, f);
        enqueue(s, f);
        return f;
    }

    private long deadline(long now) {
        return opts.requestTimeout().isZero() ? Long.MAX_VALUE : now + opts.requestTimeout().toNanos();
    }

    private void enqueue(Sequence s, CompletableFuture<?> f) {
        // A callback of an engine future runs on the scheduler thread; blocking it on a full queue would wait for
        // itself to drain the queue, forever. There a full queue rejects, whatever the policy.
        boolean schedulerThread = Thread.currentThread() == thread;
        if (opts.queueFullPolicy() == BatchingOptions.QueueFullPolicy.FAIL_FAST || schedulerThread) {
            if (!queue.offer(s)) {
                f.completeExceptionally(new RejectedExecutionException("record '" + s.id
                        + "' rejected: engine queue is full (" + opts.queueCapacity() + " requests waiting)"
                        + (schedulerThread ? "; submitted from a callback on the engine's scheduler thread, which cannot"
                                + " wait for room (complete the chain async, e.g. thenComposeAsync)" : "")));
            }
        } else {
            try {
                while (!queue.offer(s, 100, TimeUnit.MILLISECONDS)) {
                    if (closed) { f.completeExceptionally(closedError(s.id)); return; }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                f.completeExceptionally(e);
                return;
            }
        }
        if (closed && queue.remove(s)) f.completeExceptionally(closedError(s.id));
    }

    private static IllegalStateException closedError(String id) {
        return new IllegalStateException("engine is closed: record '" + id + "' was not run");
    }

    TaskPrompter prompter(Task task) {
        TaskPrompter p = prompters.get(task);
        if (p == null) {
            p = TaskPrompter.of(task, codec);
            prompters.put(task, p);
        }
        return p;
    }

    private Sequence prepareTask(Task task, TaskInput in, long now, CompletableFuture<TaskResult> f) throws RecordException {
        TaskPrompter p = prompter(task);
        int[] prefix = p.prefixIds();
        int[] suffix = p.suffixIds(in);
        SamplingParams sampling;
        Sequence.Kind kind;
        if (task instanceof SummarizeTask t) { sampling = t.sampling(); kind = Sequence.Kind.TASK_GENERATE; }
        else if (task instanceof PromptTask t) { sampling = t.sampling(); kind = Sequence.Kind.TASK_GENERATE; }
        else if (task instanceof ExtractTask t) { sampling = t.sampling(); kind = Sequence.Kind.EXTRACT; }
        else { sampling = SamplingParams.greedy(); kind = Sequence.Kind.CLASSIFY; }
        int[][] labelIds = null;
        int reserveNew;
        if (kind == Sequence.Kind.CLASSIFY) {
            List<ClassifyTask.Label> labels = ((ClassifyTask) task).labels();
            labelIds = new int[labels.size()][];
            int longest = 0;
            for (int i = 0; i < labels.size(); i++) {
                int[] t = codec.encode(labels.get(i).name());
                labelIds[i] = Arrays.copyOf(t, t.length + 1);
                labelIds[i][t.length] = codec.eosTokenId();
                longest = Math.max(longest, labelIds[i].length);
            }
            reserveNew = longest;
        } else {
            reserveNew = sampling.maxNewTokens();
        }
        int maxLen = opts.maxSequenceLength();
        int total = prefix.length + suffix.length;
        int need = kind == Sequence.Kind.EXTRACT || kind == Sequence.Kind.CLASSIFY ? reserveNew : 1;
        if (total + need > maxLen) {
            if (!opts.truncateInput()) {
                throw new RecordException(ErrorKind.INPUT_TOO_LONG, "record '" + in.id() + "': prompt of " + total
                        + " tokens (+" + need + " to generate) exceeds the maximum sequence length " + maxLen);
            }
            int room = maxLen - prefix.length - Math.max(need, Math.min(reserveNew, maxLen / 4));
            if (room < 1) throw new RecordException(ErrorKind.INPUT_TOO_LONG, "record '" + in.id()
                    + "': the task prefix alone (" + prefix.length + " tokens) leaves no room in " + maxLen);
            suffix = p.truncatedSuffixIds(in, room);
            total = prefix.length + suffix.length;
        }
        int maxNew = Math.min(reserveNew, maxLen - total);
        long bytes = model.stateBytes(total + (kind == Sequence.Kind.CLASSIFY ? reserveNew : maxNew));
        if (kind == Sequence.Kind.CLASSIFY) { // the row's state plus what scoring its label forks takes
            for (int[] lab : labelIds) bytes += model.forkBytes(lab.length - 1, total);
        }
        if (bytes > opts.stateBudgetBytes()) {
            throw new RecordException(ErrorKind.INPUT_TOO_LONG, "record '" + in.id() + "' needs " + bytes
                    + " state bytes, above the budget " + opts.stateBudgetBytes());
        }
        Sequence s = new Sequence(kind, in.id(), task, in, p, prefix, suffix, sampling, in.seed(), maxNew, false, now,
                deadline(now), bytes, f);
        s.labelIds = labelIds;
        if (kind == Sequence.Kind.EXTRACT) s.cursor = constraint((ExtractTask) task).start();
        return s;
    }

    private JsonConstraint constraint(ExtractTask t) {
        return constraints.computeIfAbsent(t, k -> new JsonConstraint(k.grammar(), trie()));
    }

    private JsonOutput output(ExtractTask t) {
        return outputs.computeIfAbsent(t, k -> new JsonOutput(k.schema(), k.spec()));
    }

    /** Token texts of the vocabulary, once per engine (tokens that decode to partial UTF-8 are left out). */
    private TokenTrie trie() {
        TokenTrie t = trie;
        if (t == null) {
            synchronized (this) {
                t = trie;
                if (t == null) {
                    int n = Math.min(codec.decodableVocabSize(), model.vocabSize());
                    byte[][] bytes = null;
                    if (tokenizerJson != null) {
                        try {
                            bytes = dev.quarry.engine.internal.decode.json.ByteLevelVocabulary.read(tokenizerJson, n);
                        } catch (java.io.IOException | RuntimeException e) {
                            LOG.warn("cannot read token bytes from {}; using decoded token texts", tokenizerJson, e);
                        }
                    }
                    if (bytes != null) {
                        t = new TokenTrie(bytes, codec.eosTokenId());
                    } else {
                        String[] texts = new String[n];
                        for (int id = 0; id < n; id++) texts[id] = codec.decode(new int[] {id});
                        t = TokenTrie.fromTexts(texts, codec.eosTokenId());
                    }
                    trie = t;
                }
            }
        }
        return t;
    }

    // ------------------------------------------------------------------ stats

    public EngineStats stats() {
        return new EngineStats(promptTokens.get(), generatedTokens.get(), completed.get(), failed.get(),
                queue.size() + waitingSize, activeCount, opts.maxActiveSequences(), stateBytes, steps.get(),
                decodedRows.get(), decodeNanos.get());
    }

    private volatile int waitingSize;
    /** Prefix states in use by the arrivals being prefilled: never evicted below this count. */
    private int pinned;

    /** Extract tasks whose constraint (token masks) and output checker are cached. */
    public int cachedExtractTasks() {
        return Math.max(constraints.size(), outputs.size());
    }

    public int cachedPrefixes() {
        synchronized (prefixCache) { return prefixCache.size(); }
    }

    // ------------------------------------------------------------------ the loop (scheduler thread)

    private void loop() {
        while (!closed) {
            try {
                iterate();
            } catch (Throwable t) {
                LOG.error("scheduler iteration failed; failing the active sequences", t);
                failAll(active, "scheduler failure: " + t);
                failAll(chunking, "scheduler failure: " + t);
                chunking.forEach(SchedulerCore::dropPartial);
                chunking.clear();
                active.clear();
                closeActiveState();
            }
        }
        shutdown();
        if (closeModelOnExit) model.close();
    }

    private void iterate() throws InterruptedException {
        if (active.isEmpty() && waiting.isEmpty() && chunking.isEmpty()) {
            Sequence s = queue.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS);
            if (s == null) return;
            waiting.add(s);
        }
        long now = System.nanoTime();
        dropFinishedWaiting(now);
        // waiting holds at most queueCapacity requests; the rest stay in the bounded queue, so a full queue
        // blocks (BLOCK) or rejects (FAIL_FAST) new submissions instead of waiting growing without bound
        queue.drainTo(waiting, Math.max(0, opts.queueCapacity() - waiting.size()));
        dropFinishedQueued(now);
        dropFinishedWaiting(now);
        dropFinishedChunking(now);
        dropFinishedActive(now);
        int used = chunkStep(opts.maxPrefillTokens()); // long prompts admitted earlier go first
        List<Sequence> admitted = admit(opts.maxPrefillTokens() - used);
        waitingSize = waiting.size();
        if (!admitted.isEmpty()) prefillArrivals(admitted);
        if (!active.isEmpty()) decodeStep();
        activeCount = active.size() + chunking.size();
        stateBytes = activeState == null ? 0 : activeState.bytes();
    }

    private void dropFinishedWaiting(long now) {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.future.isDone()) { it.remove(); continue; }
            if (now > s.deadlineNanos) { it.remove(); completeTimeout(s); }
        }
    }

    /** Cancelled and timed-out requests still in the hand-off queue (it is not drained while waiting is full). */
    private void dropFinishedQueued(long now) {
        if (queue.isEmpty()) return;
        for (var it = queue.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.future.isDone()) { it.remove(); continue; }
            if (now > s.deadlineNanos) { it.remove(); completeTimeout(s); }
        }
    }

    private void dropFinishedChunking(long now) {
        for (var it = chunking.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.future.isDone()) { it.remove(); dropPartial(s); release(s); continue; }
            if (now > s.deadlineNanos) { it.remove(); dropPartial(s); completeTimeout(s); }
        }
    }

    private void dropFinishedActive(long now) {
        List<Integer> keep = new ArrayList<>();
        boolean changed = false;
        for (int i = 0; i < active.size(); i++) {
            Sequence s = active.get(i);
            if (s.future.isDone()) { changed = true; continue; }
            if (now > s.deadlineNanos) { changed = true; completeTimeout(s); continue; }
            keep.add(i);
        }
        if (changed) retain(keep);
    }

    /**
     * Admits waiting requests in arrival order while the budgets hold. A prompt longer than
     * {@code maxPrefillTokens} goes to {@link #chunking} (prefilled over the next iterations); the others
     * are returned, to be prefilled together now within {@code budget} tokens (the first one always fits).
     */
    private List<Sequence> admit(int budget) {
        List<Sequence> out = new ArrayList<>();
        int prefillTokens = 0;
        while (!waiting.isEmpty()) {
            Sequence s = waiting.peek();
            int live = active.size() + chunking.size() + out.size();
            if (live + 1 > opts.maxActiveSequences() && live > 0) break;
            long need = Math.max(reservedBytes + s.reservedBytes, poolEstimate(out, s));
            if (need > opts.stateBudgetBytes() && live > 0) break;
            int cost = s.suffixIds.length;
            boolean chunked = cost > opts.maxPrefillTokens();
            if (!chunked && prefillTokens + cost > budget && !out.isEmpty()) break;
            waiting.poll();
            reservedBytes += s.reservedBytes;
            s.reserved = true;
            if (chunked) {
                chunking.add(s);
            } else {
                prefillTokens += cost;
                out.add(s);
            }
        }
        return out;
    }

    /**
     * State bytes once {@code s} and {@code arrivals} join the live sequences: the slot pool is rectangular
     * (every row gets the K/V columns of the longest row), so it is rows x (fixed per-row state + the
     * longest reserved length x per-token state); classify rows are transient (their forks live only
     * during the prefill step) and count with their own reservation.
     */
    private long poolEstimate(List<Sequence> arrivals, Sequence s) {
        int rows = 0;
        int longest = 0;
        long transientBytes = 0;
        List<List<Sequence>> groups = List.of(active, chunking, arrivals, List.of(s));
        for (List<Sequence> g : groups) {
            for (Sequence q : g) {
                if (q.kind == Sequence.Kind.CLASSIFY) { transientBytes += q.reservedBytes; continue; }
                rows++;
                longest = Math.max(longest, q.promptLength() + q.maxNewTokens);
            }
        }
        return rows * (fixedRowBytes + longest * perTokenBytes) + transientBytes;
    }

    /** Prefills the arrivals (suffixes over forked prefix states), scores classify rows, samples first tokens. */
    private void prefillArrivals(List<Sequence> arrivals) {
        // group rows by prefix so each group forks one cached state
        LinkedHashMap<PrefixKey, List<Sequence>> groups = new LinkedHashMap<>();
        for (Sequence s : arrivals) groups.computeIfAbsent(new PrefixKey(s.prefixIds), k -> new ArrayList<>()).add(s);
        pinned = groups.size();
        List<Sequence> rows = new ArrayList<>();
        List<BatchState> parts = new ArrayList<>();
        BatchState fresh = null;
        try {
            try (NDManager step = NDManager.newBaseManager()) {
                prefillPrefixes(groups.keySet(), step);
                for (var e : groups.entrySet()) {
                    List<Sequence> g = e.getValue();
                    if (e.getKey().ids.length == 0) {
                        parts.add(model.emptyState(g.size()));
                    } else {
                        BatchState p = prefixState(e.getKey(), step);
                        parts.add(p.forkForPrefill(g.size()));
                    }
                    rows.addAll(g);
                }
                fresh = parts.size() == 1 ? parts.get(0) : model.concat(parts);
                if (parts.size() > 1) parts.forEach(BatchState::close);
                parts.clear();
                int[][] ids = new int[rows.size()][];
                for (int i = 0; i < rows.size(); i++) {
                    ids[i] = rows.get(i).suffixIds;
                    promptTokens.addAndGet(ids[i].length);
                }
                NDArray logits = model.prefill(step, ids, fresh).toType(DataType.FLOAT32, false);
                steps.incrementAndGet();
                BatchState f = fresh;
                fresh = null;
                completePrefill(step, rows, f, logits);
            }
            pinned = 0;
            trimPrefixCache();
        } catch (RuntimeException e) {
            pinned = 0;
            LOG.warn("prefill of {} arrivals failed", arrivals.size(), e);
            parts.forEach(BatchState::close);
            if (fresh != null) fresh.close();
            for (Sequence s : arrivals) {
                if (!s.future.isDone() && !active.contains(s)) fail(s, ErrorKind.ENGINE_FAILURE, "prefill failed: " + e);
            }
        }
    }

    /**
     * After the prompt of {@code rows} is prefilled into {@code fresh} (row i = rows[i], {@code logits} at
     * each row's last token): classify rows are scored and complete, the others sample their first token,
     * and those that go on are copied into free slots of the pool. Always closes {@code fresh}.
     */
    private void completePrefill(NDManager step, List<Sequence> rows, BatchState fresh, NDArray logits) {
        BatchState kept = null;
        try {
            // classify rows: score labels on forks, complete now
            List<Integer> cls = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) if (rows.get(i).kind == Sequence.Kind.CLASSIFY) cls.add(i);
            if (!cls.isEmpty()) classify(step, rows, cls, logits, fresh);
            // generation rows: first token
            List<Integer> keep = new ArrayList<>();
            float[][] rowLogits = needRows(rows, logits);
            int[] greedy = sampler.greedy(logits);
            for (int i = 0; i < rows.size(); i++) {
                Sequence s = rows.get(i);
                if (s.kind == Sequence.Kind.CLASSIFY) continue;
                if (s.future.isDone()) { release(s); continue; }
                if (processToken(s, greedy[i], rowLogits[i])) keep.add(i);
            }
            kept = keep.size() == rows.size() ? fresh : (keep.isEmpty() ? null : fresh.select(toArray(keep)));
            if (kept != null) {
                List<Sequence> keptSeqs = new ArrayList<>();
                for (int i : keep) keptSeqs.add(rows.get(i));
                if (activeState == null) activeState = model.newPool(initialSlots(keptSeqs.size()),
                        Math.max(opts.maxActiveSequences(), keptSeqs.size()));
                activeState.appendRows(kept); // copied into free slots; the live rows do not move
                active.addAll(keptSeqs);
            }
        } finally {
            if (kept != null && kept != fresh) kept.close();
            fresh.close();
        }
    }

    /**
     * Chunked prefill: the prompts longer than {@code maxPrefillTokens} (admitted into {@link #chunking},
     * in arrival order) advance by at most {@code budget} tokens in all, each on its own state (a fork of
     * its task prefix). A prompt whose last chunk is done completes like any arrival. The decode step of
     * the live sequences runs in the same iteration, so they keep going while a long prompt is read.
     *
     * @return prompt tokens prefilled
     */
    private int chunkStep(int budget) {
        int used = 0;
        while (!chunking.isEmpty() && used < budget) {
            Sequence s = chunking.get(0);
            int n = Math.min(budget - used, s.suffixIds.length - s.prefilled);
            try (NDManager step = NDManager.newBaseManager()) {
                if (s.partial == null) s.partial = forkPrefix(s.prefixIds, step);
                int[] chunk = Arrays.copyOfRange(s.suffixIds, s.prefilled, s.prefilled + n);
                NDArray logits = model.prefill(step, new int[][] {chunk}, s.partial).toType(DataType.FLOAT32, false);
                steps.incrementAndGet();
                promptTokens.addAndGet(n);
                s.prefilled += n;
                used += n;
                if (s.prefilled == s.suffixIds.length) {
                    chunking.remove(0);
                    BatchState st = s.partial;
                    s.partial = null;
                    completePrefill(step, List.of(s), st, logits);
                }
            } catch (RuntimeException e) {
                LOG.warn("chunked prefill of '{}' failed", s.id, e);
                chunking.remove(s);
                dropPartial(s);
                if (!s.future.isDone() && !active.contains(s)) fail(s, ErrorKind.ENGINE_FAILURE, "prefill failed: " + e);
            }
        }
        if (used > 0) trimPrefixCache();
        return used;
    }

    /** A fresh one-row state continuing the task prefix (cached), or an empty one; its first chunk is prefilled next. */
    private BatchState forkPrefix(int[] prefixIds, NDManager step) {
        if (prefixIds.length == 0) return model.emptyState(1);
        return prefixState(new PrefixKey(prefixIds), step).forkForPrefill(1);
    }

    private static void dropPartial(Sequence s) {
        if (s.partial != null) {
            s.partial.close();
            s.partial = null;
        }
    }

    /** Prefills every prefix not in the cache, in ragged batches of at most maxPrefillTokens, and caches one state row each. */
    private void prefillPrefixes(java.util.Collection<PrefixKey> keys, NDManager step) {
        List<PrefixKey> missing = new ArrayList<>();
        synchronized (prefixCache) {
            for (PrefixKey k : keys) {
                if (k.ids.length > 0 && k.ids.length <= opts.maxPrefillTokens() && !prefixCache.containsKey(k)) missing.add(k);
            }
        }
        if (missing.size() < 2) return; // prefixState() handles a single one
        // in batches of at most maxPrefillTokens tokens, like suffixes (many distinct task prefixes arriving
        // together must not become one prefill of all of them: its temporaries grow with the tokens)
        int from = 0;
        while (from < missing.size()) {
            int to = from;
            long tokens = 0;
            while (to < missing.size() && (to == from || tokens + missing.get(to).ids.length <= opts.maxPrefillTokens())) {
                tokens += missing.get(to++).ids.length;
            }
            List<PrefixKey> batch = missing.subList(from, to);
            int[][] ids = new int[batch.size()][];
            for (int i = 0; i < ids.length; i++) ids[i] = batch.get(i).ids;
            try (BatchState st = model.emptyState(ids.length)) {
                model.prefill(step, ids, st);
                steps.incrementAndGet();
                for (int i = 0; i < ids.length; i++) {
                    promptTokens.addAndGet(ids[i].length);
                    cachePrefix(batch.get(i), st.select(new int[] {i}));
                }
            }
            from = to;
        }
    }

    private void trimPrefixCache() {
        cachePrefix(null, null);
    }

    private void cachePrefix(PrefixKey key, BatchState st) {
        synchronized (prefixCache) {
            if (key != null) {
                BatchState old = prefixCache.put(key, st);
                if (old != null && old != st) old.close();
            }
            while (prefixCache.size() > Math.max(PREFIX_CACHE_ENTRIES, pinned)) {
                var it = prefixCache.entrySet().iterator();
                BatchState o = it.next().getValue();
                it.remove();
                o.close();
            }
        }
    }

    private BatchState prefixState(PrefixKey key, NDManager step) {
        synchronized (prefixCache) {
            BatchState st = prefixCache.get(key);
            if (st != null) return st;
        }
        BatchState st = model.emptyState(1);
        try {
            int c = opts.maxPrefillTokens();
            for (int from = 0; from < key.ids.length; from += c) { // a long prefix in chunks (bounded temporaries)
                int[] part = from == 0 && key.ids.length <= c ? key.ids
                        : Arrays.copyOfRange(key.ids, from, Math.min(key.ids.length, from + c));
                try (NDManager chunk = step.newSubManager()) {
                    model.prefill(chunk, new int[][] {part}, st);
                }
                steps.incrementAndGet();
            }
            promptTokens.addAndGet(key.ids.length);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
        cachePrefix(key, st);
        return st;
    }

    /**
     * Label scoring: a label's first token is scored on its row's prompt logits, the rest on forks of the row's
     * state, all labels of all rows in one teacher-forced pass ({@link StepModel#scoreForks}: the forks read the
     * row's state, nothing is copied per label); the log-probs are summed per label.
     */
    private void classify(NDManager step, List<Sequence> rows, List<Integer> cls, NDArray logits, BatchState state) {
        int forks = 0; // labels per row in the pass: rows with fewer get idle forks
        for (int i : cls) forks = Math.max(forks, rows.get(i).labelIds.length);
        int[] src = toArray(cls);
        int f = cls.size() * forks;
        int[][] fed = new int[f][];
        int[][] target = new int[f][];
        int[] first = new int[f];
        int eos = codec.eosTokenId();
        for (int c = 0; c < cls.size(); c++) {
            int[][] labels = rows.get(cls.get(c)).labelIds;
            for (int l = 0; l < forks; l++) {
                int k = c * forks + l;
                // every label ends with end-of-text, so it has at least one token after the first
                int[] lab = l < labels.length ? labels[l] : new int[] {eos, eos};
                first[k] = lab[0];
                fed[k] = Arrays.copyOf(lab, lab.length - 1);
                target[k] = Arrays.copyOfRange(lab, 1, lab.length);
            }
        }
        double[] lp;
        int vocab = (int) Math.min(logits.getShape().get(1), Math.min(codec.decodableVocabSize(), model.vocabSize()));
        try (NDManager m = step.newSubManager()) {
            // first tokens: one log-softmax per classify row, picked per label
            NDArray own = logits.get(new NDIndex("{}", m.create(cls.stream().mapToLong(Integer::longValue).toArray())));
            NDArray logp = GraniteModel.logProbs(own, vocab);
            long[] flat = new long[f];
            for (int k = 0; k < f; k++) flat[k] = (long) (k / forks) * vocab + first[k];
            float[] p0 = logp.flatten().get(new NDIndex("{}", m.create(flat))).toFloatArray();
            lp = model.scoreForks(m, state, src, forks, fed, target, vocab);
            steps.incrementAndGet();
            for (int k = 0; k < f; k++) lp[k] += p0[k];
        } catch (RuntimeException e) {
            for (int i : cls) fail(rows.get(i), ErrorKind.ENGINE_FAILURE, "label scoring failed: " + e);
            return;
        }
        int k = 0;
        for (int i : cls) {
            Sequence s = rows.get(i);
            ClassifyTask task = (ClassifyTask) s.task;
            int n = s.labelIds.length;
            try {
                hook(s);
                double max = Double.NEGATIVE_INFINITY;
                for (int l = 0; l < n; l++) max = Math.max(max, lp[k + l]);
                double sum = 0;
                double[] p = new double[n];
                for (int l = 0; l < n; l++) { p[l] = Math.exp(lp[k + l] - max); sum += p[l]; }
                Map<String, Double> probs = new LinkedHashMap<>();
                int best = 0;
                for (int l = 0; l < n; l++) {
                    probs.put(task.labels().get(l).name(), p[l] / sum);
                    if (lp[k + l] > lp[k + best]) best = l;
                }
                int scored = 0;
                for (int[] lab : s.labelIds) scored += lab.length;
                generatedTokens.addAndGet(0);
                completeTask(s, new TaskResult(s.id, task.name(), null, task.labels().get(best).name(), probs, null, null,
                        s.promptLength(), scored, null, System.nanoTime() - s.submitNanos, null));
            } catch (RuntimeException e) {
                fail(s, ErrorKind.ENGINE_FAILURE, "classify failed: " + e);
            }
            k += forks; // row c's labels start at c * forks
        }
        for (int i : cls) release(rows.get(i));
    }

    private float[][] needRows(List<Sequence> rows, NDArray logits) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            Sequence s = rows.get(i);
            if (s.kind == Sequence.Kind.CLASSIFY) continue;
            if (!s.sampling.isGreedy() || s.cursor != null || s.returnLogits) out[i] = logits.get(i).toFloatArray();
        }
        return out;
    }

    private void decodeStep() {
        long t0 = System.nanoTime();
        try {
            decodeActive();
        } finally {
            decodeNanos.addAndGet(System.nanoTime() - t0);
        }
    }

    private void decodeActive() {
        int n = active.size();
        int[] last = new int[n];
        for (int i = 0; i < n; i++) last[i] = active.get(i).lastToken;
        List<Integer> keep = new ArrayList<>();
        try (NDManager step = NDManager.newBaseManager()) {
            NDArray logits;
            try {
                logits = model.decode(step, last, activeState).toType(DataType.FLOAT32, false);
            } catch (RuntimeException e) {
                LOG.warn("decode step over {} sequences failed", n, e);
                failAll(active, "decode failed: " + e);
                active.clear();
                closeActiveState();
                return;
            }
            steps.incrementAndGet();
            decodedRows.addAndGet(n);
            float[][] rowLogits = needRows(active, logits);
            int[] greedy = sampler.greedy(logits);
            for (int i = 0; i < n; i++) {
                Sequence s = active.get(i);
                if (s.future.isDone()) { release(s); continue; }
                if (processToken(s, greedy[i], rowLogits[i])) keep.add(i);
            }
        }
        if (keep.size() != n) retain(keep);
    }

    /** Samples and appends one token; returns true if the sequence goes on. Never throws. */
    private boolean processToken(Sequence s, int greedyId, float[] row) {
        try {
            hook(s);
            int id;
            BitSet allowed = s.cursor == null ? null : s.cursor.allowedSet();
            if (allowed != null && allowed.isEmpty()) {
                fail(s, ErrorKind.SCHEMA_VIOLATION, "record '" + s.id + "': no token of the vocabulary can continue '"
                        + s.cursor.text() + "' under the schema");
                return false;
            }
            if (row == null) id = greedyId;
            else id = sampler.pick(row, s.sampling, s.seed, s.generatedCount, allowed);
            if (s.returnLogits) s.lastLogits = row;
            if (s.cursor != null) s.cursor.accept(id);
            s.append(id);
            generatedTokens.incrementAndGet();
            FinishReason fin = null;
            if (s.cursor != null && s.cursor.isComplete()) fin = FinishReason.STRUCTURE_COMPLETE;
            else if (id == codec.eosTokenId() && !s.sampling.ignoreEos() && s.cursor == null) fin = FinishReason.EOS;
            else if (!s.sampling.stopStrings().isEmpty() && stopString(s)) fin = FinishReason.STOP_STRING;
            else if (s.generatedCount >= s.maxNewTokens) fin = FinishReason.LENGTH;
            else if (s.promptLength() + s.generatedCount >= opts.maxSequenceLength()) fin = FinishReason.LENGTH;
            if (fin == null) return true;
            s.finish = fin;
            finish(s);
            return false;
        } catch (RuntimeException e) {
            LOG.warn("request '{}' failed", s.id, e);
            fail(s, ErrorKind.ENGINE_FAILURE, "record '" + s.id + "': " + e);
            return false;
        }
    }

    private boolean stopString(Sequence s) {
        String text = codec.decode(s.generatedIds());
        int cut = -1;
        for (String stop : s.sampling.stopStrings()) {
            int at = text.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut < 0) return false;
        s.stoppedText = text.substring(0, cut);
        return true;
    }

    private void hook(Sequence s) {
        Consumer<String> h = faultInjector;
        if (h != null) h.accept(s.id);
    }

    @SuppressWarnings("unchecked")
    private void finish(Sequence s) {
        int[] ids = s.generatedIds();
        if (s.kind == Sequence.Kind.GENERATE) {
            String text = s.stoppedText != null ? s.stoppedText : codec.decode(ids);
            completed.incrementAndGet();
            ((CompletableFuture<GenerationResult>) s.future).complete(
                    new GenerationResult(s.id, ids, text, s.finish, s.promptLength(), s.lastLogits, null));
            release(s);
            return;
        }
        long latency = System.nanoTime() - s.submitNanos;
        if (s.kind == Sequence.Kind.EXTRACT) {
            ExtractTask t = (ExtractTask) s.task;
            String json = s.cursor.text();
            JsonOutput out = output(t);
            String bad = s.cursor.isComplete() ? out.violations(json) : "generation ended before the JSON was complete";
            if (bad != null) {
                fail(s, ErrorKind.SCHEMA_VIOLATION, "record '" + s.id + "': output " + json + " violates the schema: " + bad);
                return;
            }
            completeTask(s, new TaskResult(s.id, t.name(), null, null, null, json, out.typedFields(json), s.promptLength(),
                    ids.length, s.finish, latency, null));
            return;
        }
        String text = s.stoppedText != null ? s.stoppedText : codec.decode(ids);
        completeTask(s, new TaskResult(s.id, s.task.name(), text, null, null, null, null, s.promptLength(), ids.length,
                s.finish, latency, null));
    }

    @SuppressWarnings("unchecked")
    private void completeTask(Sequence s, TaskResult r) {
        completed.incrementAndGet();
        ((CompletableFuture<TaskResult>) s.future).complete(r);
        release(s);
    }

    private void release(Sequence s) {
        if (!s.reserved) return;
        s.reserved = false;
        reservedBytes -= s.reservedBytes;
    }

    @SuppressWarnings("unchecked")
    private void fail(Sequence s, ErrorKind kind, String msg) {
        // a failure of a whole model call (prefill, decode, scoring) names each record it fails
        if (!msg.startsWith("record '") && !msg.startsWith("request '")) msg = "record '" + s.id + "': " + msg;
        EngineError err = new EngineError(kind, msg);
        boolean done;
        if (s.kind == Sequence.Kind.GENERATE) {
            done = ((CompletableFuture<GenerationResult>) s.future).complete(GenerationResult.failed(s.id, err));
        } else {
            done = ((CompletableFuture<TaskResult>) s.future).complete(
                    TaskResult.failed(s.id, s.task.name(), err, System.nanoTime() - s.submitNanos));
        }
        if (done) failed.incrementAndGet();
        release(s);
    }

    private void completeTimeout(Sequence s) {
        fail(s, ErrorKind.TIMEOUT, "record '" + s.id + "' timed out after " + opts.requestTimeout());
    }

    private void failAll(List<Sequence> seqs, String msg) {
        for (Sequence s : new ArrayList<>(seqs)) if (!s.future.isDone()) fail(s, ErrorKind.ENGINE_FAILURE, msg);
    }

    /**
     * Keeps only those active rows (indices into {@link #active}, ascending). Leaving rows are removed from
     * the slot pool from the highest index down: each hole is refilled by the last row (in place), and
     * {@link #active} mirrors the move, so only leaving rows' slots and the moved rows are touched.
     */
    private void retain(List<Integer> keep) {
        boolean[] stays = new boolean[active.size()];
        for (int i : keep) stays[i] = true;
        for (int i = active.size() - 1; i >= 0; i--) {
            if (stays[i]) continue;
            release(active.get(i));
            int last = active.size() - 1;
            if (activeState != null) activeState.removeRow(i);
            active.set(i, active.get(last));
            active.remove(last);
        }
    }

    /** Slots of a new pool: enough for the first rows, at least 8, at most {@code maxActiveSequences} (it doubles when needed). */
    private int initialSlots(int rows) {
        return Math.max(rows, Math.min(opts.maxActiveSequences(), 8));
    }

    private void closeActiveState() {
        if (activeState != null) activeState.close();
        activeState = null;
    }

    private static int[] toArray(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return a;
    }

    // ------------------------------------------------------------------ shutdown

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (Thread.currentThread() == thread) {
            // called from a future callback on the scheduler thread: the loop ends after this iteration and
            // closes the model itself (joining would wait for this very thread, then free the model under it)
            closeModelOnExit = true;
            return;
        }
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) LOG.warn("scheduler thread did not stop within 60 s");
        model.close();
    }

    private void shutdown() {
        List<Sequence> pending = new ArrayList<>(active);
        pending.addAll(chunking);
        pending.addAll(waiting);
        chunking.forEach(SchedulerCore::dropPartial);
        chunking.clear();
        queue.drainTo(pending);
        for (Sequence s : pending) {
            s.future.completeExceptionally(new IllegalStateException("engine closed before record '" + s.id + "' completed"));
        }
        active.clear();
        waiting.clear();
        closeActiveState();
        synchronized (prefixCache) {
            prefixCache.values().forEach(BatchState::close);
            prefixCache.clear();
        }
        activeCount = 0;
        stateBytes = 0;
    }

    /** Prefix token ids as a map key. */
    static final class PrefixKey {
        final int[] ids;
        final int hash;

        PrefixKey(int[] ids) { this.ids = ids; this.hash = Arrays.hashCode(ids); }

        @Override
        public boolean equals(Object o) { return o instanceof PrefixKey k && Arrays.equals(ids, k.ids); }

        @Override
        public int hashCode() { return hash; }
    }
}
