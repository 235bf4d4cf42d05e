package dev.quarry.engine.task;

import dev.quarry.engine.SamplingParams;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Free generation from a user template. {@code {name}} placeholders are replaced per record:
 * {@code {text}} by the record text, any other name by {@link TaskInput#fields()}. {@code {{} and
 * {@code }}} write literal braces. The rendered template is the user turn of the Granite chat
 * template. When a declared field list is given, a template naming any other field fails at build; a
 * record lacking a named field gets an {@code invalid_record} error. Immutable; build with
 * {@link #builder()}.
 */
public final class PromptTask implements Task {
    /** The placeholder for the record text. */
    public static final String TEXT_FIELD = "text";
    public static final int DEFAULT_MAX_TOKENS = 128;
    private static final Pattern TOKEN = Pattern.compile("\\{\\{|}}|\\{([A-Za-z_][A-Za-z0-9_.\\-]*)}|[{}]");

    /** A literal piece ({@code field == null}) or a placeholder. */
    public record Part(String literal, String field) {}

    private final String template;
    private final List<Part> parts;
    private final Set<String> fieldNames;
    private final String systemPrompt;
    private final SamplingParams sampling;

    private PromptTask(Builder b, List<Part> parts, Set<String> names) {
        this.template = b.template;
        this.parts = List.copyOf(parts);
        this.fieldNames = Set.copyOf(names);
        this.systemPrompt = b.systemPrompt;
        this.sampling = b.sampling;
    }

    public static Builder builder() { return new Builder(); }

    @Override
    public String name() { return "prompt"; }

    public String template() { return template; }

    /** The parsed template, in order. */
    public List<Part> parts() { return parts; }

    /** Placeholder names used by the template (may include {@code text}). */
    public Set<String> fieldNames() { return fieldNames; }

    public String systemPrompt() { return systemPrompt; }

    public SamplingParams sampling() { return sampling; }

    @Override
    public String describeDecoding() { return TaskDescriptions.generation(sampling); }

    @Override
    public String toString() { return "PromptTask{template=" + template + ", " + describeDecoding() + "}"; }

    static List<Part> parse(String template) {
        List<Part> out = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        Matcher m = TOKEN.matcher(template);
        int last = 0;
        while (m.find()) {
            lit.append(template, last, m.start());
            String t = m.group();
            if (t.equals("{{")) {
                lit.append('{');
            } else if (t.equals("}}")) {
                lit.append('}');
            } else if (m.group(1) != null) {
                if (lit.length() > 0) out.add(new Part(lit.toString(), null));
                lit.setLength(0);
                out.add(new Part(null, m.group(1)));
            } else {
                throw new IllegalArgumentException("prompt: unmatched '" + t + "' at offset " + m.start()
                        + " of template (write {{ or }} for a literal brace; placeholders are {name})");
            }
            last = m.end();
        }
        lit.append(template, last, template.length());
        if (lit.length() > 0) out.add(new Part(lit.toString(), null));
        return out;
    }

    public static final class Builder {
        private String template;
        private List<String> declaredFields;
        private String systemPrompt;
        private SamplingParams sampling;
        private Integer maxTokens;

        /** The user-turn template with {@code {field}} placeholders; {@code {text}} is the record text. */
        public Builder template(String v) { this.template = v; return this; }
        /** The fields records will carry (besides {@code text}); the template may name only these. */
        public Builder fields(List<String> v) { this.declaredFields = List.copyOf(v); return this; }
        public Builder systemPrompt(String v) { this.systemPrompt = v; return this; }
        public Builder sampling(SamplingParams v) { this.sampling = v; return this; }
        public Builder maxTokens(int v) { this.maxTokens = v; return this; }

        public PromptTask build() {
            Objects.requireNonNull(template, "prompt: template must be set");
            if (template.isBlank()) throw new IllegalArgumentException("prompt: template must not be blank");
            List<Part> parts = parse(template);
            Set<String> names = new LinkedHashSet<>();
            for (Part p : parts) if (p.field() != null) names.add(p.field());
            if (declaredFields != null) {
                for (String n : names) {
                    if (!n.equals(TEXT_FIELD) && !declaredFields.contains(n)) {
                        throw new IllegalArgumentException("prompt: template names field '" + n
                                + "' which is not among the declared fields " + declaredFields + " (or 'text')");
                    }
                }
            }
            SamplingParams s = sampling != null ? sampling : SamplingParams.builder().maxNewTokens(DEFAULT_MAX_TOKENS).build();
            if (maxTokens != null) {
                if (maxTokens < 1) throw new IllegalArgumentException("prompt: maxTokens must be >= 1, got " + maxTokens);
                s = s.toBuilder().maxNewTokens(maxTokens).build();
            }
            this.sampling = s;
            return new PromptTask(this, parts, names);
        }
    }
}
