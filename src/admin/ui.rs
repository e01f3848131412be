//! The web UI: three static files (`ui/index.html`, `ui/app.js`, `ui/app.css`) compiled into
//! the binary and served at `/` and `/ui/*`. The UI is plain JavaScript that calls the
//! management API (`/api/...`) from the browser with HTTP Basic credentials; this module
//! serves files only and holds no state, so it needs no access to the broker.
//!
//! Caching: the asset URLs in the page carry a version (`/ui/app.js?v=HASH`, the hash of
//! both assets' bytes), so assets may be cached for a year and a new binary is still
//! picked up on the next page load; the page itself is always revalidated (`no-cache` plus
//! an `ETag`), which costs a 304 and nothing more.

use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

const INDEX_HTML: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const APP_CSS: &str = include_str!("ui/app.css");

/// Where the page names the asset version; replaced once, at first use.
const VERSION_PLACEHOLDER: &str = "__ASSET_VERSION__";

/// The page carries no inline script or style: everything comes from this origin, and the
/// UI may not be framed (clickjacking of the purge and delete buttons).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

struct Assets {
    index: String,
    index_etag: String,
    js_etag: String,
    css_etag: String,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let mut both = Sha256::new();
    both.update(APP_JS.as_bytes());
    both.update(APP_CSS.as_bytes());
    let version = hex_prefix(&both.finalize());
    let index = INDEX_HTML.replace(VERSION_PLACEHOLDER, &version);
    Assets {
        index_etag: etag(index.as_bytes()),
        index,
        js_etag: etag(APP_JS.as_bytes()),
        css_etag: etag(APP_CSS.as_bytes()),
    }
});

/// The UI's routes: `/` (the page) and `/ui/{index.html,app.js,app.css}`. Nest or merge it
/// into the admin router; it works with any router state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/ui", get(index))
        .route("/ui/", get(index))
        .route("/ui/index.html", get(index))
        .route("/ui/app.js", get(app_js))
        .route("/ui/app.css", get(app_css))
}

async fn index(headers: HeaderMap) -> Response {
    let assets = &*ASSETS;
    let mut response = respond(
        &headers,
        &assets.index_etag,
        "text/html; charset=utf-8",
        "no-cache",
        assets.index.clone(),
    );
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn app_js(headers: HeaderMap) -> Response {
    respond(
        &headers,
        &ASSETS.js_etag,
        "text/javascript; charset=utf-8",
        ASSET_CACHE,
        APP_JS,
    )
}

async fn app_css(headers: HeaderMap) -> Response {
    respond(
        &headers,
        &ASSETS.css_etag,
        "text/css; charset=utf-8",
        ASSET_CACHE,
        APP_CSS,
    )
}

/// The body with its content type, cache policy and ETag, or an empty 304 when the client
/// already holds this version.
fn respond(
    request: &HeaderMap,
    etag: &str,
    content_type: &'static str,
    cache_control: &'static str,
    body: impl IntoResponse,
) -> Response {
    let etag_value = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\""));
    let common = [
        (header::ETAG, etag_value),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if if_none_match(request, etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// RFC 9110 §13.1.2: a list of entity tags or `*`; weak tags match too (weak comparison).
fn if_none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex_prefix(&Sha256::digest(bytes)))
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// Serves the router on a real socket and returns the raw HTTP/1.1 response to `request`.
    async fn exchange(request: &str) -> (String, Vec<u8>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, router::<()>()).await.unwrap();
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        server.abort();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        (head.to_ascii_lowercase(), raw[split + 4..].to_vec())
    }

    fn get(path: &str, extra: &str) -> String {
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n")
    }

    fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::trim)
    }

    #[tokio::test]
    async fn root_serves_the_page_with_versioned_assets() {
        let (head, body) = exchange(&get("/", "")).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(
            header_value(&head, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header_value(&head, "cache-control"), Some("no-cache"));
        assert!(header_value(&head, "content-security-policy")
            .is_some_and(|v| v.contains("frame-ancestors 'none'")));
        let body = String::from_utf8(body).unwrap();
        assert!(!body.contains(VERSION_PLACEHOLDER));
        let version = body
            .split("/ui/app.js?v=")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("app.js referenced with a version");
        assert_eq!(version.len(), 16);
        assert!(body.contains(&format!("/ui/app.css?v={version}")));
    }

    #[tokio::test]
    async fn assets_have_their_content_types_and_long_caching() {
        for (path, ctype, content) in [
            ("/ui/app.js?v=x", "text/javascript; charset=utf-8", APP_JS),
            ("/ui/app.css", "text/css; charset=utf-8", APP_CSS),
        ] {
            let (head, body) = exchange(&get(path, "")).await;
            assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
            assert_eq!(header_value(&head, "content-type"), Some(ctype), "{path}");
            assert_eq!(header_value(&head, "cache-control"), Some(ASSET_CACHE));
            assert_eq!(
                header_value(&head, "x-content-type-options"),
                Some("nosniff")
            );
            assert_eq!(body, content.as_bytes(), "{path}");
        }
    }

    #[tokio::test]
    async fn a_matching_etag_gets_304_without_a_body() {
        let (head, _) = exchange(&get("/ui/app.js", "")).await;
        let etag = header_value(&head, "etag").expect("etag").to_string();
        let (head, body) = exchange(&get(
            "/ui/app.js",
            &format!("If-None-Match: W/\"other\", {etag}\r\n"),
        ))
        .await;
        assert!(head.starts_with("http/1.1 304"), "{head}");
        assert!(body.is_empty());
        let (head, _) = exchange(&get("/ui/app.js", "If-None-Match: \"stale\"\r\n")).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
    }

    #[tokio::test]
    async fn unknown_assets_are_404() {
        let (head, _) = exchange(&get("/ui/../Cargo.toml", "")).await;
        assert!(head.starts_with("http/1.1 404"), "{head}");
        let (head, _) = exchange(&get("/ui/secret.js", "")).await;
        assert!(head.starts_with("http/1.1 404"), "{head}");
    }
}
