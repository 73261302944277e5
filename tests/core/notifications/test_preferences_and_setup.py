"""Per-user notification preferences and the admin's channel set-up: validation with the reason, own
preferences only, MANAGE_SETTINGS for channels, every change audited, and secrets only in the keyring
(never in any database table, on SQLite and PostgreSQL, nor in the settings file)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from keyring.backends.fail import Keyring as FailKeyring
from sqlalchemy import select

from core.alarms.escalation import Channel, EscalationPolicyError
from core.alarms.priorities import Priority
from core.audit.trail import AuditFilter
from core.auth.roles import Role
from core.errors import KeyringUnavailable, PermissionDenied
from core.notifications.assembly import build_channels
from core.notifications.channel_settings import (
    SECRET_NAMES,
    EmailSettings,
    NotificationSetupService,
    PagerDutySettings,
    SlackSettings,
    SmsSettings,
)
from core.notifications.errors import NotificationConfigError
from core.notifications.preferences import (
    NotificationPreferenceService,
    UserNotificationSettings,
    check_email,
    check_sms_number,
)
from core.secrets import SecretStore
from core.settings import Settings
from core.storage.schema import metadata

STRONG = "Correct-Horse-42"


def _people(services):
    services.users.create_first_admin("chief", STRONG, "Chief")
    admin = services.users.authenticate("chief", STRONG, host="t")
    out = {"admin": admin}
    for name, role in (("otto", Role.OPERATOR), ("vera", Role.VIEWER)):
        services.users.create_user(admin, name, role, "Temporary-Pass-7", name.title())
        first = services.users.authenticate(name, "Temporary-Pass-7", host="t")
        services.users.change_password(first, "Temporary-Pass-7", STRONG)
        out[name] = services.users.authenticate(name, STRONG, host="t")
    return out


def _audit(services, action):
    with services.db.session() as s:
        return services.audit.query(s, AuditFilter(action=action))


# -- validators (hypothesis) -----------------------------------------------------------------------
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_every_e164_number_is_accepted_as_is(number):
    assert check_sms_number(number) == number


@given(st.text(max_size=20).filter(lambda t: not t.strip().startswith("+")))
def test_a_number_without_a_plus_and_country_code_is_refused_with_the_field(text):
    with pytest.raises(NotificationConfigError, match="SMS number"):
        check_sms_number(text)


@given(st.emails())
def test_generated_email_addresses_are_accepted(address):
    if "." in address.split("@")[1] and not address.split("@")[1].endswith("."):
        assert check_email(address) == address


@given(st.text(alphabet=st.characters(blacklist_characters="@"), max_size=40))
def test_text_without_an_at_sign_is_not_an_email_address(text):
    with pytest.raises(NotificationConfigError, match="e-mail address"):
        check_email(text)


def test_phone_separators_are_dropped():
    assert check_sms_number("+32 (470) 12-34.56") == "+32470123456"


# -- preferences ---------------------------------------------------------------------------------------
def test_a_user_saves_own_preferences_and_the_change_is_audited(services):
    people = _people(services)
    prefs = NotificationPreferenceService(services.db, services.audit, services.authorizer, services.clock)
    assert prefs.get(people["vera"]) == UserNotificationSettings("vera")  # defaults: desktop, warning+, no sound
    saved = prefs.save(people["vera"], UserNotificationSettings(
        "vera", email=" vera@example.org ", email_enabled=True, sms_number="+32 470 12 34 56", sms_enabled=True,
        desktop_enabled=False, sound_enabled=True, min_priority=Priority.CRITICAL))
    assert prefs.get(people["vera"]) == saved
    assert saved.email == "vera@example.org" and saved.sms_number == "+32470123456"
    assert saved.channels == {Channel.EMAIL, Channel.SMS}
    recipients = prefs.recipients()
    assert [(p.user, p.min_priority) for p in recipients.preferences] == [("vera", Priority.CRITICAL)]
    assert recipients.emails == {"vera": ("vera@example.org",)}
    [entry] = _audit(services, "notification.preferences_update")
    assert entry.username == "vera" and entry.result == "success" and entry.detail["min_priority"] == "critical"


def test_a_refused_change_names_the_field_and_keeps_what_was_stored(services):
    people = _people(services)
    prefs = NotificationPreferenceService(services.db, services.audit, services.authorizer, services.clock)
    good = prefs.save(people["otto"], UserNotificationSettings("otto", email="otto@example.org", email_enabled=True))
    with pytest.raises(NotificationConfigError, match="SMS number: needed"):
        prefs.save(people["otto"], UserNotificationSettings("otto", sms_enabled=True))
    with pytest.raises(NotificationConfigError, match="e-mail address: 'otto@' is not"):
        prefs.save(people["otto"], UserNotificationSettings("otto", email="otto@", email_enabled=True))
    assert prefs.get(people["otto"]) == good
    assert [e.result for e in _audit(services, "notification.preferences_update")] == ["failure", "failure", "success"]


def test_only_an_admin_may_change_someone_elses_preferences(services):
    people = _people(services)
    prefs = NotificationPreferenceService(services.db, services.audit, services.authorizer, services.clock)
    with pytest.raises(PermissionDenied):
        prefs.save(people["otto"], UserNotificationSettings("vera", desktop_enabled=False))
    prefs.save(people["admin"], UserNotificationSettings("vera", desktop_enabled=False))
    assert prefs.get(people["vera"]).desktop_enabled is False


def test_deactivated_users_are_not_recipients(services):
    people = _people(services)
    prefs = NotificationPreferenceService(services.db, services.audit, services.authorizer, services.clock)
    prefs.save(people["otto"], UserNotificationSettings("otto"))
    prefs.save(people["vera"], UserNotificationSettings("vera"))
    services.users.deactivate(people["admin"], "otto")
    assert [p.user for p in prefs.recipients().preferences] == ["vera"]


# -- admin set-up and secrets ---------------------------------------------------------------------------
def _setup(services):
    return NotificationSetupService(services.db, services.audit, services.authorizer, services.clock,
                                    services.secrets)


def test_secrets_go_to_the_keyring_never_to_the_database_or_the_settings_file(services, memory_keyring):
    people = _people(services)
    setup = _setup(services)
    secrets = {"email": "Smtp-Pa55word-xyz", "slack": "https://hooks.example.org/services/T0/B0/TOKENabc123",
               "pagerduty": "R0UTINGKEY0123456789abcdef", "sms": "sms-api-KEY-98765"}
    setup.save_channel(people["admin"], EmailSettings(True, "smtp.example.org", 587, "alarms@example.org",
                                                      "gridroom"), secret=secrets["email"])
    setup.save_channel(people["admin"], SlackSettings(True), secret=secrets["slack"])
    setup.save_channel(people["admin"], PagerDutySettings(True), secret=secrets["pagerduty"])
    setup.save_channel(people["admin"], SmsSettings(True, "https://sms.example.org/send", "GridRoom"),
                       secret=secrets["sms"])
    Settings(extra={"touched": True}).save()
    assert {memory_keyring.store[("gridroom", SECRET_NAMES[k])] for k in secrets} == set(secrets.values())
    dump = []
    with services.db.session() as s:
        for table in metadata.sorted_tables:
            dump.extend(str(row) for row in s.execute(select(table)))
    text = "\n".join(dump) + Settings.path().read_text()
    assert "smtp.example.org" in text  # the non-secret settings are there...
    for value in secrets.values():
        assert value not in text  # ...the secrets are not, not even in the audit trail
    loaded = setup.load(people["admin"])
    assert loaded.email.host == "smtp.example.org" and loaded.secrets_stored == set(secrets)
    built = build_channels(loaded, setup.secret, lambda u: (), lambda u: (), lambda n: None)
    assert built.problems == ()
    assert sorted(c.name for c in built.channels) == ["desktop", "email", "pagerduty", "slack", "sms"]
    assert all(v not in repr(c) for c in built.channels for v in secrets.values())


def test_channel_set_up_needs_manage_settings_and_bad_input_is_refused_with_the_field(services, memory_keyring):
    people = _people(services)
    setup = _setup(services)
    with pytest.raises(PermissionDenied):
        setup.save_channel(people["otto"], SlackSettings(True), secret="https://hooks.example.org/x")
    with pytest.raises(NotificationConfigError, match="SMTP port: must be 1..65535"):
        setup.save_channel(people["admin"], EmailSettings(True, "smtp.example.org", 0, "a@example.org"))
    with pytest.raises(NotificationConfigError, match="SMS gateway URL"):
        setup.save_channel(people["admin"], SmsSettings(True, "ftp://sms"), secret="k")
    with pytest.raises(NotificationConfigError, match="pagerduty: enabling it needs its routing key"):
        setup.save_channel(people["admin"], PagerDutySettings(True))
    assert setup.load(people["admin"]).email.enabled is False  # nothing refused was stored
    results = [e.result for e in _audit(services, "notification.channel_update")]
    assert results == ["failure", "failure", "failure"]


def test_escalation_chain_is_configurable_and_a_bad_chain_is_refused(services):
    people = _people(services)
    setup = _setup(services)
    policy = setup.save_escalation(people["admin"], [("desktop", 0), ("email", 3), ("sms", 10)], {"critical"})
    assert setup.load(people["admin"]).escalation == policy
    with pytest.raises(EscalationPolicyError, match="steps must be in time order"):
        setup.save_escalation(people["admin"], [("email", 5), ("sms", 1)], {"critical"})
    with pytest.raises(EscalationPolicyError, match="unknown|not a valid"):
        setup.save_escalation(people["admin"], [("pigeon", 5)], {"critical"})
    assert setup.load(people["admin"]).escalation == policy


def test_without_a_keyring_a_secret_is_refused_and_nothing_is_stored(sqlite_services):
    people = _people(sqlite_services)
    setup = NotificationSetupService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                                     sqlite_services.clock, SecretStore(backend=FailKeyring()))
    with pytest.raises(KeyringUnavailable, match="No secure keyring"):
        setup.save_channel(people["admin"], SlackSettings(True), secret="https://hooks.example.org/x")
    assert setup.load(people["admin"]).slack.enabled is False
