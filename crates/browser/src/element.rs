//! One element of the page.

use std::fmt;

use reqwest::Method;
use serde_json::{json, Value};

use crate::{wire, Browser, BrowserError};

/// A reference to an element of the current page. It goes stale when the
/// page navigates or the element is removed from the DOM.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element").field("id", &self.id).finish()
    }
}

impl<'b> Element<'b> {
    pub(crate) fn new(browser: &'b Browser, id: String) -> Element<'b> {
        Element { browser, id }
    }

    fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, BrowserError> {
        self.browser.element_cmd(&self.id, method, path, body)
    }

    /// Clicks the element's centre, scrolling it into view first.
    pub fn click(&self) -> Result<(), BrowserError> {
        self.cmd(Method::POST, "/click", None)?;
        Ok(())
    }

    /// Empties an input or textarea.
    pub fn clear(&self) -> Result<(), BrowserError> {
        self.cmd(Method::POST, "/clear", None)?;
        Ok(())
    }

    /// Types `text`, which may contain the special keys of [`crate::keys`].
    pub fn send_keys(&self, text: &str) -> Result<(), BrowserError> {
        self.cmd(Method::POST, "/value", Some(json!({ "text": text })))?;
        Ok(())
    }

    /// The rendered text, as a user would see it.
    pub fn text(&self) -> Result<String, BrowserError> {
        wire::string(self.cmd(Method::GET, "/text", None)?, "GET element text")
    }

    /// An HTML attribute as written in the markup, `None` when absent.
    pub fn attr(&self, name: &str) -> Result<Option<String>, BrowserError> {
        Ok(wire::plain(self.cmd(
            Method::GET,
            &format!("/attribute/{name}"),
            None,
        )?))
    }

    /// A DOM property, e.g. `value` for what is typed into an input now;
    /// non-string properties come back as JSON text.
    pub fn property(&self, name: &str) -> Result<Option<String>, BrowserError> {
        Ok(wire::plain(self.cmd(
            Method::GET,
            &format!("/property/{name}"),
            None,
        )?))
    }

    pub fn is_displayed(&self) -> Result<bool, BrowserError> {
        let value = self.cmd(Method::GET, "/displayed", None)?;
        value.as_bool().ok_or_else(|| BrowserError::Protocol {
            command: "GET element displayed".into(),
            detail: format!("expected a bool, got {value}"),
        })
    }

    /// The first descendant matching `css`; the error names the selector.
    pub fn find(&self, css: &str) -> Result<Element<'b>, BrowserError> {
        self.browser
            .find_from(&format!("/element/{}", self.id), css)
    }

    /// All descendants matching `css`.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'b>>, BrowserError> {
        self.browser
            .find_all_from(&format!("/element/{}", self.id), css)
    }

    /// For a `<select>`: chooses the option whose `value` is `value`.
    pub fn select_by_value(&self, value: &str) -> Result<(), BrowserError> {
        self.find(&format!("option[value=\"{}\"]", css_string(value)))?
            .click()
    }
}

/// Escapes text for use inside a double-quoted CSS string.
fn css_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\a "),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::css_string;

    #[test]
    fn css_strings_are_escaped() {
        assert_eq!(css_string(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(css_string("plain 值"), "plain 值");
    }
}
