package dev.quarry.engine.internal.decode.json;

import java.util.List;

/**
 * One value type of the supported JSON Schema subset. {@code literals} holds the JSON text of each
 * enum value (quoted strings). {@code item} is set for arrays (a scalar spec).
 */
public record FieldSpec(Kind kind, boolean nullable, int maxLength, List<String> enumValues, FieldSpec item,
                        int maxItems) {
    public enum Kind { STRING, NUMBER, INTEGER, BOOLEAN, ENUM, ARRAY }

    public FieldSpec {
        enumValues = enumValues == null ? List.of() : List.copyOf(enumValues);
    }
}
