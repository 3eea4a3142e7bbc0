"""`torchrun` (torch.distributed.run), usable with Debian 12's python3-torch.

    python3 -m localrec_pretrain.launch --standalone --nproc_per_node 2 -m localrec_pretrain …

Same arguments as torchrun. torch 1.13's launcher parses its `--redirects` / `--tee`
values ("0" by default) by iterating over an IntFlag, and from Python 3.11 on that
iteration skips the zero member (and multi-bit aliases): every launch then fails with
"AttributeError: 'NoneType' object has no attribute 'get'" (reported in
meta-llama/llama#86 among others; torch 2.x parses them differently). Debian 12 ships
exactly that pair, so the values are parsed here by value instead. With a newer torch
this is plain torchrun, and `torchrun` itself may be used.
"""

import re
import sys

from torch.distributed.elastic.multiprocessing import api
from torch.distributed import run

_original = api.Std.from_str


def _from_str(vm: str):
    if re.fullmatch(r"[0-3]", vm):
        return api.Std(int(vm))
    if re.fullmatch(r"(\d:[0-3],)*\d:[0-3]", vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    return _original(vm)


api.Std.from_str = staticmethod(_from_str)

if __name__ == "__main__":
    sys.exit(run.main())
