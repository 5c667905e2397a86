from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.config import Config, config_path, load_config
from monitor.errors import ConfigError


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "grumble.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_example_config_from_init_is_valid(tmp_path: Path) -> None:
    from monitor.cli import main

    path = tmp_path / "grumble.toml"
    assert main(["init", str(path)]) == 0
    config = load_config(path, environ={})
    assert config.database_url == "sqlite:///grumble.db"
    assert [w.name for w in config.watches] == ["acme"]
    assert config.jobs()[0][1] == "demo"


def test_watch_fields_and_source_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[watches]]
name = "acme"
keywords = ["acme", "acme app"]
required = ["refund"]
excluded = ["jobs"]
languages = ["EN"]
[watches.sources.file]
path = "in/*.csv"
""",
    )
    watch = load_config(path, environ={}).watches[0]
    assert watch.keywords == ("acme", "acme app")
    assert watch.required == ("refund",)
    assert watch.languages == ("en",)
    assert watch.options_for("file") == {"path": "in/*.csv"}


def test_environment_overrides_file_for_secrets_and_database(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///a.db"\n[sources.demo]\nbase_url = "http://file"\n')
    config = load_config(
        path,
        environ={
            "GRUMBLE_DATABASE_URL": "sqlite:///b.db",
            "GRUMBLE_DEMO_BASE_URL": "http://env",
            "GRUMBLE_DEMO_TOKEN": "s3",
            "GRUMBLE_DEMO_MAX_BACKFILL": "50",
        },
    )
    assert config.database_url == "sqlite:///b.db"
    assert config.source_settings("demo").base_url == "http://env"
    assert config.source_settings("demo").options["token"] == "s3"
    assert config.source_settings("demo").max_backfill == 50
    # keyword argument beats both
    assert load_config(path, environ={}, database_url="sqlite:///c.db").database_url == "sqlite:///c.db"


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ("databse_url = 'x'\n", ["databse_url", "known keys"]),
        ("[dashboard]\nport = 99999\n", ["dashboard.port", "a whole number from 1 to 65535", "99999"]),
        ("[smtp]\nhost = 'mail'\nport = 0\n", ["smtp.port", "from 1 to 65535"]),
        ("[metrics]\nport = 0\n", ["metrics.port", "from 1 to 65535"]),
        ("[metrics]\nport = 9464\npath = '/m'\n", ["unknown key 'metrics.path'"]),
        ("[[watches]]\nname = 'a'\nkeywords = 3\n", ["watches[0].keywords", "list of strings", "int 3"]),
        ("[[watches]]\nkeywords = ['a']\n", ["watches[0].name", "non-empty string"]),
        (
            "[[watches]]\nname='a'\nkeywords=['a']\n[watches.sources.twitter]\n",
            ["unknown source 'twitter'", "demo"],
        ),
        ("[schedule]\ncollect_every_minutes = -1\n", ["schedule.collect_every_minutes", "at least"]),
        ("[schedule]\ncollect_every_minutes = nan\n", ["schedule.collect_every_minutes", "finite", "nan"]),
        ("[sources.demo]\ntimeout_s = inf\n", ["sources.demo.timeout_s", "finite", "inf"]),
        (
            "[[users]]\nname='dana'\nemail='d@x.org'\n[[users]]\nname='dana'\nemail='e@x.org'\n",
            ["users[1].name", "no other user has", "dana"],
        ),
        ("[[watches]]\nname='a'\n[[watches]]\nname='a'\n", ["watches[1].name", "no other watch"]),
        ("database_url = \n", ["not valid TOML"]),
        ("[sources.nope]\n", ["unknown source 'nope'"]),
    ],
)
def test_bad_config_names_file_key_expected_and_found(
    tmp_path: Path, body: str, fragments: list[str]
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_metrics_are_off_without_a_port_and_the_environment_can_set_one(tmp_path: Path) -> None:
    path = write(tmp_path, "[metrics]\nhost = '0.0.0.0'\n")
    from_file = load_config(path, environ={}).metrics
    assert (from_file.host, from_file.port) == ("0.0.0.0", None)
    from_env = load_config(path, environ={"GRUMBLE_METRICS_PORT": "9464"}).metrics
    assert (from_env.host, from_env.port) == ("0.0.0.0", 9464)
    assert load_config(write(tmp_path, ""), environ={}).metrics.port is None
    with pytest.raises(ConfigError, match="GRUMBLE_METRICS_PORT: expected a whole number"):
        load_config(path, environ={"GRUMBLE_METRICS_PORT": "ninety"})


def test_missing_explicit_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="grumble init"):
        load_config(tmp_path / "nope.toml", environ={})


def test_missing_default_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.watches == ()
    assert config.path is None


def test_mail_without_an_smtp_host_is_refused_at_start(tmp_path: Path) -> None:
    body = (
        "[[watches]]\nname = 'acme'\nkeywords = ['acme']\n[watches.sources.demo]\n"
        "[[digests]]\nname = 'team'\nrecipients = ['a@example.com']\n"
    )
    config = load_config(write(tmp_path, body), environ={})
    with pytest.raises(ConfigError, match=r"\[\[digests\]\] 'team' send mail, but \[smtp\] has no host"):
        config.require_mail()
    load_config(write(tmp_path, body + "[smtp]\nhost = 'mail.example.com'\n"), environ={}).require_mail()
    load_config(write(tmp_path, body), environ={"GRUMBLE_SMTP_HOST": "mail.example.com"}).require_mail()


def test_a_secret_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "[smtp]\nhost = 'mail'\npassword = 12345\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "smtp.password" in message and "expected a string" in message
    assert "12345" not in message and "not shown: a secret" in message


def test_source_secrets_from_the_environment_are_taken_as_given(tmp_path: Path) -> None:
    environ = {
        "GRUMBLE_REDDIT_PASSWORD": "true",
        "GRUMBLE_REDDIT_CLIENT_SECRET": "0x1F",
        "GRUMBLE_REDDIT_CLIENT_ID": '"quoted"',
        "GRUMBLE_REDDIT_USERNAME": "1e3",
        "GRUMBLE_REDDIT_PAGE_SIZE": "50",
    }
    options = load_config(write(tmp_path, ""), environ=environ).source_settings("reddit").options
    assert options["password"] == "true" and options["client_secret"] == "0x1F"
    assert options["client_id"] == '"quoted"' and options["username"] == "1e3"
    assert options["page_size"] == 50  # not a secret: still read as a number


# Each setting the environment can set: (the file's TOML, the variable, its text, how to read the setting
# from a Config, the value the file gives, the value the variable gives).
ENVIRONMENT_SETTINGS = [
    pytest.param(
        'database_url = "sqlite:///file.db"\n',
        "GRUMBLE_DATABASE_URL",
        "sqlite:///env.db",
        lambda config: config.database_url,
        "sqlite:///file.db",
        "sqlite:///env.db",
        id="database_url",
    ),
    pytest.param(
        '[model]\nname = "file/model"\n',
        "GRUMBLE_MODEL",
        "env/model",
        lambda config: config.model.name,
        "file/model",
        "env/model",
        id="model",
    ),
    pytest.param(
        '[sources.reddit]\nclient_secret = "file-secret"\n',
        "GRUMBLE_REDDIT_CLIENT_SECRET",
        "0x1F",
        lambda config: config.source_settings("reddit").options["client_secret"],
        "file-secret",
        "0x1F",
        id="source secret",
    ),
    pytest.param(
        "[sources.reddit]\npage_size = 10\n",
        "GRUMBLE_REDDIT_PAGE_SIZE",
        "50",
        lambda config: config.source_settings("reddit").options["page_size"],
        10,
        50,
        id="source option",
    ),
    pytest.param(
        '[sources.demo]\nbase_url = "http://file"\n',
        "GRUMBLE_DEMO_BASE_URL",
        "http://env",
        lambda config: config.source_settings("demo").base_url,
        "http://file",
        "http://env",
        id="source base_url",
    ),
    pytest.param(
        '[smtp]\nhost = "mail"\npassword = "file-password"\n',
        "GRUMBLE_SMTP_PASSWORD",
        "true",
        lambda config: config.smtp.password,
        "file-password",
        "true",
        id="smtp password",
    ),
    pytest.param(
        '[smtp]\nhost = "mail"\nport = 2525\n',
        "GRUMBLE_SMTP_PORT",
        "2465",
        lambda config: config.smtp.port,
        2525,
        2465,
        id="smtp port",
    ),
    pytest.param(
        '[alerts]\nwebhook_url = "https://file.example/hook"\n',
        "GRUMBLE_ALERTS_WEBHOOK_URL",
        "https://env.example/hook",
        lambda config: config.alerts.webhook_url,
        "https://file.example/hook",
        "https://env.example/hook",
        id="alerts webhook_url",
    ),
]


@pytest.mark.parametrize(("body", "variable", "text", "read", "from_file", "from_env"), ENVIRONMENT_SETTINGS)
def test_the_environment_beats_the_file_and_an_empty_variable_is_not_set(
    tmp_path: Path,
    body: str,
    variable: str,
    text: str,
    read: Callable[[Config], object],
    from_file: object,
    from_env: object,
) -> None:
    path = write(tmp_path, body)
    assert read(load_config(path, environ={})) == from_file
    assert read(load_config(path, environ={variable: text})) == from_env
    assert read(load_config(path, environ={variable: ""})) == from_file


def test_the_database_url_argument_beats_the_environment_and_the_default_comes_last(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///file.db"\n')
    environ = {"GRUMBLE_DATABASE_URL": "sqlite:///env.db"}
    assert (
        load_config(path, environ=environ, database_url="sqlite:///arg.db").database_url == "sqlite:///arg.db"
    )
    assert load_config(path, environ=environ, database_url="").database_url == "sqlite:///env.db"
    assert load_config(write(tmp_path, ""), environ={}).database_url == "sqlite:///grumble.db"


def test_the_config_path_argument_beats_grumble_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "env.toml").write_text('database_url = "sqlite:///env.db"\n', encoding="utf-8")
    (tmp_path / "arg.toml").write_text('database_url = "sqlite:///arg.db"\n', encoding="utf-8")
    (tmp_path / "grumble.toml").write_text('database_url = "sqlite:///default.db"\n', encoding="utf-8")
    environ = {"GRUMBLE_CONFIG": "env.toml"}
    assert load_config("arg.toml", environ=environ).database_url == "sqlite:///arg.db"
    assert load_config(environ=environ).database_url == "sqlite:///env.db"
    assert load_config(environ={"GRUMBLE_CONFIG": ""}).database_url == "sqlite:///default.db"
    assert config_path("arg.toml", environ) == Path("arg.toml")
    assert config_path(None, environ) == Path("env.toml") and config_path(None, {}) is None


def test_a_bad_variable_is_reported_by_its_name_and_a_secret_never_shown(tmp_path: Path) -> None:
    path = write(tmp_path, "[sources.demo]\nmax_backfill = 10\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"GRUMBLE_DEMO_MAX_BACKFILL": "lots"})
    assert str(caught.value).startswith(
        "environment variable GRUMBLE_DEMO_MAX_BACKFILL: expected a whole number"
    )
    environ = {"GRUMBLE_SMTP_HOST": "mail", "GRUMBLE_SMTP_PASSWORD": "hunter2", "GRUMBLE_SMTP_PORT": "x"}
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ)
    assert "GRUMBLE_SMTP_PORT" in str(caught.value) and "hunter2" not in str(caught.value)
    config = load_config(path, environ={**environ, "GRUMBLE_SMTP_PORT": "25"})
    assert config.smtp.password == "hunter2" and "hunter2" not in repr(config.smtp)


def test_watch_names_one_rule_for_valid_names_references_and_listing(tmp_path: Path) -> None:
    watches = "[[watches]]\nname = 'zeta'\n[[watches]]\nname = ' acme '\n"
    config = load_config(write(tmp_path, watches), environ={})
    assert config.watch_names == ("zeta", "acme")  # spaces around a name do not count; the file's order
    assert config.watch("acme").name == "acme"
    with pytest.raises(ConfigError, match=r"no watch named 'nope'; configured watches: acme, zeta"):
        config.watch("nope")
    with pytest.raises(ConfigError, match=r"watches\[2\]\.name: expected a name no other watch has"):
        load_config(write(tmp_path, watches + "[[watches]]\nname = 'acme '\n"), environ={})
    digest = "[[digests]]\nname = 'd'\nrecipients = ['a@example.com']\nwatches = ['nope']\n"
    rule = "[[responder.rules]]\nwatch = 'nope'\nassignee = 'dana'\n"
    for body, expected in [(digest, "names of configured watches"), (rule, "the name of a configured watch")]:
        with pytest.raises(ConfigError, match=rf"expected {expected} \(acme, zeta\), found str 'nope'"):
            load_config(write(tmp_path, watches + body), environ={})
