#!/usr/bin/env python3
"""Generates the bundled demo dataset: jobs/src/main/resources/sample/reviews.parquet.

300 short synthetic product reviews (id, text, product, stars), deterministic (fixed seed), so the
file only changes when this script does. Run from the repository root: python3 tools/make_sample_dataset.py
"""
import random

import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 300
OUT = "jobs/src/main/resources/sample/reviews.parquet"

products = ["kettle", "headphones", "desk lamp", "backpack", "coffee grinder", "keyboard", "rain jacket",
            "water bottle", "phone case", "running shoes", "blender", "office chair"]
good = ["works perfectly", "exceeded my expectations", "is well made", "arrived quickly and works great",
        "is worth every penny", "feels sturdy", "is exactly as described", "made my mornings easier"]
bad = ["stopped working after a week", "is cheaply made", "arrived broken", "is much smaller than pictured",
       "makes a loud noise", "was missing parts", "broke on the second day", "is not worth the price"]
meh = ["is fine for the price", "does the job", "is okay but nothing special", "works, mostly",
       "has a few quirks", "is average"]
extras = ["Customer support was friendly.", "Shipping took ten days.", "I would buy it again.",
          "The instructions were confusing.", "My partner loves it.", "Returned it for a refund.",
          "The color is nice.", "Battery life could be better.", ""]


def main():
    rng = random.Random(20261122)
    ids, texts, prods, stars = [], [], [], []
    for i in range(ROWS):
        p = rng.choice(products)
        mood = rng.choice(["good", "bad", "meh"])
        phrase = rng.choice({"good": good, "bad": bad, "meh": meh}[mood])
        s = {"good": rng.choice([4, 5]), "bad": rng.choice([1, 2]), "meh": 3}[mood]
        text = f"The {p} {phrase}. {rng.choice(extras)}".strip()
        ids.append(f"review-{i:04d}")
        texts.append(text)
        prods.append(p)
        stars.append(s)
    table = pa.table({"id": pa.array(ids), "text": pa.array(texts), "product": pa.array(prods),
                      "stars": pa.array(stars, type=pa.int32())})
    pq.write_table(table, OUT, compression="snappy")
    print(f"wrote {OUT}: {table.num_rows} rows")


if __name__ == "__main__":
    main()
