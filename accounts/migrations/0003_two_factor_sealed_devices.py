"""Two-factor devices with a sealed TOTP seed and hashed backup codes, and the move of every
existing django-otp device into them (django-otp kept both secrets in plain text).

Irreversible: backup codes are hashed, so they cannot be written back in plain text.
Sessions verified with an old device are asked for a code again after this runs."""

import binascii
import os

import django.db.models.deletion
import logicnet.encryption.fields
from django.conf import settings
from django.db import migrations, models


_DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
)


def move_devices(apps, schema_editor):
    from django.conf import settings as live_settings

    from accounts.two_factor_models import hash_backup_code
    from logicnet.encryption.fields import seal_platform_field

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    AuthenticatorDevice = apps.get_model("accounts", "AuthenticatorDevice")
    BackupCodeDevice = apps.get_model("accounts", "BackupCodeDevice")
    BackupCode = apps.get_model("accounts", "BackupCode")

    for old in TOTPDevice.objects.order_by("pk"):
        new = AuthenticatorDevice(
            **{name: getattr(old, name) for name in _DEVICE_FIELDS},
            **{name: getattr(old, name) for name in ("step", "t0", "digits", "tolerance", "drift", "last_t")},
        )
        seal_platform_field(new, "sealed_key", binascii.unhexlify(old.key.encode()))
        new.save()
        AuthenticatorDevice.objects.filter(pk=new.pk).update(created_at=old.created_at)
    TOTPDevice.objects.all().delete()

    iterations = live_settings.TWO_FACTOR_BACKUP_CODE_ITERATIONS
    for old in StaticDevice.objects.order_by("pk"):
        new = BackupCodeDevice.objects.create(
            **{name: getattr(old, name) for name in _DEVICE_FIELDS}, salt=os.urandom(16).hex(), iterations=iterations
        )
        BackupCodeDevice.objects.filter(pk=new.pk).update(created_at=old.created_at)
        BackupCode.objects.bulk_create(
            BackupCode(device=new, code_hash=hash_backup_code(token, salt=new.salt, iterations=iterations))
            for token in StaticToken.objects.filter(device=old).values_list("token", flat=True)
        )
    StaticDevice.objects.all().delete()  # their tokens go with them (cascade)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_organization_contact_visibility'),
        ('otp_totp', '0003_add_timestamps'),
        ('otp_static', '0003_add_timestamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthenticatorDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('sealed_key', logicnet.encryption.fields.PlatformSealedField(bound_to='user')),
                ('step', models.PositiveSmallIntegerField(default=30)),
                ('t0', models.BigIntegerField(default=0)),
                ('digits', models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)),
                ('tolerance', models.PositiveSmallIntegerField(default=1)),
                ('drift', models.SmallIntegerField(default=0)),
                ('last_t', models.BigIntegerField(default=-1)),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'TOTP device',
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='BackupCodeDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('salt', models.CharField(editable=False, max_length=32)),
                ('iterations', models.PositiveIntegerField(default=0, editable=False)),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'backup code device',
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='BackupCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code_hash', models.CharField(max_length=64)),
                ('device', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='codes', to='accounts.backupcodedevice')),
            ],
            options={
                'indexes': [models.Index(fields=['device', 'code_hash'], name='backup_code_lookup_idx')],
            },
        ),
        migrations.RunPython(move_devices, reverse_code=None, elidable=False),
    ]
