package dev.quarry.engine.internal.sched;

import dev.quarry.engine.ChatMessage;
import dev.quarry.engine.ChatTemplateInput;
import dev.quarry.engine.TextCodec;
import java.util.ArrayList;
import java.util.List;

/** A character-level codec with Granite's chat-template markers as special tokens (test only). */
final class ToyCodec implements TextCodec {
    static final int EOS = 128, SOR = 129, EOR = 130, PAD = 131, DECODABLE = 132;
    private static final String[] SPECIAL = {"<|end_of_text|>", "<|start_of_role|>", "<|end_of_role|>", "<|pad|>"};

    @Override
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        int i = 0;
        outer:
        while (i < text.length()) {
            for (int s = 0; s < SPECIAL.length; s++) {
                if (text.startsWith(SPECIAL[s], i)) { out.add(128 + s); i += SPECIAL[s].length(); continue outer; }
            }
            char c = text.charAt(i++);
            out.add(c < 128 ? (int) c : (int) '?');
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) if (id < 128) sb.append((char) id);
        return sb.toString();
    }

    @Override
    public String applyChatTemplate(ChatTemplateInput input) {
        List<ChatMessage> messages = input.messages();
        StringBuilder sb = new StringBuilder();
        int start = 0;
        String sys = "You are a helpful assistant.";
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) { sys = messages.get(0).content(); start = 1; }
        sb.append("<|start_of_role|>system<|end_of_role|>").append(sys).append("<|end_of_text|>\n");
        for (int i = start; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            sb.append("<|start_of_role|>").append(m.role()).append("<|end_of_role|>").append(m.content()).append("<|end_of_text|>\n");
        }
        return sb.append("<|start_of_role|>assistant<|end_of_role|>").toString();
    }

    @Override
    public int eosTokenId() { return EOS; }

    @Override
    public int decodableVocabSize() { return DECODABLE; }
}
