"""What every party got, against what the database stored.

The database is the record: a line exists if it has a row. For each party
the lines it may see are its session's patron-visible lines (a patron, by
``patron_seq``) or every line of the sessions it holds (a librarian, by
``seq``); it must have all of them, once, in order, and nothing else.

A session that ended refuses later lines (``session_closed``): such a line
is not lost when the session was ended by someone else than its sender, or
by its sender after it (it stops writing first, so its own earlier lines must
all be stored). Every ended session with an address owes one transcript
email: it must reach the run's mail server exactly once (by Message-ID),
addressed to its patron, with every patron-visible line and nothing else
(``faults/transcripts.py``).
"""

import itertools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg

from faults.clients import NOTE_MARKER, TAG, Party, SentLine, Transcript
from faults.librarian import Console
from faults.patron import Patron

MESSAGE_ID = re.compile(r"^<transcript-(\d+)@[^>]+>$")


@dataclass
class Row:
    session: int
    seq: int
    patron_seq: int | None
    kind: str
    visibility: str
    text: str
    client_id: str | None
    created_at: float


@dataclass
class Stored:
    sessions: dict[int, dict[str, Any]]
    rows: list[Row]

    @classmethod
    def read(cls, conn: psycopg.Connection) -> "Stored":
        sessions = {
            r[0]: {"token": r[1], "state": r[2], "primary": r[3], "last_seq": r[4],
                   "last_patron_seq": r[5], "closed_by": r[6], "email": r[7],
                   "sent_at": r[8], "due_at": r[9], "attempts": r[10], "closed_at": r[11],
                   "question": r[12]}
            for r in conn.execute(
                "SELECT id, token, state, primary_id, last_seq, last_patron_seq, closed_by, "
                "patron_email, extract(epoch FROM transcript_sent_at)::float8, "
                "extract(epoch FROM transcript_due_at)::float8, transcript_attempts, "
                "extract(epoch FROM closed_at)::float8, question "
                "FROM chat_chatsession"
            )
        }  # fmt: skip
        rows = [
            Row(*r)
            for r in conn.execute(
                "SELECT session_id, seq, patron_seq, kind, visibility, text, client_id, "
                "extract(epoch FROM created_at)::float8 "
                "FROM chat_message ORDER BY session_id, seq"
            )
        ]
        return cls(sessions, rows)


@dataclass
class Tally:
    lines: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    leaked: int = 0
    transcripts: int = 0  # ended sessions with an address: each owes one email
    transcripts_lost: int = 0
    transcripts_twice: int = 0
    # Sent again because the worker was killed while the mail server took the
    # first copy: it never heard the server's yes (RFC 1047), so it can't know.
    transcripts_again_after_kill: int = 0
    refused_after_end: int = 0  # lines refused because the session had ended (expected)
    problems: list[str] = field(default_factory=list)

    def add(self, what: str, count: int, why: str) -> None:
        if count <= 0:
            return
        setattr(self, what, getattr(self, what) + count)
        self.problems.append(f"{what} +{count}: {why}")

    def summary(self) -> str:
        return (
            f"faults: {self.lines} lines, {self.lost} lost, {self.duplicated} duplicated, "
            f"{self.out_of_order} out of order, {self.leaked} leaked; "
            f"{self.transcripts} transcripts, {self.transcripts_lost} lost, "
            f"{self.transcripts_twice} sent twice"
            + (
                f" ({self.transcripts_again_after_kill} sent again after a kill in the "
                "mail server's reply window, RFC 1047)"
                if self.transcripts_again_after_kill
                else ""
            )
        )

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.out_of_order
            or self.leaked
            or self.transcripts_lost
            or self.transcripts_twice
        )


def _check_received(
    tally: Tally,
    who: str,
    expected: dict[int, str],
    live: dict[int, str],
    final: dict[int, str],
    conflicts: int,
    foreign_texts: set[str],
) -> None:
    """One party's copy of one session against the lines it may see there."""
    missing = sorted(set(expected) - set(live))
    tally.add("lost", len(missing), f"{who} never got seq {missing[:10]}")
    late = sorted(set(final) - set(live))
    if late:
        tally.problems.append(f"note: {who} got seq {late[:10]} only from the final full resync")
    holes = [s for s in range(1, max(final, default=0) + 1) if s not in final]
    tally.add("out_of_order", len(holes), f"{who} has holes at seq {holes[:10]}")
    tally.add("out_of_order", conflicts, f"{who} got one seq with two different texts")
    wrong, leaked = [], []
    for seq, text in final.items():
        if seq in expected and expected[seq] == text:
            continue
        if text in foreign_texts or seq not in expected:
            leaked.append(seq)
        else:
            wrong.append(seq)
    tally.add("out_of_order", len(wrong), f"{who} has the wrong line at seq {wrong[:10]}")
    tally.add("leaked", len(leaked), f"{who} got lines it may not see, at seq {leaked[:10]}")
    twice = sum(n - 1 for n in Counter(final.values()).values() if n > 1)
    tally.add("duplicated", twice, f"{who} shows {twice} line(s) twice under different seqs")


def _check_sent(
    tally: Tally,
    party: Party,
    sent: list[SentLine],
    session: int | None,
    by_text: dict[str, list[Row]],
    sessions: dict[int, dict[str, Any]],
) -> None:
    """Every line a party sent is stored once, in its session, in the order sent;
    or refused because its session had ended, when that is no loss (see the top)."""
    who = party.name
    stored_seqs = []
    for line in sent:
        rows = by_text.get(line.text, [])
        target = line.session if line.session is not None else session
        info = sessions.get(target) if target is not None else None
        if not rows and line.refused == "session_closed" and info and info["state"] == "closed":
            own_end = party.end_sent.get(line.session)
            if own_end is not None and line.sent_at and line.sent_at[0] < own_end:
                tally.add(
                    "lost", 1,
                    f"{who} sent {line.client_id} before its own End Session, yet it was "
                    "refused as after the end",
                )  # fmt: skip
            else:
                tally.refused_after_end += 1
            continue
        if not rows:
            why = (
                f"refused: {line.refused}"
                if line.refused
                else ("acknowledged" if line.acked_seq is not None else "never acknowledged")
            )
            tally.add("lost", 1, f"{who} sent {line.client_id} ({why}) but it was never stored")
            continue
        row = rows[0]
        if row.session != target:
            tally.add("leaked", 1, f"{who}'s line {line.client_id} stored in session {row.session}")
        if line.note != (row.visibility == "staff"):
            tally.add("leaked", 1, f"{who}'s line {line.client_id} stored with wrong visibility")
        if line.refused:
            tally.add("out_of_order", 1, f"{who}'s line {line.client_id} refused yet stored")
        number = row.seq if line.session is not None else row.patron_seq
        if line.acked_seq is not None and line.acked_seq != number:
            tally.add(
                "out_of_order", 1,
                f"{who}'s line {line.client_id} acknowledged as {line.acked_seq}, stored {number}",
            )  # fmt: skip
        if line.ack_conflict:
            tally.add("out_of_order", 1, f"{who}'s line {line.client_id} acknowledged twice apart")
        stored_seqs.append((row.session, row.seq))
    by_session: dict[int, list[int]] = {}
    for sid, seq in stored_seqs:
        by_session.setdefault(sid, []).append(seq)
    for sid, seqs in by_session.items():
        inversions = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
        tally.add(
            "out_of_order", inversions, f"{who}'s lines in session {sid} stored out of send order"
        )


def check(
    stored: Stored,
    patrons: list[Patron],
    consoles: list[Console],
    live: dict[str, Any],
) -> Tally:
    tally = Tally(lines=len(stored.rows))
    by_session: dict[int, list[Row]] = {}
    by_text: dict[str, list[Row]] = {}
    for row in stored.rows:
        by_session.setdefault(row.session, []).append(row)
        by_text.setdefault(row.text, []).append(row)

    # The record itself: numbers without gaps, notes staff-only, each send once.
    for sid, info in stored.sessions.items():
        rows = by_session.get(sid, [])
        seqs = [r.seq for r in rows]
        if seqs != list(range(1, info["last_seq"] + 1)):
            last = info["last_seq"]
            tally.add("out_of_order", 1, f"session {sid} stored seqs {seqs} (last {last})")
        pseqs = sorted(r.patron_seq for r in rows if r.visibility == "patron" and r.patron_seq)
        if pseqs != list(range(1, info["last_patron_seq"] + 1)):
            tally.add("out_of_order", 1, f"session {sid} stored patron seqs with gaps: {pseqs}")
        for r in rows:
            if r.visibility == "staff" and r.patron_seq is not None:
                tally.add("leaked", 1, f"session {sid} note at seq {r.seq} has a patron_seq")
            if NOTE_MARKER in r.text and r.visibility != "staff":
                tally.add("leaked", 1, f"session {sid} note text stored patron-visible ({r.seq})")
    for text, rows in by_text.items():
        if len(rows) > 1 and TAG.search(text):
            tally.add("duplicated", len(rows) - 1, f"{text!r} stored {len(rows)} times")
    client_ids = Counter((r.session, r.client_id) for r in stored.rows if r.client_id)
    for (sid, cid), n in client_ids.items():
        if n > 1:
            tally.add("duplicated", n - 1, f"client_id {cid} stored {n} times in session {sid}")

    token_of = {info["token"]: sid for sid, info in stored.sessions.items()}
    patron_of: dict[int, Patron] = {}
    for patron in patrons:
        found = token_of.get(patron.token or "")
        if found is None:
            tally.add("lost", 1, f"{patron.name} has no session in the database")
            continue
        sid = found
        patron_of[sid] = patron
        if patron.question and patron.question not in by_text:
            tally.add("lost", 1, f"{patron.name}'s question was never stored")
        _check_sent(tally, patron, list(patron.sent.values()), sid, by_text, stored.sessions)
        rows = by_session.get(sid, [])
        expected = {r.patron_seq: r.text for r in rows if r.visibility == "patron" and r.patron_seq}
        own = {r.text for r in rows if r.visibility == "patron"}
        foreign = {t for t in by_text if t not in own}
        _check_received(
            tally, patron.name, expected, live[patron.name], dict(patron.transcript.lines),
            patron.transcript.conflicts, foreign,
        )  # fmt: skip
        allowed = {f"P{patron.index}", f"S{sid}"}
        stray = patron.tags_seen - allowed
        tally.add("leaked", len(stray), f"{patron.name}'s socket carried lines of {sorted(stray)}")
        tally.add("leaked", patron.note_frames, f"{patron.name}'s socket carried a note marker")
        tally.add("leaked", patron.note_lines, f"{patron.name}'s socket carried a note line")

    for console in consoles:
        _check_sent(tally, console, list(console.sent.values()), None, by_text, stored.sessions)
        mine = {
            sid for sid, info in stored.sessions.items() if info["primary"] == console.librarian_id
        }
        for sid in sorted(mine):
            rows = by_session.get(sid, [])
            expected = {r.seq: r.text for r in rows}
            own = {r.text for r in rows}
            foreign = {t for t in by_text if t not in own}
            t = console.transcripts.get(sid)
            final = dict(t.lines) if t else {}
            _check_received(
                tally, f"{console.name} session {sid}", expected,
                live[console.name].get(sid, {}), final, t.conflicts if t else 0, foreign,
            )  # fmt: skip
        for sid, t in console.transcripts.items():
            if sid not in mine and t.lines:
                tally.add(
                    "leaked", len(t.lines), f"{console.name} got lines of session {sid} not its own"
                )

    orphans = [sid for sid in stored.sessions if sid not in patron_of]
    if orphans:
        tally.problems.append(
            f"note: sessions {orphans} have no patron in the run (an ask whose answer was lost)"
        )
    return tally


def delivery_stats(
    stored: Stored, patrons: list[Patron], consoles: list[Console], wall0: float
) -> list[str]:
    """How lines reached the parties (for the report; not part of the verdict).

    Latency counts lines stored while the party already followed the session:
    from the row's ``created_at`` to the moment the line reached the client.
    """
    created: dict[tuple[int, str], float] = {}
    patron_seq_of: dict[tuple[int, int], float] = {}
    seq_of: dict[tuple[int, int], float] = {}
    by_text: dict[str, Row] = {}
    for row in stored.rows:
        created[(row.session, row.text)] = row.created_at
        seq_of[(row.session, row.seq)] = row.created_at
        if row.patron_seq:
            patron_seq_of[(row.session, row.patron_seq)] = row.created_at
        by_text.setdefault(row.text, row)
    token_of = {info["token"]: sid for sid, info in stored.sessions.items()}
    via: Counter[str] = Counter()
    latencies: list[float] = []
    stale: list[float] = []  # stored while the party had an open socket, arrived > 3 s later
    stale_via: Counter[str] = Counter()
    stale_detail: list[str] = []

    def follow(party: Party, t: Transcript, stamp: dict[tuple[int, int], float], sid: int) -> None:
        if not t.arrived:
            return
        start = min(when for when, _ in t.arrived.values())
        for seq, (when, how) in t.arrived.items():
            via[how] += 1
            made = stamp.get((sid, seq))
            if made is None or made <= start:
                continue
            latencies.append(when - made)
            live = [k for k, (o, c) in enumerate(party.lifetimes) if o <= made and c >= made + 3]
            if when - made > 3 and live:
                stale.append(made - wall0)
                stale_via[how] += 1
                k = live[0]
                stale_detail.append(
                    f"{party.name} s{sid} seq {seq} stored t={made - wall0:.1f} arrived "
                    f"t={when - wall0:.1f} by {how}; socket #{k} on "
                    f"{party.ports_used[k]} open t={party.lifetimes[k][0] - wall0:.1f}.."
                    f"{party.lifetimes[k][1] - wall0:.1f}"
                )

    for patron in patrons:
        sid = token_of.get(patron.token or "")
        if sid is not None:
            follow(patron, patron.transcript, patron_seq_of, sid)
    for console in consoles:
        for sid, t in console.transcripts.items():
            follow(console, t, seq_of, sid)
    out = [f"deliveries: {via['event']} by event, {via['snapshot']} by snapshot or catch-up"]
    if latencies:
        latencies.sort()
        pick = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        slow = sum(1 for x in latencies if x > 5)
        median = latencies[len(latencies) // 2]
        out.append(
            f"latency of {len(latencies)} live lines: median {median:.3f}s, "
            f"p99 {pick:.2f}s, max {latencies[-1]:.2f}s, {slow} over 5 s"
        )
    if stale:
        seconds = sorted({round(x) for x in stale})
        out.append(
            f"{len(stale)} lines reached an open socket more than 3 s late "
            f"({stale_via['event']} by a slow event, {stale_via['snapshot']} by catch-up after "
            f"their event was lost), stored at t={seconds[:20]}"
        )
        if os.environ.get("FAULTS_VERBOSE"):
            out.extend(stale_detail)
    deaf, quick = [], 0
    for party in [*patrons, *consoles]:
        for k, (opened, closed) in enumerate(party.lifetimes):
            acks = [t for t in party.ack_times if opened < t < closed - 1]
            events = [t for t in party.event_times if (acks[0] if acks else opened) < t < closed]
            if len(acks) >= 2 and not events:
                same = k > 0 and party.ports_used[k - 1] == party.ports_used[k]
                gap = opened - party.lifetimes[k - 1][1] if k > 0 else -1
                quick += same
                deaf.append(
                    f"{party.name}#{k} t={opened - wall0:.1f}..{closed - wall0:.1f} "
                    f"({len(acks)} acks; previous socket {'same' if same else 'other'} "
                    f"process, closed {gap:.2f}s before)"
                )
    if deaf:
        out.append(
            f"{len(deaf)} sockets got no message.created at all while their own lines were "
            f"acknowledged ({quick} of them reconnected to the same process): {deaf[:8]}"
        )
    catchups: Counter[str] = Counter()
    for party in [*patrons, *consoles]:
        catchups.update(party.catchups)
    out.append(
        f"catch-ups asked: {catchups['gap']} on a gap, {catchups['heartbeat']} on a heartbeat"
    )
    resent = stored_before = 0
    for party in [*patrons, *consoles]:
        for line in party.sent.values():
            if line.sends > 1:
                resent += 1
                first = by_text.get(line.text)
                if first is not None and first.created_at < line.sent_at[-1]:
                    stored_before += 1
    out.append(
        f"lines sent again after a drop: {resent}, of which {stored_before} were already "
        "stored (the retry stored nothing new)"
    )
    return out
