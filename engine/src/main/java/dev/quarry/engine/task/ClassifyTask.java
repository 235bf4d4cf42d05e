package dev.quarry.engine.task;

/** Placeholder; the real definition (builder, validation) lands with the tasks work. */
public final class ClassifyTask implements Task {
    @Override
    public String name() { return "classify"; }

    @Override
    public String describeDecoding() { return ""; }
}
