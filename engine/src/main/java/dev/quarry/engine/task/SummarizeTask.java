package dev.quarry.engine.task;

/** Placeholder; the real definition (builder, validation) lands with the tasks work. */
public final class SummarizeTask implements Task {
    @Override
    public String name() { return "summarize"; }

    @Override
    public String describeDecoding() { return ""; }
}
