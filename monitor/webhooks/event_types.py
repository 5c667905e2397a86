"""The kinds of event an endpoint may subscribe to, and what each one means."""

from __future__ import annotations

MENTION_NEGATIVE = "mention.negative"
MENTION_UPDATED = "mention.updated"
CASE_OPENED = "case.opened"
CASE_UPDATED = "case.updated"
REPLY_POSTED = "reply.posted"
ALERT_RAISED = "alert.raised"

EVENT_TYPES: dict[str, str] = {
    MENTION_NEGATIVE: "a new unhappy customer: a mention scored negative (sent once per mention)",
    MENTION_UPDATED: "the source edited or deleted a stored mention",
    CASE_OPENED: "a case was opened for a mention",
    CASE_UPDATED: "a case's status, assignee, tags or notes changed",
    REPLY_POSTED: "a reply was posted publicly (or marked as posted by hand)",
    ALERT_RAISED: "an alert went out (a spike, a loud unhappy customer, a failing source)",
}
