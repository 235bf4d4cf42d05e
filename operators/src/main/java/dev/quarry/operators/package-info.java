/**
 * Flink operators that run Granite tasks on records: {@link dev.quarry.operators.InferenceOperator} (Async
 * I/O, one output per input, errors as data), the per-JVM {@link dev.quarry.operators.EngineRegistry}, the
 * {@link dev.quarry.operators.EngineFactory} seam, {@link dev.quarry.operators.QuarryMetrics} names,
 * {@link dev.quarry.operators.ErrorRateBound} and {@link dev.quarry.operators.ErrorRouting} for dead
 * letters. Implementation classes live in {@code dev.quarry.operators.internal}.
 */
package dev.quarry.operators;
