"""`[responder]`, its `[[responder.rules]]`, and `[[reply_templates]]`."""

from __future__ import annotations

from models.labels import LABELS
from monitor.auth.users import ROLES, User
from monitor.config.settings import ReplyTemplate, ResponderRule, ResponderSettings
from monitor.config.sources import check_source_name
from monitor.config.tables import TableReader
from monitor.config.watches import check_watch
from monitor.errors import ConfigError, TemplateError
from monitor.mention import Watch
from monitor.sources.reply_text import placeholders

RESPONDER_KEYS = {
    "response_target_minutes",
    "resolution_target_minutes",
    "approval_roles",
    "approval_min_priority",
    "approver_role",
    "brand",
    "product",
    "rules",
}
RULE_KEYS = {"watch", "source", "label", "assignee"}
RULE_LABELS = (*LABELS, "any")


def parse_responder(
    root: TableReader, watches: tuple[Watch, ...], users: tuple[User, ...]
) -> ResponderSettings:
    reader = root.sub("responder")
    reader.reject_unknown(RESPONDER_KEYS)
    approval_roles = reader.words("approval_roles")
    for role in approval_roles:
        if role not in ROLES:
            raise reader.fail("approval_roles", f"roles among {', '.join(ROLES)}", role)
    approver_role = reader.string("approver_role", "admin") or "admin"
    if approver_role not in ROLES or approver_role == "viewer":
        raise reader.fail("approver_role", "responder or admin", approver_role)
    min_priority = reader.table.get("approval_min_priority")
    return ResponderSettings(
        response_target_minutes=reader.number("response_target_minutes", 60.0, minimum=1.0),
        resolution_target_minutes=reader.number("resolution_target_minutes", 1440.0, minimum=1.0),
        approval_roles=approval_roles,
        approval_min_priority=(
            None if min_priority is None else reader.number("approval_min_priority", 0.0, minimum=0.0)
        ),
        approver_role=approver_role,
        brand=reader.text("brand"),
        product=reader.text("product"),
        rules=_parse_rules(reader, watches, users),
    )


def _parse_rules(
    reader: TableReader, watches: tuple[Watch, ...], users: tuple[User, ...]
) -> tuple[ResponderRule, ...]:
    user_names = {user.name for user in users}
    rules: list[ResponderRule] = []
    for rule in reader.tables("rules"):
        rule.reject_unknown(RULE_KEYS)
        assignee = rule.text("assignee")
        if assignee is None:
            raise rule.fail(
                "assignee", "the name of the person who gets these cases", rule.table.get("assignee")
            )
        if user_names and assignee not in user_names:
            raise rule.fail("assignee", f"one of the [[users]] ({', '.join(sorted(user_names))})", assignee)
        watch = rule.string("watch")
        if watch is not None:
            check_watch(rule, "watch", watch, watches, "the name of a configured watch")
        source = rule.string("source")
        if source is not None:
            check_source_name(rule.where, f"{rule.key_path}.source", source)
        label = (rule.string("label", "negative") or "negative").lower()
        if label not in RULE_LABELS:
            raise rule.fail("label", f"one of {', '.join(RULE_LABELS)}", label)
        rules.append(
            ResponderRule(
                assignee=assignee, watch=watch, source=source, label=None if label == "any" else label
            )
        )
    return tuple(rules)


def parse_reply_templates(root: TableReader) -> tuple[ReplyTemplate, ...]:
    templates: list[ReplyTemplate] = []
    for reader in root.tables("reply_templates"):
        reader.reject_unknown({"name", "text"})
        name = reader.text("name")
        if name is None:
            raise reader.fail("name", "a name to pick the template by", reader.table.get("name"))
        if any(template.name == name for template in templates):
            raise reader.fail("name", "a name no other reply template has", name)
        text = reader.string("text") or ""
        if not text.strip():
            raise reader.fail("text", "the reply's text", text)
        try:
            placeholders(text, name)
        except TemplateError as exc:
            raise ConfigError(f"{reader.where}: {reader.key_path}.text: {exc}") from None
        templates.append(ReplyTemplate(name=name, text=text))
    return tuple(templates)
