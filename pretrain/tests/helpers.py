"""Paths and the Node side of the cross-language tests."""

import json
import os
import signal
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PRETRAIN = os.path.join(ROOT, "pretrain")
MOVIELENS = os.path.join(ROOT, "data", "movielens-small", "ratings.csv.gz")
FIXTURES = os.path.join(ROOT, "test", "pretrain", "fixtures")


def tsx(*args: str) -> str:
    """Runs test/pretrain/ts-model.ts with the repository's tsx; returns stdout."""
    exe = os.path.join(ROOT, "node_modules", ".bin", "tsx")
    r = subprocess.run([exe, os.path.join(ROOT, "test", "pretrain", "ts-model.ts"), *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"ts-model.ts {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def job(*args: str, processes: int = 1, check: bool = True) -> subprocess.CompletedProcess:
    """The pretraining job, with `processes` processes (torch.distributed.run, gloo)."""
    env = {**os.environ, "PYTHONPATH": PRETRAIN, "OMP_NUM_THREADS": "1"}
    launch = [sys.executable, "-m", "localrec_pretrain.launch", "--standalone", f"--nproc_per_node={processes}",
              "-m", "localrec_pretrain"] if processes > 1 else [sys.executable, "-m", "localrec_pretrain"]
    # Its own process group: on a timeout the launcher and every worker are killed, so a
    # hung job fails this test in minutes instead of outliving it.
    proc = subprocess.Popen([*launch, *args, "--threads", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"job timed out after 300 s:\n{out}\n{err}")
    r = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if check and r.returncode != 0:
        raise AssertionError(f"job failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def load_json(path: str):
    with open(path) as f:
        return json.load(f)
