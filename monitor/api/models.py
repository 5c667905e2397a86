"""The API's shapes: what a mention, a case, a reply, a watch and a source look like in JSON, built from
the store's values (the inbox's display row, `Case`, `CaseReply`), so the API says what the dashboard
shows. The OpenAPI document's schemas are these classes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from monitor.respond.history import event_sentence
from monitor.store.cases import Case, CaseReply
from monitor.store.triage import MentionEvent
from monitor.surface.inbox import MentionRow


class Scores(BaseModel):
    """What the model read in the text alone."""

    label: str | None = Field(description="the model's label for the text: negative, neutral, positive")
    negative: float | None
    neutral: float | None
    positive: float | None
    model_version: str | None


class Verdict(BaseModel):
    """The label the mention carries (the stars of a review decide over its text; a person may correct it)."""

    label: str | None
    basis: str | None = Field(description="what decided it: text, stars or language")
    uncertain: bool = Field(description="the model does not read the text's language")
    why: str = Field(description="why the label is what it is, in words; empty when the text alone decided")


class Mention(BaseModel):
    id: int
    source: str
    external_id: str
    url: str | None
    author: str | None
    author_reach: int | None
    engagement: int | None
    vip: bool
    created_at: datetime
    collected_at: datetime | None
    title: str | None
    text: str
    rating: float | None
    language: str | None
    watches: list[str]
    triage: str = Field(description="open, handled or dismissed")
    priority: float = Field(description="how negative x how far it travels x how fresh, now")
    priority_reasons: str
    scores: Scores
    verdict: Verdict

    @classmethod
    def of(cls, row: MentionRow) -> Mention:
        return cls(
            id=row.id,
            source=row.source,
            external_id=row.external_id,
            url=row.url,
            author=row.author,
            author_reach=row.author_reach,
            engagement=row.engagement,
            vip=row.vip,
            created_at=row.created_at,
            collected_at=row.collected_at,
            title=row.title,
            text=row.text,
            rating=row.rating,
            language=row.language,
            watches=row.watches,
            triage=row.triage,
            priority=row.priority,
            priority_reasons=row.priority_reasons(),
            scores=Scores(
                label=row.text_label or row.label,
                negative=row.negative,
                neutral=row.neutral,
                positive=row.positive,
                model_version=row.model_version,
            ),
            verdict=Verdict(label=row.label, basis=row.label_basis, uncertain=row.uncertain, why=row.why()),
        )


class MentionPage(BaseModel):
    items: list[Mention]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page. Stable under new mentions: "
        "a page never repeats or skips a mention that was there when the first page was read"
    )


class HistoryEntry(BaseModel):
    sentence: str = Field(description="the event in words, as the mention page shows it")
    action: str
    before: str | None
    after: str | None
    note: str | None
    actor: str
    at: datetime

    @classmethod
    def of(cls, event: MentionEvent) -> HistoryEntry:
        return cls(
            sentence=event_sentence(event),
            action=event.action,
            before=event.before,
            after=event.after,
            note=event.note,
            actor=event.actor,
            at=event.at,
        )


class CaseOut(BaseModel):
    id: int
    mention_id: int
    status: str
    assignee: str | None
    tags: list[str]
    opened_at: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime
    overdue: bool

    @classmethod
    def of(cls, case: Case, now: datetime) -> CaseOut:
        return cls(
            id=case.id,
            mention_id=case.mention_id,
            status=case.status,
            assignee=case.assignee,
            tags=list(case.tags),
            opened_at=case.opened_at,
            response_due_at=case.response_due_at,
            resolution_due_at=case.resolution_due_at,
            first_response_at=case.first_response_at,
            resolved_at=case.resolved_at,
            updated_at=case.updated_at,
            overdue=case.overdue(now),
        )


class ReplyOut(BaseModel):
    id: int
    case_id: int
    source: str
    status: str = Field(
        description="draft, awaiting_approval, approved, posting, unconfirmed, posted, posted_by_hand, failed"
    )
    text: str
    version: int = Field(description="the text's version: send it as base_version with the next edit")
    template: str | None
    author: str
    approved_by: str | None
    approved_at: datetime | None
    attempts: int
    remote_id: str | None
    remote_url: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    posted_at: datetime | None

    @classmethod
    def of(cls, reply: CaseReply) -> ReplyOut:
        return cls.model_validate(reply, from_attributes=True)


class MentionDetail(BaseModel):
    mention: Mention
    history: list[HistoryEntry] = Field(description="every change, oldest first")
    case: CaseOut | None
    replies: list[ReplyOut] = Field(description="the case's replies, oldest first")
