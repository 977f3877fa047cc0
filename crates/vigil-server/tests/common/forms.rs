//! Helpers for driving the web pages over plain HTTP: cookies, the CSRF
//! token of a page, form bodies, and a signed-in session.
use super::*;

/// The value of the cookie `name` set by a response.
pub fn set_cookie<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with(&format!("{name}=")))
}

pub fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

pub fn csrf_field(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[start..start + 64].to_string()
}

pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", vigil_server::web::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

pub const FORM: &str = "application/x-www-form-urlencoded";

/// A signed-in browser session over plain HTTP: its cookie header and the
/// CSRF token its forms carry.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    pub async fn sign_in(&self, username: &str, password: &str) -> Session {
        let login_page = self.request("GET", "/login").send().await;
        let csrf_cookie = cookie_pair(set_cookie(&login_page, "vigil_csrf").unwrap()).to_string();
        let csrf = csrf_field(&login_page.text());
        let signed_in = self
            .request("POST", "/login")
            .header("cookie", &csrf_cookie)
            .raw(
                FORM,
                form(&[
                    ("username", username),
                    ("password", password),
                    ("csrf", &csrf),
                ]),
            )
            .send()
            .await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.text());
        let session = cookie_pair(set_cookie(&signed_in, "vigil_session").unwrap()).to_string();
        Session {
            cookie: format!("{csrf_cookie}; {session}"),
            csrf,
        }
    }
}
