#!/usr/bin/env python3
"""Writes connectors/src/test/resources/interop/pyarrow-input.arrow: an Arrow IPC file written by pyarrow
(two record batches, int64 ids, utf8 text with a null, a double and a list column), read back by
ArrowInteropTest to check that files from Python are accepted as input. Run from the repository root."""
import pyarrow as pa

OUT = "connectors/src/test/resources/interop/pyarrow-input.arrow"

schema = pa.schema([("doc_id", pa.int64()), ("body", pa.string()), ("score", pa.float64()), ("tags", pa.list_(pa.string()))])
b1 = pa.record_batch([pa.array([1, 2, 3]), pa.array(["alpha", None, "gamma"]), pa.array([0.5, 1.5, 2.5]),
                      pa.array([["x"], [], ["y", "z"]])], schema=schema)
b2 = pa.record_batch([pa.array([4]), pa.array(["delta é"]), pa.array([None], type=pa.float64()), pa.array([None], type=pa.list_(pa.string()))], schema=schema)
with pa.OSFile(OUT, "wb") as sink, pa.ipc.new_file(sink, schema) as w:
    w.write_batch(b1)
    w.write_batch(b2)
print("wrote", OUT)
