//! Decoded pictures handed to the UI.

use std::sync::{Arc, Mutex};

/// One picture, tightly packed RGB (3 bytes per pixel, no row padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    /// Counts up from 1 within a session.
    pub serial: u64,
}

impl Frame {
    /// Copies a possibly padded plane (`stride` bytes per row) into a packed
    /// frame. `None` if the plane is shorter than the shape says.
    pub(crate) fn from_plane(width: u32, height: u32, stride: usize, plane: &[u8]) -> Option<Self> {
        let row = width as usize * 3;
        if stride < row || height == 0 {
            return None;
        }
        let needed = stride * (height as usize - 1) + row;
        if plane.len() < needed {
            return None;
        }
        let mut rgb = Vec::with_capacity(row * height as usize);
        for y in 0..height as usize {
            rgb.extend_from_slice(&plane[y * stride..y * stride + row]);
        }
        Some(Self {
            width,
            height,
            rgb,
            serial: 0,
        })
    }
}

/// The newest frame of a session; older ones are dropped, never queued.
#[derive(Debug, Default)]
pub(crate) struct FrameSlot {
    latest: Mutex<Option<Arc<Frame>>>,
}

impl FrameSlot {
    pub fn put(&self, frame: Frame) -> u64 {
        let mut slot = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let serial = slot.as_ref().map_or(1, |f| f.serial + 1);
        *slot = Some(Arc::new(Frame { serial, ..frame }));
        serial
    }

    pub fn get(&self) -> Option<Arc<Frame>> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear(&self) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn padded_rows_are_packed() {
        // 2x2 RGB with rows padded to 8 bytes.
        let plane = [1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0];
        let f = Frame::from_plane(2, 2, 8, &plane).unwrap();
        assert_eq!(f.rgb, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert!(Frame::from_plane(2, 2, 8, &plane[..12]).is_none());
        assert!(Frame::from_plane(3, 2, 8, &plane).is_none());
    }
}
