//! The one setting the server makes to the system allocator.

/// Allocations from this size up get their own mapping, so freeing one gives the memory back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAPPED_FROM_BYTES: libc::c_int = 128 * 1024;

/// Has glibc map every allocation of 128 KiB or more on its own, so that freeing it returns the
/// memory. Left alone, glibc raises that size to the largest block freed so far (up to 32 MiB),
/// and what is freed after that stays in the heap of the thread that freed it: a password check
/// takes 19 MiB (argon2id), and 60 checks on two threads left a test program at 372 MB instead
/// of the 2 MB it returns to with this setting. Nothing to do on other platforms.
pub fn return_large_allocations_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets an allocator tunable; glibc allows it at any time, from any
        // thread, and it touches no memory of ours.
        #[allow(unsafe_code)]
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED_FROM_BYTES) };
        if set != 1 {
            tracing::warn!("glibc refused a fixed mmap threshold; freed memory may stay resident");
        }
    }
}
