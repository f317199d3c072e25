"""Task reminders: the beat sweep sends each due reminder once, over real SMTP, and retries
after the mail server refused it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Membership
from activity.models import Task
from activity.services import (
    complete_task,
    create_task,
    due_task_reminders,
    send_task_reminder,
    sweep_task_reminders,
    update_task,
)
from activity.tasks import send_task_reminders
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from tests.smtp import free_port


@pytest.fixture
def ana(org_a, alice):
    return create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})


def due_task(organization, actor, assignee, *, minutes: int = -5, contact=None, title: str = "Call Ana back"):
    due = timezone.now() + datetime.timedelta(minutes=minutes)
    return create_task(
        organization=organization, actor=actor, title=title, due_at=due, assignee=assignee, contact=contact
    )


def reminder_sent_at(organization, task):
    with tenant_context(organization):
        return Task.objects.get(pk=task.pk).reminder_sent_at


def test_a_due_reminder_goes_out_once(mailbox, org_a, alice, bob, ana):
    task = due_task(org_a, alice, bob, contact=ana)
    assert sweep_task_reminders() == 1
    assert sweep_task_reminders() == 0
    assert send_task_reminders() == 0  # the beat task: the same sweep
    assert len(mailbox.messages) == 1
    recipients, message = mailbox.messages[0]
    assert recipients == ["bob@example.com"]
    assert message["Subject"] == "Reminder: Call Ana back"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Ana Pop" in text and f"/o/{org_a.slug}/tasks/" in text
    assert "Call Ana back" in message.get_body(preferencelist=("html",)).get_content()
    assert reminder_sent_at(org_a, task) is not None


def test_a_claimed_reminder_is_not_sent_by_a_second_worker(mailbox, org_a, alice, ana):
    task = due_task(org_a, alice, alice)
    pairs = due_task_reminders()
    assert pairs == [(org_a.pk, task.pk)]
    # Two workers holding the same scan result: only the first claim wins.
    assert send_task_reminder(organization_id=org_a.pk, task_id=task.pk) is True
    assert send_task_reminder(organization_id=org_a.pk, task_id=task.pk) is False
    assert len(mailbox.messages) == 1


def test_done_future_and_undated_tasks_get_no_reminder(mailbox, org_a, alice, ana):
    done = due_task(org_a, alice, alice, title="done")
    complete_task(organization=org_a, actor=alice, task=done)
    due_task(org_a, alice, alice, minutes=30, title="later")
    create_task(organization=org_a, actor=alice, title="someday", due_at=None, assignee=alice)
    create_task(organization=org_a, actor=alice, title="nobody's", due_at=timezone.now(), assignee=None)
    assert sweep_task_reminders() == 0
    assert mailbox.messages == []


def test_a_refused_mail_is_retried_by_the_next_sweep(mailbox, settings, org_a, alice, ana):
    task = due_task(org_a, alice, alice)
    settings.EMAIL_PORT = free_port()  # nothing listens there: connection refused
    assert sweep_task_reminders() == 0
    assert reminder_sent_at(org_a, task) is None  # handed back, not lost
    settings.EMAIL_PORT = mailbox.port
    assert sweep_task_reminders() == 1
    assert len(mailbox.messages) == 1
    assert reminder_sent_at(org_a, task) is not None


def test_a_new_due_time_rearms_the_reminder(mailbox, org_a, alice, ana):
    task = due_task(org_a, alice, alice)
    assert sweep_task_reminders() == 1
    with tenant_context(org_a):
        task.refresh_from_db()
    update_task(
        organization=org_a,
        actor=alice,
        task=task,
        title=task.title,
        due_at=timezone.now() - datetime.timedelta(minutes=1),
        assignee=alice,
    )
    assert sweep_task_reminders() == 1
    assert len(mailbox.messages) == 2


def test_the_sweep_crosses_organizations_through_the_audited_bypass(platform_db, mailbox, org_a, org_b, alice, charlie):
    due_task(org_a, alice, alice)
    due_task(org_b, charlie, charlie)
    assert sweep_task_reminders() == 2
    assert sorted(recipients[0] for recipients, _message in mailbox.messages) == [
        "alice@example.com",
        "charlie@example.org",
    ]
    # Found through a narrow id function, not a role that reads every tenant: one audit
    # event for the run that found work, none for a run that found nothing.
    assert sweep_task_reminders() == 0
    with scopes_disabled():
        sweeps = AuditEvent.objects.using("platform").filter(action__startswith="platform.")
        assert list(sweeps.values_list("action", "actor_id", "details")) == [
            ("platform.sweep", None, {"reason": "task reminders", "organizations": 2, "tasks": 2})
        ]


def test_a_former_member_gets_no_reminder(mailbox, org_a, alice, bob):
    task = due_task(org_a, alice, bob)
    with tenant_context(org_a):  # memberships change only in their organization's context
        Membership.objects.filter(organization=org_a, user=bob).delete()
    assert sweep_task_reminders() == 0
    assert mailbox.messages == []
    assert reminder_sent_at(org_a, task) is not None  # not scanned again every minute


def test_the_reminder_speaks_the_assignees_language(mailbox, org_a, alice, bob):
    bob.language = "ro"
    bob.save(update_fields=["language"])
    due_task(org_a, alice, bob, title="Sună-l pe Ion")
    assert sweep_task_reminders() == 1
    _recipients, message = mailbox.messages[0]
    assert "Sună-l pe Ion" in message["Subject"]
    assert message.get_body(preferencelist=("plain",)).get_content().strip()
