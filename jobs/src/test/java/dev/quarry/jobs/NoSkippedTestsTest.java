package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No test of any module can skip itself: no JUnit assumptions, no {@code @Disabled}, no conditional execution.
 * The real-engine and broker ITCases used to skip when the engine could not load, which let a broken build
 * pass green; now a missing piece fails them.
 */
class NoSkippedTestsTest {
    static final Pattern SKIPPING = Pattern.compile(
            "Assumptions|\\bassume(True|False|That)\\s*\\(|assumingThat\\s*\\(|org\\.junit\\.Assume|"
                    + "@Disabled|@Enabled(If|On)\\w*|@Disabled(If|On)\\w*|@Ignore\\b");

    @Test
    void noTestSourceCanSkipItself() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.exists(root.resolve("pom.xml")) && Files.isDirectory(root.resolve("jobs")), "repository root: " + root);
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path m : modules.filter(p -> Files.isDirectory(p.resolve("src/test/java"))).toList()) {
                try (Stream<Path> s = Files.walk(m.resolve("src/test/java"))) {
                    s.filter(p -> p.toString().endsWith(".java")).forEach(sources::add);
                }
            }
        }
        assertTrue(sources.stream().anyMatch(p -> p.endsWith("RealEngineJobsITCase.java"))
                && sources.stream().anyMatch(p -> p.endsWith("RealEngineInferenceITCase.java")), "scanned every module: " + sources.size());
        List<String> found = new ArrayList<>();
        for (Path p : sources) {
            if (p.endsWith("NoSkippedTestsTest.java")) continue;
            List<String> lines = Files.readAllLines(p);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = SKIPPING.matcher(lines.get(i));
                if (m.find()) found.add(root.relativize(p) + ":" + (i + 1) + ": " + lines.get(i).strip());
            }
        }
        assertEquals(List.of(), found, "tests that can skip themselves (make them fail instead)");
    }
}
