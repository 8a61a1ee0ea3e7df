"""Keys revoked or expired are 401 at once; spending limits give 429 on REST, OpenCode and the
gateway until an admin raises them; the audit log holds a scripted sequence and no secret."""

from __future__ import annotations

import json
from datetime import datetime

from tenancy_support import KEY
from tenancy_support import created


def test_revoked_and_expired_keys_are_401_at_once(tenants) -> None:
    t = tenants
    assert t.call("ann", "GET", "/sessions").status_code == 200
    assert t.call("root", "DELETE", f"/admin/keys/{t.key_ids['ann']}").status_code == 200
    assert t.call("ann", "GET", "/sessions").status_code == 401
    assert t.http.get("/session", headers=t.basic("ann")).status_code == 401
    short = t.call("root", "POST", "/admin/keys", json={"user": "bob", "expires": "1m"}).json()
    assert t.http.get("/sessions", headers={"x-api-key": short["key"]}).status_code == 200
    listed = {k["key_id"]: k for k in t.call("root", "GET", "/admin/keys", params={"user": "ann"}).json()["keys"]}
    assert listed[t.key_ids["ann"]]["revoked_at"] is not None and "key" not in listed[t.key_ids["ann"]]
    assert t.call("root", "POST", "/admin/keys", json={"user": "nobody"}).status_code == 404
    assert t.call("root", "POST", "/admin/users", json={"name": "ann"}).status_code == 409


def test_a_member_over_the_daily_limit_gets_429_everywhere_until_it_is_raised(tenants) -> None:
    t = tenants
    assert t.call("ada", "PATCH", "/admin/users/ann", json={"daily_usd": 0.001}).json()["daily_usd"] == 0.001
    ann = created(t, "ann")
    assert t.call("ann", "POST", f"/sessions/{ann}/messages", json={"message": "one"}).status_code == 200  # 0.0012 USD
    refused = t.call("ann", "POST", f"/sessions/{ann}/messages", json={"message": "two"})
    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body["limit"] == "daily" and body["spent_usd"] >= 0.001 and body["resets_at"].endswith("T00:00:00+00:00")
    assert 0 < int(refused.headers["retry-after"]) <= 86400
    opencode_id = t.call("ann", "GET", "/session").json()[0]["id"]
    oc = t.http.post(f"/session/{opencode_id}/message", json={"parts": [{"type": "text", "text": "x"}]}, headers=t.basic("ann"))
    assert oc.status_code == 429 and "daily spending limit" in oc.json()["data"]["message"] and "retry-after" in oc.headers
    usage = t.call("ann", "GET", "/usage").json()
    assert usage["user"] == "ann" and usage["limits"][0]["spent_usd"] >= 0.001 and usage["by_session"][0]["session_id"] == ann
    assert t.call("ann", "GET", "/usage", params={"user": "bob"}).status_code == 403
    # the gateway: a first turn is refused before it starts (the spend is the user's, across surfaces)
    model = t.call("ann", "GET", "/v1/models").json()["data"][0]["id"]
    chat = t.call("ann", "POST", "/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 429 and chat.json()["error"]["code"] == "spending_limit_reached" and "retry-after" in chat.headers
    # an admin raises the limit: the next turn runs
    assert t.call("ada", "PATCH", "/admin/users/ann", json={"daily_usd": 5}).status_code == 200
    assert t.call("ann", "POST", f"/sessions/{ann}/messages", json={"message": "three"}).status_code == 200


def test_the_audit_log_holds_the_sequence_and_no_secret(tenants) -> None:
    t = tenants
    ann = created(t, "ann")
    t.call("ann", "POST", f"/sessions/{ann}/messages", json={"message": "a secret prompt text"})
    t.call("bob", "DELETE", f"/sessions/{ann}")
    t.call("vic", "POST", "/sessions", json={})
    t.http.get("/sessions", headers={"authorization": "Bearer cas_000000000000_nope"})
    t.call("ann", "DELETE", f"/sessions/{ann}")
    page = t.call("ada", "GET", "/audit", params={"limit": 100}).json()
    rows = [(e["user"], e["action"], e["status"], e["session_id"]) for e in reversed(page["entries"])]
    tail = rows[-6:]
    assert tail == [
        ("ann", "rest.create_session", 201, ann),
        ("ann", "rest.send_message", 200, ann),
        ("bob", "rest.close_session", 404, ann),
        ("vic", "rest.create_session", 403, None),
        (None, "auth.failure", 401, None),
        ("ann", "rest.close_session", 200, ann),
    ], tail
    assert any(a == "rest.create_key" for _, a, _, _ in rows) and any(a == "rest.add_user" for _, a, _, _ in rows)
    text = json.dumps(page)
    assert "a secret prompt text" not in text and KEY not in text and not any(k in text for k in t.keys.values())
    assert all(e["client"] for e in page["entries"]) and all(datetime.fromisoformat(e["at"]) for e in page["entries"])
    only = t.call("ada", "GET", "/audit", params={"user": "bob"}).json()["entries"]
    assert [e["action"] for e in only] == ["rest.close_session"]
    assert t.call("ada", "GET", "/audit", params={"session_id": ann, "limit": 1}).json()["next_before"] is not None
    assert t.call("ann", "GET", "/audit").status_code == 403


def test_metrics_are_for_admins_and_hold_the_cost_per_user(tenants) -> None:
    t = tenants
    ann = created(t, "ann")
    t.call("ann", "POST", f"/sessions/{ann}/messages", json={"message": "one"})
    assert t.call("ann", "GET", "/metrics").status_code == 403 and t.call("vic", "GET", "/metrics").status_code == 403
    text = t.call("ada", "GET", "/metrics").text
    assert 'claude_agent_server_user_cost_usd{user="ann"} 0.0012' in text


def test_a_key_revoked_by_another_node_is_401_on_this_nodes_next_request(tenants) -> None:
    """Another node's revocation reaches this node through the database alone: nothing here
    remembers that the key was good (no cache for the revoking node to drop)."""
    from claude_agent_server.web.state import started_state

    t = tenants
    assert t.call("ann", "GET", "/sessions").status_code == 200
    users = started_state(t.http.app).identities.registry.users
    t.http.portal.call(users.revoke_key, t.key_ids["ann"])  # as another node's admin route does, on its own process
    assert t.call("ann", "GET", "/sessions").status_code == 401
