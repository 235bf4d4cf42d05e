package dev.quarry.engine.internal.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** Expected strings are Python 3.11's {@code json.dumps(x, ensure_ascii=False)} / {@code repr(float)}. */
class PyJsonTest {
    @Test
    void floatsAsPythonRepr() {
        double[] in = {0.1, 1e-5, 1e-4, 1e16, 1e15, 1234567890123456.0, 1.5e300, -0.0, 0.0, 2.5, -7.25e-12, 100.0,
            1.0 / 3, 5e-324, Double.MAX_VALUE, 123456789.123, 0.30000000000000004, 2e-7, Double.NaN,
            Double.NEGATIVE_INFINITY};
        String[] py = {"0.1", "1e-05", "0.0001", "1e+16", "1000000000000000.0", "1234567890123456.0", "1.5e+300",
            "-0.0", "0.0", "2.5", "-7.25e-12", "100.0", "0.3333333333333333", "5e-324", "1.7976931348623157e+308",
            "123456789.123", "0.30000000000000004", "2e-07", "NaN", "-Infinity"};
        for (int i = 0; i < in.length; i++) assertEquals(py[i], PyJson.pyFloat(in[i]), "repr of " + in[i]);
    }

    @Test
    void separatorsOrderAndEscapesAsPython() throws Exception {
        ObjectNode o = (ObjectNode) new ObjectMapper().readTree(
                "{\"z\": 1, \"a\": [true, null, 1.0, {}, []], \"s\": \"t\\tn\\nq\\\"b\\\\c\\u0001\\u001fé🙂/\\u007f\"}");
        assertEquals("{\"z\": 1, \"a\": [true, null, 1.0, {}, []], \"s\": \"t\\tn\\nq\\\"b\\\\c\\u0001\\u001fé🙂/\u007f\"}",
                PyJson.dumps(o));
        assertEquals("[]", PyJson.dumps(JsonNodeFactory.instance.arrayNode()));
        assertThrows(IllegalArgumentException.class, () -> PyJson.dumps(JsonNodeFactory.instance.pojoNode(new Object())));
    }
}
