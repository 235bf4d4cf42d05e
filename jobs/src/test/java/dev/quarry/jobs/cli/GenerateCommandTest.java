package dev.quarry.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quarry.engine.internal.model.TinyCheckpoints;
import dev.quarry.engine.model.GraniteConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code quarry generate} in-process on a tiny checkpoint and checks its JSON lines. */
class GenerateCommandTest {
    @TempDir
    Path dir;

    private List<JsonNode> run(String... args) throws Exception {
        CliErrorMessagesTest.Run r = CliErrorMessagesTest.run(args);
        assertEquals(0, r.rc(), r.err());
        List<JsonNode> lines = new ArrayList<>();
        for (String l : r.out().split("\n")) if (!l.isBlank()) lines.add(new ObjectMapper().readTree(l));
        return lines;
    }

    @Test
    void promptGoesThroughTheChatTemplate() throws Exception {
        Path ckpt = dir.resolve("ckpt2");
        TinyCheckpoints.writeHybrid(ckpt, 1);
        List<JsonNode> lines = run("generate", "--model", ckpt.toString(), "--prompt", "hello world",
                "--max-new-tokens", "3", "--ignore-eos");
        assertEquals(1, lines.size());
        assertEquals(3, lines.get(0).get("ids").size());
        assertTrue(lines.get(0).get("text").isTextual());
    }

    @Test
    void idsFilePromptsGiveOneJsonLineEachInOrder() throws Exception {
        Path ckpt = dir.resolve("ckpt");
        GraniteConfig c = TinyCheckpoints.writeHybrid(ckpt, 2);
        Path f = dir.resolve("prompts.txt");
        Files.writeString(f, "1,2,3,4,5,6,7,8,9,10,11\n12,13\n");
        List<JsonNode> lines = run("generate", "--model", ckpt.toString(), "--ids-file", f.toString(),
                "--max-new-tokens", "5", "--ignore-eos", "--logits");
        assertEquals(2, lines.size());
        for (JsonNode l : lines) {
            assertEquals(5, l.get("ids").size());
            assertTrue(l.has("text"));
            JsonNode logits = l.get("logits_last");
            assertEquals(c.vocabSize, logits.size());
            int best = 0;
            for (int i = 1; i < TinyCheckpoints.TOKENIZER_SIZE; i++) if (logits.get(i).asDouble() > logits.get(best).asDouble()) best = i;
            assertEquals(best, l.get("ids").get(4).asInt(), "greedy: last id is the argmax of logits_last (decodable ids)");
            for (JsonNode id : l.get("ids")) assertTrue(id.asInt() < TinyCheckpoints.TOKENIZER_SIZE, "undecodable id " + id);
        }
        // the second prompt alone gives the same tokens as inside the batch
        List<JsonNode> alone = run("generate", "--model", ckpt.toString(), "--ids", "12,13", "--max-new-tokens", "5",
                "--ignore-eos");
        assertEquals(lines.get(1).get("ids"), alone.get(0).get("ids"));
        assertTrue(!alone.get(0).has("logits_last"));
    }
}
