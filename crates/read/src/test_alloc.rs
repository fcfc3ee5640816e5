//! The test build's global allocator: it keeps, per thread, the bytes in use, their peak and
//! the bytes reallocations moved, so a test can bound what one call allocates or copies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static IN_USE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static MOVED: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a move: both blocks are held while the old one is copied.
        grow(new_size);
        shrink(layout.size());
        MOVED.with(|m| m.set(m.get() + layout.size().min(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn grow(n: usize) {
    let now = IN_USE.with(|u| {
        u.set(u.get() + n);
        u.get()
    });
    PEAK.with(|p| p.set(p.get().max(now)));
}

fn shrink(n: usize) {
    // Memory allocated on another thread may be freed on this one.
    IN_USE.with(|u| u.set(u.get().saturating_sub(n)));
}

/// What `f` allocated on this thread: the most bytes in use at once beyond those in use
/// before, and the bytes its reallocations copied.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let base = IN_USE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let moved = MOVED.with(Cell::get);
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak, MOVED.with(Cell::get) - moved)
}
