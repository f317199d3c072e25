"""manage.py bench_privacy: the privacy desk's figures at scale (issue targets in brackets).

- identity match: the candidate contacts for a request's email and phone, through the blind
  indexes, among N contacts [p95 < 50 ms at 1,000,000];
- access package for a subject with 1,000 interactions, end to end: collect from the
  registry, JSON + HTML + CSV, zip, seal with the organization's key [< 5 s];
- erasure of that subject through the registry [< 10 s].

It seeds with bench_crm's seeder (same organizations, same slug prefix: one run removes the
other's kept data), then adds the subject. `--reuse` measures data kept by
`bench_crm --keep` (for example at a million contacts, which takes most of an hour to seed).
"""

from __future__ import annotations

import datetime
import random
import time

from django.utils import timezone

from activity.models import Interaction, InteractionParticipant, Task
from contacts.benchmarks import percentile, timed
from contacts.management.commands.bench_crm import SLUG_PREFIX, Seeded
from contacts.management.commands.bench_crm import Command as CrmBench
from contacts.models import Contact, ContactEmail, ContactPhone
from contacts.services.contacts import find_duplicates
from logicnet.tenancy.context import tenant_context

SUBJECT_INTERACTIONS = 1000
TARGETS = {"identity match p95": 50.0, "access package": 5000.0, "erasure": 10000.0}


class Command(CrmBench):
    help = "Measure identity matching, access packages and erasure at scale."
    # The others' interactions only fill the tables the subject's are read from.
    interactions_per_contact = 1

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=10_000, help="contacts in the measured organization")
        parser.add_argument("--other-contacts", type=int, default=None)
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--requests", type=int, default=300, help="identity lookups timed")
        parser.add_argument("--keep", action="store_true", help="keep the seeded data")
        parser.add_argument("--reuse", action="store_true", help="measure data kept by bench_crm/bench_privacy --keep")

    def handle(self, *args, contacts, other_contacts, batch_size, requests, keep, reuse, **options):
        from accounts.models import Organization

        self.rng = random.Random(2028)  # noqa: S311 - benchmark data, not secrets
        self.batch_size = batch_size
        other_contacts = other_contacts if other_contacts is not None else max(100, contacts // 100)
        main = Organization.objects.filter(slug=f"{SLUG_PREFIX}main").first() if reuse else None
        try:
            if main is not None:
                self.say(f"reusing the data kept in {main.slug}")
                seeded = self.describe(main)
            else:
                self.remove_bench_data()
                seeded, _small = self.seed_all(contacts, other_contacts)
            self.measure_privacy(seeded, requests)
        finally:
            if keep:
                self.say("keeping the data (--keep)")
            else:
                self.remove_bench_data()

    def add_subject(self, seeded: Seeded) -> Contact:
        """A person with SUBJECT_INTERACTIONS interactions (one in ten shared with someone
        else), further emails and phones, and tasks."""
        from contacts.services.contacts import create_contact

        organization, rng, now = seeded.organization, self.rng, timezone.now()
        subject = create_contact(
            organization=organization,
            actor=self.user,
            data={
                "first_name": "Ioana",
                "last_name": "Subiectescu",
                "email": "ioana.subiectescu@exemplu.ro",
                "phone": "0722000111",
                "notes": "Cere o copie a datelor.",
                "extra_emails": [{"email": "ioana@acasa.ro", "label": "home"}],
                "extra_phones": [{"phone": "0213000111", "label": "home"}],
            },
        )
        with tenant_context(organization):
            others = list(
                Contact.objects.filter(organization=organization)
                .exclude(pk=subject.pk)
                .values_list("pk", flat=True)[:500]
            )
            rows = [
                Interaction(
                    organization=organization,
                    kind=rng.choice(Interaction.Kind.values),
                    occurred_at=now - datetime.timedelta(hours=n),
                    author=self.user,
                    subject=f"Discuție {n}",
                    body=f"Am vorbit despre oferta {n}; urmează un telefon.",
                    created_at=now - datetime.timedelta(hours=n),
                )
                for n in range(SUBJECT_INTERACTIONS)
            ]
            created = Interaction.objects.bulk_create(rows)
            links = []
            for n, row in enumerate(created):
                links.append(
                    InteractionParticipant(
                        organization=organization, interaction=row, contact=subject, occurred_at=row.occurred_at
                    )
                )
                if n % 10 == 0 and others:
                    links.append(
                        InteractionParticipant(
                            organization=organization,
                            interaction=row,
                            contact_id=rng.choice(others),
                            occurred_at=row.occurred_at,
                        )
                    )
            InteractionParticipant.objects.bulk_create(links, ignore_conflicts=True)
            Task.objects.bulk_create(
                Task(organization=organization, title=f"Sună înapoi {n}", contact=subject, created_by=self.user)
                for n in range(20)
            )
        return subject

    def measure_privacy(self, seeded: Seeded, requests: int) -> None:
        from privacy.services.fulfilment import build_package, erase_contact_now

        organization = seeded.organization
        with tenant_context(organization):
            total = Contact.objects.filter(organization=organization).count()
            sample = list(
                Contact.objects.filter(organization=organization).order_by("?").values_list("pk", flat=True)[:requests]
            )
            people = list(Contact.objects.filter(pk__in=sample))
            emails = [c.email for c in people]
            phones = [c.phone for c in people]
        self.say(f"measuring in {organization.slug}: {total:,} contacts")

        durations = []
        misses = 0
        for email, phone in zip(emails, phones, strict=True):
            started = time.perf_counter()
            found = find_duplicates(organization, emails=[email], phones=[phone])
            durations.append(1000 * (time.perf_counter() - started))
            misses += not found
        figures = {
            "identity match p50": percentile(durations, 0.5),
            "identity match p95": percentile(durations, 0.95),
        }
        if misses:
            self.say(f"  WARNING: {misses} lookups found nobody")

        subject = self.add_subject(seeded)
        with tenant_context(organization):
            subject = Contact.objects.get(pk=subject.pk)
            started = time.perf_counter()
            content, summary = build_package(subject, kind="access", organization=organization)
            from logicnet.encryption.keys import encrypt_value

            encrypt_value(organization.pk, "privacy.package", "bench", content)
            figures["access package"] = 1000 * (time.perf_counter() - started)
        figures["erasure"] = 1000 * timed(lambda: erase_contact_now(organization, subject.pk))
        with tenant_context(organization):
            left = InteractionParticipant.objects.filter(organization=organization, contact_id=subject.pk).count()
            extra = ContactEmail.objects.filter(organization=organization, contact_id=subject.pk).count()
            extra += ContactPhone.objects.filter(organization=organization, contact_id=subject.pk).count()

        self.say("")
        self.say(f"{'figure':<22}{'ms':>10}{'target':>10}  ")
        for name, value in figures.items():
            target = TARGETS.get(name)
            verdict = "" if target is None else ("ok" if value < target else "MISSED")
            self.say(f"{name:<22}{value:>10.1f}{(f'< {target:.0f}' if target else ''):>10}  {verdict}")
        self.say(
            f"package: {len(content) / 1024:,.0f} KiB, {summary.get('rows', '?')} rows; "
            f"after erasure: {left} participations and {extra} further emails/phones left"
        )
