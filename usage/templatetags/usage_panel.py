from django import template

from usage.consent import analytics_allowed
from usage.selectors import usage_panel as panel_for

register = template.Library()


@register.inclusion_tag("usage/_usage_panel.html", takes_context=True)
def usage_panel(context):
    """The dashboard's "Recently used" and "You may also want" (rendered inside the
    organization's tenant context, as every organization page is)."""
    request = context["request"]
    return {"panel": panel_for(actor=request.actor), "analytics": analytics_allowed(request)}
