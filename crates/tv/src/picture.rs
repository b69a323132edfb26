//! Photos and images for the detail screen: decoded from the cached PNG or
//! JPEG bytes and scaled once to the pixel size they are drawn at, so a
//! 1920-wide upload costs a small texture, not a full-size one. A few
//! decoded pictures are kept (least recently used first out) so paging back
//! and forth does not decode again.

use std::collections::VecDeque;
use std::sync::Arc;

use image::imageops::FilterType;

/// A decoded, scaled picture: RGBA8, `width * height * 4` bytes.
#[derive(Clone)]
pub struct Picture {
    pub sha: String,
    pub width: u32,
    pub height: u32,
    pub rgba: Arc<Vec<u8>>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Picture({}, {}x{})", self.sha, self.width, self.height)
    }
}

/// Same image at the same size: the pixels are then the same too.
impl PartialEq for Picture {
    fn eq(&self, other: &Self) -> bool {
        (&self.sha, self.width, self.height) == (&other.sha, other.width, other.height)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("image {sha} cannot be decoded: {reason}")]
    Undecodable { sha: String, reason: String },
}

/// Decodes `bytes` and scales it to fit within `max_w` x `max_h` pixels,
/// keeping its proportions (never enlarging).
pub fn decode(sha: &str, bytes: &[u8], max_w: u32, max_h: u32) -> Result<Picture, PictureError> {
    let undecodable = |e: image::ImageError| PictureError::Undecodable {
        sha: sha.to_string(),
        reason: e.to_string(),
    };
    let format = image::guess_format(bytes).map_err(undecodable)?;
    if !matches!(format, image::ImageFormat::Png | image::ImageFormat::Jpeg) {
        return Err(PictureError::Undecodable {
            sha: sha.to_string(),
            reason: format!("{format:?} is not PNG or JPEG"),
        });
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    // Uploads are checked at the headend; this guards the box against a
    // hostile file that claims a huge size.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(model::MAX_IMAGE_SIDE);
    limits.max_image_height = Some(model::MAX_IMAGE_SIDE);
    reader.limits(limits);
    let img = reader.decode().map_err(undecodable)?;
    let img = if img.width() > max_w || img.height() > max_h {
        img.resize(max_w.max(1), max_h.max(1), FilterType::Triangle)
    } else {
        img
    };
    let rgba = img.into_rgba8();
    Ok(Picture {
        sha: sha.to_string(),
        width: rgba.width(),
        height: rgba.height(),
        rgba: Arc::new(rgba.into_raw()),
    })
}

/// An image id and the box it was scaled to fit.
type SizedKey = (String, u32, u32);

/// Decoded pictures by (sha, box size), most recently used last.
#[derive(Default)]
pub struct Pictures {
    kept: VecDeque<(SizedKey, Result<Picture, String>)>,
}

/// Pictures kept decoded: a detail page shows one or two.
const KEPT: usize = 8;

impl Pictures {
    /// The picture for `sha` at most `max_w` x `max_h`, decoding `bytes()`
    /// only when it is not kept. An undecodable image is remembered as such.
    pub fn get(
        &mut self,
        sha: &str,
        max_w: u32,
        max_h: u32,
        bytes: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<Result<Picture, String>> {
        let key = (sha.to_string(), max_w, max_h);
        if let Some(i) = self.kept.iter().position(|(k, _)| *k == key) {
            let entry = self.kept.remove(i)?;
            let result = entry.1.clone();
            self.kept.push_back(entry);
            return Some(result);
        }
        let bytes = bytes()?;
        let result = decode(sha, &bytes, max_w, max_h).map_err(|e| {
            tracing::warn!(error = %e, "cannot show an image");
            e.to_string()
        });
        if self.kept.len() == KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back((key, result.clone()));
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, 255]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        out
    }

    #[test]
    fn pictures_are_scaled_down_to_fit_keeping_proportions() {
        let p = decode("a", &png(1200, 1600), 360, 480).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.width, p.height), (360, 480));
        assert_eq!(p.rgba.len(), 360 * 480 * 4);
        let p = decode("b", &png(100, 50), 360, 480).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.width, p.height), (100, 50), "never enlarged");
    }

    #[test]
    fn broken_images_are_an_error_and_decoded_once() {
        assert!(decode("c", b"GIF89a....", 10, 10).is_err());
        assert!(decode("d", b"\x89PNG\r\n\x1a\nbroken", 10, 10).is_err());
        let mut pictures = Pictures::default();
        let mut decodes = 0;
        for _ in 0..3 {
            let got = pictures.get("e", 50, 50, || {
                decodes += 1;
                Some(png(80, 80))
            });
            assert_eq!(got.map(|r| r.map(|p| p.width)), Some(Ok(50)));
        }
        assert_eq!(decodes, 1);
        assert!(
            pictures.get("f", 50, 50, || None).is_none(),
            "not cached yet"
        );
    }
}
