"""Where the hidden dropout applies (TrainOptions.dropoutHiddenOn): on the carried state too
(0, GRU4Rec) or on the scores' input only (1). The scores are the same either way; only the
state carried to the next step differs."""
import unittest

import torch

from localrec_pretrain.model import Gru4Rec
from localrec_pretrain.train import parse_params


class DropoutPlacement(unittest.TestCase):
    def test_carried_state_is_masked_only_on_the_state(self):
        torch.manual_seed(0)
        m = Gru4Rec(20, 6)
        with torch.no_grad():
            for p in m.parameters():
                p.uniform_(-0.5, 0.5)
        inputs = torch.tensor([1, 4, 7])
        h = torch.rand(3, 6)
        mask_h = (torch.rand(3, 6) > 0.3).float() / 0.7
        cols = torch.tensor([2, 5, 9, 11])
        S_state, carried_state = m(inputs, h, cols, None, mask_h, True)
        S_scores, carried_scores = m(inputs, h, cols, None, mask_h, False)
        h_new = m.step(m.input_rows(inputs), h)
        # the scores come from the masked output in both placements
        self.assertTrue(torch.equal(S_state, S_scores))
        self.assertTrue(torch.allclose(carried_state, h_new * mask_h))
        self.assertTrue(torch.allclose(carried_scores, h_new))
        self.assertFalse(torch.allclose(carried_state, carried_scores))

    def test_both_placements_are_accepted_and_nothing_else(self):
        self.assertEqual(parse_params("dropoutHiddenOn=1")["dropoutHiddenOn"], 1)
        self.assertEqual(parse_params(None)["dropoutHiddenOn"], 0)
        with self.assertRaises(SystemExit):
            parse_params("dropoutHiddenOn=2")


if __name__ == "__main__":
    unittest.main()
