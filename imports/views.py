"""The import pages: list and upload, mapping, options and preview, progress and summary,
cancel, revert and the per-row error report. Members who may create contacts use them;
read-only members get no page (and so no form)."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from imports import mapping, readers, services
from imports.forms import MappingForm, OptionsForm, UploadForm
from imports.models import Import, SavedMapping
from imports.selectors import LIST_SIZE, get_import_for, imports_for
from logicnet.tenancy.roles import Role, requires_role


def _get_import(request, import_id: int) -> Import:
    return get_import_for(request.actor, import_id)


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def imports_list(request, org_slug):
    imports = imports_for(request.actor)[:LIST_SIZE]
    return render(request, "imports/list.html", {"imports": imports, "form": UploadForm()})


class _InMemoryUpload(MemoryFileUploadHandler):
    """Keeps the uploaded file in memory (up to 200 MB) instead of Django's temporary file
    on disk: the file is personal data and must reach the disk only sealed (storage.py)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
@require_POST
@csrf_exempt  # checked below, once the upload handlers are set (the CSRF check reads the body)
def import_upload(request, org_slug):
    request.upload_handlers = [_InMemoryUpload(request)]
    return _import_upload(request, org_slug)


@csrf_protect
def _import_upload(request, org_slug):
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            imp = services.create_import(
                organization=request.organization,
                actor=request.user,
                uploaded=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
            )
        except readers.FileProblem as problem:
            form.add_error("file", str(problem))
        else:
            if imp.status == Import.Status.READY:
                return redirect("import_preview", org_slug=org_slug, import_id=imp.pk)
            return redirect("import_mapping", org_slug=org_slug, import_id=imp.pk)
    imports = imports_for(request.actor)[:LIST_SIZE]
    return render(request, "imports/list.html", {"imports": imports, "form": form}, status=400)


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def import_mapping(request, org_slug, import_id):
    imp = _get_import(request, import_id)
    info = services.file_info(imp)
    if info.kind == "vcard" or imp.status not in (Import.Status.UPLOADED, Import.Status.READY):
        return redirect(
            "import_detail" if imp.status not in (Import.Status.UPLOADED, Import.Status.READY) else "import_preview",
            org_slug=org_slug,
            import_id=imp.pk,
        )
    kind = request.POST.get("kind") or imp.kind
    if kind not in Import.Kind.values:
        kind = imp.kind
    columns = mapping.columns_from_json(imp.columns)
    saved = services.saved_mappings_for(imp)
    if request.method == "POST" and request.POST.get("apply"):
        chosen = next((m for m in saved if str(m.pk) == request.POST.get("apply")), None)
        if chosen is not None:
            columns = [c for c in mapping.columns_from_json(chosen.columns) if c.column < len(info.headers)]
            kind = chosen.kind
            form = MappingForm(initial={"kind": kind}, headers=info.headers, kind=kind, columns=columns)
            messages.info(
                request, _("The saved mapping %(name)s was applied. Check it and continue.") % {"name": chosen.name}
            )
            return _mapping_page(request, imp, info, form, saved)
    if kind != imp.kind and request.method == "POST" and request.POST.get("switch"):
        columns = mapping.auto_map(info.headers, kind=kind)
        form = MappingForm(initial={"kind": kind}, headers=info.headers, kind=kind, columns=columns)
        return _mapping_page(request, imp, info, form, saved)
    form = MappingForm(request.POST or None, initial={"kind": kind}, headers=info.headers, kind=kind, columns=columns)
    if request.method == "POST" and form.is_valid():
        chosen_columns = form.columns()
        if not chosen_columns:
            form.add_error(None, _("Choose a field for at least one column."))
        else:
            try:
                services.set_mapping(
                    imp=imp, actor=request.user, columns=chosen_columns, kind=kind, save_as=form.cleaned_data["save_as"]
                )
            except services.ImportError_ as refusal:
                form.add_error(None, str(refusal))
            else:
                if form.cleaned_data["save_as"]:
                    messages.success(request, _("Mapping saved."))
                return redirect("import_preview", org_slug=org_slug, import_id=imp.pk)
    return _mapping_page(request, imp, info, form, saved)


def _mapping_page(request, imp, info, form, saved: list[SavedMapping]):
    samples = services.sample_rows(imp)
    rows = [
        (index, header, field, label, [r.cells[index] for r in samples if index < len(r.cells)])
        for index, header, field, label in form.column_rows()
    ]
    return render(
        request,
        "imports/mapping.html",
        {
            "imp": imp,
            "info": info,
            "form": form,
            "rows": rows,
            "saved": saved,
            "export_name": mapping.detect_export(info.headers)[1],
        },
    )


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def import_preview(request, org_slug, import_id):
    imp = _get_import(request, import_id)
    if imp.status not in (Import.Status.UPLOADED, Import.Status.READY):
        return redirect("import_detail", org_slug=org_slug, import_id=imp.pk)
    form = OptionsForm(
        request.POST or None,
        organization=request.organization,
        kind=imp.kind,
        initial=OptionsForm.initial_from(imp.options),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_options(imp=imp, options=form.options())
        except services.ImportError_ as refusal:
            form.add_error(None, str(refusal))
        else:
            if "start" in request.POST:
                if imp.status != Import.Status.READY:
                    form.add_error(None, _("Map the file's columns first."))
                elif not services.writers_available():
                    form.add_error(None, _("Imports cannot run yet on this installation."))
                else:
                    imp, _started = services.start_import(imp=imp, actor=request.user)
                    return redirect("import_detail", org_slug=org_slug, import_id=imp.pk)
    rows, prepared, problem = [], False, ""
    if imp.status == Import.Status.READY:
        try:
            rows, prepared = services.preview(imp, request.organization)
        except (OSError, readers.FileProblem) as error:
            problem = (
                str(error) if isinstance(error, readers.FileProblem) else _("The uploaded file is no longer available.")
            )
    return render(
        request,
        "imports/preview.html",
        {
            "imp": imp,
            "form": form,
            "rows": rows,
            "prepared": prepared,
            "problem": problem,
            "info": services.file_info(imp),
        },
    )


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def import_detail(request, org_slug, import_id):
    imp = services.settle_failed(_get_import(request, import_id))
    failed = imp.status == Import.Status.FAILED
    context = {"imp": imp, "eta": services.eta_seconds(imp), "failed": failed}
    template = "imports/_progress.html" if request.htmx else "imports/detail.html"
    return render(request, template, context)


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
@require_POST
def import_cancel(request, org_slug, import_id):
    imp = services.cancel_import(imp=_get_import(request, import_id), actor=request.user)
    if imp.status == Import.Status.CANCELLED or imp.cancel_requested:
        messages.info(request, _("The import is being cancelled: rows written so far stay (revert them if needed)."))
    return redirect("import_detail", org_slug=org_slug, import_id=imp.pk)


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
@require_POST
def import_revert(request, org_slug, import_id):
    imp = _get_import(request, import_id)
    try:
        imp, started = services.start_revert(imp=imp, actor=request.user)
    except services.ImportError_ as refusal:
        messages.error(request, str(refusal))
    else:
        if started:
            messages.info(request, _("Reverting the import: what it created is deleted, what it updated is restored."))
    return redirect("import_detail", org_slug=org_slug, import_id=imp.pk)


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def import_errors(request, org_slug, import_id):
    imp = _get_import(request, import_id)
    response = HttpResponse(services.error_report(imp), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-rows.csv"'
    return response


urlpatterns = [
    path("imports/", imports_list, name="imports_list"),
    path("imports/upload/", import_upload, name="import_upload"),
    path("imports/<int:import_id>/mapping/", import_mapping, name="import_mapping"),
    path("imports/<int:import_id>/preview/", import_preview, name="import_preview"),
    path("imports/<int:import_id>/", import_detail, name="import_detail"),
    path("imports/<int:import_id>/cancel/", import_cancel, name="import_cancel"),
    path("imports/<int:import_id>/revert/", import_revert, name="import_revert"),
    path("imports/<int:import_id>/rows.csv", import_errors, name="import_errors"),
]
