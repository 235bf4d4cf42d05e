package dev.quarry.engine.internal;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.internal.model.GraniteModel;
import dev.quarry.engine.internal.model.SyntheticWeights;
import dev.quarry.engine.internal.sched.GraniteStepModel;
import dev.quarry.engine.internal.text.GraniteTextCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Loads checkpoint, model and codec for {@link GraniteEngine#open}. */
final class GraniteLoader {
    private GraniteLoader() {}

    static Engine open(EngineOptions options) {
        Path dir = options.modelDir();
        if (dir == null) throw new IllegalArgumentException("no model directory given");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model directory " + dir + " does not exist");
        boolean bf16 = EngineOptions.DTYPE_BF16.equals(options.dtype());
        dev.quarry.engine.Devices.requireAvailable(options.device());
        Device device = dev.quarry.engine.Devices.toDjl(options.device());
        NativeMemoryAdvice.adviseOnce(options.device());
        GraniteTextCodec codec = GraniteTextCodec.open(dir.resolve("tokenizer.json"));
        GraniteModel model;
        try {
            model = GraniteModel.load(dir, device, bf16 ? DataType.BFLOAT16 : DataType.FLOAT32);
        } catch (IOException e) {
            codec.close();
            throw new UncheckedIOException("cannot load " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            codec.close();
            throw e;
        }
        int vocab = model.config().vocabSize;
        if (codec.decodableVocabSize() > vocab) {
            int ids = codec.decodableVocabSize();
            model.close();
            codec.close();
            throw new IllegalArgumentException(dir.resolve("tokenizer.json") + " has token ids up to " + (ids - 1)
                    + " but the model has " + vocab + " rows (config.json vocab_size): the tokenizer does not belong"
                    + " to this checkpoint");
        }
        MklCpuDispatch.warnIfTooLate();
        long params = SyntheticWeights.shapes(model.config()).values().stream()
                .mapToLong(s -> { long n = 1; for (long d : s) n *= d; return n; }).sum();
        Path name = dir.toAbsolutePath().normalize().getFileName();
        ModelInfo info = new ModelInfo(name == null ? dir.toString() : name.toString(), dir.toString(), weightsHash(dir),
                options.device(), options.dtype(), params, model.config().maxPositionEmbeddings);
        return new GraniteEngine(new GraniteStepModel(model), codec, info, options.batching(), dir.resolve("tokenizer.json"));
    }

    /** SHA-256 over each safetensors file's name, size and header (cheap; stable for the same weights). */
    static String weightsHash(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().collect(Collectors.toList());
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(ByteBuffer.allocate(8).putLong(Files.size(f)).array());
                try (InputStream in = Files.newInputStream(f)) {
                    byte[] len = in.readNBytes(8);
                    long n = len.length == 8 ? ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong() : 0;
                    md.update(len);
                    md.update(in.readNBytes((int) Math.max(0, Math.min(n, 100_000_000L))));
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash the weights in " + dir + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
