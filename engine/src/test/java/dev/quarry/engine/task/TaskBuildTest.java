package dev.quarry.engine.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

class TaskBuildTest {

    private static String msg(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void classifyValidatesLabels() {
        assertTrue(msg(() -> ClassifyTask.builder().build()).contains("at least one label"));
        assertTrue(msg(() -> ClassifyTask.builder().label("a").label("a").build()).contains("duplicate label 'a'"));
        assertTrue(msg(() -> ClassifyTask.builder().label("a").label("  ").build()).contains("blank"));
        ClassifyTask t = ClassifyTask.builder().label("pos", "positive").label("neg").build();
        assertEquals(List.of("pos", "neg"), t.labelNames());
        assertTrue(t.describeDecoding().contains("[pos, neg]"));
    }

    @Test
    void extractRejectsUnsupportedKeywords() {
        String m = msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"x\"}}}").build());
        assertTrue(m.contains("/properties/a/pattern") && m.contains("unsupported keyword 'pattern'"), m);
        assertTrue(msg(() -> ExtractTask.builder().schema("{\"type\":\"array\"}").build()).contains("type"));
        assertTrue(msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\"}}}").build()).contains("nested objects"));
        assertTrue(msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"b\"]}").build())
                .contains("'b'"));
        assertTrue(msg(() -> ExtractTask.builder().schema("{not json").build()).contains("not valid JSON"));
        assertTrue(msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}}")
                .build()).contains("arrays of arrays"));
        assertTrue(msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"enum\":[1,2]}}}").build()).contains("string"));
        // 2.5 is no JSON Schema maxLength/maxItems: refused at build, not read as 2
        m = msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"maxLength\":2.5}}}").build());
        assertTrue(m.contains("/properties/a/maxLength") && m.contains("2.5"), m);
        m = msg(() -> ExtractTask.builder().schema(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":1.5}}}")
                .build());
        assertTrue(m.contains("/properties/a/maxItems") && m.contains("1.5"), m);
        ExtractTask ok = ExtractTask.builder().schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":[\"integer\",\"null\"]},"
                + "\"b\":{\"type\":\"array\",\"items\":{\"enum\":[\"x\",\"y\"]}}},\"required\":[\"a\"]}").build();
        assertEquals(2, ok.spec().properties().size());
        assertTrue(ok.sampling().maxNewTokens() >= ok.grammar().maxChars());
    }

    @Test
    void promptTemplateValidation() {
        assertTrue(msg(() -> PromptTask.builder().template("Hi {name}: {text}").fields(List.of("title")).build())
                .contains("'name'"));
        assertTrue(msg(() -> PromptTask.builder().template("broken { brace").build()).contains("unmatched"));
        PromptTask t = PromptTask.builder().template("Title {title}\n{{literal}} {text}").fields(List.of("title")).build();
        assertEquals(java.util.Set.of("title", "text"), t.fieldNames());
        assertEquals("Title ", t.parts().get(0).literal());
        assertEquals("title", t.parts().get(1).field());
        assertEquals("\n{literal} ", t.parts().get(2).literal());
    }

    @Test
    void summarizeDefaultsAndMaxTokens() {
        SummarizeTask t = SummarizeTask.builder().maxTokens(7).build();
        assertEquals(7, t.sampling().maxNewTokens());
        assertTrue(t.describeDecoding().startsWith("greedy"));
        SummarizeTask s = SummarizeTask.builder().sampling(SamplingParams.builder().temperature(0.7f).build()).build();
        assertTrue(s.describeDecoding().contains("temperature=0.7"));
        assertThrows(IllegalArgumentException.class, () -> SummarizeTask.builder().instruction(" ").build());
    }
}
