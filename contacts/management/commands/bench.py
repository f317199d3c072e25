"""Benchmark of encrypted contacts: encryption cost, list-page decryption, blind-index
lookups and prefix search, on data it seeds itself (bulk-loaded) and removes afterwards.

    make bench                          # 100,000 contacts in the measured organization
    make bench ARGS="--contacts 1000000"

Three other organizations with contacts of their own are present, as in production. The
figures are printed with the data size; lookups are also checked to use their indexes.
"""

from __future__ import annotations

import random
import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection

from accounts.models import Organization
from contacts.benchmarks import analyze, fake_person, make_bench_organization, percentile, timed
from contacts.models import Contact, ContactNameToken
from contacts.selectors import (
    _rarest_first,
    _token_rows_sql,
    find_contacts_by_email,
    find_contacts_by_phone,
    search_contacts,
)
from logicnet.bulk.writes import insert_rows
from logicnet.encryption import blind
from logicnet.encryption.fields import encrypted_fields_of
from logicnet.encryption.keys import organization_keys
from logicnet.tenancy.context import tenant_context

SLUG_PREFIX = "bench-"
SIX_FIELDS = ["first_name", "last_name", "email", "phone", "date_of_birth", "job_title"]
NAME_SCOPE = "contacts.Contact.name_tokens"


class Command(BaseCommand):
    help = "Benchmark encrypted contacts (seeds, measures and removes its own data)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=100_000, help="contacts in the measured organization")
        parser.add_argument("--other-contacts", type=int, default=None, help="contacts in each of 3 other orgs")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--lookups", type=int, default=300)
        parser.add_argument("--keep", action="store_true", help="keep the data (a later run removes it first)")
        parser.add_argument("--reuse", action="store_true", help="measure data kept by an earlier --keep run")
        parser.add_argument(
            "--organization",
            default=f"{SLUG_PREFIX}main",
            help="with --reuse, the organization to measure (e.g. benchcrm-main, kept by bench_crm --keep)",
        )

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args, contacts, other_contacts, batch_size, lookups, keep, reuse, organization, **options):
        self.rng = random.Random(2026)  # noqa: S311 - benchmark data, not secrets
        other_contacts = other_contacts if other_contacts is not None else max(1000, contacts // 20)
        main = Organization.objects.filter(slug=organization).first() if reuse else None
        reuse = main is not None
        if reuse:
            with tenant_context(main):
                contacts = Contact.objects.filter(organization=main).count()
            self.say(f"reusing the {contacts:,} contacts kept in {main.slug}")
        else:
            self.remove_bench_data()
            main = self.make_organization("main")
            others = [self.make_organization(f"other-{n}") for n in (1, 2, 3)]
        try:
            if not reuse:
                self.say(f"seeding {contacts:,} contacts in {main.slug} and {other_contacts:,} in each of 3 others")
                for organization in others:
                    self.seed(organization, other_contacts, batch_size, quiet=True)
                elapsed = self.seed(main, contacts, batch_size)
                self.say(f"  bulk load: {contacts / elapsed:,.0f} contacts/s ({elapsed:.1f}s for {contacts:,})")
                self.analyze()
            self.report_sizes(main, contacts)
            with tenant_context(main):
                organization_keys(main.pk)  # warm the key cache, as a running process has it
                self.measure_crypto(main)
                self.measure_list_page(main, contacts)
                self.measure_lookups(main, contacts, lookups)
                self.measure_search(main, contacts, lookups)
                self.explain(main)
                self.measure_leakage(main, contacts)
        finally:
            if keep:
                self.say("keeping the data (--keep); the next run removes it first")
            else:
                self.remove_bench_data()

    # --- data ------------------------------------------------------------------------------

    def make_organization(self, name: str) -> Organization:
        return make_bench_organization(f"{SLUG_PREFIX}{name}", f"Bench {name}")

    def person(self, organization: Organization, i: int) -> dict:
        return fake_person(self.rng, i)

    def seed(self, organization: Organization, count: int, batch_size: int, quiet: bool = False) -> float:
        start, done = time.perf_counter(), 0
        while done < count:
            size = min(batch_size, count - done)
            with tenant_context(organization):
                # The one bulk write path (logicnet/bulk): sealed and indexed a batch at a time, COPY.
                insert_rows(Contact, organization, [self.person(organization, done + i) for i in range(size)])
            done += size
            if not quiet and (done // batch_size) % 25 == 0:
                rate = done / (time.perf_counter() - start)
                self.say(f"  {organization.slug}: {done:,}/{count:,} ({rate:,.0f}/s)")
        return time.perf_counter() - start

    def analyze(self) -> None:
        analyze(("contacts_contact", "contacts_contactnametoken"), self.say)

    def remove_bench_data(self) -> None:
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                # Tokens first, in one statement; the per-row trigger then has nothing to do.
                cursor.execute("DELETE FROM contacts_contactnametoken WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM contacts_contact WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM encryption_organizationkey WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):  # only the active organization can be deleted
                organization.delete()

    def report_sizes(self, organization: Organization, contacts: int) -> None:
        with connection.cursor() as cursor:
            sizes = {}
            for table in ("contacts_contact", "contacts_contactnametoken"):
                cursor.execute(
                    "SELECT pg_size_pretty(pg_table_size(%s::regclass)), pg_size_pretty(pg_indexes_size(%s::regclass))",
                    [table, table],
                )
                sizes[table] = cursor.fetchone()
        with tenant_context(organization):
            tokens = ContactNameToken.objects.filter(organization=organization).count()
        self.say(
            f"data: {contacts:,} contacts in the measured organization ({tokens:,} name-token rows, "
            f"{tokens / max(contacts, 1):.1f} per contact); all organizations: contacts table "
            f"{sizes['contacts_contact'][0]} + indexes {sizes['contacts_contact'][1]}, token table "
            f"{sizes['contacts_contactnametoken'][0]} + indexes {sizes['contacts_contactnametoken'][1]}"
        )

    # --- measurements ----------------------------------------------------------------------

    def measure_crypto(self, organization: Organization) -> None:
        fields = {f.name: f for f in encrypted_fields_of(Contact) if f.name in SIX_FIELDS}
        people = [Contact(organization=organization, **self.person(organization, 10**8 + i)) for i in range(2000)]
        start = time.perf_counter()
        sealed = [
            {name: field.seal(person, getattr(person, name)) for name, field in fields.items()} for person in people
        ]
        encrypt_us = (time.perf_counter() - start) / len(people) * 1e6
        start = time.perf_counter()
        for person, values in zip(people, sealed, strict=True):
            for name, field in fields.items():
                field.decrypt_sealed(person, values[name])
        decrypt_us = (time.perf_counter() - start) / len(people) * 1e6
        keys = organization_keys(organization.pk)
        start = time.perf_counter()
        for person in people:
            blind.email_index(keys, keys.current_version, person.email)
            blind.phone_index(keys, keys.current_version, person.phone, organization.country)
            blind.prefix_tokens(keys, keys.current_version, [person.first_name, person.last_name], NAME_SCOPE)
        derive_us = (time.perf_counter() - start) / len(people) * 1e6
        self.say(f"encrypt a six-field contact: {encrypt_us:.1f} µs; decrypt: {decrypt_us:.1f} µs (over 2,000)")
        self.say(f"  blind indexes + name tokens of a contact: {derive_us:.1f} µs")

    def contact_ids(self, organization: Organization) -> list[int]:
        """Every contact id of the organization, once (ids need not be consecutive)."""
        if getattr(self, "_ids", None) is None:
            self._ids = list(Contact.objects.filter(organization=organization).values_list("pk", flat=True))
        return self._ids

    def measure_list_page(self, organization: Organization, contacts: int) -> None:
        added, queries = [], []
        ids = self.contact_ids(organization)
        for _ in range(50):
            # Keyset pagination, as a list view pages through a large organization.
            after = self.rng.choice(ids)
            start = time.perf_counter()
            page = list(Contact.objects.filter(organization=organization, pk__gte=after).order_by("pk")[:50])
            queries.append(time.perf_counter() - start)
            added.append(timed(lambda page=page: [[getattr(c, name) for name in SIX_FIELDS] for c in page]))
        self.say(
            f"50-row list page among {contacts:,}: decryption adds {statistics.median(added) * 1e3:.2f} ms median, "
            f"{percentile(added, 0.95) * 1e3:.2f} ms p95 (target < 2 ms); its query {statistics.median(queries) * 1e3:.2f} ms"
        )

    def sample(self, organization: Organization, contacts: int, count: int) -> list[Contact]:
        ids = self.contact_ids(organization)
        chosen = self.rng.sample(ids, min(count, len(ids)))
        return list(Contact.objects.filter(organization=organization, pk__in=chosen))

    def measure_lookups(self, organization: Organization, contacts: int, count: int) -> None:
        people = self.sample(organization, contacts, count)
        variants_email = [lambda e: e, lambda e: f"  {e.upper()} ", lambda e: e.title()]
        # Stored in E.164 ("+40" and nine digits); looked up as people type them.
        variants_phone = [
            lambda p: p,
            lambda p: "+40 " + p[3:6] + " " + p[6:9] + " " + p[9:],
            lambda p: "0" + p[3:6] + "-" + p[6:],
            lambda p: "0040" + p[3:],
        ]
        for kind, lookup, attribute, variants in (
            ("email", find_contacts_by_email, "email", variants_email),
            ("phone", find_contacts_by_phone, "phone", variants_phone),
        ):
            durations, misses = [], 0
            for n, person in enumerate(people):
                value = variants[n % len(variants)](getattr(person, attribute))
                start = time.perf_counter()
                found = lookup(organization, value)
                durations.append(time.perf_counter() - start)
                misses += [c.pk for c in found] != [person.pk]
            self.say(
                f"lookup by {kind} among {contacts:,}: p95 {percentile(durations, 0.95) * 1e3:.2f} ms, "
                f"median {statistics.median(durations) * 1e3:.2f} ms over {len(people)} lookups "
                f"(target < 5 ms); wrong answers: {misses}"
            )

    def measure_search(self, organization: Organization, contacts: int, count: int) -> None:
        people = self.sample(organization, contacts, count)
        durations, results, two_words = [], [], []
        for n, person in enumerate(people):
            words = [blind.fold_text(person.first_name), blind.fold_text(person.last_name)]
            if n % 3 == 2:
                query = f"{words[0][:3]} {words[1][:3]}"
            else:
                word = words[n % 2]
                query = word[: self.rng.randint(2, max(2, min(6, len(word))))]
            start = time.perf_counter()
            found = search_contacts(organization, query, limit=25)
            for contact in found:
                contact.first_name, contact.last_name  # noqa: B018  (what the result list shows)
            durations.append(time.perf_counter() - start)
            results.append(len(found))
            if " " in query:
                two_words.append(durations[-1])
        self.say(
            f"prefix search, first 25 among {contacts:,}: p95 {percentile(durations, 0.95) * 1e3:.2f} ms, "
            f"median {statistics.median(durations) * 1e3:.2f} ms over {len(people)} queries (target < 50 ms); "
            f"mean {statistics.mean(results):.1f} results; two-word queries p95 "
            f"{percentile(two_words, 0.95) * 1e3:.2f} ms, slowest of all {max(durations) * 1e3:.2f} ms"
        )

    def explain(self, organization: Organization) -> None:
        person = self.sample(organization, 1000, 1)[0]
        keys = organization_keys(organization.pk)
        digest = blind.email_index(keys, keys.current_version, person.email)
        tokens = blind.query_tokens(
            keys, keys.current_version, f"{person.first_name[:3]} {person.last_name[:3]}", NAME_SCOPE
        )
        ordered = _rarest_first(Contact, organization.pk, tokens) or [t for word in tokens for t in word]
        sql, params = _token_rows_sql(Contact, organization.pk, ordered, 25)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
            search_plan = "\n".join(row[0] for row in cursor.fetchall())
        plans = {
            "email lookup": Contact.objects.filter(organization=organization, email_index=digest).explain(analyze=True),
            "phone lookup": Contact.objects.filter(organization=organization, phone_index=person.phone_index).explain(
                analyze=True
            ),
            "prefix search": search_plan,
        }
        for name, plan in plans.items():
            used = sorted(
                {
                    word
                    for word in plan.replace("(", " ").split()
                    if word.endswith(("_idx", "_pkey")) or "unique" in word
                }
            )
            ok = "yes" if used and "Seq Scan" not in plan else "NO"
            self.say(f"EXPLAIN {name}: index used: {ok} ({', '.join(used)})")
            if ok == "NO":
                self.say(plan)

    # --- what a dump shows ----------------------------------------------------------------

    def measure_leakage(self, organization: Organization, contacts: int) -> None:
        """The stored lengths a dump shows (one per padding bucket), and how many distinct
        name prefixes share each prefix token (the more, the less a token tells)."""
        with connection.cursor() as cursor:
            for column in ("first_name", "last_name", "email", "phone"):
                cursor.execute(
                    f"SELECT length({column}), count(*) FROM contacts_contact WHERE organization_id = %s "
                    f"AND {column} <> '' GROUP BY 1 ORDER BY 1",
                    [organization.pk],
                )
                shown = ", ".join(f"{length} chars: {count:,}" for length, count in cursor.fetchall())
                self.say(f"dump, stored lengths of {column}: {shown}")
            cursor.execute(
                "SELECT count(*), min(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n), max(n) FROM "
                "(SELECT token, count(*) AS n FROM contacts_contactnametoken WHERE organization_id = %s "
                "GROUP BY token) AS t",
                [organization.pk],
            )
            used, fewest, median, most = cursor.fetchone()
        self.say(
            f"dump, name tokens: {used:,} distinct values of {blind.TOKEN_SPACE:,} in use; contacts per token "
            f"min {fewest:,}, median {median:,.0f}, max {most:,}"
        )
        keys = organization_keys(organization.pk)
        key = keys.derived_key(keys.current_version, blind.token_purpose(NAME_SCOPE))
        prefixes_of: dict[int, set[str]] = {}
        for first, last in self.decrypted_names(organization, limit=200_000):
            for word in blind.words(f"{first} {last}"):
                for end in blind._lengths(word):
                    prefixes_of.setdefault(blind._token(key, word[:end]), set()).add(word[:end])
        counts = sorted(len(p) for p in prefixes_of.values())
        distinct = len(set().union(*prefixes_of.values())) if prefixes_of else 0
        alone = sum(1 for n in counts if n == 1)
        self.say(
            f"dump, prefixes per token among {contacts:,} contacts: {distinct:,} distinct prefixes in "
            f"{len(counts):,} tokens; per token min {counts[0] if counts else 0}, median "
            f"{statistics.median(counts) if counts else 0:.0f}, max {counts[-1] if counts else 0}; "
            f"tokens standing for a single prefix: {alone:,}"
        )

    def decrypted_names(self, organization: Organization, limit: int):
        rows = Contact.objects.filter(organization=organization).only("organization_id", "first_name", "last_name")
        for contact in rows.order_by("pk")[:limit].iterator(chunk_size=5000):
            yield contact.first_name, contact.last_name
