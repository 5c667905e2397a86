"""/mentions: filtered as the inbox filters, paged by a cursor that stays put when mentions arrive, one
mention with its scores, verdict, history and case, and bad input answered with what to fix."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import Engine, update

from monitor.mention import utcnow
from monitor.respond.cases import triage
from monitor.store.authors import set_vip
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from tests.api.conftest import Api, make_api, seed
from tests.factories import mention
from tests.respond.conftest import set_priority


def ids(answer: object) -> list[int]:
    return [item["id"] for item in answer.json()["items"]]  # type: ignore[attr-defined]


def test_the_list_is_the_inbox_s_open_negatives_by_priority_and_filters_as_an_inbox_link_does(
    api: Api,
) -> None:
    acme = seed(api.engine, 3)
    globex = seed(api.engine, 2, watch_name="globex", start=100)
    with api.engine.begin() as connection:  # one acme mention is positive, one handled
        connection.execute(update(mentions).where(mentions.c.id == acme[2]).values(label="positive"))
    triage(api.engine, acme[1], "handled", "dana")
    # Priorities: globex 102 and 101 above acme's 3, 2, 1.
    assert ids(api.get("/mentions")) == [globex[0], globex[1], acme[0]]
    assert ids(api.get("/mentions", params={"watch": "acme"})) == [acme[0]]
    assert ids(api.get("/mentions", params={"watch": "acme", "label": "all"})) == [acme[0], acme[2]]
    assert ids(api.get("/mentions", params={"watch": "acme", "show": "all"})) == [acme[0], acme[1]]
    assert ids(api.get("/mentions", params={"q": "number 101"})) == [globex[1]]
    assert ids(api.get("/mentions", params={"min": "50"})) == [globex[0], globex[1]]
    newest = api.get("/mentions", params={"sort": "newest", "label": "all", "show": "all"})
    # Each seed's times count back from its own "now": globex's are the later by a hair.
    assert ids(newest) == [globex[0], acme[0], globex[1], acme[1], acme[2]]
    item = api.get("/mentions", params={"limit": 1}).json()["items"][0]
    assert item["watches"] == ["globex"] and item["triage"] == "open"
    assert item["verdict"]["label"] == "negative" and item["scores"]["negative"] == 0.9
    assert item["priority"] == pytest.approx(102.0, rel=1e-3)


def walk(api: Api, limit: int, between: object = None, **params: object) -> list[int]:
    """Every page from the first, calling `between(page_number)` before asking for each next page."""
    seen: list[int] = []
    cursor = None
    page = 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = api.get("/mentions", params=query)
        assert answer.status_code == 200, answer.text
        seen += ids(answer)
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return seen
        page += 1
        if callable(between):
            between(page)


def test_pages_never_repeat_or_skip_a_mention_while_new_ones_arrive(api: Api) -> None:
    original = seed(api.engine, 20)  # priorities 20..1
    # Two unscored mentions: listed after every scored one, newest first.
    import_mentions(api.engine, "acme", [mention(500 + n, source="reddit") for n in range(2)])
    with api.engine.connect() as connection:
        unscored = [
            row.id
            for row in connection.execute(
                mentions.select().where(mentions.c.rank_key.is_(None)).order_by(mentions.c.created_at.desc())
            )
        ]
    below: list[int] = []
    counter = iter(range(1000, 2000, 10))

    def arrive(page: int) -> None:
        # Between pages: a mention above every cursor (already passed), one among the originals, one
        # below them all, which the pages still ahead must list.
        start = next(counter)
        made = seed(api.engine, 3, start=start)
        set_priority(api.engine, made[1], 10.5)
        set_priority(api.engine, made[2], 0.5)
        if page <= 3:  # the cursor is still above 0.5 (past page 3 it may have gone by)
            below.append(made[2])

    seen = walk(api, 6, arrive, label="all")
    assert len(seen) == len(set(seen)), "a mention was listed twice"
    expected = original + unscored
    assert [i for i in seen if i in expected] == expected, "an original mention was skipped or out of order"
    assert seen[-2:] == unscored
    assert set(below) <= set(seen), "a mention that arrived below the cursor was never listed"


@pytest.mark.both_databases
def test_a_list_read_page_by_page_on_both_databases(engine: Engine) -> None:
    api = make_api(engine)
    with api.client:
        made = seed(engine, 5)
        assert walk(api, 2) == made
        assert api.get("/mentions", params={"limit": 5}).json()["next_cursor"] is None


def problem_fields(answer: object) -> dict[str, str]:
    body = answer.json()  # type: ignore[attr-defined]
    assert answer.status_code == 422, body  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert body["type"] == "urn:grumble:problem:invalid-input" and body["title"] == "Invalid input"
    assert body["detail"].startswith("Fix these and send the request again:")
    return {error["field"]: f"{error['message']} -> {error['fix']}" for error in body["errors"]}


def test_bad_filters_and_cursors_are_answered_with_each_field_and_what_to_send(api: Api) -> None:
    seed(api.engine, 3)
    fields = problem_fields(
        api.get(
            "/mentions",
            params={
                "watch": ["acme", "initech"],
                "label": "angry",
                "show": "mine",
                "min": "-1",
                "sort": "reach",
            },
        )
    )
    fix = " -> send a value the message allows, or leave the parameter out"
    assert fields == {
        "watch": "watch='initech': not one of acme, globex" + fix,
        "label": "label='angry': not one of negative, neutral, positive" + fix,
        "show": "show='mine': choose one of unhandled, handled, dismissed, all" + fix,
        "min": "min='-1': give a number of 0 or more" + fix,
        "sort": "the API pages by position, which sort='reach' cannot give -> send one of priority, newest",
    }
    assert problem_fields(api.get("/mentions", params={"limit": 500})) == {
        "limit": "Input should be less than or equal to 100 -> send a number of at most 100"
    }
    assert list(problem_fields(api.get("/mentions", params={"cursor": "nonsense!"}))) == ["cursor"]
    newest = api.get("/mentions", params={"sort": "newest", "limit": 1}).json()["next_cursor"]
    wrong_order = problem_fields(api.get("/mentions", params={"cursor": newest}))
    assert wrong_order["cursor"].startswith(
        "this cursor cannot be used: it continues a list sorted by newest"
    )
    forged = base64.urlsafe_b64encode(json.dumps(["priority", 1.0, "yesterday", 1]).encode()).decode()
    assert list(problem_fields(api.get("/mentions", params={"cursor": forged}))) == ["cursor"]


def test_bad_bodies_name_the_field_and_the_fix(api: Api) -> None:
    mention_id = seed(api.engine, 1)[0]
    case_id = api.call("POST", f"/mentions/{mention_id}/case").json()["id"]
    assert problem_fields(api.call("PUT", f"/cases/{case_id}/status", json={"status": "replied"})) == {
        "status": "a case cannot be set to 'replied' by hand (replied comes from posting a reply, "
        "waiting_for_approval from submitting one) -> send one of new, in_progress, resolved, dismissed"
    }
    assert problem_fields(api.call("PUT", f"/cases/{case_id}/status", json={})) == {
        "status": "Field required -> add this field"
    }
    assert problem_fields(api.call("PUT", f"/mentions/{mention_id}/label", json={"label": "meh"})) == {
        "label": "Input should be 'negative', 'neutral' or 'positive' -> send one of 'negative', "
        "'neutral' or 'positive'"
    }
    too_many = problem_fields(api.call("PUT", f"/cases/{case_id}/tags", json={"tags": ["x"] * 21}))
    assert too_many == {
        "tags": "List should have at most 20 items after validation, not 21 -> send at most 20 items"
    }
    not_json = api.call(
        "POST", f"/cases/{case_id}/notes", content=b"called", headers={"Content-Type": "application/json"}
    )
    assert next(iter(problem_fields(not_json).values())).endswith(
        "-> send a JSON object as the body, with Content-Type: application/json"
    )
    assert problem_fields(api.call("POST", f"/cases/{case_id}/reply/draft", json={})) == {
        "text": "no text and no template -> send the reply's text, or a template name to start from"
    }


def test_a_mention_comes_with_its_scores_verdict_history_case_and_replies(api: Api) -> None:
    mention_id = seed(api.engine, 1)[0]
    with api.engine.begin() as connection:
        connection.execute(
            update(mentions)
            .where(mentions.c.id == mention_id)
            .values(text_label="neutral", label_basis="stars", rating=1.0, model_version="tiny-1")
        )
    first = api.get(f"/mentions/{mention_id}").json()
    assert first["case"] is None and first["replies"] == [] and first["mention"]["vip"] is False
    set_vip(api.engine, "reddit", first["mention"]["author"], True, "dana", utcnow())
    assert api.get(f"/mentions/{mention_id}").json()["mention"]["vip"] is True
    relabelled = api.call("PUT", f"/mentions/{mention_id}/label", "responder", json={"label": "neutral"})
    assert relabelled.status_code == 200 and relabelled.json()["verdict"]["label"] == "neutral"
    case_id = api.call("POST", f"/mentions/{mention_id}/case", "responder").json()["id"]
    api.call("PUT", f"/cases/{case_id}/assignee", "responder", json={"assignee": "dana"})
    notes = api.call("POST", f"/cases/{case_id}/notes", "responder", json={"text": "called them"})
    assert [n["sentence"] for n in notes.json()] == ["responder-bot added a note: called them"]
    api.call("POST", f"/cases/{case_id}/reply/draft", "responder", json={"text": "Sorry!"})
    detail = api.get(f"/mentions/{mention_id}").json()
    assert detail["mention"]["scores"] == {
        "label": "neutral",
        "negative": 0.9,
        "neutral": None,
        "positive": None,
        "model_version": "tiny-1",
    }
    assert (
        detail["mention"]["verdict"]["basis"] == "stars" and "1-star" in detail["mention"]["priority_reasons"]
    )
    assert [entry["sentence"] for entry in detail["history"]] == [
        "responder-bot relabelled the mention from negative to neutral.",
        "responder-bot opened a case.",
        "responder-bot assigned the case to dana.",
        "responder-bot added a note: called them",
        "responder-bot drafted a reply.",
        "responder-bot moved the case from new to in progress.",
    ]
    assert detail["case"]["assignee"] == "dana" and detail["case"]["status"] == "in_progress"
    assert [(r["status"], r["text"]) for r in detail["replies"]] == [("draft", "Sorry!")]


def test_unknown_ids_and_paths_are_problems_too(api: Api) -> None:
    missing = api.get("/mentions/424242")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "No mention with id 424242; GET /mentions lists them."
    nowhere = api.get("/nowhere")
    assert nowhere.status_code == 404 and nowhere.json()["type"] == "urn:grumble:problem:not-found"
    wrong_method = api.call("DELETE", "/mentions")
    assert wrong_method.status_code == 405 and "DELETE is not allowed" in wrong_method.json()["detail"]
