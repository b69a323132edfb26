//! A global allocator that counts, for tests that bound memory: bytes live
//! now, the peak since the last reset, and the largest single request.
//!
//! A test binary installs it with
//! `#[global_allocator] static A: allocmeter::Meter = allocmeter::Meter::new();`
//! and asserts on [`Meter::peak`] / [`Meter::largest`] around the code under
//! test. It forwards to the system allocator; the counting is a few atomic
//! adds, so the code under test runs as it does in production.

// The one place in the workspace that implements `GlobalAlloc`, which is
// an unsafe trait: every method forwards to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub struct Meter {
    live: AtomicUsize,
    peak: AtomicUsize,
    largest: AtomicUsize,
}

impl Meter {
    pub const fn new() -> Meter {
        Meter {
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            largest: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most bytes live at once since the last [`Meter::reset`].
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// The largest single allocation since the last [`Meter::reset`].
    pub fn largest(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    /// Starts a new measurement: the peak becomes what is live now.
    pub fn reset(&self) {
        self.peak.store(self.live(), Ordering::Relaxed);
        self.largest.store(0, Ordering::Relaxed);
    }

    /// Runs `f` and returns its result with the peak bytes it added above
    /// what was live before, and its largest single allocation. Other
    /// threads allocating meanwhile are counted too: measure with the
    /// process otherwise quiet.
    pub fn measure<T>(&self, f: impl FnOnce() -> T) -> (T, Usage) {
        let before = self.live();
        self.reset();
        let out = f();
        let usage = Usage {
            peak_above: self.peak().saturating_sub(before),
            largest: self.largest(),
        };
        (out, usage)
    }

    fn added(&self, size: usize) {
        let live = self.live.fetch_add(size, Ordering::Relaxed) + size;
        self.peak.fetch_max(live, Ordering::Relaxed);
        self.largest.fetch_max(size, Ordering::Relaxed);
    }

    fn removed(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }
}

impl Default for Meter {
    fn default() -> Self {
        Self::new()
    }
}

/// What one measured piece of code allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Most bytes live at once above the starting point.
    pub peak_above: usize,
    /// The largest single allocation.
    pub largest: usize,
}

unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.added(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            self.added(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        self.removed(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            self.removed(layout.size());
            self.added(new_size);
        }
        p
    }
}
