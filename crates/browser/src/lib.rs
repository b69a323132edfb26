//! Headless Chromium for tests, driven through ChromeDriver.
//!
//! This is the only crate that knows about WebDriver. It starts Debian's
//! `/usr/bin/chromedriver` on a free loopback port, which starts
//! `/usr/bin/chromium` headless with a fresh profile, and talks W3C WebDriver
//! to it over HTTP. Everything is blocking, and nothing of the HTTP or JSON
//! libraries shows in the API: results are `String`, `Vec<u8>` and `bool`.
//!
//! ```no_run
//! use std::time::Duration;
//! # fn main() -> Result<(), browser::BrowserError> {
//! let browser = browser::Browser::launch()?;
//! browser.goto("http://127.0.0.1:8080/login")?;
//! browser.find("input[name=user]")?.send_keys("admin")?;
//! browser.find("button[type=submit]")?.click()?;
//! browser.wait_for_text("h1", "欢迎", Duration::from_secs(5))?;
//! browser.save_screenshot("target/login.png")?;
//! # Ok(()) }
//! ```
//!
//! `DANGJIAN_CHROMEDRIVER` and `DANGJIAN_CHROMIUM` override the binaries'
//! paths. Dropping the [`Browser`] ends the session, kills chromedriver and
//! any Chromium left over, and deletes the profile.
//!
//! The HTTP client is reqwest's blocking one, which must not be created or
//! dropped on an async runtime's worker thread: call this from a plain
//! `#[test]` (run the server under test on its own runtime or thread), or
//! from inside `tokio::task::spawn_blocking`.

mod element;
mod error;
mod launch;
mod wire;

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

pub use element::Element;
pub use error::BrowserError;

use launch::{Driver, Paths};
use wire::Wire;

/// How often the `wait_*` methods look again.
const POLL: Duration = Duration::from_millis(100);

/// Special keys for [`Element::send_keys`], from the WebDriver key table.
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const TAB: &str = "\u{E004}";
    pub const BACKSPACE: &str = "\u{E003}";
    pub const ESCAPE: &str = "\u{E00C}";
}

/// One cookie as the browser holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub http_only: bool,
    /// `Strict`, `Lax` or `None`, as the browser reports it.
    pub same_site: Option<String>,
    pub path: Option<String>,
}

/// A headless Chromium with one WebDriver session.
pub struct Browser {
    wire: Wire,
    session: String,
    // Dropped after `Browser::drop` has closed the session.
    _driver: Driver,
}

impl fmt::Debug for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Browser")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub fn launch() -> Result<Browser, BrowserError> {
        let paths = Paths::from_env();
        paths.check()?;
        let (driver, wire) = Driver::start(&paths)?;
        let reply = wire
            .call(
                Method::POST,
                "/session",
                Some(driver.capabilities(&paths.chromium)),
            )
            .map_err(|e| match e {
                BrowserError::WebDriver {
                    command,
                    error,
                    message,
                } => BrowserError::WebDriver {
                    command,
                    error,
                    message: format!("{message}; chromedriver log ends: {}", driver.log_tail()),
                },
                other => other,
            })?;
        let session = reply
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| BrowserError::Protocol {
                command: "POST /session".into(),
                detail: format!("no sessionId in {}", wire::clip(&reply.to_string())),
            })?
            .to_string();
        Ok(Browser {
            wire,
            session,
            _driver: driver,
        })
    }

    /// Sends a command for this session; `path` is relative to `/session/{id}`.
    fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, BrowserError> {
        self.wire
            .call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    pub fn current_url(&self) -> Result<String, BrowserError> {
        wire::string(self.cmd(Method::GET, "/url", None)?, "GET url")
    }

    pub fn title(&self) -> Result<String, BrowserError> {
        wire::string(self.cmd(Method::GET, "/title", None)?, "GET title")
    }

    /// The current DOM serialised as HTML.
    pub fn page_source(&self) -> Result<String, BrowserError> {
        wire::string(self.cmd(Method::GET, "/source", None)?, "GET source")
    }

    /// Resizes the window (outer size, in CSS pixels).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        let rect = json!({ "width": width, "height": height });
        self.cmd(Method::POST, "/window/rect", Some(rect))?;
        Ok(())
    }

    /// The first element matching `css`; the error names the selector.
    pub fn find(&self, css: &str) -> Result<Element<'_>, BrowserError> {
        self.find_from("", css)
    }

    /// All elements matching `css`, in document order (maybe none).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>, BrowserError> {
        self.find_all_from("", css)
    }

    /// Whether any element matches `css` now.
    pub fn exists(&self, css: &str) -> Result<bool, BrowserError> {
        Ok(!self.find_all(css)?.is_empty())
    }

    /// Waits until an element matches `css`, looking every 100 ms.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>, BrowserError> {
        let what = format!("an element matching `{css}`");
        self.poll(&what, timeout, || self.find(css).map(Some))
    }

    /// Waits until the element matching `css` has text containing `needle`.
    pub fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<Element<'_>, BrowserError> {
        let mut last = None;
        let result = self.poll("", timeout, || {
            let element = self.find(css)?;
            let text = element.text()?;
            let found = text.contains(needle);
            last = Some(text);
            Ok(found.then_some(element))
        });
        match result {
            Err(BrowserError::Timeout { waited, url, .. }) => {
                let seen = match last {
                    Some(text) => format!("its text was {:?}", wire::clip(&text)),
                    None => "it never appeared".into(),
                };
                let what = format!("`{css}` to contain {needle:?} ({seen})");
                Err(BrowserError::Timeout { what, waited, url })
            }
            other => other,
        }
    }

    /// Calls `attempt` every 100 ms until it yields something, ignoring
    /// not-found and stale-element errors, and times out naming `what`.
    fn poll<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut attempt: impl FnMut() -> Result<Option<T>, BrowserError>,
    ) -> Result<T, BrowserError> {
        let start = Instant::now();
        loop {
            match attempt() {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => {}
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
            if start.elapsed() >= timeout {
                return Err(BrowserError::Timeout {
                    what: what.to_string(),
                    waited: start.elapsed(),
                    url: self.url_for_errors(),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Runs `script` as a function body with `args` as its string arguments
    /// (`arguments[0]`, ...) and returns its result: strings as they are,
    /// anything else as JSON text (`null` for undefined).
    pub fn execute(&self, script: &str, args: &[&str]) -> Result<String, BrowserError> {
        let body = json!({ "script": script, "args": args });
        let value = self.cmd(Method::POST, "/execute/sync", Some(body))?;
        Ok(wire::plain(value).unwrap_or_else(|| "null".into()))
    }

    /// A PNG of the viewport.
    pub fn screenshot_png(&self) -> Result<Vec<u8>, BrowserError> {
        let encoded = wire::string(
            self.cmd(Method::GET, "/screenshot", None)?,
            "GET screenshot",
        )?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map_err(|e| BrowserError::Protocol {
                command: "GET screenshot".into(),
                detail: format!("screenshot is not base64: {e}"),
            })
    }

    /// Writes a PNG of the viewport to `path`, creating parent directories.
    pub fn save_screenshot(&self, path: impl AsRef<Path>) -> Result<(), BrowserError> {
        let path = path.as_ref();
        let png = self.screenshot_png()?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| BrowserError::io("cannot create screenshot dir", parent, e))?;
        }
        std::fs::write(path, png).map_err(|e| BrowserError::io("cannot write screenshot", path, e))
    }

    /// The cookies visible to the current page, HttpOnly ones included.
    pub fn cookies(&self) -> Result<Vec<Cookie>, BrowserError> {
        let value = self.cmd(Method::GET, "/cookie", None)?;
        let list = value.as_array().ok_or_else(|| BrowserError::Protocol {
            command: "GET cookie".into(),
            detail: format!("expected a list, got {}", wire::clip(&value.to_string())),
        })?;
        let text = |c: &Value, key: &str| c.get(key).and_then(Value::as_str).map(str::to_string);
        Ok(list
            .iter()
            .map(|c| Cookie {
                name: text(c, "name").unwrap_or_default(),
                value: text(c, "value").unwrap_or_default(),
                http_only: c.get("httpOnly").and_then(Value::as_bool).unwrap_or(false),
                same_site: text(c, "sameSite"),
                path: text(c, "path"),
            })
            .collect())
    }

    pub fn delete_all_cookies(&self) -> Result<(), BrowserError> {
        self.cmd(Method::DELETE, "/cookie", None)?;
        Ok(())
    }

    /// The current URL for an error message; never fails.
    pub(crate) fn url_for_errors(&self) -> String {
        self.current_url()
            .unwrap_or_else(|e| format!("(unknown: {e})"))
    }

    /// Finds below `/session/{id}{scope}` (`""` or `/element/{id}`).
    pub(crate) fn find_from(&self, scope: &str, css: &str) -> Result<Element<'_>, BrowserError> {
        let body = json!({ "using": "css selector", "value": css });
        match self.cmd(Method::POST, &format!("{scope}/element"), Some(body)) {
            Ok(value) => Ok(Element::new(
                self,
                wire::element_id(&value, "find element")?,
            )),
            Err(e) if e.is_transient() => Err(BrowserError::NoSuchElement {
                selector: css.to_string(),
                url: self.url_for_errors(),
            }),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn find_all_from(
        &self,
        scope: &str,
        css: &str,
    ) -> Result<Vec<Element<'_>>, BrowserError> {
        let body = json!({ "using": "css selector", "value": css });
        let value = self.cmd(Method::POST, &format!("{scope}/elements"), Some(body))?;
        let ids = wire::element_ids(&value, "find elements")?;
        Ok(ids.into_iter().map(|id| Element::new(self, id)).collect())
    }

    /// A command on one element: `/session/{id}/element/{element}{path}`.
    pub(crate) fn element_cmd(
        &self,
        element: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BrowserError> {
        self.cmd(method, &format!("/element/{element}{path}"), body)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session makes chromedriver quit Chromium cleanly; the
        // driver's own drop then kills chromedriver and any leftovers.
        let path = format!("/session/{}", self.session);
        let _ = self
            .wire
            .call_with_timeout(Method::DELETE, &path, None, Duration::from_secs(10));
    }
}
