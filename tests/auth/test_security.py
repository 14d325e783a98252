"""Browser-facing hardening and the one error shape: security headers on every response,
a session cookie scripts cannot read or send cross-site, JSON errors under /api, HTML
errors on pages."""

PASSWORD = "correct-horse-9"


def test_every_response_carries_the_security_headers(client, subtests):
    for path in ("/login", "/api/v1/me", "/nowhere", "/api/v1/nowhere", "/static/app.css"):
        with subtests.test(path=path), client.get(path) as response:  # close streamed files
            headers = response.headers
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["X-Frame-Options"] == "DENY"
            csp = headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "script-src 'self'" in csp
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_api_responses_are_never_cached(client, make_user):
    user = make_user("agent")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


def test_the_session_and_remember_cookies_are_httponly_and_samesite_lax(client, make_user):
    user = make_user("agent")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "remember": "y"})
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "httponly" in attributes, name
        assert "samesite=lax" in attributes, name


def _json_error(response, status, code):
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_api_errors_are_json_with_error_and_message(client, make_user):
    _json_error(client.get("/api/v1/nowhere"), 404, "not_found")
    _json_error(client.get("/api/v1/me"), 401, "unauthenticated")
    _json_error(client.delete("/api/v1/me"), 405, "method_not_allowed")
    user = make_user("staff", "operations")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    _json_error(client.post("/api/v1/customers", json={"account_no": "KH1", "name": "x"}),
                403, "forbidden")
    _json_error(client.get("/api/v1/customers/99999"), 404, "not_found")
    body = _json_error(client.get("/api/v1/customers?limit=abc"), 400, "invalid_input")
    assert "limit" in body["fields"]


def test_an_unknown_page_is_an_html_404(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "<html" in response.get_data(True)


def test_a_forbidden_page_is_an_html_403(client, make_user):
    user = make_user("agent")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "text/html" in response.content_type and "<html" in response.get_data(True)


def test_a_request_body_over_the_size_limit_is_refused(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/tokens", data="x" * (limit + 1),
                           content_type="application/json")
    _json_error(response, 413, "payload_too_large")
