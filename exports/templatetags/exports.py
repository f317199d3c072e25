from django import template

register = template.Library()


@register.simple_tag
def export_retention_days() -> int:
    """How many days an export file is kept (the registry's rule, exports/personal_data.py)."""
    from exports.services import EXPORT_RETENTION

    return EXPORT_RETENTION.days
