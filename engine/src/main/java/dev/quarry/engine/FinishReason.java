package dev.quarry.engine;

/** Why generation of one sequence ended. */
public enum FinishReason {
    /** {@code <|end_of_text|>} was produced. */
    EOS,
    /** A stop string was produced (it is removed from the text). */
    STOP_STRING,
    /** max new tokens reached. */
    LENGTH,
    /** Constrained decoding completed the structure. */
    STRUCTURE_COMPLETE
}
