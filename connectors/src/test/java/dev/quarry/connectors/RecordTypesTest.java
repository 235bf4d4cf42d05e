package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class RecordTypesTest {

    @Test
    void recordsArePojosWithoutGenericFields() {
        for (Class<?> c : new Class<?>[] {InputRecord.class, ResultRecord.class}) {
            TypeInformation<?> ti = TypeInformation.of(c);
            PojoTypeInfo<?> pojo = assertInstanceOf(PojoTypeInfo.class, ti, c + " must be a Flink POJO");
            for (int i = 0; i < pojo.getArity(); i++) {
                assertFalse(pojo.getPojoFieldAt(i).getTypeInformation() instanceof GenericTypeInfo,
                        c.getSimpleName() + "." + pojo.getPojoFieldAt(i).getField().getName() + " falls back to Kryo");
            }
        }
    }

    @Test
    void resultRecordSurvivesPojoSerializer() throws Exception {
        ResultRecord r = new ResultRecord();
        r.id = "a";
        r.task = "classify";
        r.label = "pos";
        r.probabilities = new java.util.LinkedHashMap<>(java.util.Map.of("pos", 0.75, "neg", 0.25));
        r.passthrough.put("n", "3");
        r.headers.put("h", new byte[] {1, 2});
        r.key = new byte[] {9};
        r.promptTokens = 7;
        @SuppressWarnings("unchecked")
        TypeSerializer<ResultRecord> s = (TypeSerializer<ResultRecord>) TypeInformation.of(ResultRecord.class).createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(128);
        s.serialize(r, out);
        ResultRecord back = s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertEquals("pos", back.label);
        assertEquals(0.75, back.probabilities.get("pos"));
        assertEquals("3", back.passthrough.get("n"));
        assertEquals(2, back.headers.get("h")[1]);
        assertEquals(7, back.promptTokens);
    }
}
