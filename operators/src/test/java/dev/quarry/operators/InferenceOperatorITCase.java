package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Flink semantics of the inference operator on a MiniCluster with the fake engine. */
@Timeout(120)
class InferenceOperatorITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(Records.clusterConf()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @BeforeEach
    void reset() {
        FakeEngine.reset();
    }

    static StreamExecutionEnvironment env(int parallelism) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        return env;
    }

    /** r0 finishes only after r1..r9 did. */
    static List<String> heldFirst() {
        List<String> in = new ArrayList<>();
        in.add("r0=hold: the slow one");
        for (int i = 1; i < 10; i++) in.add("r" + i + "=fast " + i);
        return in;
    }

    @Test
    void orderedResultsLeaveInInputOrder() throws Exception {
        StreamExecutionEnvironment env = env(1);
        List<String> in = heldFirst();
        List<String> out = Records.operator(FakeEngine.factory(new FakeEngine.Config(0, 9))).ordered().capacity(16).build()
                .apply(env.fromData(in)).executeAndCollect(100);
        assertEquals(List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"), Records.ids(out));
        assertTrue(out.stream().allMatch(o -> Records.status(o).equals("ok")), out.toString());
        assertEquals("len=6", Records.text(out.get(1)), "r1's text is 'fast 1': " + out.get(1));
    }

    @Test
    void unorderedResultsLeaveWhenReady() throws Exception {
        StreamExecutionEnvironment env = env(1);
        List<String> out = Records.operator(FakeEngine.factory(new FakeEngine.Config(0, 9))).unordered().capacity(16).build()
                .apply(env.fromData(heldFirst())).executeAndCollect(100);
        assertEquals(10, out.size());
        assertEquals(10, new HashSet<>(Records.ids(out)).size(), "each record once");
        assertEquals("r0", Records.id(out.get(9)), "the held record leaves last: " + Records.ids(out));
    }

    @Test
    void capacityBoundsRecordsInFlight() throws Exception {
        StreamExecutionEnvironment env = env(1);
        List<String> out = Records.operator(FakeEngine.factory(10)).capacity(3).build()
                .apply(env.fromData(Records.numbered("c", 40))).executeAndCollect(100);
        assertEquals(40, out.size());
        assertTrue(FakeEngine.MAX_IN_FLIGHT.get() <= 3, "in flight " + FakeEngine.MAX_IN_FLIGHT.get() + " > capacity 3");
        assertTrue(FakeEngine.MAX_IN_FLIGHT.get() >= 2, "records overlap inside the engine");
    }

    @Test
    void errorsAreDataAndRoutedToTheDeadLetterOutput() throws Exception {
        StreamExecutionEnvironment env = env(1);
        List<String> in = List.of("ok1=hello", "bad-record-without-separator", "f1=fail: engine breaks", "t1=throw: submit rejects",
                "s1=stuck: never answered", "e1=", "ok2=world!");
        DataStream<String> results = Records.operator(FakeEngine.factory(0)).unordered().timeout(Duration.ofSeconds(1)).build()
                .apply(env.fromData(in));
        ErrorRouting.Split<String> split = ErrorRouting.split(results, o -> !Records.status(o).equals("ok"));
        List<String> out = split.good().map(o -> "GOOD " + o).returns(Types.STRING)
                .union(split.errors().map(o -> "DEAD " + o).returns(Types.STRING))
                .executeAndCollect(100);
        assertEquals(in.size(), out.size(), "one output per input: " + out);
        Map<String, String> byId = new TreeMap<>();
        for (String o : out) byId.put(Records.id(o.substring(5)), o);
        assertTrue(byId.get("ok1").startsWith("GOOD ok1|ok|len=5|fake-m1|hash-fake|"), byId.get("ok1"));
        assertTrue(byId.get("ok2").startsWith("GOOD ok2|ok|len=6|"), byId.get("ok2"));
        assertDead(byId.get("f1"), "engine_failure", "fake engine failure on f1");
        assertDead(byId.get("t1"), "engine_failure", "submit rejected t1");
        assertDead(byId.get("s1"), "timeout", "operator timeout of PT1S");
        assertDead(byId.get("e1"), "empty_input", "text is empty");
        assertDead(byId.get("<unknown>"), "invalid_record", "bad-record-without-separator");
        assertEquals(1, FakeEngine.CANCELLED.get(), "the timed-out request is cancelled in the engine");
    }

    static void assertDead(String out, String kind, String messagePart) {
        assertTrue(out != null && out.startsWith("DEAD "), String.valueOf(out));
        assertEquals(kind, Records.status(out.substring(5)), out);
        assertTrue(Records.message(out.substring(5)).contains(messagePart), out);
    }

    @Test
    void lineageCarriesTaskAndDecoding() throws Exception {
        List<String> out = Records.operator(FakeEngine.factory(0)).build().apply(env(1).fromData(List.of("x=abc"))).executeAndCollect(10);
        String[] f = out.get(0).split("\\|", -1);
        assertEquals("x", f[0]);
        assertEquals("fake-m1", f[3]);
        assertEquals("hash-fake", f[4]);
        assertTrue(f[5].contains("8"), "decoding parameters name max tokens 8: " + f[5]);
    }

    @Test
    void errorRateBoundFailsTheJobWithAClearMessage() {
        StreamExecutionEnvironment env = env(1);
        List<String> in = new ArrayList<>(Records.numbered("g", 5));
        for (int i = 0; i < 20; i++) in.add("b" + i + "=fail: broken");
        Records.operator(FakeEngine.factory(0)).capacity(1).errorRateBound(ErrorRateBound.fraction(0.5, 10)).build()
                .apply(env.fromData(in)).sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
        Exception e = assertThrows(Exception.class, env::execute);
        Optional<ErrorRateExceededException> cause = ExceptionUtils.findThrowable(e, ErrorRateExceededException.class);
        assertTrue(cause.isPresent(), "job failed for another reason: " + ExceptionUtils.stringifyException(e));
        String m = cause.get().getMessage();
        assertTrue(m.contains("of the last 10 results were errors") && m.contains("engine_failure") && m.contains("task summarize"), m);
    }

    @Test
    void subtasksShareOneEngineThatIsClosedAfterTheJobAndReopenedByTheNext() throws Exception {
        for (int run = 1; run <= 2; run++) {
            StreamExecutionEnvironment env = env(2);
            List<String> out = Records.operator(FakeEngine.factory(20)).capacity(4).build()
                    .apply(env.fromData(Records.numbered("p", 40)).rebalance()).executeAndCollect(100);
            assertEquals(40, out.size());
            Map<String, Long> perModel = out.stream().collect(Collectors.groupingBy(o -> o.split("\\|")[3], Collectors.counting()));
            assertEquals(Map.of("fake-m1", 40L), perModel);
            assertEquals(run, FakeEngine.OPENS.get(), "one engine per run for both subtasks");
            assertEquals(run, FakeEngine.CLOSES.get(), "closed when the last subtask released it");
            assertEquals(0, EngineRegistry.size());
        }
    }
}
