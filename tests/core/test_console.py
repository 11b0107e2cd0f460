"""The console from three angles: a staff member with a role, a user without one, a stranger."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from amends.core.roles import Role, has_role
from amends.core.services import staff_user_set
from amends.network.importer import run_import


@pytest.mark.django_db
def test_every_role_exists_as_a_group() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.ALL)


@pytest.mark.django_db
def test_viewer_may_view_but_not_change_customers() -> None:
    viewer = Group.objects.get(name=Role.VIEWER)
    codenames = set(viewer.permissions.values_list("codename", flat=True))
    assert "view_customer" in codenames and "change_customer" not in codenames
    admin = Group.objects.get(name=Role.ADMIN)
    assert admin.permissions.filter(codename="change_customer").exists()
    assert not Permission.objects.filter(group=viewer, codename__startswith="delete_").exists()


@pytest.mark.django_db
def test_stranger_is_sent_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_user_without_a_role_is_refused(client: Client) -> None:
    user = User.objects.create_user("nobody", password="pw-123456-x")
    assert not has_role(user)
    client.force_login(user)
    assert client.get("/").status_code == 403


@pytest.mark.django_db
def test_viewer_sees_the_counts(client: Client, small_network) -> None:  # type: ignore[no-untyped-def]
    for kind in ("teams", "products", "network", "customers", "services"):
        run_import(kind, small_network / f"{kind}.csv", actor="test")
    user = staff_user_set(actor="test", username="vic", role=Role.VIEWER, password="pw-123456-x")
    assert client.login(username="vic", password="pw-123456-x")
    page = client.get("/").content.decode()
    assert '<dd id="count-customers">3</dd>' in page
    assert '<dd id="count-services">4</dd>' in page
    assert '<dd id="count-elements">6</dd>' in page
    assert user.groups.get().name == Role.VIEWER


@pytest.mark.django_db
def test_login_page_and_admin(client: Client) -> None:
    assert client.get("/login/").status_code == 200
    staff_user_set(actor="test", username="root", role=Role.ADMIN, password="pw-123456-x")
    client.login(username="root", password="pw-123456-x")
    assert client.get("/admin/network/customer/").status_code == 200
    assert client.get("/admin/core/auditentry/").status_code == 200


@pytest.mark.django_db
def test_staff_user_set_is_audited_and_refuses_unknown_roles() -> None:
    from amends.core.models import AuditEntry

    staff_user_set(actor="test", username="ann", role=Role.AGENT, password="pw-123456-x")
    entry = AuditEntry.objects.get(action="core.staff_user_set")
    assert entry.after == {"role": ["agent"], "email": ""}
    with pytest.raises(ValueError, match="unknown role"):
        staff_user_set(actor="test", username="ann", role="emperor", password="x")


@pytest.mark.django_db
def test_admin_changes_are_audited(client: Client) -> None:
    from amends.core.models import AuditEntry
    from amends.network.models import Team

    staff_user_set(actor="test", username="root", role=Role.ADMIN, password="pw-123456-x")
    client.login(username="root", password="pw-123456-x")
    team = Team.objects.create(external_id="T1", name="Old name")
    response = client.post(
        f"/admin/network/team/{team.pk}/change/",
        {"external_id": "T1", "name": "New name", "email": ""},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.change")
    assert entry.actor == "root" and entry.object_id == str(team.pk)
    assert entry.before["name"] == "Old name" and entry.after["name"] == "New name"


@pytest.mark.django_db
def test_remediation_in_the_nav_and_on_the_home_page(client: Client) -> None:
    from amends.remedy.models import Claim, ClaimStatus
    from amends.remedy.services.programs import policy_create, program_create
    from tests.remedy.conftest import outage_row

    analyst = staff_user_set(
        actor="test", username="ana", role=Role.REMEDIATION_ANALYST, password="pw-123456-x"
    )
    staff_user_set(actor="test", username="vic", role=Role.VIEWER, password="pw-123456-x")
    outage = outage_row()
    version = policy_create("test", "Pro rata", None, "pro_rata")
    program = program_create(analyst, "Make good", [outage], version)
    for status in (ClaimStatus.SUBMITTED, ClaimStatus.ASSESSING, ClaimStatus.PENDING_APPROVAL):
        Claim.objects.create(
            reference=f"CLM-2026-{Claim.objects.count() + 1:05d}",
            account_number="C2",
            postcode="2000",
            business_name="Corner Cafe",
            contact_name="Mia",
            email="mia@example.com",
            description="Lost a day of sales.",
            amount_claimed_cents=50000,
            status=status,
        )

    client.login(username="ana", password="pw-123456-x")
    home = client.get("/").content.decode()
    assert '<a href="/remedy/">Remediation</a>' in home
    assert '<a href="/remedy/claims/">Claims</a>' in home
    assert f'<a href="/remedy/programs/{program.reference}/">' in home
    assert "2 claims awaiting assessment, 1 awaiting a second approval." in home

    client.login(username="vic", password="pw-123456-x")
    home = client.get("/").content.decode()
    assert '<a href="/remedy/">Remediation</a>' in home
    assert "/remedy/claims/" not in home  # viewers may not open the claims queue
    assert client.get("/remedy/claims/").status_code == 403
