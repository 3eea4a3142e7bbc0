"""The Python reader, protocol and sessionisation against the TypeScript code's own
output on shared cases (test/pretrain/fixtures/shared-cases.json, produced and checked
on the TypeScript side by test/pretrain/shared-cases.test.ts)."""

import os
import tempfile
import unittest

import numpy as np

from localrec_pretrain.data import InvalidInput, Sequences, prepare, sessionise, sessionise_users, tie_break_hash

from .helpers import FIXTURES, MOVIELENS, load_json


class SharedCases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cases = load_json(os.path.join(FIXTURES, "shared-cases.json"))

    def test_sessionise(self):
        for c in self.cases["sessionise"]:
            with self.subTest(c["name"]):
                i = c["input"]
                seqs, ids = sessionise(i["items"], i["times"], i["sessionIds"], 10, i["gapMs"])
                e = c["expected"]
                self.assertEqual(seqs.items.tolist(), e["items"])
                self.assertEqual(seqs.offsets.tolist(), e["offsets"])
                self.assertEqual(seqs.times.tolist(), e["times"])
                self.assertEqual(ids, e["sessionIds"])

    def test_histories_cut_into_sessions_per_user(self):
        c = self.cases["sessionise"][0]
        i, e = c["input"], c["expected"]
        n = len(i["items"])
        # two users with the same history: each is cut as the TypeScript cuts one stream
        seqs = Sequences(np.array(i["items"] * 2, dtype=np.int32), np.array([0, n, 2 * n]),
                         np.array(i["times"] * 2, dtype=np.float64), 10, np.array([3, 8]))
        got = sessionise_users(seqs, i["gapMs"])
        sizes = np.diff(e["offsets"]).tolist()
        self.assertEqual(np.diff(got.offsets).tolist(), sizes * 2)
        self.assertEqual(got.items.tolist(), e["items"] * 2)
        self.assertEqual(got.index.tolist()[: len(sizes)], [3 * (1 << 20) + q for q in range(len(sizes))])

    def test_protocol(self):
        for c in self.cases["protocol"]:
            with self.subTest(c["name"]), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "log.csv")
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(c["csv"])
                o = c["options"]
                p = prepare(path, k=o.get("k", 5), min_item=o.get("minItemCount", 5),
                            min_user=o.get("minUserCount", 3))
                e = c["expected"]
                self.assertEqual(p.item_ids.tolist(), e["itemIds"])
                self.assertEqual(p.num_users, len(e["userIds"]))
                self.assertEqual(p.full.items.tolist(), e["fullItems"])
                self.assertEqual(p.full.offsets.tolist(), e["fullOffsets"])
                self.assertEqual(p.train.offsets.tolist(), e["trainOffsets"])
                self.assertEqual(p.counts["interactions"], e["counts"]["interactions"])
                self.assertEqual(p.counts["evalUsers"], e["counts"]["evalUsers"])

    def test_shards_partition_the_users(self):
        c = self.cases["protocol"][0]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "log.csv.gz")
            import gzip

            with gzip.open(path, "wt", encoding="utf-8") as f:
                f.write(c["csv"])
            whole = prepare(path)
            parts = [prepare(path, shard=(r, 3)) for r in range(3)]
        seqs = {}
        for part in parts:
            for s, u in enumerate(part.full.index.tolist()):
                a, b = part.full.offsets[s], part.full.offsets[s + 1]
                seqs[u] = part.full.items[a:b].tolist()
        self.assertEqual(sorted(seqs), list(range(whole.num_users)))
        for u in range(whole.num_users):
            a, b = whole.full.offsets[u], whole.full.offsets[u + 1]
            self.assertEqual(seqs[u], whole.full.items[a:b].tolist())

    def test_movielens_counts_match_protocol_md(self):
        p = prepare(MOVIELENS)
        self.assertEqual((p.num_users, p.num_items, p.counts["interactions"]), (671, 3496, 90072))
        self.assertEqual(len(p.train.items), 83362)

    def test_tie_break_hash_is_the_javascript_one(self):
        # Math.imul(i ^ Math.imul(u, 0x9E3779B1), 0x85EBCA6B) >>> 0, from node
        self.assertEqual(tie_break_hash(1, 31), 4293732282)
        self.assertEqual(tie_break_hash(671, 163949), 1581325398)

    def test_refuses_what_the_typescript_reader_refuses(self):
        bad = {
            "userId,timestamp\n1,2\n": "missing item column",
            "userId,itemId,timestamp\n1,2\n": "expected 3 fields, found 2",
            "userId,itemId,timestamp\n1,2,x\n": "timestamp 'x' is not a number",
            "userId,itemId,timestamp\n": "no interactions",
            "": "the file is empty",
        }
        for text, message in bad.items():
            with self.subTest(message), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "log.csv")
                with open(path, "w") as f:
                    f.write(text)
                with self.assertRaisesRegex(InvalidInput, message):
                    prepare(path)


if __name__ == "__main__":
    unittest.main()
