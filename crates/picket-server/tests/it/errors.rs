//! Graph-wide conventions (spec §3): standard headers, the error envelope, 404/405/413/415/400
//! for bad requests, `$count` as text, and `@odata.context` first.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn standard_headers_on_success_and_error() {
    let app = TestApp::standard().await;
    let token = admin();
    for path in [
        p("beta", "sensors"),
        p("v1.0", "sensors/nope"),
        p("beta", "sensors/$count"),
    ] {
        let r = app.get(&path, &token).await;
        let request_id = r.header("request-id").expect("request-id").to_string();
        assert_eq!(request_id.len(), 36, "GUID request-id: {request_id}");
        assert_eq!(
            r.header("client-request-id"),
            Some(request_id.as_str()),
            "{path}: defaults to request-id"
        );
        assert_eq!(r.header("odata-version"), Some("4.0"), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"));

        let client_id = "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54";
        let r2 = app
            .send(
                "GET",
                &path,
                Some(&token),
                &[
                    ("client-request-id", client_id),
                    ("Accept", "application/json"),
                ],
                None,
            )
            .await;
        assert_eq!(
            r2.header("client-request-id"),
            Some(client_id),
            "{path}: echoed"
        );
        assert_ne!(
            r2.header("request-id"),
            Some(request_id.as_str()),
            "a new request-id per request"
        );
        if r2.status >= 400 {
            assert_eq!(
                r2.json["error"]["innerError"]["client-request-id"],
                json!(client_id)
            );
        }
    }
    // Headers on 401, 405 and 204 too.
    let r = app
        .send(
            "GET",
            &p("beta", "sensors"),
            None,
            &[("client-request-id", "abc")],
            None,
        )
        .await;
    assert_eq!(
        (r.header("client-request-id"), r.header("odata-version")),
        (Some("abc"), Some("4.0"))
    );
    assert!(r.header("request-id").is_some());
    let r = app
        .send(
            "PUT",
            &p("beta", "sensors"),
            Some(&token),
            &[("client-request-id", "def")],
            None,
        )
        .await;
    assert_eq!(
        (
            r.status,
            r.header("client-request-id"),
            r.header("odata-version")
        ),
        (405, Some("def"), Some("4.0"))
    );
    let r = app
        .delete(&p("beta", &format!("sensors/{SA1}")), &token)
        .await
        .expect(204);
    assert!(r.header("request-id").is_some() && r.header("odata-version") == Some("4.0"));
}

#[tokio::test]
async fn json_bodies_are_json_and_context_comes_first() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let gets = [
            "sensors".to_string(),
            format!("sensors/{DC1}"),
            format!("sensors/{DC1}?$expand=healthIssues"),
            format!("sensors/{DC1}/healthIssues"),
            format!("sensors/{DC1}/healthIssues/{H1}"),
            "sensors/getDeploymentAccessKey".to_string(),
            "sensors/getDeploymentPackageUri".to_string(),
            "sensorCandidates".to_string(),
            format!("sensorCandidates/{C_DC4}"),
            "sensorCandidateActivationConfiguration".to_string(),
            "healthIssues".to_string(),
            format!("healthIssues/{H1}"),
            "healthIssues?$count=true&$top=1".to_string(),
        ];
        for rest in gets {
            let r = app.get(&p(v, &rest), &token).await.expect(200);
            assert!(
                r.content_type().starts_with("application/json"),
                "{v} {rest}: {}",
                r.content_type()
            );
            assert_eq!(
                r.keys().first().map(String::as_str),
                Some("@odata.context"),
                "{v} {rest}: {}",
                r.text
            );
            assert!(r.json["@odata.context"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/{v}/$metadata#", app.base)));
        }
        let r = app
            .patch(
                &p(v, &format!("sensors/{DC1}")),
                &token,
                json!({"settings": {"description": "x"}}),
            )
            .await
            .expect(200);
        assert_eq!(r.keys()[0], "@odata.context");
        let r = app
            .patch(
                &p(v, &format!("healthIssues/{H2}")),
                &token,
                json!({"status": "open"}),
            )
            .await
            .expect(200);
        assert_eq!(r.keys()[0], "@odata.context");
        let r = app
            .post(&p(v, "sensors/regenerateDeploymentAccessKey"), &token, None)
            .await
            .expect(200);
        assert_eq!(r.keys()[0], "@odata.context");
    }
}

#[tokio::test]
async fn count_segments_are_plain_text_integers() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        for (rest, expected) in [
            ("sensors/$count".to_string(), "5"),
            ("healthIssues/$count".to_string(), "6"),
            ("healthissues/$count".to_string(), "6"),
            ("sensorCandidates/$count".to_string(), "3"),
            (format!("sensors/{FAB}/healthIssues/$count"), "2"),
        ] {
            let r = app.get(&p(v, &rest), &token).await.expect(200);
            assert!(
                r.content_type().starts_with("text/plain"),
                "{v} {rest}: {}",
                r.content_type()
            );
            assert_eq!(r.text, expected, "{v} {rest}: a bare integer");
        }
    }
    let empty = TestApp::empty().await;
    let r = empty
        .get(&p("beta", "sensors/$count"), &admin())
        .await
        .expect(200);
    assert_eq!(r.text, "0");
}

#[tokio::test]
async fn unknown_segments_are_400_and_unknown_roots_404() {
    let app = TestApp::standard().await;
    let token = admin();
    // Below a version root the real service names the segment it does not know, with 400
    // (spec §7.5).
    for (path, segment) in [
        ("/beta/security/identities/nope", "nope"),
        ("/beta/me", "me"),
        ("/v1.0/me", "me"),
        ("/beta/security/alerts", "alerts"),
        ("/beta/security/identities/sensors/x/other", "other"),
        ("/v1.0/security/identities/sensors/x/healthIssues/y/z", "z"),
        ("/beta/security/identities/sensorCandidates/a/b", "b"),
        ("/beta/security/identities/healthIssues/a/b", "b"),
        ("/beta/security/identities/settings/nope", "nope"),
    ] {
        let r = app.get(path, &token).await;
        let message = assert_error(&r, 400, "BadRequest");
        assert_eq!(
            message,
            format!("Resource not found for the segment '{segment}'."),
            "{path}"
        );
    }
    // Without a version root, the first segment is the one not found.
    for (path, segment) in [
        ("/v2.0/security/identities/sensors", "v2.0"),
        ("/security/identities/sensors", "security"),
    ] {
        let r = app.get(path, &token).await;
        let message = assert_error(&r, 400, "BadRequest");
        assert_eq!(
            message,
            format!("Resource not found for the segment '{segment}'.")
        );
    }
    let root = app.get("/", &token).await;
    assert!(root.status == 400 || root.status == 404, "{}", root.text);
    assert!(root.json["error"]["code"].is_string(), "{}", root.text);
    // Empty segments count for nothing, as on Graph.
    app.get("/beta/security/identities//sensors", &token)
        .await
        .expect(200);
    app.get("/v1.0//security/identities/sensors/", &token)
        .await
        .expect(200);
    // Also on other methods, without data changes.
    let before = app.snapshot(&token).await;
    let r = app
        .post(
            "/beta/security/identities/sensors/x/microsoft.graph.security.nope",
            &token,
            Some(json!({"sensorIds": [DC1]})),
        )
        .await;
    assert_error(&r, 400, "BadRequest");
    assert_eq!(app.snapshot(&token).await, before);
}

#[tokio::test]
async fn wrong_methods_are_405() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    for v in VERSIONS {
        for (method, rest) in [
            ("POST", "sensors".to_string()),
            ("PATCH", "sensors".to_string()),
            ("DELETE", "sensors".to_string()),
            ("PUT", "sensors".to_string()),
            ("PUT", format!("sensors/{DC1}")),
            ("POST", format!("sensors/{DC1}")),
            ("PUT", format!("healthIssues/{H1}")),
            ("DELETE", format!("healthIssues/{H1}")),
            ("POST", "healthIssues".to_string()),
            ("PUT", "sensorCandidateActivationConfiguration".to_string()),
            (
                "DELETE",
                "sensorCandidateActivationConfiguration".to_string(),
            ),
            ("DELETE", "sensorCandidates/x".to_string()),
            ("PATCH", format!("sensorCandidates/{C_DC4}")),
            ("PUT", "sensorCandidates/activate".to_string()),
            ("GET", "sensorCandidates/activate".to_string()),
            ("POST", "sensors/$count".to_string()),
            ("DELETE", format!("sensors/{DC1}/healthIssues")),
        ] {
            let r = app
                .send_json(method, &p(v, &rest), &token, Some(json!({})))
                .await;
            assert_eq!(r.status, 405, "{method} {v} {rest}: {}", r.text);
            assert_error(&r, 405, "MethodNotAllowed");
        }
    }
    assert_eq!(app.snapshot(&token).await, before);
}

#[tokio::test]
async fn writes_need_a_json_content_type() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    let body = br#"{"settings": {"description": "plain"}}"#.to_vec();
    for v in VERSIONS {
        for (method, rest, body) in [
            ("PATCH", format!("sensors/{DC1}"), body.clone()),
            (
                "PATCH",
                format!("healthIssues/{H1}"),
                br#"{"status": "closed"}"#.to_vec(),
            ),
            (
                "POST",
                "sensorCandidates/activate".to_string(),
                format!(r#"{{"serverIds": ["{C_DC4}"]}}"#).into_bytes(),
            ),
            (
                "PATCH",
                "sensorCandidateActivationConfiguration".to_string(),
                br#"{"activationMode": "automated"}"#.to_vec(),
            ),
        ] {
            for ct in [
                "text/plain",
                "application/x-www-form-urlencoded",
                "application/jsonx",
            ] {
                let r = app
                    .send(
                        method,
                        &p(v, &rest),
                        Some(&token),
                        &[("Content-Type", ct)],
                        Some(body.clone()),
                    )
                    .await;
                assert_eq!(r.status, 415, "{method} {rest} as {ct}: {}", r.text);
                assert_error(&r, 415, "UnsupportedMediaType");
            }
            let r = app
                .send(method, &p(v, &rest), Some(&token), &[], Some(body.clone()))
                .await;
            assert_error(&r, 415, "UnsupportedMediaType");
        }
    }
    assert_eq!(app.snapshot(&token).await, before, "415s changed nothing");
    // Parameters on the JSON media type are fine.
    let r = app
        .send(
            "PATCH",
            &p("beta", &format!("sensors/{DC1}")),
            Some(&token),
            &[("Content-Type", "application/json; charset=utf-8")],
            Some(body),
        )
        .await;
    assert_eq!(
        r.expect(200).json["settings"]["description"],
        json!("plain")
    );
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    let filler = "x".repeat(1024 * 1024);
    let body = serde_json::to_vec(&json!({"settings": {"description": filler}})).unwrap();
    assert!(body.len() > 1024 * 1024);
    for v in VERSIONS {
        let r = app
            .send(
                "PATCH",
                &p(v, &format!("sensors/{DC1}")),
                Some(&token),
                &[("Content-Type", "application/json")],
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 413, "{}", r.text);
        assert_eq!(
            r.json["error"]["code"],
            json!("RequestEntityTooLarge"),
            "{}",
            r.text
        );
        assert!(r.content_type().starts_with("application/json"));
    }
    let r = app
        .send(
            "POST",
            "/beta/$batch",
            Some(&token),
            &[("Content-Type", "application/json")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(app.snapshot(&token).await, before);
    // Just under the limit is accepted (padded with JSON whitespace: a description that long
    // is over its own bound).
    let small = format!(
        "{}{}",
        json!({"settings": {"description": "y"}}),
        " ".repeat(1024 * 1024 - 100)
    );
    let r = app
        .send(
            "PATCH",
            &p("beta", &format!("sensors/{DC1}")),
            Some(&token),
            &[("Content-Type", "application/json")],
            Some(small.into_bytes()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
}

#[tokio::test]
async fn malformed_json_bodies_are_400() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    for v in VERSIONS {
        for rest in [
            format!("sensors/{DC1}"),
            format!("healthIssues/{H1}"),
            "sensorCandidateActivationConfiguration".to_string(),
        ] {
            for body in [
                &b"{\"settings\": "[..],
                b"[]",
                b"[{\"status\": \"closed\"}]",
                b"\"x\"",
                b"42",
                b"null",
                b"",
                b"   ",
                b"{'status': 'closed'}",
            ] {
                let r = app
                    .send(
                        "PATCH",
                        &p(v, &rest),
                        Some(&token),
                        &[("Content-Type", "application/json")],
                        Some(body.to_vec()),
                    )
                    .await;
                assert_eq!(
                    r.status,
                    400,
                    "{v} {rest} {:?}: {}",
                    String::from_utf8_lossy(body),
                    r.text
                );
                assert_error(&r, 400, "BadRequest");
            }
        }
        let r = app
            .send(
                "POST",
                &p(v, "sensorCandidates/activate"),
                Some(&token),
                &[("Content-Type", "application/json")],
                Some(b"{".to_vec()),
            )
            .await;
        assert_error(&r, 400, "BadRequest");
    }
    assert_eq!(app.snapshot(&token).await, before);
}

#[tokio::test]
async fn identity_container() {
    let app = TestApp::standard().await;
    let token = app.token(TENANT_A, &[HEALTH_READ]);
    for v in VERSIONS {
        let r = app
            .get(&format!("/{v}/security/identities"), &token)
            .await
            .expect(200);
        assert_eq!(
            r.json["@odata.context"],
            json!(ctx(&app, v, "security/identities/$entity"))
        );
    }
}
