package dev.quarry.engine.internal.decode.json;

import java.util.List;

/** The root object of an extraction schema: properties in schema order (all of them are emitted). */
public record ObjectSpec(List<Property> properties, List<String> required) {
    public record Property(String name, FieldSpec spec) {}

    public ObjectSpec {
        properties = List.copyOf(properties);
        required = List.copyOf(required);
    }
}
