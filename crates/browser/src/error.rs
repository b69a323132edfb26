//! The one error type of this crate.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while driving the browser.
///
/// Messages are lowercase and say what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The chromedriver binary is not where we looked.
    #[error("chromedriver not found at {0}: apt-get install chromium-driver (or set DANGJIAN_CHROMEDRIVER)")]
    DriverMissing(PathBuf),
    /// The chromium binary is not where we looked.
    #[error("chromium not found at {0}: apt-get install chromium (or set DANGJIAN_CHROMIUM)")]
    BrowserMissing(PathBuf),
    /// chromedriver did not answer `GET /status` as ready in time, or exited.
    #[error("chromedriver on port {port} was not ready after {waited:.1?}: {detail}")]
    DriverNotReady {
        port: u16,
        waited: Duration,
        detail: String,
    },
    /// No element matches a CSS selector.
    #[error("no element matches css selector `{selector}` on {url}")]
    NoSuchElement { selector: String, url: String },
    /// A wait ran out of time.
    #[error("timed out after {waited:.1?} waiting for {what} (current url {url})")]
    Timeout {
        what: String,
        waited: Duration,
        url: String,
    },
    /// chromedriver answered a command with a WebDriver error.
    #[error("webdriver command {command} failed: {error}: {message}")]
    WebDriver {
        command: String,
        /// The W3C error code, e.g. `stale element reference`.
        error: String,
        message: String,
    },
    /// The HTTP exchange with chromedriver itself failed.
    #[error("talking to chromedriver ({command}) failed: {detail}")]
    Http { command: String, detail: String },
    /// chromedriver answered with something that is not what WebDriver promises.
    #[error("unexpected reply from chromedriver to {command}: {detail}")]
    Protocol { command: String, detail: String },
    /// A local file or process operation failed.
    #[error("{what} ({path}): {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BrowserError {
    /// True for errors that a polling wait should retry rather than report:
    /// the element is not there yet, or was replaced while we looked at it.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            BrowserError::NoSuchElement { .. } => true,
            // Chromium reports an element of a page that is being replaced
            // as an "unknown error" about a node outside the document.
            BrowserError::WebDriver { error, message, .. } => {
                error == "no such element"
                    || error == "stale element reference"
                    || message.contains("does not belong to the document")
            }
            _ => false,
        }
    }

    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BrowserError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
