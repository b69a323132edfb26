//! Limits on images in content, shared by the headend (which refuses
//! bigger ones) and the box (which refuses to download bigger ones).

/// Largest image file accepted: 1 MiB. A TV needs no more; a phone photo
/// must be scaled down before it is published.
pub const MAX_IMAGE_BYTES: usize = 1024 * 1024;

/// Largest side in pixels: a full-HD screen is 1920 wide.
pub const MAX_IMAGE_SIDE: u32 = 1920;

/// Image types boxes can draw.
pub const IMAGE_TYPES: [&str; 2] = ["image/png", "image/jpeg"];

/// Why an image is refused; messages tell the publisher what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("image is {bytes} bytes; the limit is {max} bytes (1 MiB): scale it down to at most 1920 pixels on its longer side and save it as JPEG")]
    TooLarge { bytes: usize, max: usize },
    #[error(
        "image is {width}x{height} pixels; the limit is {max} pixels on each side: scale it down"
    )]
    TooManyPixels { width: u32, height: u32, max: u32 },
    #[error("image is not a PNG or JPEG file (or it is damaged)")]
    NotAnImage,
}
