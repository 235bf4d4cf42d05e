package dev.quarry.jobs;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;

/** {@link BadRecordsITCase} through the real engine on a tiny checkpoint (empty and too-long texts are judged by the engine). */
class RealEngineBadRecordsITCase extends BadRecordsITCase {
    @BeforeAll
    static void engineAvailable() {
        assumeTrue(RealEngine.available(), "checkpoint maker not in this build yet");
    }

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
