"""Personal-data classification of encryption keys: keys, not data about anyone."""

from logicnet.personal_data.registry import classify, not_personal

classify(
    "encryption.OrganizationKey",
    {
        name: not_personal("key material and its lifecycle")
        for name in (
            "id",
            "organization",
            "version",
            "wrapped_key",
            "master_key_id",
            "created_at",
            "rewrapped_at",
            "retired_at",
            "destroyed_at",
            "encryptions",
        )
    },
)
