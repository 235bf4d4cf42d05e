package dev.quarry.engine.task;

/** Placeholder; the real definition (builder, validation) lands with the tasks work. */
public final class PromptTask implements Task {
    @Override
    public String name() { return "prompt"; }

    @Override
    public String describeDecoding() { return ""; }
}
