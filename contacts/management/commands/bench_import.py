"""Benchmark of the contact import end to end: a generated CSV (10 columns) uploaded as a member
uploads it (stored encrypted, read through once, mapped automatically) and imported by the
import job (imports.services.run_import, in this process: read back from the encrypted upload,
each batch prepared a batch ahead in a thread and written in one transaction with its
checkpoint and error file) into an organization that already holds contacts (with encryption,
blind indexes, name tokens, dedupe on email against the existing contacts and inside the file,
companies matched or created, tags, addresses, the suppression list, the revert journal and one
audit event per batch); then the same file through django-import-export at its best settings
(use_bulk, skip_diff, force_init_instance: no lookups, no diff) into the same model, and the
ratio.

    make bench BENCH=bench_import                                    # 100,000 rows into 50,000
    make bench BENCH=bench_import ARGS="--existing 1000000"          # the issue's size
    make bench BENCH=bench_import ARGS="--rows 1000000 --no-compare" # a million rows: time, peak memory

Seeds, measures and removes its own data (organizations `benchimport-*`).
"""

from __future__ import annotations

import csv
import os
import random
import resource
import tempfile
import time

from django.core.management.base import BaseCommand
from django.db import connection

from accounts.models import Organization, User
from contacts.benchmarks import FIRST_NAMES, JOBS, STEMS, SUFFIXES, analyze, delete_users, make_bench_organization
from contacts.models import Contact
from imports.records import ImportOptions
from logicnet.bulk.writes import insert_rows
from logicnet.encryption import blind
from logicnet.tenancy.context import tenant_context

SLUG_PREFIX = "benchimport-"
COLUMNS = ["First Name", "Last Name", "E-mail", "Phone", "Company", "Job Title", "City", "Country", "Tags", "Notes"]
CITIES = ["București", "Cluj-Napoca", "Iași", "Timișoara", "Constanța", "Brașov", "Oradea", "Sibiu"]
COUNTRIES = ["România", "Romania", "RO", "Republica Moldova", "Germany"]
TAGS = ["vip", "newsletter", "partener", "eveniment-2025", "b2b", "b2c"]
# Tables removed per organization before the organization itself, children first.
CLEANUP = [
    "bulk_revertentry",
    "contacts_contacttag",
    "contacts_companytag",
    "contacts_contactemail",
    "contacts_contactphone",
    "contacts_contactaddress",
    "contacts_contactnametoken",
    "contacts_companynametoken",
    "contacts_contact",
    "contacts_company",
    "contacts_tag",
    "encryption_organizationkey",
]


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend, when the server runs on this machine
    (the embedded one does): with the process's own, it says what a row costs whatever else
    the machine runs, where the wall-clock rate depends on the load."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class Command(BaseCommand):
    help = "Benchmark the contact import (bulk write path) against django-import-export."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000, help="rows of the generated CSV")
        parser.add_argument("--existing", type=int, default=50_000, help="contacts already in the organization")
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per write (one transaction each)")
        parser.add_argument("--overlap", type=float, default=0.1, help="share of rows matching existing contacts")
        parser.add_argument("--no-compare", action="store_true", help="skip django-import-export")
        parser.add_argument(
            "--no-ahead", action="store_true", help="prepare each batch in turn (no preparing thread), to compare"
        )
        parser.add_argument(
            "--compare-rows", type=int, default=100_000, help="rows given to django-import-export (at most --rows)"
        )

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args, rows, existing, batch_size, overlap, no_compare, no_ahead, compare_rows, **options):
        self.ahead = not no_ahead
        self.rng = random.Random(2026)  # noqa: S311 - benchmark data, not secrets
        self.remove_bench_data()
        actor = User.objects.create_user(f"{SLUG_PREFIX}member@bench.example.invalid", None, full_name="Bench")
        path = None
        try:
            main = make_bench_organization(f"{SLUG_PREFIX}main", "Bench import")
            self.say(f"seeding {existing:,} existing contacts (bulk write path)")
            elapsed = self.seed(main, existing, "existing")
            self.say(f"  seeded at {existing / max(elapsed, 1e-9):,.0f} contacts/s ({elapsed:.1f}s)")
            analyze(["contacts_contact", "contacts_contactemail", "contacts_contactnametoken"], self.say)
            fd, path = tempfile.mkstemp(suffix=".csv", prefix="bench-import-")
            os.close(fd)
            matching = self.write_csv(path, rows, existing, overlap)
            size = os.path.getsize(path) / 1e6
            self.say(f"CSV: {rows:,} rows x {len(COLUMNS)} columns, {size:.1f} MB, {matching:,} rows match existing")
            rate, result = self.import_file(main, actor, path, batch_size)
            self.say(
                f"bulk import: {rows:,} rows in {result['elapsed']:.1f}s = {rate:,.0f} rows/s end to end "
                f"(target >= 20,000); created {result['created']:,}, updated {result['updated']:,}, "
                f"skipped {result['skipped']:,}, failed {result['failed']:,}; peak memory {peak_memory_mb():,.0f} MB"
            )
            with tenant_context(main):
                total = Contact.objects.filter(organization=main).count()
            self.say(f"  the organization now holds {total:,} contacts ({existing:,} + {result['created']:,} created)")
            if not no_compare:
                self.compare(path, actor, rate, min(compare_rows, rows), existing)
        finally:
            if path:
                os.unlink(path)
            self.remove_bench_data()
            delete_users(User.objects.filter(email__startswith=SLUG_PREFIX))

    # --- data ------------------------------------------------------------------------------

    def person(self, i: int, domain: str) -> dict:
        rng = random.Random(i)  # noqa: S311 - the same person for the same i, in the seed and the file
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(STEMS) + rng.choice(SUFFIXES)
        ascii_name = blind.fold_text(f"{first}.{last}").replace(" ", "")
        return {"first_name": first, "last_name": last, "email": f"{ascii_name}.{i}@{domain}", "phone": f"07{i:08d}"}

    def seed(self, organization: Organization, count: int, domain: str) -> float:
        start, done = time.perf_counter(), 0
        while done < count:
            size = min(5000, count - done)
            people = [self.person(done + i, f"{domain}.example.ro") for i in range(size)]
            with tenant_context(organization):
                insert_rows(Contact, organization, people)
            done += size
        return time.perf_counter() - start

    def write_csv(self, path: str, rows: int, existing: int, overlap: float) -> int:
        """Rows: mostly new people, `overlap` of them people already there (their email, in
        another case, and a new job title), spread through the file."""
        rng, matching = self.rng, 0
        companies = [
            f"{rng.choice(STEMS)}{rng.choice(SUFFIXES)} {rng.choice(['SRL', 'SA', 'PFA'])}" for _ in range(500)
        ]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for i in range(rows):
                if existing and rng.random() < overlap:
                    person = self.person(rng.randrange(existing), "existing.example.ro")
                    person["email"] = person["email"].upper()
                    matching += 1
                else:
                    person = self.person(10_000_000 + i, "import.example.ro")
                    person["phone"] = f"07{(10_000_000 + i) % 10**8:08d}"
                writer.writerow(
                    [
                        person["first_name"],
                        person["last_name"],
                        person["email"],
                        f"0{person['phone'][1:4]} {person['phone'][4:7]} {person['phone'][7:]}",
                        rng.choice(companies),
                        rng.choice(JOBS),
                        rng.choice(CITIES),
                        rng.choice(COUNTRIES),
                        ";".join(rng.sample(TAGS, rng.randrange(3))),
                        "Importat din fișierul de test" if rng.random() < 0.2 else "",
                    ]
                )
        return matching

    # --- the import ------------------------------------------------------------------------

    def import_file(self, organization: Organization, actor, path: str, batch_size: int) -> tuple[float, dict]:
        """The file through the import as a member runs it: uploaded (stored encrypted and read
        through once), mapped automatically, then the import job (imports.services.run_import:
        read from the encrypted upload, batches prepared a batch ahead in a thread, written a
        batch per transaction with its checkpoint and error file), in this process."""

        from imports import services

        saved = services.BATCH_SIZE, services.PREPARE_AHEAD
        services.BATCH_SIZE, services.PREPARE_AHEAD = batch_size, self.ahead
        try:
            return self._import_file(organization, actor, path, services)
        finally:
            services.BATCH_SIZE, services.PREPARE_AHEAD = saved

    def _import_file(self, organization: Organization, actor, path: str, services) -> tuple[float, dict]:
        from django.core.files import File

        from imports.models import Import
        from logicnet.jobs.services import execute_job

        cpu_before, backend_before = process_cpu_seconds(), backend_cpu_seconds()
        start = time.perf_counter()
        with open(path, "rb") as handle:
            imp = services.create_import(
                organization=organization, actor=actor, uploaded=File(handle, name="bench.csv")
            )
        uploaded = time.perf_counter() - start
        mapped = [f"{c.field}" for c in services.mapping.columns_from_json(imp.columns)]
        self.say(f"  upload: stored encrypted and read through in {uploaded:.1f}s; mapped {', '.join(mapped)}")
        services.set_mapping(
            imp=imp, actor=actor, columns=services.mapping.columns_from_json(imp.columns), kind=imp.kind
        )
        services.set_options(
            imp=imp, options=ImportOptions(source_detail="Benchmark file", lawful_basis="legitimate interest")
        )
        imp, _started = services.start_import(imp=imp, actor=actor)
        job_start = time.perf_counter()
        execute_job(organization_id=organization.pk, job_id=imp.job_id, final_attempt=True)
        finished = time.perf_counter()
        with tenant_context(organization):
            imp = Import.objects.get(pk=imp.pk)
        if imp.status != Import.Status.DONE:
            raise RuntimeError(f"the import ended {imp.status}")
        done = imp.rows_total
        cpu, backend = process_cpu_seconds() - cpu_before, backend_cpu_seconds()
        per_row = f"  CPU per row (upload and job): this process {cpu / max(done, 1) * 1e6:,.0f} µs"
        if backend is not None and backend_before is not None:
            per_row += f", its database backend {(backend - backend_before) / max(done, 1) * 1e6:,.0f} µs"
        self.say(f"{per_row}; load average {os.getloadavg()[0]:.2f}")
        self.say(
            f"  the job: {done:,} rows in {finished - job_start:.1f}s = {done / (finished - job_start):,.0f} rows/s"
            f"{'' if self.ahead else ' (no preparing thread)'}"
        )
        totals = {
            "created": imp.created_count,
            "updated": imp.updated_count,
            "skipped": imp.skipped_count,
            "failed": imp.failed_count,
            "elapsed": finished - start,
        }
        return done / (finished - start), totals

    # --- django-import-export ------------------------------------------------------------------

    def compare(self, path: str, actor, rate: float, rows: int, existing: int) -> None:
        import tablib
        from import_export import fields, resources

        other = make_bench_organization(f"{SLUG_PREFIX}import-export", "Bench import-export")
        self.say(f"django-import-export: seeding {existing:,} existing contacts in another organization")
        self.seed(other, existing, "other")
        analyze(["contacts_contact"], self.say)

        class ContactResource(resources.ModelResource):
            first_name = fields.Field(attribute="first_name", column_name="First Name")
            last_name = fields.Field(attribute="last_name", column_name="Last Name")
            email = fields.Field(attribute="email", column_name="E-mail")
            phone = fields.Field(attribute="phone", column_name="Phone")
            job_title = fields.Field(attribute="job_title", column_name="Job Title")
            notes = fields.Field(attribute="notes", column_name="Notes")

            class Meta:
                model = Contact
                fields = ("first_name", "last_name", "email", "phone", "job_title", "notes")
                # Its fastest settings: no lookup of existing rows, no diff, bulk_create.
                use_bulk = True
                batch_size = 2000
                skip_diff = True
                skip_html_diff = True
                force_init_instance = True
                report_skipped = False
                use_transactions = True

            def after_import(self, dataset, result, **kwargs):
                # Its default resets the table's id sequence, which the application role may
                # not touch (ids come from the keyed permutation, logicnet/tenancy/ids.py).
                pass

            def init_instance(self, row=None):
                return Contact(organization=other, source=Contact.Source.IMPORT, created_by=actor, updated_by=actor)

        # The same file, without the rows that name existing contacts: it cannot match them
        # (an encrypted email cannot be looked up by value) and would fail on the unique index.
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            kept = [row for row, _ in zip(reader, range(rows), strict=False) if "@EXISTING." not in row[2]]
        dataset = tablib.Dataset(*kept, headers=header)
        start = time.perf_counter()
        with tenant_context(other):
            result = ContactResource().import_data(dataset, dry_run=False, raise_errors=True)
        elapsed = time.perf_counter() - start
        theirs = len(kept) / elapsed
        self.say(
            f"django-import-export (use_bulk, skip_diff, force_init_instance; no dedupe, no companies, tags or "
            f"addresses): {len(kept):,} rows in {elapsed:.1f}s = {theirs:,.0f} rows/s; "
            f"{'errors' if result.has_errors() else 'no errors'}"
        )
        self.say(f"ratio: the bulk import is {rate / theirs:.1f}x django-import-export")

    def remove_bench_data(self) -> None:
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                for table in CLEANUP:
                    cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):
                organization.delete()
