//! jemalloc as the whole process's `malloc`, libtorch's tensors included.
//!
//! libtorch allocates every CPU tensor with `posix_memalign`. Under glibc's malloc a training
//! run's many short-lived tensors of a few sizes fragment the heap: the quickstart's resident
//! memory crept from 0.9 GB at epoch 5 to 1.4 GB, and `malloc_trim` after each evaluation only
//! set it back for a few epochs. Under jemalloc (size classes per arena) it does not creep, and
//! evaluations stay under training's peak (README.md, "Memory").
//!
//! The `unprefixed_malloc_on_supported_platforms` feature makes jemalloc define `malloc`, `free`,
//! `posix_memalign`, ... themselves. The executable exports them, and the dynamic linker resolves
//! libtorch's calls to the first definition it finds, the executable's, so C++ and Rust share
//! one allocator. Rust's own allocations go through the same jemalloc.
//!
//! Freed pages are kept for reuse (`malloc_conf` below) and handed back to the system before,
//! within and after an evaluation (`release_free_memory`), not on jemalloc's default timer.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A C string pointer jemalloc reads before `main`.
#[repr(transparent)]
pub struct ConfString(*const std::ffi::c_char);

// SAFETY: it points to a string literal, immutable for the life of the process.
unsafe impl Sync for ConfString {}

/// jemalloc's options (its `malloc_conf` global, read at the first allocation; the
/// `MALLOC_CONF` environment variable still overrides them). By default jemalloc returns freed
/// pages to the system over ten seconds, page by page; a training step frees and reallocates the
/// same few hundred MB every few milliseconds, so the returned pages were faulted back in at
/// once: 9% slower than glibc at 1 thread, 28% in one round. Never decaying keeps them: 4 epochs
/// at 1 thread took 34.2 s against glibc's 39.6 s, interleaved.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static malloc_conf: ConfString = ConfString(c"dirty_decay_ms:-1,muzzy_decay_ms:-1".as_ptr());

/// Hands every free page of every jemalloc arena back to the system (`arena.<all>.purge`): before,
/// within and after an evaluation, whose phases and training use other sizes and reuse each
/// other's free pages poorly, so each would take fresh pages beside them. A no-op where jemalloc
/// is not the allocator.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a write-less, read-less mallctl on a name jemalloc defines (4096 is
    // MALLCTL_ARENAS_ALL); jemalloc only releases pages it holds as free.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// What a shared library's `malloc` resolves to: the first definition in the process's
    /// global scope.
    fn resolved(name: &std::ffi::CStr) -> usize {
        // SAFETY: dlsym with RTLD_DEFAULT only looks a symbol up.
        unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) as usize }
    }

    #[test]
    fn shared_libraries_allocate_with_jemalloc() {
        assert_eq!(
            resolved(c"malloc"),
            tikv_jemalloc_sys::malloc as *const () as usize
        );
        assert_eq!(
            resolved(c"free"),
            tikv_jemalloc_sys::free as *const () as usize
        );
        assert_eq!(
            resolved(c"posix_memalign"),
            tikv_jemalloc_sys::posix_memalign as *const () as usize,
            "libtorch's CPU tensors come from posix_memalign"
        );
    }

    /// jemalloc's value of the control `name`, of type T (an option, a statistic).
    fn read<T: Default>(name: &std::ffi::CStr) -> T {
        let mut value = T::default();
        let mut len = std::mem::size_of::<T>();
        // SAFETY: reads one T into `value`, `len` holding its size.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&mut value as *mut T).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(rc, 0, "mallctl {name:?}");
        value
    }

    /// Dirty (freed, still resident) pages over all arenas, statistics refreshed.
    fn dirty_pages() -> usize {
        let mut epoch: u64 = 1;
        // SAFETY: writes one u64 to `epoch`, which refreshes the statistics.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                c"epoch".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                (&mut epoch as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        assert_eq!(rc, 0);
        read::<usize>(c"stats.arenas.4096.pdirty")
    }

    #[test]
    fn freed_pages_stay_until_released() {
        if std::env::var_os("MALLOC_CONF").is_some() {
            eprintln!("skipped: MALLOC_CONF overrides the built-in options");
            return;
        }
        assert_eq!(read::<isize>(c"opt.dirty_decay_ms"), -1, "malloc_conf read");
        assert_eq!(read::<isize>(c"opt.muzzy_decay_ms"), -1);
        // 32 blocks of 1 MiB, below jemalloc's oversize threshold (8 MiB, its own arena).
        let blocks: Vec<Vec<u8>> = (0..32).map(|i| vec![i as u8; 1 << 20]).collect();
        drop(blocks);
        let kept = dirty_pages();
        assert!(kept >= 32 * 256 / 2, "freed pages kept for reuse: {kept}");
        super::release_free_memory();
        let left = dirty_pages();
        assert!(left < kept / 4, "released: {kept} dirty pages, then {left}");
    }
}
