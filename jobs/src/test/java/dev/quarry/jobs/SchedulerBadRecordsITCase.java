package dev.quarry.jobs;

/**
 * {@link BadRecordsITCase} through the real engine scheduler (continuous batching, task prompts, DJL) on
 * the toy model: empty and too-long texts are judged by the engine itself.
 */
class SchedulerBadRecordsITCase extends BadRecordsITCase {
    @Override
    protected EngineFactory engines() {
        return SchedulerEngine.factory();
    }

    @Override
    protected String tooLongText() {
        return "word ".repeat(600);   // 3000 characters = 3000 toy tokens > the test's 256-token sequence limit
    }
}
