"""The money panel of a contact's and a company's page: transactions with totals, and the
deals they are on. Loaded by htmx into those pages (the contacts app does not import deals)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.access import get_company_for, get_contact_for
from deals.access import get_transaction_for, may_edit_deals, visible_deals
from deals.forms import TransactionForm
from deals.models import Transaction
from deals.selectors import transactions_of
from deals.services.settings import allowed_currencies
from deals.services.transactions import delete_transaction, record_transaction


def _panel(request, *, contact=None, company=None, form=None):
    rows, totals = transactions_of(request.organization, contact=contact, company=company)
    deals = visible_deals(request.actor).filter(**({"contacts": contact} if contact else {"company": company}))
    can_write = may_edit_deals(request.actor)
    if can_write and form is None:
        form = TransactionForm(
            initial={"date": timezone.localdate(), "currency": allowed_currencies(request.organization)[0]},
            deals=deals,
            organization=request.organization,
        )
    owner = {"contact_id": contact.pk} if contact else {"company_id": company.pk}
    kind = "contact" if contact else "company"
    context = {
        "transactions": rows,
        "totals": sorted(((Transaction.Kind(k).label, cur, total) for (k, cur), total in totals.items()), key=str),
        "deals": list(deals.select_related("stage").order_by("-created_at")[:50]),
        "form": form if can_write else None,
        "add_url": reverse(f"deal_{kind}_transaction_add", kwargs={"org_slug": request.organization.slug, **owner}),
        "new_deal_query": f"{kind}={(contact or company).pk}",
        "can_write": can_write,
    }
    return render(request, "deals/_money_panel.html", context)


def deal_contact_panel(request, org_slug, contact_id):
    return _panel(request, contact=get_contact_for(request.actor, contact_id))


def deal_company_panel(request, org_slug, company_id):
    return _panel(request, company=get_company_for(request.actor, company_id))


def _add(request, *, contact=None, company=None, back: str):
    deals = visible_deals(request.actor)
    form = TransactionForm(request.POST, deals=deals, organization=request.organization)
    if form.is_valid():
        try:
            record_transaction(
                organization=request.organization,
                actor=request.user,
                contact=contact,
                company=company,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Transaction recorded."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(back + "#money")


@require_POST
def deal_contact_transaction_add(request, org_slug, contact_id):
    contact = get_contact_for(request.actor, contact_id)
    return _add(
        request,
        contact=contact,
        back=reverse("contact_detail", kwargs={"org_slug": org_slug, "contact_id": contact.pk}),
    )


@require_POST
def deal_company_transaction_add(request, org_slug, company_id):
    company = get_company_for(request.actor, company_id)
    return _add(
        request,
        company=company,
        back=reverse("company_detail", kwargs={"org_slug": org_slug, "company_id": company.pk}),
    )


@require_POST
def deal_transaction_delete(request, org_slug, transaction_id):
    row = get_transaction_for(request.actor, transaction_id)
    if row.contact_id:
        back = reverse("contact_detail", kwargs={"org_slug": org_slug, "contact_id": row.contact_id})
    else:
        back = reverse("company_detail", kwargs={"org_slug": org_slug, "company_id": row.company_id})
    delete_transaction(organization=request.organization, actor=request.user, transaction=row)
    messages.success(request, _("Transaction deleted."))
    return redirect(back + "#money")
