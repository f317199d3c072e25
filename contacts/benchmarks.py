"""What the benchmark commands share: made-up people, timing statistics, bench
organizations and their keys, fresh planner statistics.

    manage.py bench        encryption cost, blind-index lookups, prefix search
    manage.py bench_crm    the CRM pages through the Django test client, at a million contacts

Both seed through the one bulk write path (logicnet/bulk: values sealed and indexed a batch at
a time as pre_save would, COPY into staging, merged under row-level security) and remove what
they seeded; each uses its own organization slug prefix, so one never removes
the other's kept data.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection

from accounts.models import Organization
from logicnet.encryption import blind
from logicnet.encryption.keys import create_key_version
from logicnet.tenancy.context import tenant_context, user_context

FIRST_NAMES = [
    "Ana", "Andrei", "Alexandru", "Bianca", "Bogdan", "Cătălina", "Cristian", "Daniela", "Dan", "Elena",
    "Emil", "Florin", "Gabriela", "George", "Ioana", "Ion", "Irina", "Laura", "Lucian", "Maria", "Marius",
    "Mihai", "Mirela", "Nicoleta", "Ovidiu", "Paula", "Radu", "Raluca", "Roxana", "Sergiu", "Simona",
    "Sorin", "Ștefan", "Șerban", "Teodora", "Tudor", "Valentin", "Vlad", "Zoe", "Țicu",
]  # fmt: skip
STEMS = [
    "Pop", "Ion", "Dumitr", "Stan", "Gheorgh", "Rad", "Munte", "Const", "Marin", "Tudor", "Dobr", "Barb",
    "Nistor", "Florea", "Moldov", "Ștefăn", "Șerb", "Țuc", "Lup", "Vas", "Cojoc", "Ursu", "Preda", "Mocan",
]  # fmt: skip
SUFFIXES = ["escu", "eanu", "a", "u", "ache", "oiu", "ică", "aru", "ilă", "ean"]
JOBS = ["Director vânzări", "Contabil", "Inginer", "Manager achiziții", "Consultant", "Avocat", "Medic"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def fake_person(rng: random.Random, i: int) -> dict:
    """The six personal fields of a made-up contact; `i` makes the email and phone unique."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(STEMS) + rng.choice(SUFFIXES)
    ascii_name = blind.fold_text(f"{first}.{last}").replace(" ", "")
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{ascii_name}.{i}@exemplu{i % 97}.ro",
        "phone": f"07{i:08d}",
        "date_of_birth": datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
        "job_title": rng.choice(JOBS),
    }


def make_bench_organization(slug: str, name: str) -> Organization:
    organization = Organization.objects.create(name=name, slug=slug, country="RO")
    with tenant_context(organization):
        create_key_version(organization.pk, reason="bench")
    return organization


def analyze(tables: Iterable[str], say: Callable[[str], None], *, vacuum: bool = False) -> None:
    """Fresh statistics, as autovacuum would gather soon after a load. ANALYZE is the
    table owner's, so it runs on an owner connection when one is available. With `vacuum`,
    the dead rows a previous run left are cleared first (VACUUM ANALYZE), as autovacuum
    would have between two nights."""
    import psycopg

    owner = settings.DATABASE_OWNER
    try:
        with psycopg.connect(
            dbname=connection.settings_dict["NAME"],  # the test database under pytest
            user=owner["USER"],
            password=owner["PASSWORD"] or None,
            host=owner["HOST"] or None,
            port=owner["PORT"] or None,
            autocommit=True,
        ) as conn:
            for table in tables:
                conn.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {table}")
    except psycopg.Error as exc:
        say(f"  (no ANALYZE as the owner: {exc}; the planner uses autovacuum's statistics)")


def delete_users(users: Iterable) -> None:
    """Delete benchmark users. A user's own rows (session records, addresses) are visible to
    the web role only while acting for that user: the deletion's cascade must see them."""
    for user in users:
        with user_context(user):
            user.delete()
