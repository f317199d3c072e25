from django.core.management.base import BaseCommand, CommandError

from logicnet.audit.services import verify_chains


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; report the first broken link of each chain."

    def handle(self, *args, **options):
        broken = 0
        for report in verify_chains():
            chain = f"organization {report.organization_id}" if report.organization_id else "platform"
            if report.broken_at is None:
                self.stdout.write(f"{chain}: {report.events} events, chain intact")
            else:
                broken += 1
                self.stdout.write(f"{chain}: BROKEN at event #{report.broken_at}: {report.problem}")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken")
        self.stdout.write(self.style.SUCCESS("audit log verified"))
