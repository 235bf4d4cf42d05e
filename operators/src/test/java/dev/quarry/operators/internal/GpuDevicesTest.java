package dev.quarry.operators.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

class GpuDevicesTest {
    static ExternalResourceInfo gpu(String index) {
        return new ExternalResourceInfo() {
            @Override
            public Optional<String> getProperty(String key) {
                return Optional.ofNullable(Map.of("index", index).get(key));
            }

            @Override
            public Collection<String> getKeys() {
                return List.of("index");
            }
        };
    }

    @Test
    void externalResourceIndexWins() {
        assertEquals("cuda:3", GpuDevices.resolve("cuda:0", List.of(gpu("5"), gpu("3"))));
        assertEquals("cuda:0", GpuDevices.resolve("cuda:0", List.of()), "no resource: the option");
        assertEquals("cuda:1", GpuDevices.resolve("cuda:1", null));
        assertEquals("cpu", GpuDevices.resolve("cpu", List.of(gpu("2"))), "a CPU engine stays on the CPU");
        assertEquals("cuda:1", GpuDevices.resolve("cuda:1", List.of(gpu("n/a"))), "unparseable index: the option");
    }
}
