from django.core.management.base import BaseCommand, CommandError

from logicnet.audit.services import verify_audit_log


class Command(BaseCommand):
    help = (
        "Seal what can be sealed, then verify the audit log's MAC chain, its checkpoints and the heads "
        "anchored outside the database; report anything changed, removed, inserted or reordered."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="verify only what is sealed already")

    def handle(self, *args, no_seal=False, **options):
        result = verify_audit_log(seal_first=not no_seal)
        start = f"from checkpoint #{result.checkpoint}" if result.checkpoint else "from the genesis"
        head = f"#{result.head.sequence} (id {result.head.event_id})" if result.head else "none"
        self.stdout.write(
            f"{result.events} sealed events checked {start}; head {head}; {result.unsealed} waiting to be sealed; "
            f"{result.anchors} anchors; {result.pending_drop} behind the checkpoint awaiting deletion"
        )
        for problem in result.problems:
            self.stdout.write(f"BROKEN: {problem}")
        if result.problems:
            raise CommandError(f"the audit log failed verification ({len(result.problems)} problem(s))")
        self.stdout.write(self.style.SUCCESS("audit log verified: nothing changed, removed, inserted or reordered"))
