"""Parity with the TypeScript model: the same weights give the same scores (max abs
difference ≤ 1e-5 on MovieLens prefixes), a file written by either side loads in the
other, a seed gives the same initial weights, and a damaged file is refused."""

import json
import os
import struct
import tempfile
import unittest

import numpy as np
import torch

from localrec_pretrain.data import prepare
from localrec_pretrain.model import Gru4Rec, bpr_max, cross_entropy
from localrec_pretrain.modelfile import ModelCorrupt, fnv1a, read_model, write_model
from localrec_pretrain.rng import init_arrays

from .helpers import MOVIELENS, job, tsx

TOLERANCE = 1e-5


def movielens_prefixes(data, users=24):
    """Prefixes of the first `users` users' training sequences: lengths 1, 5, 20, all."""
    out = []
    for s in range(users):
        a, b = int(data.train.offsets[s]), int(data.train.offsets[s + 1])
        seq = data.train.items[a:b].tolist()
        for n in sorted({1, 5, 20, len(seq)}):
            if n <= len(seq):
                out.append(seq[:n])
    return out


def model_from_file(path):
    with open(path, "rb") as f:
        m = read_model(f.read())
    c = m["config"]
    return Gru4Rec(c["numItems"], c["hiddenSize"], c["embedding"], c["embeddingSize"], arrays=m["arrays"]), m


class Parity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = prepare(MOVIELENS)
        cls.prefixes = movielens_prefixes(cls.data)
        with open(os.path.join(cls.tmp.name, "prefixes.json"), "w") as f:
            json.dump(cls.prefixes, f)
        # a model trained by the job (one short epoch on ml-small's training part)
        cls.trained = os.path.join(cls.tmp.name, "trained.bin")
        job("--data", MOVIELENS, "--out", cls.trained, "--params", "epochs=1,hiddenSize=64")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def ts_scores(self, model_path, n):
        out = os.path.join(self.tmp.name, "scores.f32")
        tsx("score", model_path, os.path.join(self.tmp.name, "prefixes.json"), out)
        return np.fromfile(out, dtype="<f4").reshape(len(self.prefixes), n).astype(np.float64)

    def py_scores(self, model):
        return np.stack([model.scores(p).numpy() for p in self.prefixes])

    def test_trained_python_model_scores_the_same_in_typescript(self):
        model, m = model_from_file(self.trained)
        self.assertEqual(m["vocab"], self.data.vocab)
        ts = self.ts_scores(self.trained, model.num_items)
        py = self.py_scores(model)
        diff = np.abs(ts - py).max()
        print(f"\nparity (python-trained, {len(self.prefixes)} MovieLens prefixes × {model.num_items} items): "
              f"max |score| {np.abs(py).max():.2f}, max abs diff {diff:.2e}")
        self.assertGreater(np.abs(py).max(), 1.0)  # trained scores, not near-zero ones
        self.assertLessEqual(diff, TOLERANCE)
        # float32 scoring (the training precision) agrees too
        py32 = np.stack([model.scores(p, dtype=torch.float32).numpy() for p in self.prefixes])
        self.assertLessEqual(np.abs(ts - py32).max(), TOLERANCE)

    def test_typescript_files_load_and_score_the_same_in_python(self):
        for embedding, population in (("tied", True), ("separate", False)):
            with self.subTest(embedding=embedding, population=population):
                path = os.path.join(self.tmp.name, f"ts-{embedding}.bin")
                tsx("init", "7", str(self.data.num_items), "48", embedding, path, *(["population"] if population else []))
                model, m = model_from_file(path)
                self.assertEqual(m["population"] is not None, population)
                self.assertEqual(m["vocab"][:2], ["item-0", "item-1"])
                # the same seed gives the same initial weights here
                mine = init_arrays(self.data.num_items, 48, embedding, m["config"]["embeddingSize"], 7)
                for k, v in m["arrays"].items():
                    if v is not None:
                        np.testing.assert_array_equal(v, mine[k].reshape(-1), err_msg=k)
                diff = np.abs(self.ts_scores(path, model.num_items) - self.py_scores(model)).max()
                self.assertLessEqual(diff, TOLERANCE)
                # and what Python writes back reads the same in TypeScript
                again = os.path.join(self.tmp.name, f"again-{embedding}.bin")
                write_model(again, m["config"], m["arrays"], m["vocab"], m["meta"])
                seen = json.loads(tsx("describe", again))
                self.assertEqual(seen["config"], m["config"])
                self.assertEqual(seen["vocab"], self.data.num_items)
                self.assertFalse(seen["population"])

    def test_compact_typescript_files_read_the_same_in_python(self):
        """f16 / i8 files (format 3): Python dequantizes to the very floats TypeScript does."""
        n = self.data.num_items
        full = os.path.join(self.tmp.name, "ts-f32.bin")
        tsx("init", "11", str(n), "32", "separate", full)
        _, m32 = model_from_file(full)
        for precision in ("f16", "i8"):
            with self.subTest(precision=precision):
                path = os.path.join(self.tmp.name, f"ts-{precision}.bin")
                tsx("init", "11", str(n), "32", "separate", path, "population", precision)
                model, m = model_from_file(path)
                self.assertEqual((m["version"], m["precision"]), (3, precision))
                self.assertIsNotNone(m["population"])
                # the gate matrices stay float32; the per-item matrices are rounded
                for k in ("wx", "wh", "b"):
                    np.testing.assert_array_equal(m["arrays"][k], m32["arrays"][k], err_msg=k)
                for k in ("items", "emb"):
                    self.assertGreater(np.abs(m["arrays"][k] - m32["arrays"][k]).max(), 0, k)
                # TypeScript's scores from its own dequantized weights = Python's from its
                diff = np.abs(self.ts_scores(path, n) - self.py_scores(model)).max()
                self.assertLessEqual(diff, TOLERANCE)
                with open(path, "rb") as f:
                    data = bytearray(f.read())
                hl = struct.unpack_from("<I", data, 8)[0]
                if precision == "i8":
                    # a negative scale, with the checksum made valid again, is refused
                    struct.pack_into("<f", data, 12 + hl, -1.0)
                    struct.pack_into("<I", data, len(data) - 4, fnv1a(bytes(data[:-4])))
                    with self.assertRaisesRegex(ModelCorrupt, "scale"):
                        read_model(bytes(data))

    def test_damaged_files_are_refused(self):
        with open(self.trained, "rb") as f:
            data = bytearray(f.read())
        read_model(bytes(data))
        for at in (5, 40, len(data) // 2, len(data) - 1):
            broken = bytearray(data)
            broken[at] ^= 0x10
            with self.assertRaises(ModelCorrupt):
                read_model(bytes(broken))
        with self.assertRaises(ModelCorrupt):
            read_model(bytes(data[:-8]))


if __name__ == "__main__":
    unittest.main()


class Losses(unittest.TestCase):
    """The losses and their gradients against src/train/losses/ on the same scores."""

    def test_losses_and_gradients_match_typescript(self):
        g = torch.Generator().manual_seed(3)
        B, M = 6, 14
        S = (torch.randn(B, M, generator=g, dtype=torch.float64) * 2).to(torch.float32).to(torch.float64)
        log_q = torch.randn(M, generator=g, dtype=torch.float64).to(torch.float32).to(torch.float64)
        hits = [[0, 7], [2, 9], [5, 3]]
        mask = torch.zeros(B, M, dtype=torch.bool)
        for b, j in hits:
            mask[b, j] = True
        cases = [
            ("cross-entropy", dict(log_q=True, elu=False)),
            ("bpr-max", dict(log_q=False, elu=False)),
            ("bpr-max", dict(log_q=False, elu=True)),
        ]
        with tempfile.TemporaryDirectory() as d:
            for kind, o in cases:
                with self.subTest(kind=kind, **o):
                    case = {"S": S.reshape(-1).tolist(), "B": B, "M": M, "kind": kind, "bprReg": 0.7,
                            "elu": o["elu"], "logQ": log_q.tolist() if o["log_q"] else None, "hits": hits}
                    path = os.path.join(d, "case.json")
                    with open(path, "w") as f:
                        json.dump(case, f)
                    ts = json.loads(tsx("loss", path))
                    x = S.clone().requires_grad_(True)
                    if kind == "cross-entropy":
                        loss = cross_entropy(x, log_q, mask)
                    else:
                        loss = bpr_max(x, torch.arange(B), mask, 0.7, o["elu"])
                    (loss / B).backward()
                    self.assertAlmostEqual(loss.item(), ts["lossSum"], places=5)
                    np.testing.assert_allclose(x.grad.numpy().reshape(-1), ts["dS"], atol=1e-6)
