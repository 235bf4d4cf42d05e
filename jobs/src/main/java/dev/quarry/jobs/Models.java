package dev.quarry.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Resolves {@code --model DIR} / {@code --preset NAME} to a checkpoint directory. */
public final class Models {
    /** Built-in checkpoints are generated here unless {@code --cache-dir} or {@code QUARRY_CACHE} says otherwise. */
    public static final Path DEFAULT_CACHE = Path.of(System.getProperty("user.home"), ".cache", "quarry");
    public static final String CACHE_ENV = "QUARRY_CACHE";
    public static final long DEFAULT_SEED = 0L;

    private Models() {}

    public static Path defaultCache() {
        String env = System.getenv(CACHE_ENV);
        return env != null && !env.isBlank() ? Path.of(env) : DEFAULT_CACHE;
    }

    /** A model directory: {@code model} when given (checked), else the preset's random-weight checkpoint (generated once). */
    public static Path resolve(Path model, String preset, long seed, Path cacheDir) {
        if (model != null) {
            requireCheckpoint(model, "--model");
            return model;
        }
        if (preset == null) throw new IllegalArgumentException("give --model DIR or --preset NAME");
        return preset(preset, seed, cacheDir == null ? defaultCache() : cacheDir);
    }

    /**
     * Fails with a one-line message naming {@code flag}, the directory and the missing file when {@code dir} is not a
     * checkpoint the engine can load (config.json, tokenizer.json, model.safetensors or its shards): checked before a
     * job starts, where the engine would otherwise fail each task attempt.
     */
    public static void requireCheckpoint(Path dir, String flag) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(flag + " " + dir + ": no such directory");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(flag + " " + dir + " is not a Hugging Face checkpoint directory (no config.json there)");
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException(flag + " " + dir + " has no tokenizer.json (copy it from the model's Hugging Face repository)");
        }
        boolean weights;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            weights = s.anyMatch(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p));
        } catch (IOException e) {
            throw new UncheckedIOException(flag + " " + dir + ": cannot list it: " + e.getMessage(), e);
        }
        if (!weights) throw new IllegalArgumentException(flag + " " + dir + " has no *.safetensors weights");
    }

    /** The checkpoint of {@code preset} with random weights from {@code seed}, generated under {@code cacheDir} on first use. */
    public static synchronized Path preset(String preset, long seed, Path cacheDir) {
        Path dir = cacheDir.resolve("checkpoints").resolve(preset + "-seed" + seed);
        if (Files.isRegularFile(dir.resolve("config.json"))) return dir;
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), preset + ".tmp");
            make(preset, seed, tmp);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve("config.json"))) throw raced;
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the " + preset + " checkpoint under " + cacheDir + ": " + e.getMessage(), e);
        }
    }

    private static void make(String preset, long seed, Path out) throws IOException {
        System.setProperty("ai.djl.offline", "true");
        try {
            Class<?> maker = Class.forName("dev.quarry.engine.checkpoint.CheckpointMaker");
            maker.getMethod("make", String.class, long.class, Path.class, String.class, Integer.class)
                    .invoke(null, preset, seed, out, "f32", 1);
        } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
            throw new IllegalStateException("the checkpoint maker is not available in this build: " + e, e);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof IOException io) throw io;
            throw new IllegalStateException(c);
        }
    }
}
