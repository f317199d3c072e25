"""`field__any=[...]`: membership in a list passed as ONE array parameter.

    Contact.objects.filter(pk__any=ids)     # WHERE "contacts_contact"."id" = ANY(%s)

Django's `__in` writes one placeholder per value: a batch of 5,000 ids is a 5,000-parameter
query that Django resolves value by value and psycopg parses placeholder by placeholder, which
cost more than the query itself on the bulk paths (imports, retention). PostgreSQL plans
`= ANY($1)` on an index as it plans IN.
"""

from __future__ import annotations

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


Field.register_lookup(AnyOf)
# Related fields look lookups up on ForeignObject and its subclasses only.
ForeignObject.register_lookup(AnyOf)
