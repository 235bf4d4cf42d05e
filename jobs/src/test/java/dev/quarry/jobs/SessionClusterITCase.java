package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultSchema.TaskKind;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real multi-process Flink session cluster: a JobManager and a TaskManager started as separate JVMs
 * from flink-runtime's entry points, with the third-party libraries (Flink, Kafka, Parquet, Arrow, DJL)
 * and quarry-engine + quarry-operators (which holds the engine registry) on their classpath as in a Flink
 * {@code lib/} folder, and the rest of Quarry (connectors, jobs) only in the job jar,
 * which is uploaded over REST the way {@code flink run} does (RestClusterClient). The bulk-score job
 * runs twice in a row on the same cluster.
 */
@Timeout(420)
class SessionClusterITCase {
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopCluster() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The test JVM's classpath entries (surefire may hide them behind a manifest-only jar). */
    static List<String> classpath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> out = new ArrayList<>(List.of(cp.split(File.pathSeparator)));
        if (out.size() == 1 && out.get(0).endsWith(".jar")) {
            try (JarFile j = new JarFile(out.get(0))) {
                String manifestCp = j.getManifest().getMainAttributes().getValue("Class-Path");
                out.clear();
                for (String u : manifestCp.split(" ")) if (!u.isBlank()) out.add(Path.of(URI.create(u)).toString());
            }
        }
        return out;
    }

    /** Quarry's own modules: class directories under {@code mvn test}, module jars under {@code mvn verify}. */
    static boolean isQuarryClasses(String entry) {
        Path p = Path.of(entry);
        String name = p.getFileName().toString();
        boolean inTarget = p.getParent() != null && p.getParent().getFileName().toString().equals("target");
        return inTarget && (name.equals("classes") || name.equals("test-classes") || (name.startsWith("quarry-") && name.endsWith(".jar")));
    }

    /** quarry-engine's and quarry-operators' main classes (directory or jar): they belong in Flink's lib/. */
    static boolean isParentSideQuarry(String entry) {
        if (!isQuarryClasses(entry)) return false;
        Path p = Path.of(entry);
        String name = p.getFileName().toString();
        String module = p.getParent().getParent() == null ? "" : p.getParent().getParent().getFileName().toString();
        if (name.equals("classes")) return module.equals("engine") || module.equals("operators");
        return name.matches("quarry-(engine|operators)-[^-]+(-SNAPSHOT)?\\.jar");
    }

    /** A job jar holding Quarry's compiled classes (engine, connectors, operators, jobs, and this test's fakes). */
    static Path jobJar(Path dir, List<String> quarryDirs) throws IOException {
        Path jar = dir.resolve("quarry-job.jar");
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os)) {
            HashSet<String> seen = new HashSet<>();
            for (String d : quarryDirs) {
                Path root = Path.of(d);
                if (d.endsWith(".jar") && Files.isRegularFile(root)) {
                    try (JarFile in = new JarFile(root.toFile())) {
                        for (JarEntry e : java.util.Collections.list(in.entries())) {
                            String name = e.getName();
                            if (e.isDirectory() || !(name.endsWith(".class") || name.startsWith("sample/")) || !seen.add(name)) continue;
                            out.putNextEntry(new JarEntry(name));
                            try (var is = in.getInputStream(e)) {
                                is.transferTo(out);
                            }
                            out.closeEntry();
                        }
                    }
                    continue;
                }
                if (!Files.isDirectory(root)) continue;   // a module without classes (yet)
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        String name = root.relativize(f).toString().replace(File.separatorChar, '/');
                        if (!name.endsWith(".class") && !name.startsWith("sample/")) continue;
                        if (!seen.add(name)) continue;
                        out.putNextEntry(new JarEntry(name));
                        Files.copy(f, out);
                        out.closeEntry();
                    }
                }
            }
        }
        return jar;
    }

    Process start(String mainClass, Path confDir, String cp, Path log) throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"), "-Dai.djl.offline=true", "-Dlog4j.configurationFile=" + confDir.resolve("log4j2.properties"),
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "-cp", cp, mainClass, "--configDir", confDir.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    static String get(int port, String path) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://localhost:" + port + path).toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(2000);
            try (var in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            return null;
        }
    }

    @Test
    void bulkScoreTwiceOnASessionClusterOfSeparateProcesses(@TempDir Path tmp) throws Exception {
        List<String> all = classpath();
        // Flink lib/ = the third-party libraries + quarry-engine and quarry-operators (main classes: the engine
        // registry must be loaded by the parent class loader); the job jar = everything else of Quarry
        List<String> quarry = all.stream().filter(e -> isQuarryClasses(e) && !isParentSideQuarry(e)).toList();
        List<String> lib = all.stream().filter(e -> !isQuarryClasses(e) || isParentSideQuarry(e)).toList();
        assertFalse(quarry.isEmpty(), "found Quarry's class directories on " + all);
        assertEquals(2, lib.stream().filter(SessionClusterITCase::isParentSideQuarry).count(), "engine + operators on the cluster classpath: " + lib);
        Path jar = jobJar(tmp, quarry);

        int rest = freePort();
        int rpc = freePort();
        Path conf = tmp.resolve("conf");
        Files.createDirectories(conf);
        Files.writeString(conf.resolve("config.yaml"), String.join("\n",
                "jobmanager.rpc.address: localhost", "jobmanager.rpc.port: " + rpc, "jobmanager.bind-host: localhost",
                "rest.address: localhost", "rest.bind-address: localhost", "rest.port: " + rest,
                "taskmanager.host: localhost", "taskmanager.bind-host: localhost", "taskmanager.numberOfTaskSlots: 2",
                "jobmanager.memory.process.size: 768m",
                // what Flink's start scripts would compute and pass to the TaskManager as dynamic properties
                "taskmanager.cpu.cores: 2", "taskmanager.memory.framework.heap.size: 128m", "taskmanager.memory.framework.off-heap.size: 128m",
                "taskmanager.memory.task.heap.size: 384m", "taskmanager.memory.task.off-heap.size: 0m",
                "taskmanager.memory.network.min: 64m", "taskmanager.memory.network.max: 64m", "taskmanager.memory.managed.size: 64m",
                "taskmanager.memory.jvm-metaspace.size: 256m", "taskmanager.memory.jvm-overhead.min: 192m", "taskmanager.memory.jvm-overhead.max: 192m",
                "security.delegation.tokens.enabled: false",
                // Hadoop is on the classpath only for Parquet; keep Flink's Hadoop security module out of it
                "security.module.factory.classes: org.apache.flink.runtime.security.modules.JaasModuleFactory",
                "security.context.factory.classes: org.apache.flink.runtime.security.contexts.NoOpSecurityContextFactory", "io.tmp.dirs: " + tmp.resolve("io"), ""));
        String libCp = String.join(File.pathSeparator, lib);
        Files.writeString(Path.of(System.getProperty("java.io.tmpdir"), "session-cluster-classpath.txt"), libCp);
        Files.writeString(conf.resolve("log4j2.properties"), String.join("\n", "rootLogger.level = INFO",
                "rootLogger.appenderRef.console.ref = console", "appender.console.type = Console", "appender.console.name = console",
                "appender.console.layout.type = PatternLayout", "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n", ""));
        start("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", conf, libCp, tmp.resolve("jobmanager.log"));
        start("org.apache.flink.runtime.taskexecutor.TaskManagerRunner", conf, libCp, tmp.resolve("taskmanager.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        String overview = null;
        while (System.nanoTime() < deadline) {
            overview = get(rest, "/overview");
            if (overview != null && overview.contains("\"taskmanagers\":1")) break;
            Thread.sleep(500);
        }
        assertTrue(overview != null && overview.contains("\"taskmanagers\":1"),
                "cluster up with one TaskManager: " + overview + "\nJM log:\n" + tail(tmp.resolve("jobmanager.log"))
                        + "\nTM log:\n" + tail(tmp.resolve("taskmanager.log")));

        Path in = BulkScoreJobITCase.writeInput(tmp.resolve("in"), 400);
        // DJL and its PyTorch natives are on the cluster classpath (lib/) and load once in the TaskManager JVM;
        // the second job must find the natives (and the engine registry) already loaded and still work. The real
        // Granite model on a tiny generated checkpoint runs DJL NDArray ops in the TaskManager.
        Path model = RealEngine.checkpoint(tmp.resolve("cache"));
        EngineFactory engines = EngineFactory.real();
        for (int run = 1; run <= 2; run++) {
            ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).maxNewTokens(4).modelDir(model).build();
            BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out" + run).toString())
                    .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec).parallelism(2)
                    .checkpointInterval(Duration.ofMillis(500)).build();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment("localhost", rest,
                    BulkScoreJob.configuration(o), jar.toString());
            BulkScoreJob.build(env, o, engines, null);
            env.execute("bulk-score on a session cluster #" + run);
            long rows = ResultFiles.stats(new org.apache.flink.core.fs.Path(o.output)).rows()
                    + ResultFiles.stats(new org.apache.flink.core.fs.Path(o.errors)).rows();
            assertEquals(400, rows, "run " + run + " wrote every row");
            var sample = ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 1).get(0);
            assertTrue(((Integer) sample.get("generated_tokens")) >= 1, "the engine generated text in run " + run + ": " + sample);
        }
        String tmLog = Files.readString(tmp.resolve("taskmanager.log"));
        assertTrue(tmLog.contains("Quarry engine registry: loading the engine") && tmLog.contains("registry class loader: jdk.internal.loader.ClassLoaders$AppClassLoader"),
                "the engine registry lives in the TaskManager's parent class loader (Flink lib/), not in a job's: " + tail(tmp.resolve("taskmanager.log")));
        String jobs = get(rest, "/jobs/overview");
        assertTrue(jobs != null && jobs.split("\"state\":\"FINISHED\"", -1).length - 1 == 2, "two finished jobs: " + jobs);
    }

    static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() < 5000 ? s : s.substring(s.length() - 5000);
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
