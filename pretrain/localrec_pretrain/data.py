"""Interaction logs in, training sequences out: the same rules as localrec's TypeScript.

- `read_rows`: a streaming CSV / CSV.gz reader with `localrec eval`'s column options
  (src/eval/csv.ts: header names `userId`, `itemId` else `movieId`, `timestamp`;
  RFC 4180 quoting, BOM, CRLF; the same refusals). Rows are yielded one by one: the
  text of the log is never held in memory.
- `prepare`: the offline protocol's steps 2-4 (src/eval/protocol.ts, docs/PROTOCOL.md):
  items with fewer than `min_item` interactions dropped, then users with fewer than
  `min_user`; each user's interactions ordered by time, ties by the per-user hash
  h(u, i), then by input order; the last k positions of users with at least 2k + 1
  interactions held out. Three streaming passes over the file; a process keeps only
  the interactions of its own shard of users (compact arrays), so a log larger than one
  machine's memory is split across the job's processes.
- `sessionise`: src/events/sessionise.ts (sessionId sessions, else a new session after
  more than `gap` of inactivity), for logs cut into sessions instead of user histories.
"""

import csv
import gzip
import io
import math
import re
from array import array
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np


class InvalidInput(ValueError):
    """A log the TypeScript reader refuses too (INVALID_INPUT there)."""


# JavaScript's Number(s) on a trimmed, non-empty string, restricted to what can be an id
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_RADIX = re.compile(r"^0([xX][0-9a-fA-F]+|[bB][01]+|[oO][0-7]+)$")
MAX_SAFE_INTEGER = 2**53 - 1


def js_number(s: str) -> Optional[float]:
    """The value JavaScript's Number(s) gives a trimmed string, or None when it is NaN."""
    if _DECIMAL.match(s):
        return float(s)
    m = _RADIX.match(s)
    if m:
        base = {"x": 16, "b": 2, "o": 8}[m.group(1)[0].lower()]
        return float(int(m.group(1)[1:], base))
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    return None


def is_numeric_id(s: str) -> bool:
    """csv.ts `isNumericId`: finite and not an integer too large for a double to keep."""
    if s.strip() == "":
        return False
    v = js_number(s)
    return v is not None and math.isfinite(v) and abs(v) <= MAX_SAFE_INTEGER


def _to_int32_bits(v: float) -> int:
    """ECMAScript ToUint32 (the bits ToInt32 gives, unsigned)."""
    if not math.isfinite(v):
        return 0
    return int(math.trunc(v)) & 0xFFFFFFFF


def tie_break_hash(u: float, i: float) -> int:
    """PROTOCOL.md step 3: Math.imul(i ^ Math.imul(u, 0x9E3779B1), 0x85EBCA6B) >>> 0."""
    a = (_to_int32_bits(u) * 0x9E3779B1) & 0xFFFFFFFF
    return (((_to_int32_bits(i) ^ a) & 0xFFFFFFFF) * 0x85EBCA6B) & 0xFFFFFFFF


@dataclass
class Columns:
    user: Optional[str] = None
    item: Optional[str] = None
    time: Optional[str] = None


def _open_text(path: str):
    with open(path, "rb") as f:
        magic = f.read(2)
    raw = gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_rows(path: str, columns: Columns = Columns()) -> Iterator[Tuple[str, str, float, int]]:
    """Yields (user, item, time, line) per interaction, ids as trimmed strings.

    Raises InvalidInput with csv.ts's message for a missing column, a wrong field
    count, an empty id, a non-numeric time, a repeated header, an empty file.
    """
    header = None
    ui = ii = ti = -1
    names = ("", "", "")
    rows = 0
    with _open_text(path) as text:
        reader = csv.reader(text, strict=True)
        line = 1
        while True:
            start = line
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                raise InvalidInput(f"line {start}: {e}") from e
            line = reader.line_num + 1
            if not fields or fields == [""]:
                continue
            if header is None:
                header = [f.strip() for f in fields]
                if len(set(header)) != len(header):
                    dup = next(h for h in header if header.count(h) > 1)
                    raise InvalidInput(f"line {start}: duplicate column '{dup}' in the header")

                def find(want, fallbacks, role):
                    options = fallbacks if want is None else [want]
                    for name in options:
                        if name in header:
                            return header.index(name)
                    wanted = " or ".join(f"'{o}'" for o in options)
                    raise InvalidInput(f"missing {role} column {wanted} (header: {','.join(header)})")

                ui = find(columns.user, ["userId"], "user")
                ii = find(columns.item, ["itemId", "movieId"], "item")
                ti = find(columns.time, ["timestamp"], "time")
                names = (header[ui], header[ii], header[ti])
                continue
            if len(fields) != len(header):
                raise InvalidInput(f"line {start}: expected {len(header)} fields, found {len(fields)}")
            u, i, t = fields[ui].strip(), fields[ii].strip(), fields[ti].strip()
            if (u, i, t) == names:
                raise InvalidInput(f"line {start}: the header is repeated inside the data")
            if u == "":
                raise InvalidInput(f"line {start}: empty {names[0]}")
            if i == "":
                raise InvalidInput(f"line {start}: empty {names[1]}")
            tv = js_number(t) if t != "" else None
            if tv is None or not math.isfinite(tv):
                raise InvalidInput(f"line {start}: {names[2]} '{t}' is not a number")
            rows += 1
            yield u, i, tv, start
    if header is None:
        raise InvalidInput("the file is empty")
    if rows == 0:
        raise InvalidInput("the file has a header but no interactions")


class IdCodes:
    """csv.ts `IdColumn` + `encode`: numbers while every value is one, else sorted codes."""

    def __init__(self) -> None:
        self.numeric = True
        self.labels: set = set()

    def see(self, s: str) -> None:
        if self.numeric and not is_numeric_id(s):
            self.numeric = False
        self.labels.add(s)

    def finish(self) -> Callable[[str], float]:
        if self.numeric:
            self.sorted_labels = None
            return lambda s: float(js_number(s))
        self.sorted_labels = sorted(self.labels)  # JS sort(): UTF-16 order, same for BMP text
        code = {v: float(j) for j, v in enumerate(self.sorted_labels)}
        return code.__getitem__

    def label(self, code: float) -> str:
        """The file's id for a code (vocabulary of the model file)."""
        if self.sorted_labels is not None:
            return self.sorted_labels[int(code)]
        return js_string(code)


def js_string(v: float) -> str:
    """JavaScript's String(number) for ids (integers without '.0')."""
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


@dataclass
class Sequences:
    """CSR sequences like src/scorer.ts `Sequences`: items of sequence s at offsets[s]:offsets[s+1]."""

    items: np.ndarray  # int32
    offsets: np.ndarray  # int64
    times: np.ndarray  # float64
    num_items: int
    #: global index of each sequence (its user's dense index): the batcher's tie-break
    index: Optional[np.ndarray] = None

    @property
    def num_sequences(self) -> int:
        return len(self.offsets) - 1


@dataclass
class Prepared:
    num_items: int
    num_users: int
    item_ids: np.ndarray  # float64, dense item -> raw id (code), ascending
    vocab: List[str]  # the log's own item ids, one per dense item
    #: this shard's users' full ordered sequences (index = dense user)
    full: Sequences
    #: the training part (evaluated users without their last 2k positions)
    train: Sequences
    counts: dict = field(default_factory=dict)


def prepare(
    path: str,
    columns: Columns = Columns(),
    k: int = 5,
    min_item: int = 5,
    min_user: int = 3,
    shard: Tuple[int, int] = (0, 1),
) -> Prepared:
    """The protocol on a log, keeping the users of `shard` = (rank, world) only.

    A user belongs to shard r when its dense index (ascending raw id) mod world is r.
    Counts (`counts`) are over the whole log, on every shard.
    """
    for name, v in (("k", k), ("minItemCount", min_item), ("minUserCount", min_user)):
        if not isinstance(v, int) or v < 1:
            raise InvalidInput(f"{name} must be a positive integer, got {v}")
    rank, world = shard
    # pass 1: id types, item counts
    users, items = IdCodes(), IdCodes()
    item_count_raw: dict = {}
    for u, i, _t, _line in read_rows(path, columns):
        users.see(u)
        items.see(i)
        item_count_raw[i] = item_count_raw.get(i, 0) + 1
    ucode, icode = users.finish(), items.finish()
    item_count: dict = {}
    for s, c in item_count_raw.items():
        v = icode(s)
        item_count[v] = item_count.get(v, 0) + c
    del item_count_raw
    # pass 2: user counts over the items kept
    user_count: dict = {}
    for u, i, _t, _line in read_rows(path, columns):
        if item_count[icode(i)] >= min_item:
            v = ucode(u)
            user_count[v] = user_count.get(v, 0) + 1
    kept_users = sorted(v for v, c in user_count.items() if c >= min_user)
    user_index = {v: j for j, v in enumerate(kept_users)}
    # pass 3: the catalogue (items left after both filters) and this shard's rows
    kept_items: set = set()
    su, si, st, sn = array("q"), array("d"), array("d"), array("q")
    row = -1
    total = 0
    for u, i, t, _line in read_rows(path, columns):
        row += 1
        iv = icode(i)
        if item_count[iv] < min_item:
            continue
        du = user_index.get(ucode(u))
        if du is None:
            continue
        kept_items.add(iv)
        total += 1
        if du % world == rank:
            su.append(du)
            si.append(iv)
            st.append(t)
            sn.append(row)
    item_ids = np.array(sorted(kept_items), dtype=np.float64)
    item_index = {v: j for j, v in enumerate(item_ids.tolist())}
    du = np.frombuffer(su, dtype=np.int64) if len(su) else np.zeros(0, np.int64)
    raw_items = np.frombuffer(si, dtype=np.float64) if len(si) else np.zeros(0)
    times = np.frombuffer(st, dtype=np.float64) if len(st) else np.zeros(0)
    rows = np.frombuffer(sn, dtype=np.int64) if len(sn) else np.zeros(0, np.int64)
    user_vals = np.array(kept_users, dtype=np.float64)
    hashes = np.array(
        [tie_break_hash(user_vals[a], b) for a, b in zip(du.tolist(), raw_items.tolist())],
        dtype=np.int64,
    )
    # per user by (time, h(u, i), input order); users ascending
    order = np.lexsort((rows, hashes, times, du))
    du, times = du[order], times[order]
    dense_items = np.array([item_index[v] for v in raw_items[order].tolist()], dtype=np.int32)
    shard_users, starts, lengths = np.unique(du, return_index=True, return_counts=True)
    offsets = np.zeros(len(shard_users) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    num_items = len(item_ids)
    full = Sequences(dense_items, offsets, times, num_items, shard_users.astype(np.int64))
    keep = np.where(lengths >= 2 * k + 1, lengths - 2 * k, lengths)
    train = truncate(full, keep)
    eval_users = int(sum(1 for c in user_count.values() if c >= min_user and c >= 2 * k + 1))
    vocab = [items.label(v) for v in item_ids.tolist()]
    return Prepared(
        num_items=num_items,
        num_users=len(kept_users),
        item_ids=item_ids,
        vocab=vocab,
        full=full,
        train=train,
        counts={"users": len(kept_users), "items": num_items, "interactions": total, "evalUsers": eval_users},
    )


def truncate(seqs: Sequences, keep_len: np.ndarray) -> Sequences:
    """The first keep_len[s] items of each sequence (protocol.ts `truncate`)."""
    lengths = np.diff(seqs.offsets)
    keep_len = np.clip(keep_len, 0, lengths)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(keep_len)
    take = np.concatenate(
        [np.arange(a, a + n) for a, n in zip(seqs.offsets[:-1].tolist(), keep_len.tolist())]
    ) if len(lengths) else np.zeros(0, np.int64)
    take = take.astype(np.int64)
    return Sequences(seqs.items[take], offsets, seqs.times[take], seqs.num_items, seqs.index)


DEFAULT_SESSION_GAP_MS = 30 * 60 * 1000


def sessionise(
    items: Sequence[int],
    times: Sequence[float],
    session_ids: Sequence[Optional[str]],
    num_items: int,
    gap_ms: float = DEFAULT_SESSION_GAP_MS,
) -> Tuple[Sequences, List[Optional[str]]]:
    """src/events/sessionise.ts: events with a sessionId form one session per id; the
    others are cut by inactivity (a new session after more than `gap_ms` since the
    previous id-less event). Sessions ordered by first event, events by time, ties in
    input order. Returns the CSR sequences and each session's id (None: cut by gap)."""
    n = len(items)
    if len(times) != n or len(session_ids) != n:
        raise ValueError("sessionise: items, times and sessionIds must have the same length")
    order = sorted(range(n), key=lambda j: (times[j], j))
    session_of = [0] * n
    by_id: dict = {}
    ids: List[Optional[str]] = []
    counts: List[int] = []
    anon = -1
    last_anon = -math.inf
    for k, e in enumerate(order):
        sid = session_ids[e]
        if sid is not None:
            s = by_id.get(sid)
            if s is None:
                s = len(ids)
                by_id[sid] = s
                ids.append(sid)
                counts.append(0)
        else:
            t = times[e]
            if anon < 0 or t - last_anon > gap_ms:
                anon = len(ids)
                ids.append(None)
                counts.append(0)
            last_anon = t
            s = anon
        session_of[k] = s
        counts[s] += 1
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts) if counts else []
    cursor = offsets[:-1].copy()
    out_items = np.zeros(n, dtype=np.int32)
    out_times = np.zeros(n, dtype=np.float64)
    for k, e in enumerate(order):
        p = cursor[session_of[k]]
        cursor[session_of[k]] += 1
        out_items[p] = items[e]
        out_times[p] = times[e]
    return Sequences(out_items, offsets, out_times, num_items), ids


def sessionise_users(seqs: Sequences, gap: float) -> Sequences:
    """Each user's history cut into sessions by `gap` (in the log's time unit), so
    training sees sessions instead of whole histories; keeps `index` per session
    (user index * 2^20 + session number, for the batcher's tie-break)."""
    out_items, out_times, offsets, index = [], [], [0], []
    for s in range(seqs.num_sequences):
        a, b = int(seqs.offsets[s]), int(seqs.offsets[s + 1])
        got, _ = sessionise(seqs.items[a:b], seqs.times[a:b], [None] * (b - a), seqs.num_items, gap)
        for q in range(got.num_sequences):
            x, y = int(got.offsets[q]), int(got.offsets[q + 1])
            out_items.append(got.items[x:y])
            out_times.append(got.times[x:y])
            offsets.append(offsets[-1] + y - x)
            base = int(seqs.index[s]) if seqs.index is not None else s
            index.append(base * (1 << 20) + q)
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)
    return Sequences(
        cat(out_items, np.int32), np.array(offsets, dtype=np.int64), cat(out_times, np.float64),
        seqs.num_items, np.array(index, dtype=np.int64),
    )
