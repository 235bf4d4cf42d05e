package dev.quarry.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.engine.ChatMessage;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.SamplingParams;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quarry generate}: raw generation through the engine. Prints one JSON object per prompt, in input
 * order, one per line: {@code {"ids": [...], "text": "..."}} plus {@code "logits_last"} with --logits.
 * All --ids-file prompts are submitted together, so they share the batching scheduler.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generates tokens for a chat prompt or raw token ids; prints one JSON line per prompt.")
public class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Checkpoint directory (Hugging Face layout)")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--prompt", description = "User message; wrapped in the Granite chat template")
        String prompt;

        @Option(names = "--ids", split = ",", description = "Comma-separated raw token ids")
        int[] ids;

        @Option(names = "--ids-file", description = "One comma-separated prompt of token ids per line")
        Path idsFile;
    }

    @Option(names = "--max-new-tokens", defaultValue = "" + SamplingParams.DEFAULT_MAX_NEW_TOKENS,
            description = "Most new tokens per prompt (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--ignore-eos", description = "Keep generating after the end-of-text token")
    boolean ignoreEos;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default)")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus mass (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k best tokens; 0 = off (default)")
    int topK;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--device", defaultValue = EngineOptions.DEFAULT_DEVICE, description = "cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--dtype", description = "f32 or bf16 (default: f32 on cpu, bf16 on cuda, as bulk-score, stream and bench)")
    String dtype;

    @Option(names = "--logits", description = "Also print the full logits row that chose the last token")
    boolean logits;

    /** The engine options of this command line (no --dtype: the engine's default for the device). */
    EngineOptions engineOptions() {
        return EngineOptions.builder().modelDir(model).device(device).dtype(dtype).build();
    }

    @Override
    public Integer call() throws Exception {
        if (dtype != null && !EngineOptions.DTYPE_F32.equals(dtype) && !EngineOptions.DTYPE_BF16.equals(dtype)) {
            throw new IllegalArgumentException("--dtype must be f32 or bf16, got '" + dtype + "'");
        }
        if (maxNewTokens < 0) throw new IllegalArgumentException("--max-new-tokens must be >= 0");
        SamplingParams sampling = SamplingParams.builder().maxNewTokens(maxNewTokens).ignoreEos(ignoreEos)
                .temperature(temperature).topP(topP).topK(topK).seed(seed).build();
        EngineOptions options = engineOptions();
        ObjectMapper json = new ObjectMapper();
        PrintWriter out = spec.commandLine().getOut();
        List<int[]> raw = input.prompt == null ? rawPrompts() : null; // bad ids fail before the model loads
        dev.quarry.jobs.Models.requireCheckpoint(model, "--model");
        try (Engine engine = Engine.open(options)) {
            List<int[]> prompts = raw != null ? raw
                    : List.of(engine.codec().encode(engine.codec().applyChatTemplate(List.of(ChatMessage.user(input.prompt)))));
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                futures.add(engine.generate(new GenerationRequest("prompt-" + (i + 1), prompts.get(i), sampling, logits)));
            }
            int rc = 0;
            for (CompletableFuture<GenerationResult> f : futures) {
                GenerationResult r = f.get();
                ObjectNode o = line(json, r.ids(), r.text(), r.logitsLast());
                if (r.error() != null) {
                    o.put("error", r.error().kind() + ": " + r.error().message());
                    rc = 1;
                }
                out.println(json.writeValueAsString(o));
            }
            out.flush();
            return rc;
        }
    }

    private ObjectNode line(ObjectMapper json, int[] newIds, String text, float[] logitsLast) {
        ObjectNode o = json.createObjectNode();
        ArrayNode ids = o.putArray("ids");
        for (int id : newIds) ids.add(id);
        o.put("text", text);
        if (logits && logitsLast != null) {
            ArrayNode l = o.putArray("logits_last");
            for (float v : logitsLast) l.add(v);
        }
        return o;
    }

    private List<int[]> rawPrompts() {
        List<int[]> res = new ArrayList<>();
        if (input.ids != null) {
            res.add(input.ids);
        } else {
            List<String> lines;
            try {
                lines = Files.readAllLines(input.idsFile);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("--ids-file " + input.idsFile + ": no such file");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --ids-file " + input.idsFile + ": " + e, e);
            }
            for (int n = 0; n < lines.size(); n++) {
                String line = lines.get(n).trim();
                if (line.isEmpty()) continue;
                res.add(parseIds(line, input.idsFile + ":" + (n + 1)));
            }
            if (res.isEmpty()) throw new IllegalArgumentException("--ids-file " + input.idsFile + " holds no prompt");
        }
        return res;
    }

    static int[] parseIds(String csv, String where) {
        String[] parts = csv.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": '" + parts[i].trim() + "' is not a token id");
            }
        }
        return ids;
    }
}
