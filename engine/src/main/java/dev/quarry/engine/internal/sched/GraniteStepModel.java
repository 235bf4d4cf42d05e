package dev.quarry.engine.internal.sched;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.quarry.engine.internal.model.GraniteModel;
import dev.quarry.engine.internal.model.ModelState;
import java.util.ArrayList;
import java.util.List;

/** {@link StepModel} over the real {@link GraniteModel}; states are {@link ModelState}s. Owns the model. */
public final class GraniteStepModel implements StepModel {
    private final GraniteModel model;

    public GraniteStepModel(GraniteModel model) {
        this.model = model;
    }

    public GraniteModel model() { return model; }

    @Override
    public int vocabSize() { return model.config().vocabSize; }

    @Override
    public BatchState emptyState(int batch) { return new State(model.emptyState(batch)); }

    @Override
    public NDArray prefill(NDManager step, int[][] ids, BatchState state) {
        return model.prefill(step, ids, ((State) state).state);
    }

    @Override
    public NDArray decode(NDManager step, int[] ids, BatchState state) {
        return model.decode(step, ids, ((State) state).state);
    }

    @Override
    public double[] scoreTargets(NDManager step, int[][] ids, int[][] targets, BatchState state, int vocab) {
        return model.scoreTargets(step, ids, targets, ((State) state).state, vocab);
    }

    @Override
    public double[] scoreForks(NDManager step, BatchState state, int[] rows, int forks, int[][] ids, int[][] targets, int vocab) {
        return model.scoreForks(step, ((State) state).state, rows, forks, ids, targets, vocab);
    }

    @Override
    public long forkBytes(int forkTokens, int contextTokens) { return model.forkBytes(forkTokens, contextTokens); }

    @Override
    public BatchState newPool(int rowCapacity, int maxRows) { return new State(ModelState.pool(model, rowCapacity, maxRows)); }

    @Override
    public BatchState concat(List<BatchState> parts) {
        List<ModelState> s = new ArrayList<>(parts.size());
        for (BatchState p : parts) s.add(((State) p).state);
        return new State(ModelState.concat(s));
    }

    @Override
    public long stateBytes(int tokens) { return model.stateBytes(tokens); }

    @Override
    public void close() { model.close(); }

    /** A {@link ModelState} as a {@link BatchState}. */
    public static final class State implements BatchState {
        final ModelState state;

        State(ModelState state) { this.state = state; }

        public ModelState modelState() { return state; }

        @Override
        public int batchSize() { return state.batchSize(); }

        @Override
        public long bytes() { return state.bytes(); }

        @Override
        public BatchState select(int[] rows) { return new State(state.select(rows)); }

        @Override
        public BatchState forkForPrefill(int n) { return new State(state.forkForPrefill(n)); }

        @Override
        public void appendRows(BatchState src) { state.appendRows(((State) src).state); }

        @Override
        public void removeRow(int row) { state.removeRow(row); }

        @Override
        public void close() { state.close(); }
    }
}
