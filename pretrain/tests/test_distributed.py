"""A two-process DistributedDataParallel run (gloo) on a log with a planted pattern:
the job learns it, writes a model file localrec reads, and a job killed after a
checkpoint resumes to exactly the model of a run that was never stopped."""

import gzip
import json
import os
import random
import tempfile
import unittest

import numpy as np

from localrec_pretrain.data import prepare
from localrec_pretrain.modelfile import read_model

from .helpers import job, tsx
from .test_parity import model_from_file

ITEMS = 60
PARAMS = "epochs=3,hiddenSize=24,batchSize=32,negatives=16,lr=0.1,lrEnd=1,dropoutHidden=0.1"


def planted_log(path: str, users: int = 150, length: int = 16, seed: int = 1) -> list:
    """Every user walks one fixed cycle through the items (item ids 1000 + k), from a
    random start, one event a minute: the next item is always succ[current]."""
    rnd = random.Random(seed)
    cycle = list(range(ITEMS))
    rnd.shuffle(cycle)
    succ = {cycle[j]: cycle[(j + 1) % ITEMS] for j in range(ITEMS)}
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("userId,itemId,timestamp\n")
        for u in range(users):
            cur, t = rnd.randrange(ITEMS), 1_600_000_000 + rnd.randrange(10**6)
            for _ in range(length):
                f.write(f"{u},{1000 + cur},{t}\n")
                cur, t = succ[cur], t + 60
    return succ


class Distributed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.log = os.path.join(d, "planted.csv.gz")
        cls.succ = planted_log(cls.log)
        cls.full = os.path.join(d, "full.bin")
        cls.summary = os.path.join(d, "full.json")
        job("--data", cls.log, "--out", cls.full, "--params", PARAMS, "--checkpoint", os.path.join(d, "ck-full"),
            "--json", cls.summary, processes=2)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_two_processes_learn_the_planted_pattern(self):
        with open(self.summary) as f:
            summary = json.load(f)
        self.assertEqual(summary["world"], 2)
        accuracy, total = self.planted_accuracy(self.full)
        print(f"\n2-process run: planted successor ranked first for {accuracy:.1%} of {total} prefixes "
              f"(chance {1 / ITEMS:.1%}); {summary['eventsPerSecond']:.0f} events/s")
        self.assertGreater(accuracy, 0.9)
        seen = json.loads(tsx("describe", self.full))
        self.assertEqual(seen["config"]["numItems"], ITEMS)
        self.assertEqual(seen["meta"]["epochs"], 3)

    def planted_accuracy(self, path):
        model, m = model_from_file(path)
        data = prepare(self.log)
        hits = total = 0
        for s in range(data.num_users):
            a, b = int(data.full.offsets[s]), int(data.full.offsets[s + 1])
            seq = data.full.items[a:b].tolist()
            for n in (3, 8, len(seq) - 1):
                scores = model.scores(seq[:n]).numpy()
                want = m["vocab"].index(str(1000 + self.succ[int(m["vocab"][seq[n - 1]]) - 1000]))
                hits += int(np.argmax(scores) == want)
                total += 1
        return hits / total, total

    def test_bpr_max_with_a_separate_embedding_learns_it_too(self):
        out = os.path.join(self.tmp.name, "bpr.bin")
        job("--data", self.log, "--out", out, "--params", f"{PARAMS},loss=1,separate=1,bprReg=0.5")
        model, m = model_from_file(out)
        self.assertEqual(m["config"]["embedding"], "separate")
        accuracy, total = self.planted_accuracy(out)
        print(f"\n1 process, BPR-max, separate embedding: planted successor first for {accuracy:.1%} of {total}")
        self.assertGreater(accuracy, 0.9)

    def test_a_killed_job_resumes_to_the_same_model(self):
        d = self.tmp.name
        ck = os.path.join(d, "ck-killed")
        out = os.path.join(d, "resumed.bin")
        with open(self.summary) as f:
            steps_per_epoch = json.load(f)["steps"] // 3
        killed = job("--data", self.log, "--out", out, "--params", PARAMS, "--checkpoint", ck,
                     "--simulate-kill-at-step", str(steps_per_epoch + 5), processes=2, check=False)
        self.assertNotEqual(killed.returncode, 0)
        self.assertFalse(os.path.exists(out))
        with open(os.path.join(ck, "latest.json")) as f:
            self.assertEqual(json.load(f)["epoch"], 1)
        resumed = job("--data", self.log, "--out", out, "--params", PARAMS, "--checkpoint", ck, "--resume",
                      processes=2)
        self.assertIn("resumed", resumed.stderr)
        with open(self.full, "rb") as f:
            a = read_model(f.read())["arrays"]
        with open(out, "rb") as f:
            b = read_model(f.read())["arrays"]
        for k in ("items", "wx", "wh", "b"):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


if __name__ == "__main__":
    unittest.main()
