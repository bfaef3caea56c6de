"""The transcripts a run owes, against what the mail server received.

Every ended session with an address owes one transcript email: it must
reach the run's mail server exactly once (by Message-ID), addressed to its
patron, with every patron-visible line and nothing else.
"""

from faults.check import MESSAGE_ID, Row, Stored, Tally
from faults.clients import NOTE_MARKER, TAG
from faults.mail import Mail
from faults.patron import Patron

# How near to the moment the mail server took a copy a worker kill must land
# to have kept the worker from recording it: its yes on the wire and one
# UPDATE after, or the server finishing a message whose sender just died.
REPLY_WINDOW_S = 0.5


def check_transcripts(
    tally: Tally,
    stored: Stored,
    patrons: list[Patron],
    mails: list[Mail],
    worker_kills: list[float] | None = None,
) -> None:
    """Each ended session with an address: its transcript reached the mail
    server once, addressed to its patron, with its patron-visible lines, no
    note and no line of another session. Mail nobody owes counts as leaked.

    One exception, counted apart: a copy sent again because the worker was
    killed within ``REPLY_WINDOW_S`` of the server taking the one before,
    while its yes was on the way (SMTP's own duplicate, RFC 1047: a sender
    that never heard the yes can't tell a taken message from a lost one, and
    a lost transcript would be worse). Any other second copy is a failure."""
    kills = worker_kills or []
    by_session: dict[int, list[Mail]] = {}
    for mail in mails:
        match = MESSAGE_ID.match(mail.message_id.strip())
        sid = int(match.group(1)) if match else None
        if sid is None or sid not in stored.sessions:
            tally.add("leaked", 1, f"mail {mail.message_id!r} to {mail.rcpt_tos} of no session")
            continue
        by_session.setdefault(sid, []).append(mail)
    rows_of: dict[int, list[Row]] = {}
    for row in stored.rows:
        rows_of.setdefault(row.session, []).append(row)
    token_of = {info["token"]: sid for sid, info in stored.sessions.items()}
    patron_of = {token_of[p.token]: p for p in patrons if p.token in token_of}
    for sid, info in sorted(stored.sessions.items()):
        got = by_session.get(sid, [])
        owed = info["state"] == "closed" and bool(info["email"])
        if not owed:
            tally.add(
                "leaked", len(got), f"session {sid} ({info['state']}) was mailed a transcript"
            )
            continue
        tally.transcripts += 1
        if not got:
            tally.transcripts_lost += 1
            tally.problems.append(
                f"transcripts_lost +1: session {sid} (closed by {info['closed_by']}) never "
                f"reached the mail server; sent_at {'set' if info['sent_at'] else 'not set'}, "
                f"{info['attempts']} attempts"
            )
            continue
        explained = sum(
            any(abs(kill - m.received_at) <= REPLY_WINDOW_S for kill in kills) for m in got[:-1]
        )
        tally.transcripts_again_after_kill += explained
        if len(got) - 1 > explained:
            tally.transcripts_twice += len(got) - 1 - explained
            tally.problems.append(
                f"transcripts_twice +{len(got) - 1 - explained}: session {sid} mailed "
                f"{len(got)} times, at "
                f"{[round(m.received_at, 3) for m in got]}; recorded sent at {info['sent_at']}, "
                f"{info['attempts']} attempts"
            )
        patron = patron_of.get(sid)
        tag = TAG.search(info["question"] or "")
        index = patron.index if patron else (int(tag.group(1)[1:]) if tag else None)
        expected_email = f"patron{index}@faults.example"
        if info["email"] != expected_email:
            tally.add("leaked", 1, f"session {sid} stored the address {info['email']!r}")
        allowed = {f"P{index}", f"S{sid}"}
        visible = [r.text for r in rows_of.get(sid, []) if r.visibility == "patron"]
        for mail in got:
            if mail.rcpt_tos != [expected_email] or expected_email not in mail.to:
                tally.add(
                    "leaked", 1,
                    f"session {sid}'s transcript went to {mail.rcpt_tos} (To: {mail.to!r})",
                )  # fmt: skip
            missing = [text for text in visible if text not in mail.body]
            tally.add(
                "lost", len(missing),
                f"session {sid}'s transcript lacks {len(missing)} of its lines: {missing[:3]}",
            )  # fmt: skip
            if NOTE_MARKER in mail.body:
                tally.add("leaked", 1, f"session {sid}'s transcript carries a note marker")
            stray = set(TAG.findall(mail.body)) - allowed
            tally.add("leaked", len(stray), f"session {sid}'s transcript carries {sorted(stray)}")
