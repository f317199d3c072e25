"""Encrypted model fields, and the search columns derived from them.

An encrypted field is an ordinary Django field (its form field, widget, validators,
admin and serialization are the plaintext type's) stored as ciphertext text. The row's
organization picks the key, so encryption happens in `pre_save` (which Django also calls
for `bulk_create`) and decryption lazily in the attribute descriptor: `from_db_value`
alone cannot know which organization a row belongs to, and an organization id inside the
ciphertext would be attacker-controlled.

Values loaded from the database stay sealed until read; a row saved without reading them
writes the same ciphertext back, unless it names an older data key version than the
current one: then it is decrypted and sealed again under the current version (with its
search columns), so every save moves data off a key being rotated. Empty values ('' and NULL) are stored as they are:
that a contact has no phone number is not secret, and erasure can blank a column in SQL.

Writes that bypass the row cannot encrypt and raise EncryptionWriteError: QuerySet.update()
and bulk_update() with plaintext values, and lookups by value (use a blind index).
When saving with update_fields, include the derived columns (see `derived_fields_of`).
"""

from __future__ import annotations

import datetime
import json

from django.contrib.postgres.fields import ArrayField
from django.core import checks, validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.forms import TextInput
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from logicnet import normalize
from logicnet.encryption import blind, crypto
from logicnet.encryption.exceptions import DecryptionError, EncryptionError, EncryptionWriteError
from logicnet.encryption.keys import (
    current_keys,
    decrypt_value,
    encrypt_value,
    open_platform_value,
    organization_keys,
    seal_platform_value,
)


class Sealed:
    """A ciphertext as loaded from the database, not decrypted yet."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<Sealed>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def __reduce__(self):
        return (Sealed, (self.token,))

    @property
    def version(self) -> int | None:
        return crypto.token_version(self.token)


def _organization_id(instance) -> int | None:
    found = instance.__dict__.get("organization_id")
    return found if found is not None else getattr(instance, "organization_id", None)


def _open_stale_values(instance) -> None:
    """Decrypt into the instance every loaded value that names a key version older than the
    organization's current one, so the save under way seals it again under the current
    version (and recomputes the search columns derived from it). Without this a row saved
    without reading a value writes the old ciphertext back, and a rotation never ends."""
    data = instance.__dict__
    sealed = [field for field in encrypted_fields_of(type(instance)) if type(data.get(field.attname)) is Sealed]
    if not sealed:
        return
    organization_id = _organization_id(instance)
    if organization_id is None:
        return
    current = organization_keys(organization_id).current_version
    if current is None:
        return  # destroyed or not visible: writing the stored value back changes nothing
    for field in sealed:
        if data[field.attname].version != current:
            getattr(instance, field.attname)  # the descriptor decrypts into the instance


class DecryptingAttribute(DeferredAttribute):
    """A data descriptor (it defines __set__), so every read passes here and a sealed value
    is decrypted, with the instance's organization, the first time it is read."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        data = instance.__dict__
        attname = self.field.attname
        value = data[attname] if attname in data else super().__get__(instance, cls)
        if type(value) is Sealed:
            value = self.field.decrypt_sealed(instance, value)
            data[attname] = value
        return value

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value


# Models moved to another app: their label -> the label their values were sealed under.
FORMER_LABELS: dict[str, str] = {}


def sealed_under(former_label: str):
    """Class decorator for a model moved from another app: its encrypted values stay bound
    to the label they were sealed under, so every stored value keeps opening without a
    table being re-encrypted (the organization and the field still bind each value). Kept
    by label, so the historical models of a data migration, which carry no class
    attributes, seal and open values the same way."""

    def register(model):
        FORMER_LABELS[model._meta.label] = former_label
        return model

    return register


def ciphertext_label(model) -> str:
    """The model name an encrypted value's associated data carries (see sealed_under)."""
    return FORMER_LABELS.get(model._meta.label, model._meta.label)


class EncryptedMixin:
    """Mixed in before a Django field class; stores AES-256-GCM ciphertext in a text column."""

    descriptor_class = DecryptingAttribute
    encrypted = True

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection) -> str:
        return "text"

    # --- database ------------------------------------------------------------------------

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Sealed(value)

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.token
        if value == "" and self.empty_strings_allowed:
            return ""
        raise EncryptionWriteError(
            f"{self.model._meta.label}.{self.name} is encrypted: a value can only be written by saving its row "
            "(save() or bulk_create()), and cannot be compared in SQL (look it up through its blind index)"
        )

    def get_db_prep_value(self, value, connection, prepared=False):
        if hasattr(value, "as_sql"):
            return value
        return self.get_prep_value(value)

    def get_db_prep_save(self, value, connection):
        return self.get_db_prep_value(value, connection)

    def get_lookup(self, lookup_name):
        # Only emptiness can be asked of ciphertext; anything else would compare garbage.
        if lookup_name in {"isnull", "exact", "in"}:
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, name):
        return None

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if isinstance(value, Sealed):
            _open_stale_values(model_instance)
            value = model_instance.__dict__.get(self.attname)
            if isinstance(value, Sealed):
                return value  # unchanged since loaded, on the current key: write it back
        value = getattr(model_instance, self.attname)
        if value is None or (value == "" and self.empty_strings_allowed):
            return value
        return self.seal(model_instance, value)

    # --- encryption ----------------------------------------------------------------------

    def seal(self, instance, value) -> Sealed:
        organization_id = _organization_id(instance)
        label = self.model._meta.label
        if organization_id is None:
            raise EncryptionWriteError(f"{label}.{self.name}: the row has no organization, so no key to encrypt with")
        try:
            value = self.to_python(value)
            if getattr(self, "max_length", None) and isinstance(value, str) and len(value) > self.max_length:
                # Enforced here as well as by form and model validation: the column is text,
                # so nothing else would stop an over-long value (and it is never truncated).
                raise ValidationError(
                    validators.MaxLengthValidator.message,
                    code="max_length",
                    params={"limit_value": self.max_length, "show_value": len(value), "value": value},
                )
            plaintext = self.encode_plaintext(value)
        except ValidationError as exc:
            raise ValidationError(
                {self.name: [f"{label}.{self.name} (organization {organization_id}): {m}" for m in exc.messages]}
            ) from None
        try:
            # Padded to a length bucket (format v2): unpadded, a dump showed every value's
            # exact length, and a length narrows a name or an email down (see crypto.pad).
            token = encrypt_value(organization_id, self.model_label, self.padded_field, crypto.pad(plaintext))
            return Sealed(crypto.to_padded_token(token))
        except EncryptionWriteError:
            raise
        except EncryptionError as exc:
            raise EncryptionWriteError(
                f"cannot encrypt {label}.{self.name} of organization {organization_id}: {exc}"
            ) from exc

    @cached_property
    def model_label(self) -> str:
        """The model name the associated data binds this field's values to (see
        `ciphertext_label`)."""
        return ciphertext_label(self.model)

    @cached_property
    def padded_field(self) -> str:
        return crypto.padded_field(self.name)

    def decrypt_sealed(self, instance, sealed: Sealed):
        organization_id = _organization_id(instance)
        label = self.model._meta.label
        token = sealed.token
        if token[1:2] == "2":  # "v2.": padded (the cheapest test on a path run for every value)
            try:
                padded = decrypt_value(organization_id, self.model_label, self.padded_field, token)
                # crypto.unpad, inlined: this runs for every value read.
                plaintext = padded[: padded.rindex(crypto.PAD_MARKER)]
            except (DecryptionError, ValueError) as exc:
                raise self._padded_error(organization_id, label, exc) from None
        else:  # v1, written before values were padded
            plaintext = decrypt_value(organization_id, self.model_label, self.name, token)
        try:
            return self.decode_plaintext(plaintext)
        except (ValueError, TypeError, ValidationError) as exc:
            raise DecryptionError(
                organization_id=organization_id,
                model=label,
                field=self.name,
                reason=f"it decrypts, but not to a valid {type(self).__name__} value ({exc})",
            ) from None

    def _padded_error(self, organization_id, label: str, exc: Exception) -> DecryptionError:
        # Named by the model's field, not by the name the associated data gives it.
        reason = exc.reason if isinstance(exc, DecryptionError) else "its padding is malformed"
        return DecryptionError(organization_id=organization_id, model=label, field=self.name, reason=reason)

    def encode_plaintext(self, value) -> bytes:
        return str(value).encode()

    def decode_plaintext(self, plaintext: bytes):
        return plaintext.decode()

    # --- checks --------------------------------------------------------------------------

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not any(f.name == "organization" for f in self.model._meta.get_fields()):
            errors.append(
                checks.Error(
                    f"{self.model._meta.label}.{self.name} is encrypted but the model has no organization",
                    hint="Encrypted fields live on tenant models (logicnet.tenancy.models.TenantModel).",
                    obj=self,
                    id="encryption.E001",
                )
            )
        if self.unique or self.db_index:
            errors.append(
                checks.Error(
                    f"{self.model._meta.label}.{self.name}: an index on ciphertext finds nothing",
                    hint="Add a BlindIndexField for exact lookups.",
                    obj=self,
                    id="encryption.E002",
                )
            )
        return errors


class EncryptedCharField(EncryptedMixin, models.CharField):
    pass


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class NormalizingMixin:
    """Stores the value in its one normal form (logicnet/normalize.py), whichever path wrote
    it: a form, an import, the API or a seed. The instance gets the normal form too, so
    what a caller reads back after saving is what was stored."""

    def normal_form(self, instance, value: str) -> str:
        raise NotImplementedError

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if isinstance(value, str) and value:
            normal = self.normal_form(model_instance, value)
            if normal != value:
                setattr(model_instance, self.attname, normal)
        return super().pre_save(model_instance, add)


class EncryptedEmailField(NormalizingMixin, EncryptedMixin, models.EmailField):
    def normal_form(self, instance, value: str) -> str:
        return normalize.clean_email(value)


def organization_country(instance) -> str:
    """The row's organization's country (the region of a national phone number), read from
    the organization itself: it is not cached with the keys, so a change applies at once."""
    # Through the row's own foreign key (cached when the caller built the row with its
    # organization, one query otherwise): this mechanism imports no product app.
    organization = instance.organization if _organization_id(instance) is not None else None
    return organization.country if organization is not None else normalize.DEFAULT_REGION


class EncryptedPhoneField(NormalizingMixin, EncryptedMixin, models.CharField):
    """A phone number, stored in E.164 ("+40721234567"); a national number is read in the
    organization's country."""

    default_validators = [
        validators.RegexValidator(r"^\+?[0-9][0-9 ()./-]*$", _("Enter a phone number: digits, spaces, + ( ) - .")),
    ]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(*args, **kwargs)

    def normal_form(self, instance, value: str) -> str:
        try:
            return normalize.to_e164(value, organization_country(instance))
        except normalize.InvalidPhoneNumber as exc:
            raise ValidationError(
                {
                    self.name: [
                        f"{self.model._meta.label}.{self.name} (organization {_organization_id(instance)}): {exc}"
                    ]
                }
            ) from None

    def formfield(self, **kwargs):
        kwargs.setdefault("widget", TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        return super().formfield(**kwargs)


class EncryptedDateField(EncryptedMixin, models.DateField):
    def encode_plaintext(self, value: datetime.date) -> bytes:
        return value.isoformat().encode()

    def decode_plaintext(self, plaintext: bytes) -> datetime.date:
        return datetime.date.fromisoformat(plaintext.decode())


class EncryptedDecimalField(EncryptedMixin, models.DecimalField):
    def decode_plaintext(self, plaintext: bytes):
        return self.to_python(plaintext.decode())


class EncryptedJSONField(EncryptedMixin, models.JSONField):
    empty_strings_allowed = False  # "" is a JSON value like any other here

    def encode_plaintext(self, value) -> bytes:
        return json.dumps(value, cls=self.encoder, separators=(",", ":")).encode()

    def decode_plaintext(self, plaintext: bytes):
        return json.loads(plaintext, cls=self.decoder)

    def to_python(self, value):
        return value

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)


# --- derived search columns ------------------------------------------------------------------


def _keys_for_write(instance, field):
    organization_id = _organization_id(instance)
    try:
        return current_keys(organization_id)
    except EncryptionError as exc:
        raise EncryptionWriteError(
            f"cannot compute {field.model._meta.label}.{field.name} of organization {organization_id}: {exc}"
        ) from exc


def _unchanged(instance, sources: list[str], attname: str) -> bool:
    """True when every source is still the sealed value loaded with the row (and the
    derived value was loaded too): the stored derived value is still right."""
    data = instance.__dict__
    return attname in data and all(isinstance(data.get(source), Sealed) for source in sources)


class BlindIndexField(models.CharField):
    """Keyed HMAC of a normalized encrypted value (`kind`: email or phone), for exact lookups
    and per-organization uniqueness. Computed from its source on every save."""

    KINDS = {
        "email": lambda keys, version, value, instance: blind.email_index(keys, version, value),
        "phone": lambda keys, version, value, instance: blind.phone_index(
            keys, version, value, organization_country(instance)
        ),
        # Matching on re-import (another system's id) and companies by name (imports).
        "external_id": lambda keys, version, value, instance: blind.external_id_index(keys, version, value),
        "name": lambda keys, version, value, instance: blind.exact_name_index(keys, version, value),
    }

    def __init__(self, *args, source: str = "", kind: str = "email", **kwargs) -> None:
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", blind.BLIND_INDEX_BYTES * 2)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        kwargs.update(source=self.source, kind=self.kind)
        return name, path, args, kwargs

    def compute(self, instance) -> str:
        value = getattr(instance, self.source)
        if not value:
            return ""
        keys = _keys_for_write(instance, self)
        return self.KINDS[self.kind](keys, keys.current_version, value, instance)

    def pre_save(self, model_instance, add):
        if _unchanged(model_instance, [self.source], self.attname):
            _open_stale_values(model_instance)
        if _unchanged(model_instance, [self.source], self.attname):
            return model_instance.__dict__[self.attname]
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


class PrefixTokensField(ArrayField):
    """Keyed tokens (truncated to a few bits) of some word prefixes of its sources, for
    search as you type; see logicnet/encryption/blind.py for what they hide and how.

    Searched through a token table kept equal to this array by a trigger (one row per
    token, a btree on organization and token): under row-level security a GIN index on the
    array cannot serve `@>`, which is not a leakproof operator (see contacts/models.py)."""

    def __init__(self, *args, sources: tuple[str, ...] | list[str] = (), **kwargs) -> None:
        self.sources = list(sources)
        kwargs.pop("base_field", None)
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = False
        super().__init__(models.BigIntegerField(), *args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("base_field", "size", "editable"):
            kwargs.pop(key, None)
        kwargs["sources"] = self.sources
        return name, path, args, kwargs

    def compute(self, instance) -> list[int]:
        texts = [getattr(instance, source) or "" for source in self.sources]
        if not any(texts):
            return []
        keys = _keys_for_write(instance, self)
        return blind.prefix_tokens(keys, keys.current_version, texts, self.scope)

    @cached_property
    def scope(self) -> str:
        """Names the column's own token key: one per model and token column."""
        return f"{self.model._meta.label}.{self.name}"

    def pre_save(self, model_instance, add):
        if _unchanged(model_instance, self.sources, self.attname):
            _open_stale_values(model_instance)
        if _unchanged(model_instance, self.sources, self.attname):
            return model_instance.__dict__[self.attname]
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


DERIVED_FIELD_TYPES = (BlindIndexField, PrefixTokensField)


# --- platform values ---------------------------------------------------------------------------


class PlatformSealedField(models.TextField):
    """Bytes sealed with the platform key (keys.seal_platform_value): secrets with no
    organization, such as a user's TOTP seed. The attribute holds the token; read and
    write the secret with `open_platform_field` / `seal_platform_field`. The associated
    data binds the token to its model, field and `bound_to` column (the owner), so a seed
    copied to another user's row does not open."""

    platform_sealed = True

    def __init__(self, *args, bound_to: str = "", **kwargs) -> None:
        self.bound_to = bound_to
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        kwargs["bound_to"] = self.bound_to
        return name, path, args, kwargs

    def associated_data(self, instance) -> bytes:
        owner = getattr(instance, self.model._meta.get_field(self.bound_to).attname) if self.bound_to else ""
        return f"{self.model._meta.label}|{self.name}|{owner}".encode()


def seal_platform_field(instance, name: str, secret: bytes) -> None:
    field = instance._meta.get_field(name)
    setattr(instance, field.attname, seal_platform_value(secret, associated_data=field.associated_data(instance)))


def open_platform_field(instance, name: str) -> bytes:
    field = instance._meta.get_field(name)
    return open_platform_value(getattr(instance, field.attname), associated_data=field.associated_data(instance))


def platform_sealed_fields_of(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "platform_sealed", False)]


def encrypted_fields_of(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "encrypted", False)]


def derived_fields_of(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, DERIVED_FIELD_TYPES)]


def update_derived_fields(instance) -> None:
    """Recompute the search columns now (before full_clean, so a uniqueness constraint on a
    blind index is checked against the value about to be saved)."""
    for field in derived_fields_of(type(instance)):
        setattr(instance, field.attname, field.compute(instance))


def stale_versions(instance, current_version: int) -> set[int]:
    """Key versions other than the current one named by the row's loaded ciphertexts."""
    found = set()
    for field in encrypted_fields_of(type(instance)):
        value = instance.__dict__.get(field.attname)
        if isinstance(value, Sealed) and value.version != current_version:
            found.add(value.version)
    return found


def reseal(instance) -> None:
    """Decrypt every encrypted field of the row and encrypt it again under the current key
    version, with its search columns, leaving sealed values ready for bulk_update()."""
    encrypted = encrypted_fields_of(type(instance))
    for field in encrypted:
        getattr(instance, field.attname)  # decrypt into the instance
    for field in derived_fields_of(type(instance)):
        setattr(instance, field.attname, field.compute(instance))
    for field in encrypted:
        value = instance.__dict__[field.attname]
        if value is not None and not (value == "" and field.empty_strings_allowed):
            instance.__dict__[field.attname] = field.seal(instance, value)


def write_resealed(model, rows: list) -> None:
    """UPDATE the rows' encrypted and derived columns with their sealed values in one
    statement. bulk_update() cannot: it reads values through the attribute, which decrypts."""
    from django.db.models import Case, Value, When

    if not rows:
        return
    updates = {}
    for field in (*encrypted_fields_of(model), *derived_fields_of(model)):
        storage = models.TextField() if getattr(field, "encrypted", False) else field
        whens = []
        for row in rows:
            value = row.__dict__[field.attname]
            if isinstance(value, Sealed):
                value = value.token
            elif getattr(field, "encrypted", False) and value not in (None, ""):
                # A plaintext here would be written as it is: refuse (the row was read but
                # not re-sealed).
                raise EncryptionWriteError(f"{model._meta.label}.{field.name}: not sealed, refusing to write it")
            whens.append(When(pk=row.pk, then=Value(value, output_field=storage)))
        updates[field.attname] = Case(*whens, output_field=storage)
    model._base_manager.filter(pk__in=[row.pk for row in rows]).update(**updates)
