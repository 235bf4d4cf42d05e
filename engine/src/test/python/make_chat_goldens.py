#!/usr/bin/env python3
"""Chat-template goldens for Quarry's ChatTemplateGoldenTest, rendered by Hugging Face transformers.

The checkpoint's tokenizer_config.json carries the jinja `chat_template` that CheckpointMaker writes
(engine/src/main/resources/dev/quarry/engine/checkpoint/granite-chat-template.jinja, spec section 2.2). Each
conversation below goes through `tokenizer.apply_chat_template(messages, tools=..., documents=...,
add_generation_prompt=True, tokenize=False)`; a few also store the token ids of the rendered text. The Java
test renders the same inputs with GraniteTextCodec and must match byte for byte (and id for id).

Writes engine/src/test/resources/chat/chat-template-goldens.json.

Usage (from the repository root; torch + transformers >= 5 on the path):
  ./quarry make-checkpoint --preset tiny-hybrid --seed 1 --out /tmp/tiny-hybrid
  python3 engine/src/test/python/make_chat_goldens.py /tmp/tiny-hybrid
or, without building the jobs jar:
  (cd engine && mvn -B -o -q compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt)
  java -cp "engine/target/classes:$(cat /tmp/cp.txt)" dev.quarry.engine.checkpoint.MakerMain tiny-hybrid 1 /tmp/tiny-hybrid f32 1
"""
import hashlib
import json
import os
import sys

import transformers
from transformers import AutoTokenizer

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "chat", "chat-template-goldens.json")

WEATHER = {"type": "function", "function": {
    "name": "get_current_weather",
    "description": "Get the current weather for a city",
    "parameters": {"type": "object",
                   "properties": {"city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
                                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}
SEARCH = {"type": "function", "function": {
    "name": "search",
    "description": "Search the web",
    "parameters": {"type": "object",
                   "properties": {"query": {"type": "string"},
                                  "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                                  "threshold": {"type": "number", "default": 0.75},
                                  "safe": {"type": "boolean", "default": True},
                                  "filters": {"type": ["object", "null"], "default": None}},
                   "required": []}}}
# numbers and strings that exercise tojson: float repr (exponents, -0.0), big ints, escapes, non-ASCII
NUMBERS = {"type": "function", "function": {
    "name": "calibrate",
    "description": "Floats: tiny, huge, negative zero; tab\there, newline\nthere, quote \" and backslash \\, "
                   "control \u0001\u001f, DEL \u007f, slash /, non-ASCII é ß 日本 🙂, line sep \u2028",
    "parameters": {"type": "object", "properties": {}, "x-examples": [
        0.1, 1e-05, 0.0001, 1e16, 1234567890123456.0, 1.5e300, -0.0, 2.5, -7.25e-12, 100.0, 1 / 3,
        12345678901234567890, -42, 0]}}}
DOCS = [
    {"doc_id": 1, "title": "Granite 4.0", "text": "Granite 4.0 mixes Mamba-2 and attention layers.",
     "source": "https://example.com/granite"},
    {"doc_id": 2, "title": "Flink", "text": "Apache Flink is a stream processor.\nIt has exactly-once state.",
     "source": "https://example.com/flink"},
]
DOCS_UNICODE = [{"doc_id": "d-ü", "title": "Café «Ἀθῆναι»", "text": "Ünïcödé text: 東京, Ελληνικά, emoji 👍🏽, \"quoted\"",
                 "source": None}]

CASES = [
    ("plain-user", dict(messages=[{"role": "user", "content": "Hi"}]), True),
    ("plain-multi-turn", dict(messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"}]), False),
    ("system-only", dict(messages=[{"role": "system", "content": "You are a pirate."}]), False),
    ("empty-system-default", dict(messages=[{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}]), False),
    ("empty-system-with-tools", dict(messages=[{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}],
                                     tools=[WEATHER]), False),
    ("system-and-tools", dict(messages=[
        {"role": "system", "content": "You are a weather bot."},
        {"role": "user", "content": "Weather in Zürich?"}], tools=[WEATHER, SEARCH]), False),
    ("tools-without-system", dict(messages=[{"role": "user", "content": "Find Flink docs"}], tools=[SEARCH]), False),
    ("documents-only", dict(messages=[{"role": "user", "content": "What does Granite 4.0 mix?"}], documents=DOCS), False),
    ("system-and-documents", dict(messages=[
        {"role": "system", "content": "Answer from the documents."},
        {"role": "user", "content": "What is Flink?"}], documents=DOCS), False),
    ("tools-and-documents-without-system", dict(messages=[{"role": "user", "content": "Weather and Flink?"}],
                                                tools=[WEATHER, SEARCH], documents=DOCS), True),
    ("system-tools-and-documents", dict(messages=[
        {"role": "system", "content": "Use tools and documents."},
        {"role": "user", "content": "Go."}], tools=[WEATHER], documents=DOCS), False),
    ("tool-calls-object-and-string-arguments", dict(messages=[
        {"role": "user", "content": "Weather in Zürich and Paris, then search."},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_current_weather",
                                              "arguments": {"city": "Zürich", "unit": "celsius"}}},
            {"type": "function", "function": {"name": "get_current_weather",
                                              "arguments": "{\"city\":\"Paris\",  \"unit\" : \"celsius\"}"}}]},
        {"role": "tool", "content": "{\"temperature\": 3}"},
        {"role": "tool", "content": "{\"temperature\": 7}"},
        {"role": "assistant", "content": "I'll search now.", "tool_calls": [
            {"name": "search", "arguments": {"query": "Zürich vs Paris", "limit": 3, "threshold": 0.5,
                                             "safe": False, "filters": None, "tags": ["a", "b"], "nested": {}}}]},
        {"role": "tool", "content": "no results"},
        {"role": "assistant", "content": "Zürich 3°C, Paris 7°C; nothing found."},
        {"role": "user", "content": "Thanks"}], tools=[WEATHER, SEARCH]), True),
    ("tool-call-text-and-non-json-string-arguments", dict(messages=[
        {"role": "user", "content": "Calibrate"},
        {"role": "assistant", "content": "Calling.", "tool_calls": [
            {"type": "function", "function": {"name": "calibrate", "arguments": "not json at all {"}},
            {"type": "function", "function": {"name": "calibrate", "arguments": {}}}]}], tools=[NUMBERS]), False),
    ("consecutive-tool-messages-split-by-assistant", dict(messages=[
        {"role": "user", "content": "Q"},
        {"role": "tool", "content": "r1"},
        {"role": "tool", "content": "r2"},
        {"role": "tool", "content": ""},
        {"role": "assistant", "content": "A"},
        {"role": "tool", "content": "r3"}]), False),
    ("unicode-text", dict(messages=[
        {"role": "system", "content": "Réponds en français. 日本語も OK. Emoji 🙂."},
        {"role": "user", "content": "Ça va? «quotes» \"double\" \\backslash\\ tab\t newline\n done. 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 <tool_call> literal"},
        {"role": "assistant", "content": "Très bien — merci! 👍🏽"},
        {"role": "user", "content": "Ελληνικά; עברית; العربية"}], documents=DOCS_UNICODE), True),
    ("later-system-messages", dict(messages=[
        {"role": "system", "content": "First system."},
        {"role": "user", "content": "Hi"},
        {"role": "system", "content": "Second system, mid conversation."},
        {"role": "assistant", "content": "Hello"},
        {"role": "system", "content": ""},
        {"role": "user", "content": "Bye"}], tools=[SEARCH]), False),
    ("system-not-first", dict(messages=[
        {"role": "user", "content": "Hi"},
        {"role": "system", "content": "A system message that is not first."},
        {"role": "user", "content": "Again"}]), False),
    ("tool-numbers-and-escapes", dict(messages=[{"role": "user", "content": "Calibrate"}], tools=[NUMBERS]), False),
]


def main(ckpt):
    tok = AutoTokenizer.from_pretrained(ckpt)
    with open(os.path.join(ckpt, "tokenizer_config.json"), encoding="utf-8") as f:
        template = json.load(f)["chat_template"]
    cases = []
    for name, inp, with_ids in CASES:
        kwargs = {k: v for k, v in inp.items() if k != "messages"}
        text = tok.apply_chat_template(inp["messages"], add_generation_prompt=True, tokenize=False, **kwargs)
        case = {"name": name, **inp, "expected": text}
        if with_ids:
            ids = tok(text, add_special_tokens=False)["input_ids"]
            via_template = tok.apply_chat_template(inp["messages"], add_generation_prompt=True, tokenize=True,
                                                   return_dict=True, **kwargs)["input_ids"]
            if list(via_template) != ids:
                raise SystemExit(f"{name}: apply_chat_template(tokenize=True) differs from encoding the text")
            case["ids"] = ids
        cases.append(case)
        print(f"{name}: {len(text)} chars" + (f", {len(case['ids'])} ids" if with_ids else ""))
    doc = {"transformers": transformers.__version__,
           "checkpoint": "quarry make-checkpoint --preset tiny-hybrid --seed 1",
           "chat_template_sha256": hashlib.sha256(template.encode("utf-8")).hexdigest(),
           "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
