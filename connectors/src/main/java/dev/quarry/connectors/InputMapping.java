package dev.quarry.connectors;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * Which input field is the id, which is the text, and which are passed through to the output.
 * Immutable; validated in {@link Builder#build()}.
 *
 * <p>When no id field is set, or a record lacks it, the id falls back to the record's source position
 * ({@code topic-partition-offset} for Kafka, {@code <file path>#row} for files), which is stable across
 * restarts, so exactly-once checks by id still hold.
 */
public final class InputMapping implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String DEFAULT_ID_FIELD = "id";
    public static final String DEFAULT_TEXT_FIELD = "text";

    private final String idField;
    private final String textField;
    private final List<String> passthroughFields;

    private InputMapping(Builder b) {
        this.idField = b.idField;
        this.textField = b.textField;
        this.passthroughFields = b.passthroughFields == null ? null : List.copyOf(b.passthroughFields);
    }

    public static Builder builder() { return new Builder(); }

    public static InputMapping defaults() { return builder().build(); }

    /** Id field, or null for position-based ids only. */
    public String idField() { return idField; }
    public String textField() { return textField; }
    /** Listed passthrough fields, or null for "all fields other than id and text". */
    public List<String> passthroughFields() { return passthroughFields; }

    /** True when {@code field} is carried to the output. */
    public boolean passes(String field) {
        if (passthroughFields != null) return passthroughFields.contains(field);
        return !field.equals(textField) && !field.equals(idField);
    }

    @Override
    public String toString() {
        return "InputMapping{id=" + idField + ", text=" + textField + ", passthrough=" + (passthroughFields == null ? "<all others>" : passthroughFields) + '}';
    }

    public static final class Builder {
        private String idField = DEFAULT_ID_FIELD;
        private String textField = DEFAULT_TEXT_FIELD;
        private List<String> passthroughFields;

        public Builder idField(String v) { this.idField = v; return this; }
        public Builder textField(String v) { this.textField = v; return this; }
        /** Only these fields pass through; null (the default) passes all fields other than id and text. */
        public Builder passthroughFields(List<String> v) { this.passthroughFields = v; return this; }

        public InputMapping build() {
            Objects.requireNonNull(textField, "textField must be set");
            if (textField.isBlank()) throw new IllegalArgumentException("textField must not be blank");
            if (idField != null && idField.isBlank()) idField = null;
            if (idField != null && idField.equals(textField)) throw new IllegalArgumentException("id field and text field are both '" + textField + "'");
            return new InputMapping(this);
        }
    }
}
