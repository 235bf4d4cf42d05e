package dev.quarry.engine.task;

/** Placeholder; the real definition (builder, validation) lands with the tasks work. */
public final class ExtractTask implements Task {
    @Override
    public String name() { return "extract"; }

    @Override
    public String describeDecoding() { return ""; }
}
