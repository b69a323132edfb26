#![allow(clippy::unwrap_used)]
//! Keymap files: vendor maps override the built-in one; every mistake names
//! the file, the line and the key.

use input::keymap::key_code;
use input::{Keymap, KeymapError, RemoteKey};

fn parse(text: &str) -> Result<Keymap, KeymapError> {
    let mut map = Keymap::default();
    map.merge_text(text, "vendor.toml")?;
    Ok(map)
}

#[test]
fn a_vendor_map_in_the_directory_overrides_and_extends_the_builtin_map() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("10-acme.toml"),
        "name = \"某品牌遥控器\"\n[keys]\nKEY_F1 = \"Red\"\nKEY_EXIT = \"Home\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "not a keymap").unwrap();
    let map = Keymap::load_dir(dir.path()).unwrap();
    assert_eq!(
        map.action(key_code("KEY_F1").unwrap()),
        Some(RemoteKey::Red)
    );
    assert_eq!(
        map.action(key_code("KEY_EXIT").unwrap()),
        Some(RemoteKey::Home)
    );
    assert_eq!(map.action(key_code("KEY_OK").unwrap()), Some(RemoteKey::Ok));
    assert_eq!(map.sources.len(), 2);
    assert!(map.sources[1].ends_with("10-acme.toml"));
}

#[test]
fn a_missing_directory_means_the_builtin_map_only() {
    let map = Keymap::load_dir(std::path::Path::new("/nonexistent/keymaps")).unwrap();
    assert_eq!(map.len(), Keymap::builtin().len());
}

#[test]
fn the_same_key_twice_is_an_error_with_both_lines() {
    let err = parse("[keys]\nKEY_OK = \"Ok\"\nKEY_UP = \"Up\"\nKEY_OK = \"Back\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("vendor.toml line 4"), "{msg}");
    assert!(msg.contains("duplicate key"), "{msg}");
    assert!(msg.contains("KEY_OK = \"Back\""), "{msg}");
}

#[test]
fn two_names_for_the_same_code_are_a_duplicate() {
    // KEY_ZOOM and KEY_FULL_SCREEN are both code 0x174.
    let err = parse("[keys]\nKEY_ZOOM = \"Info\"\n\nKEY_FULL_SCREEN = \"Ok\"\n").unwrap_err();
    match &err {
        KeymapError::Duplicate {
            line,
            key,
            first,
            first_line,
            ..
        } => {
            assert_eq!((*line, key.as_str()), (4, "KEY_FULL_SCREEN"));
            assert_eq!((first.as_str(), *first_line), ("KEY_ZOOM", 2));
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("line 4"));
}

#[test]
fn an_unknown_key_name_is_named_with_its_line() {
    let err = parse("# acme\n[keys]\nKEY_OK = \"Ok\"\nKEY_OKAY = \"Ok\"\n").unwrap_err();
    assert!(
        matches!(&err, KeymapError::UnknownKey { line: 4, key, .. } if key == "KEY_OKAY"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "keymap vendor.toml line 4: KEY_OKAY is not an evdev key name (write it as in linux/input-event-codes.h, e.g. KEY_OK)"
    );
}

#[test]
fn an_unknown_action_is_named_with_its_line() {
    let err = parse("[keys]\nKEY_OK = \"Ok\"\nKEY_RED = \"Crimson\"\n").unwrap_err();
    assert!(
        matches!(&err, KeymapError::UnknownAction { line: 3, key, action, .. } if key == "KEY_RED" && action == "Crimson"),
        "{err}"
    );
}

#[test]
fn syntax_errors_and_wrong_shapes_name_the_line() {
    let err = parse("[keys]\nKEY_OK = \"Ok\"\nKEY_UP = Up\n").unwrap_err();
    assert!(matches!(err, KeymapError::Syntax { line: 3, .. }), "{err}");
    let err = parse("[keys]\nKEY_OK = 1\n").unwrap_err();
    assert!(matches!(err, KeymapError::Syntax { line: 2, .. }), "{err}");
    let err = parse("name = \"x\"\nkeyz = 1\n").unwrap_err();
    assert!(matches!(err, KeymapError::Syntax { line: 2, .. }), "{err}");
    let err = parse("name = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("no [keys] table"), "{err}");
}

#[test]
fn a_bad_file_in_the_directory_fails_loading_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.toml"), "[keys]\nKEY_OK = \"Okay\"\n").unwrap();
    let err = Keymap::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("acme.toml line 2"), "{err}");
    assert!(err.contains("\"Okay\""), "{err}");
}

#[test]
fn nothing_is_merged_from_a_map_with_an_error() {
    let mut map = Keymap::builtin();
    let before = map.len();
    assert!(map
        .merge_text("[keys]\nKEY_F1 = \"Red\"\nKEY_F2 = \"Nope\"\n", "x.toml")
        .is_err());
    assert_eq!(map.len(), before);
    assert_eq!(map.action(key_code("KEY_F1").unwrap()), None);
}
