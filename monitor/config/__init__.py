"""Load and validate grumble.toml and GRUMBLE_* variables, once, into frozen objects.

Precedence, as in PRAW's config, the same for every setting: keyword arguments (`load_config(...,
database_url=...)`, fed by command-line options), then environment variables, then the file, then the
default. A variable set to the empty string counts as not set. The variables (`environment.lookup` is
the only code that reads them):

    GRUMBLE_CONFIG             the file's path (an explicit path argument beats it)
    GRUMBLE_DATABASE_URL       database_url
    GRUMBLE_MODEL              [model] name
    GRUMBLE_<SOURCE>_<KEY>     [sources.<source>] <key>, any key (GRUMBLE_REDDIT_CLIENT_SECRET)
    GRUMBLE_SMTP_<KEY>         [smtp] <key> (GRUMBLE_SMTP_PASSWORD, GRUMBLE_SMTP_PORT, ...)
    GRUMBLE_ALERTS_WEBHOOK_URL [alerts] webhook_url
    GRUMBLE_METRICS_HOST/PORT  [metrics] host, port

Variables hold text: secrets, names, addresses, URLs and paths are taken exactly as given; other keys
are read as a TOML value where they are one (50, 2.5, true, ["a"]). A bad value is reported with the
file and key, or the variable, it came from, with what was expected and what was found (never a
secret's value), and nothing starts half-configured.

Modules: `settings` (the frozen dataclasses), `environment` (the lookup), `tables` (type-checked TOML
tables), `load` (the file and the top level), and one module per group of sections: `sources`,
`watches`, `mail` (smtp, digests, alerts), `responder` (responder, rules, reply templates).
"""

from monitor.config.environment import DEFAULT_CONFIG_PATH, ENV_PREFIX, config_path
from monitor.config.load import config_file, file_fingerprint, load_config, parse_config
from monitor.config.settings import (
    DEFAULT_DATABASE_URL,
    DIGEST_FREQUENCIES,
    SMTP_SECURITY,
    WEEKDAYS,
    AlertSettings,
    Config,
    DashboardSettings,
    DigestList,
    MetricsSettings,
    ModelSettings,
    QueueSettings,
    ReplyTemplate,
    ResponderRule,
    ResponderSettings,
    Schedule,
    SmtpSettings,
)
from monitor.config.tables import is_secret

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DATABASE_URL",
    "DIGEST_FREQUENCIES",
    "ENV_PREFIX",
    "SMTP_SECURITY",
    "WEEKDAYS",
    "AlertSettings",
    "Config",
    "DashboardSettings",
    "DigestList",
    "MetricsSettings",
    "ModelSettings",
    "QueueSettings",
    "ReplyTemplate",
    "ResponderRule",
    "ResponderSettings",
    "Schedule",
    "SmtpSettings",
    "config_file",
    "config_path",
    "file_fingerprint",
    "is_secret",
    "load_config",
    "parse_config",
]
