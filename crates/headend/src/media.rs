//! `GET /media/{path}`: HLS playlists and segments (and other stream files)
//! from a directory the headend is given, so boxes fetch videos on demand
//! and live HLS from the same server as their feed.
//!
//! Files are streamed from disk in 64 KB reads, never read whole: a
//! hundred boxes starting a 200 MB recording cost a hundred buffers, not
//! 20 GB.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;

use crate::api::ApiError;

/// The content type boxes and players expect for a stream file.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        Some("mp4") => "video/mp4",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Joins a request path onto `root`, refusing anything that could leave it.
fn inside(root: &Path, requested: &str) -> Option<PathBuf> {
    let relative = Path::new(requested);
    let clean = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (clean && !requested.is_empty()).then(|| root.join(relative))
}

pub(crate) async fn media(
    State(root): State<Option<PathBuf>>,
    UrlPath(requested): UrlPath<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no media file {requested}"));
    let root = root.ok_or_else(not_found)?;
    let path = inside(&root, &requested).ok_or_else(not_found)?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(ApiError::Internal(format!("{}: {e}", path.display()))),
    };
    let meta = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(not_found());
    }
    // A live playlist changes every segment; segments never change.
    let cache = if path.extension().is_some_and(|e| e == "m3u8") {
        "no-cache"
    } else {
        "public, max-age=86400"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type(&path).to_string()),
            (header::CACHE_CONTROL, cache.to_string()),
            (header::CONTENT_LENGTH, meta.len().to_string()),
        ],
        Body::from_stream(chunks(file)),
    )
        .into_response())
}

/// The file in chunks of at most [`CHUNK`] bytes.
fn chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// One read from disk.
const CHUNK: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_media_directory() {
        let root = Path::new("/srv/media");
        assert_eq!(
            inside(root, "vod/a/index.m3u8"),
            Some(PathBuf::from("/srv/media/vod/a/index.m3u8"))
        );
        assert_eq!(inside(root, "../etc/passwd"), None);
        assert_eq!(inside(root, "vod/../../x"), None);
        assert_eq!(inside(root, "/etc/passwd"), None);
        assert_eq!(inside(root, ""), None);
    }
}
