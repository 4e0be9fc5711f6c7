//! jemalloc as the whole process's `malloc`, libtorch's tensors included.
//!
//! libtorch allocates every CPU tensor with `posix_memalign`. Under glibc's malloc a training
//! run's many short-lived tensors of a few sizes fragment the heap: the quickstart's resident
//! memory crept from 0.9 GB at epoch 5 to 1.4 GB, and `malloc_trim` after each evaluation only
//! set it back for a few epochs. Under jemalloc (size classes per arena, unused pages handed back
//! after a few seconds) it stays flat at about 0.45 GB at the same speed (README.md, "Memory").
//!
//! The `unprefixed_malloc_on_supported_platforms` feature makes jemalloc define `malloc`, `free`,
//! `posix_memalign`, ... themselves. The executable exports them, and the dynamic linker resolves
//! libtorch's calls to the first definition it finds, the executable's, so C++ and Rust share
//! one allocator. Rust's own allocations go through the same jemalloc.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
}
