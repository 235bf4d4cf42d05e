package dev.quarry.jobs;


import java.nio.file.Path;

/** {@link BadRecordsITCase} through the real engine on a tiny checkpoint (empty and too-long texts are judged by the engine). */
class RealEngineBadRecordsITCase extends BadRecordsITCase {
    @Override
    protected EngineFactory engines() {
        return EngineFactory.real();
    }

    @Override
    protected Path modelDir(Path tmp) {
        return RealEngine.checkpoint(tmp.resolve("cache"));
    }

    @Override
    protected String tooLongText() {
        return "word ".repeat(600);   // > 256 tokens (the test's max sequence length)
    }
}
