//! Drives the real headless Chromium against a tiny page served on loopback.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use browser::{keys, Browser, BrowserError};

const PAGE: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>浏览器测试</title></head>
<body>
  <form id="form" onsubmit="document.getElementById('out').textContent = 'submitted ' + document.getElementById('name').value; return false">
    <input id="name" name="name" placeholder="姓名">
    <select id="pick"><option value="a">甲</option><option value="b">乙</option></select>
    <button id="go" type="button"
      onclick="document.getElementById('out').textContent = '你好 ' + document.getElementById('name').value">确定</button>
  </form>
  <p id="out"></p>
  <p id="hidden" style="display:none">secret</p>
</body></html>"#;

/// Serves PAGE (with an HttpOnly, SameSite=Strict cookie) on a free port;
/// the thread lives as long as the test process.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer(stream);
        }
    });
    format!("http://{addr}/")
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let response = if path == "/" {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
             Set-Cookie: t=1; HttpOnly; SameSite=Strict\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
            PAGE.len()
        )
    } else {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    };
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

#[test]
fn fills_a_form_and_sees_the_result() {
    let url = serve();
    let browser = Browser::launch().expect("launch headless chromium");
    browser.goto(&url).expect("open page");
    assert_eq!(browser.current_url().expect("url"), url);
    assert_eq!(browser.title().expect("title"), "浏览器测试");
    assert!(browser
        .page_source()
        .expect("source")
        .contains("id=\"out\""));

    let input = browser.find("#name").expect("input");
    assert_eq!(
        input.attr("placeholder").expect("attr").as_deref(),
        Some("姓名")
    );
    assert_eq!(input.attr("nonexistent").expect("attr"), None);
    input.send_keys("世界").expect("type");
    assert_eq!(
        input.property("value").expect("value").as_deref(),
        Some("世界")
    );
    browser.find("#go").expect("button").click().expect("click");
    let out = browser
        .wait_for_text("#out", "你好 世界", Duration::from_secs(5))
        .expect("greeting");
    assert_eq!(out.text().expect("text"), "你好 世界");

    // Enter in the input submits the form; clear() empties it first.
    input.clear().expect("clear");
    input.send_keys("abc").expect("type");
    input.send_keys(keys::ENTER).expect("enter");
    browser
        .wait_for_text("#out", "submitted abc", Duration::from_secs(5))
        .expect("submitted");

    let pick = browser.find("#pick").expect("select");
    pick.select_by_value("b").expect("select b");
    assert_eq!(pick.property("value").expect("value").as_deref(), Some("b"));
    let form = browser.find("#form").expect("form");
    assert_eq!(form.find_all("option").expect("options").len(), 2);
    assert_eq!(
        form.find("option[value=b]")
            .expect("option")
            .text()
            .expect("text"),
        "乙"
    );

    assert!(browser
        .find("#out")
        .expect("out")
        .is_displayed()
        .expect("displayed"));
    assert!(!browser
        .find("#hidden")
        .expect("hidden")
        .is_displayed()
        .expect("displayed"));
    assert!(browser.exists("#pick").expect("exists"));
    assert!(!browser.exists("#nope").expect("exists"));
    assert_eq!(browser.find_all("p").expect("paragraphs").len(), 2);

    let sum = browser.execute("return arguments[0] + arguments[1];", &["1", "2"]);
    assert_eq!(sum.expect("script"), "12");
    assert_eq!(browser.execute("return 1 + 2;", &[]).expect("script"), "3");
    assert_eq!(
        browser.execute("return null;", &[]).expect("script"),
        "null"
    );
    // The cookie is HttpOnly, so page scripts cannot see it...
    assert_eq!(
        browser
            .execute("return document.cookie;", &[])
            .expect("script"),
        ""
    );
    // ...but WebDriver can, with its flags.
    let cookies = browser.cookies().expect("cookies");
    let t = cookies.iter().find(|c| c.name == "t").expect("cookie t");
    assert_eq!(t.value, "1");
    assert!(t.http_only);
    assert_eq!(t.same_site.as_deref(), Some("Strict"));
    assert_eq!(t.path.as_deref(), Some("/"));
    browser.delete_all_cookies().expect("delete cookies");
    assert!(browser.cookies().expect("cookies").is_empty());

    browser.set_window_size(1024, 768).expect("resize");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser/form.png");
    browser.save_screenshot(&shot).expect("save screenshot");
    let png = std::fs::read(&shot).expect("read screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a png: {shot:?}");
    assert!(png.len() > 1000, "suspiciously small screenshot");
}

#[test]
fn missing_elements_name_the_selector() {
    let url = serve();
    let browser = Browser::launch().expect("launch headless chromium");
    browser.goto(&url).expect("open page");

    let err = browser.find("#nope").expect_err("no such element");
    assert!(matches!(err, BrowserError::NoSuchElement { .. }), "{err:?}");
    assert!(err.to_string().contains("#nope"), "{err}");

    let form = browser.find("#form").expect("form");
    let err = form.find("#out").expect_err("#out is outside the form");
    assert!(err.to_string().contains("#out"), "{err}");

    let err = browser
        .wait_for("#later", Duration::from_millis(300))
        .expect_err("never appears");
    let message = err.to_string();
    assert!(
        message.contains("#later") && message.contains(&url),
        "{message}"
    );

    let err = browser
        .wait_for_text("#out", "never", Duration::from_millis(300))
        .expect_err("never says it");
    let message = err.to_string();
    assert!(
        message.contains("\"never\"") && message.contains(&url),
        "{message}"
    );

    let err = browser
        .execute("throw new Error('boom');", &[])
        .expect_err("script throws");
    assert!(err.to_string().contains("boom"), "{err}");
}
