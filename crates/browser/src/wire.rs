//! HTTP and JSON: the WebDriver wire protocol spoken to chromedriver.

use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::Value;

use crate::BrowserError;

/// The key under which WebDriver returns an element reference (the W3C
/// "web element identifier"; note it ends in `cecf`).
pub(crate) const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long one ordinary command may take (page loads included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to one chromedriver on loopback.
pub(crate) struct Wire {
    client: Client,
    base: String,
}

impl Wire {
    pub(crate) fn new(port: u16) -> Result<Wire, BrowserError> {
        let client = Client::builder()
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .map_err(|e| BrowserError::Http {
                command: "build http client".into(),
                detail: e.to_string(),
            })?;
        Ok(Wire {
            client,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Sends one command and returns the `value` of the reply.
    pub(crate) fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BrowserError> {
        self.call_with_timeout(method, path, body, COMMAND_TIMEOUT)
    }

    pub(crate) fn call_with_timeout(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> Result<Value, BrowserError> {
        let command = format!("{method} {}", command_name(path));
        let http_err = |e: reqwest::Error| BrowserError::Http {
            command: command.clone(),
            detail: e.to_string(),
        };
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .timeout(timeout);
        // WebDriver wants a JSON body on every POST, `{}` when there is nothing to say.
        if method == Method::POST {
            request = request.json(&body.unwrap_or_else(|| Value::Object(Default::default())));
        }
        let response = request.send().map_err(http_err)?;
        let status = response.status();
        let text = response.text().map_err(http_err)?;
        let mut reply: Value = serde_json::from_str(&text).map_err(|e| BrowserError::Protocol {
            command: command.clone(),
            detail: format!("http {status}, body is not json ({e}): {}", clip(&text)),
        })?;
        let value = reply
            .get_mut("value")
            .map(Value::take)
            .unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(BrowserError::WebDriver {
                command,
                error: error.to_string(),
                // chromedriver repeats the code at the start of the message.
                message: without_stacktrace(message)
                    .trim_start_matches(&format!("{error}: "))
                    .to_string(),
            });
        }
        if !status.is_success() {
            return Err(BrowserError::Protocol {
                command,
                detail: format!("http {status}: {}", clip(&text)),
            });
        }
        Ok(value)
    }
}

/// A command's path without the session and element ids, for messages:
/// `/session/abc/element/def/click` reads `element/click`.
fn command_name(path: &str) -> String {
    let mut name = Vec::new();
    let mut parts = path.trim_start_matches('/').split('/');
    while let Some(part) = parts.next() {
        match part {
            "session" if parts.next().is_some() => {}
            "element" => {
                let _id = parts.next();
                name.push(part);
            }
            _ => name.push(part),
        }
    }
    if name.is_empty() {
        "session".into()
    } else {
        name.join("/")
    }
}

/// Reads an element reference out of a reply value.
pub(crate) fn element_id(value: &Value, command: &str) -> Result<String, BrowserError> {
    value
        .get(ELEMENT_KEY)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| BrowserError::Protocol {
            command: command.to_string(),
            detail: format!("no element reference in {}", clip(&value.to_string())),
        })
}

/// Reads a list of element references out of a reply value.
pub(crate) fn element_ids(value: &Value, command: &str) -> Result<Vec<String>, BrowserError> {
    let items = value.as_array().ok_or_else(|| BrowserError::Protocol {
        command: command.to_string(),
        detail: format!(
            "expected a list of elements, got {}",
            clip(&value.to_string())
        ),
    })?;
    items.iter().map(|v| element_id(v, command)).collect()
}

/// Renders a JSON value as plain text: strings unquoted, `null` as `None`.
pub(crate) fn plain(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// Reads a string reply.
pub(crate) fn string(value: Value, command: &str) -> Result<String, BrowserError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(BrowserError::Protocol {
            command: command.to_string(),
            detail: format!("expected a string, got {}", clip(&other.to_string())),
        }),
    }
}

/// chromedriver's messages end in a long native stack trace; keep what precedes it.
fn without_stacktrace(message: &str) -> String {
    message
        .lines()
        .take_while(|line| !line.trim_start().starts_with("Stacktrace:"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keeps error messages readable when a reply is large.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::command_name;

    #[test]
    fn command_names_leave_out_ids() {
        assert_eq!(command_name("/session"), "session");
        assert_eq!(command_name("/session/abc"), "session");
        assert_eq!(command_name("/session/abc/execute/sync"), "execute/sync");
        assert_eq!(command_name("/session/abc/element"), "element");
        assert_eq!(
            command_name("/session/abc/element/e1/click"),
            "element/click"
        );
        assert_eq!(
            command_name("/session/abc/element/e1/element"),
            "element/element"
        );
        assert_eq!(command_name("/status"), "status");
    }
}
