"""Deals URLs, mounted at /o/<org_slug>/deals/ (logicnet/urls.py)."""

from django.urls import path

from deals.views import board, deal, money, settings

urlpatterns = [
    path("", board.deal_board, name="deal_board"),
    path("pipelines/<int:pipeline_id>/", board.deal_pipeline_board, name="deal_pipeline_board"),
    path("stages/<int:stage_id>/column/", board.deal_column, name="deal_column"),
    path("list/", deal.deal_list, name="deal_list"),
    path("list/bulk/", deal.deal_bulk, name="deal_bulk"),
    path("list/views/", deal.deal_view_save, name="deal_view_save"),
    path("new/", deal.deal_create, name="deal_create"),
    path("<int:deal_id>/", deal.deal_detail, name="deal_detail"),
    path("<int:deal_id>/edit/", deal.deal_edit, name="deal_edit"),
    path("<int:deal_id>/move/", board.deal_move, name="deal_move"),
    path("<int:deal_id>/status/", deal.deal_status, name="deal_status"),
    path("<int:deal_id>/delete/", deal.deal_delete, name="deal_delete"),
    path("<int:deal_id>/lines/", deal.deal_line_add, name="deal_line_add"),
    path("<int:deal_id>/lines/<int:line_id>/remove/", deal.deal_line_remove, name="deal_line_remove"),
    # Money on a contact's and a company's page (an htmx panel) and its forms.
    path("contacts/<int:contact_id>/money/", money.deal_contact_panel, name="deal_contact_panel"),
    path(
        "contacts/<int:contact_id>/transactions/",
        money.deal_contact_transaction_add,
        name="deal_contact_transaction_add",
    ),
    path("companies/<int:company_id>/money/", money.deal_company_panel, name="deal_company_panel"),
    path(
        "companies/<int:company_id>/transactions/",
        money.deal_company_transaction_add,
        name="deal_company_transaction_add",
    ),
    path("transactions/<int:transaction_id>/delete/", money.deal_transaction_delete, name="deal_transaction_delete"),
    # Admin: pipelines, stages, lost reasons, products, currency rates.
    path("settings/", settings.deal_settings, name="deal_settings"),
    path("settings/currency/", settings.deal_base_currency, name="deal_base_currency"),
    path("settings/pipelines/", settings.deal_pipeline_create, name="deal_pipeline_create"),
    path("settings/pipelines/<int:pipeline_id>/", settings.deal_pipeline_edit, name="deal_pipeline_edit"),
    path("settings/pipelines/<int:pipeline_id>/stages/", settings.deal_stage_add, name="deal_stage_add"),
    path("settings/stages/<int:stage_id>/", settings.deal_stage_edit, name="deal_stage_edit"),
    path("settings/stages/<int:stage_id>/reorder/", settings.deal_stage_reorder, name="deal_stage_reorder"),
    path("settings/stages/<int:stage_id>/archive/", settings.deal_stage_archive, name="deal_stage_archive"),
    path("settings/reasons/", settings.deal_reason_add, name="deal_reason_add"),
    path("settings/reasons/<int:reason_id>/archive/", settings.deal_reason_archive, name="deal_reason_archive"),
    path("settings/products/", settings.deal_product_add, name="deal_product_add"),
    path("settings/products/<int:product_id>/archive/", settings.deal_product_archive, name="deal_product_archive"),
    path("settings/rates/", settings.deal_rate_add, name="deal_rate_add"),
    path("settings/rates/upload/", settings.deal_rate_upload, name="deal_rate_upload"),
]
