"""The auth routes of CONTRACT.md, driven through the real Envoy."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import bearer, register_and_login, unique_email

pytestmark = [pytest.mark.envoy, pytest.mark.redis]


def test_register_returns_the_user_without_secrets(rest: httpx.Client) -> None:
    email = unique_email()
    reply = rest.post(
        "/auth/register",
        json={"email": email.upper(), "password": "long enough", "displayName": "Ada"},
    )
    assert reply.status_code == 200
    user = reply.json()["user"]
    assert user["email"] == email
    assert user["displayName"] == "Ada"
    assert user["id"] and user["createdAt"].endswith("Z")
    assert "password" not in reply.text.lower()


def test_register_accepts_snake_case_fields(rest: httpx.Client) -> None:
    reply = rest.post(
        "/auth/register",
        json={"email": unique_email(), "password": "long enough", "display_name": "Grace"},
    )
    assert reply.status_code == 200
    assert reply.json()["user"]["displayName"] == "Grace"


def test_duplicate_email_is_409(rest: httpx.Client) -> None:
    email = unique_email()
    assert rest.post("/auth/register", json={"email": email, "password": "long enough"}).is_success
    again = rest.post("/auth/register", json={"email": email, "password": "other password"})
    assert again.status_code == 409
    assert again.json()["code"] == 6


def test_invalid_registration_names_each_field(rest: httpx.Client) -> None:
    reply = rest.post("/auth/register", json={"email": "not-an-email", "password": "short"})
    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == 3
    violations = body["details"][0]["fieldViolations"]
    assert {v["field"] for v in violations} == {"email", "password"}


def test_login_returns_a_bearer_pair(rest: httpx.Client) -> None:
    email = unique_email()
    rest.post("/auth/register", json={"email": email, "password": "long enough"})
    reply = rest.post("/auth/login", json={"email": email, "password": "long enough"})
    assert reply.status_code == 200
    tokens = reply.json()
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] > 0
    assert tokens["accessToken"] and tokens["refreshToken"]


def test_login_failures_do_not_reveal_whether_the_email_exists(rest: httpx.Client) -> None:
    person = register_and_login(rest)
    wrong_password = rest.post(
        "/auth/login", json={"email": person["email"], "password": "wrong password"}
    )
    unknown_email = rest.post(
        "/auth/login", json={"email": unique_email(), "password": "wrong password"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json()["message"] == unknown_email.json()["message"]


def test_refresh_rotates_and_reuse_revokes_the_family(rest: httpx.Client) -> None:
    person = register_and_login(rest)
    first = rest.post("/auth/refresh", json={"refreshToken": person["refresh"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refreshToken"] != person["refresh"]
    assert rest.get("/insights", headers=bearer(rotated["accessToken"])).status_code == 200

    replay = rest.post("/auth/refresh", json={"refreshToken": person["refresh"]})
    assert replay.status_code == 401
    # The replay revoked the family: the newest refresh token and its access token stop working.
    assert (
        rest.post("/auth/refresh", json={"refreshToken": rotated["refreshToken"]}).status_code
        == 401
    )
    assert rest.get("/insights", headers=bearer(rotated["accessToken"])).status_code == 401


def test_logout_revokes_access_and_refresh_at_once(rest: httpx.Client) -> None:
    person = register_and_login(rest)
    headers = bearer(person["access"])
    assert rest.get("/insights", headers=headers).status_code == 200
    assert rest.post("/auth/logout", json={}, headers=headers).status_code == 200
    assert rest.get("/insights", headers=headers).status_code == 401
    assert rest.post("/auth/refresh", json={"refreshToken": person["refresh"]}).status_code == 401


def test_logout_needs_a_token(rest: httpx.Client) -> None:
    assert rest.post("/auth/logout", json={}).status_code == 401


def test_other_sessions_survive_a_logout(rest: httpx.Client) -> None:
    person = register_and_login(rest)
    second = rest.post(
        "/auth/login", json={"email": person["email"], "password": person["password"]}
    )
    rest.post("/auth/logout", json={}, headers=bearer(person["access"]))
    assert rest.get("/insights", headers=bearer(second.json()["accessToken"])).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        # alg: none, claiming a user
        "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwidHlwIjoiYWNjZXNzIn0.",
    ],
)
def test_bad_tokens_are_401(rest: httpx.Client, header: str) -> None:
    reply = rest.get("/insights", headers={"Authorization": header} if header else {})
    assert reply.status_code == 401
    body = reply.json()
    assert body["code"] == 16
    assert "Traceback" not in reply.text


def test_tampered_token_is_401(rest: httpx.Client) -> None:
    person = register_and_login(rest)
    header, payload, signature = person["access"].split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    assert rest.get("/insights", headers=bearer(tampered)).status_code == 401


def test_repeated_failed_logins_back_off_for_that_account_only(rest: httpx.Client) -> None:
    person, bystander = register_and_login(rest), register_and_login(rest)
    wrong = {"email": person["email"], "password": "not the password"}
    assert [rest.post("/auth/login", json=wrong).status_code for _ in range(5)] == [401] * 5
    right = {"email": person["email"], "password": person["password"]}
    blocked = rest.post("/auth/login", json=right)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == 8
    assert "try again" in blocked.json()["message"]
    unknown = {"email": unique_email(), "password": "whatever1"}
    assert [rest.post("/auth/login", json=unknown).status_code for _ in range(6)][-1] == 429
    other = {"email": bystander["email"], "password": bystander["password"]}
    assert rest.post("/auth/login", json=other).status_code == 200
