from django.urls import reverse


def test_signup_page_renders(client, db):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert b"Company name" in response.content


def test_dashboard_for_member_and_404_for_outsider(client, alice, charlie, org_a, org_b):
    client.force_login(alice)
    assert client.get(reverse("dashboard", args=[org_a.slug])).status_code == 200
    client.force_login(charlie)
    assert client.get(reverse("dashboard", args=[org_a.slug])).status_code == 404
