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
    #[cfg(test)]
    pub(crate) fn from_plane(width: u32, height: u32, stride: usize, plane: &[u8]) -> Option<Self> {
        Self::from_plane_into(Vec::new(), width, height, stride, plane)
    }

    /// Like `from_plane`, reusing `rgb`'s allocation.
    fn from_plane_into(
        mut rgb: Vec<u8>,
        width: u32,
        height: u32,
        stride: usize,
        plane: &[u8],
    ) -> Option<Self> {
        let row = width as usize * 3;
        if stride < row || height == 0 {
            return None;
        }
        let needed = stride * (height as usize - 1) + row;
        if plane.len() < needed {
            return None;
        }
        rgb.clear();
        rgb.reserve(row * height as usize);
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
///
/// The picture buffer the UI has finished with is reused for the next
/// picture: a 720p stream would otherwise allocate and free 2.7 MB 25 times
/// a second, which costs page faults and leaves the allocator's per-thread
/// arenas holding memory long after a zap.
#[derive(Debug, Default)]
pub(crate) struct FrameSlot {
    latest: Mutex<Option<Arc<Frame>>>,
    spare: Mutex<Vec<u8>>,
}

impl FrameSlot {
    /// Copies a decoded plane in as the newest picture; its serial, or
    /// `None` if the plane is shorter than the shape says.
    pub fn put_plane(&self, width: u32, height: u32, stride: usize, plane: &[u8]) -> Option<u64> {
        let spare = std::mem::take(&mut *self.spare.lock().unwrap_or_else(|e| e.into_inner()));
        let frame = Frame::from_plane_into(spare, width, height, stride, plane)?;
        let mut slot = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let serial = slot.as_ref().map_or(1, |f| f.serial + 1);
        let old = slot.replace(Arc::new(Frame { serial, ..frame }));
        drop(slot);
        // Reusable only if the UI no longer holds it.
        if let Some(old) = old.and_then(|f| Arc::try_unwrap(f).ok()) {
            *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = old.rgb;
        }
        Some(serial)
    }

    pub fn get(&self) -> Option<Arc<Frame>> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear(&self) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = Vec::new();
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

    #[test]
    fn a_picture_the_ui_let_go_of_is_reused() {
        let slot = FrameSlot::default();
        let plane = [9u8; 12];
        assert_eq!(slot.put_plane(2, 2, 6, &plane), Some(1));
        let held = slot.get().unwrap();
        let first = held.rgb.as_ptr();
        // Still held by the UI: the next picture gets a new buffer.
        assert_eq!(slot.put_plane(2, 2, 6, &plane), Some(2));
        assert_ne!(slot.get().unwrap().rgb.as_ptr(), first);
        drop(held);
        // Released: picture 2's buffer becomes picture 4's.
        let second = slot.get().unwrap().rgb.as_ptr();
        assert_eq!(slot.put_plane(2, 2, 6, &plane), Some(3));
        assert_eq!(slot.put_plane(2, 2, 6, &plane), Some(4));
        assert_eq!(slot.get().unwrap().rgb.as_ptr(), second);
        assert_eq!(slot.put_plane(2, 2, 6, &plane[..5]), None);
    }
}
